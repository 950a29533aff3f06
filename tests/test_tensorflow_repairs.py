"""TensorFlow's path repairs what tensorflowjs writes but TF.js cannot run, and says why it fails.

Each model here is a small real Keras model that failed on TensorFlow's path
before its repair (``convert/tensorflow_graph.py`` says what each does):

- ``gelu``: exact GELU is ``0.5·x·erfc(-x/√2)`` in TensorFlow, and TF.js has
  no ``Erfc`` ("TensorFlow.js has no kernel for these ops: Erfc");
- ``attention*``, ``einsum``: MultiHeadAttention and ``keras.ops.einsum``
  write ``Einsum``, which TF.js's WebAssembly backend lacks (the page fell
  back to the CPU backend, and ``backend: wasm`` was refused);
- ``groups*``: Keras compiles a grouped convolution with XLA, which leaves a
  ``StatefulPartitionedCall`` in the frozen graph ("no kernel for these
  ops: StatefulPartitionedCall");
- ``hard-swish``: grappler fuses a convolution, its folded
  BatchNormalization and hard-swish into one ``_FusedConv2D`` whose
  activation TF.js's fused kernels lack (refused at build time);
- ``two-inputs``: a SavedModel's signature sorts the inputs by name, and
  TF.js feeds a list of inputs in the signature's order: Keras's inputs
  `zeta` and `alpha` (same shape) were swapped without an error.

Each is converted once by ``converter: tensorflow`` (``quantize: none``) and
run by the real TF.js in Node.js on the CPU and WebAssembly backends, against
Keras's own output; the kernel table must say that every backend runs the
written graph. The errors measured are in ``MODELS``, beside the
tolerances (about twice them).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from mkdocs_tfjs.convert import Choice, convert_model, kernels
from mkdocs_tfjs.errors import ConversionError

from .tfjs_node import run_models

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def L():
    import keras

    return keras.layers


def gelu():
    import keras

    return keras.Sequential([keras.Input((6,)), L().Dense(16, activation="gelu"), L().Dense(4)])


def attention():
    import keras

    x = keras.Input((5, 8))
    return keras.Model(x, L().MultiHeadAttention(num_heads=2, key_dim=4)(x, x))


def attention_any_length():
    # An unknown sequence length: the reshapes take their sizes from the tensors at run time.
    import keras

    x = keras.Input((None, 8))
    return keras.Model(x, L().MultiHeadAttention(num_heads=3, key_dim=2, value_dim=5)(x, x))


def attention_axes():
    # Attention over two axes of a 4-D input: five-letter equations, whose reshapes merge an
    # unknown size with a known one (so their sizes are read from the tensors at run time).
    import keras

    x = keras.Input((None, 4, 8))
    return keras.Model(x, L().MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(1, 2))(x, x))


def einsum():
    # keras.ops.einsum in a functional model: batch matmul, a label summed away on each
    # side, a transpose alone, an outer product and an ellipsis.
    import keras

    x = keras.Input((6, 5))
    ops = keras.ops
    products = [
        ops.einsum("bij,bkj->bik", x, x),
        ops.einsum("bij,bkl->bik", x, x),
        ops.einsum("bij->bji", x),
        ops.einsum("bi,bj->bij", x[:, 0], x[:, 1]),
        ops.einsum("...ij,...kj->...ik", x, x),
    ]
    # One output: TF.js orders several outputs its own way.
    return keras.Model(x, ops.concatenate([ops.reshape(p, (-1, 30 if i == 2 else 36 if i != 3 else 25))
                                           for i, p in enumerate(products)], axis=1))


def groups():
    # Two groups (split, convolve, concatenate), then one group per channel (depthwise).
    import keras

    return keras.Sequential([keras.Input((8, 8, 4)), L().Conv2D(6, 3, groups=2, padding="same"),
                             L().Conv2D(12, 3, groups=6, strides=2, activation="relu")])


def groups_1d():
    import keras

    return keras.Sequential([keras.Input((9, 4)), L().Conv1D(6, 3, groups=2)])


def hard_swish():
    # MobileNetV3's block: a bias-free convolution, BatchNormalization, hard-swish.
    import keras

    from .applications import realistic_batchnorm

    x = keras.Input((8, 8, 3))
    y = L().Conv2D(8, 3, strides=2, padding="same", use_bias=False)(x)
    y = L().Activation("hard_swish")(L().BatchNormalization()(y))
    y = L().Conv2D(8, 1, use_bias=False)(y)
    y = L().Activation("hard_swish")(L().BatchNormalization()(y))
    return realistic_batchnorm(keras.Model(x, y), np.random.default_rng(0))


def two_inputs():
    # Named against the alphabet, one shape: swapped inputs give other numbers, not an error.
    import keras

    zeta, alpha = keras.Input((4,), name="zeta"), keras.Input((4,), name="alpha")
    return keras.Model([zeta, alpha], L().Dense(3)(zeta) - 2 * L().Dense(3)(alpha) ** 2)


#: Model → (builder, input shapes without the batch, max abs error allowed vs Keras), at
#: about twice the larger error measured on the two backends (in the comment, with the
#: largest |output|): float32 rounding, one or a few ulps of the output.
MODELS = {
    "gelu": (gelu, [(6,)], 5e-7),  # 2.4e-7 (1.2)
    "attention": (attention, [(5, 8)], 5e-7),  # 2.4e-7 (1.7)
    "attention-any-length": (attention_any_length, [(7, 8)], 5e-7),  # 2.4e-7 (1.4)
    "attention-axes": (attention_axes, [(3, 4, 8)], 2.5e-6),  # 1.2e-6 (2.1: softmax over 12)
    "einsum": (einsum, [(6, 5)], 4e-6),  # 1.9e-6 (27: one ulp)
    "groups": (groups, [(8, 8, 4)], 2e-7),  # 7.1e-8 (0.97)
    "groups-1d": (groups_1d, [(9, 4)], 3e-7),  # 1.2e-7 (2.4)
    "hard-swish": (hard_swish, [(8, 8, 3)], 5e-7),  # 2.4e-7 (0.92)
    "two-inputs": (two_inputs, [(4,), (4,)], 1.5e-6),  # 7.2e-7 (10)
}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """Build, save and convert every model once.

    Returns ``{name: (folder, inputs, Keras outputs)}``; the folder is the error's text where
    the conversion failed (so that one model's failure does not hide the others' results).
    """
    import keras

    root = tmp_path_factory.mktemp("repairs")
    rng = np.random.default_rng(3)
    out = {}
    for name, (build, shapes, _) in MODELS.items():
        keras.utils.set_random_seed(7)
        model = build()
        inputs = [rng.uniform(-2, 2, (2, *shape)).astype("float32") for shape in shapes]
        expected = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
        expected = [np.asarray(e) for e in (expected if isinstance(expected, list) else [expected])]
        source = root / f"{name}.keras"
        model.save(source)
        folder = root / name
        try:
            convert_model(source, folder, "none", name, Choice("tensorflow"))
        except ConversionError as exc:
            folder = f"conversion failed: {exc}"
        out[name] = (folder, inputs, expected)
    return out


@pytest.fixture(scope="module")
def runs(converted):
    """Run every converted model on TF.js's CPU and WebAssembly backends (one process each)."""
    done = {name: case for name, case in converted.items() if not isinstance(case[0], str)}
    cases = [(folder, inputs) for folder, inputs, _ in done.values()]
    runs = {backend: dict(zip(done, run_models(cases, backend), strict=True)) for backend in ("cpu", "wasm")}
    for backend in runs:
        runs[backend].update({name: case[0] for name, case in converted.items() if name not in done})
    return runs


@pytest.mark.parametrize("name", list(MODELS))
def test_every_backend_can_run_what_the_tensorflow_path_writes(converted, name):
    # Bug caught: an Einsum, Erfc, function call or fused hard-swish left in the graph.
    folder = converted[name][0]
    assert not isinstance(folder, str), folder
    data = json.loads((folder / "model.json").read_text())
    ops = kernels.graph_ops(data)
    assert kernels.runnable_backends(ops) == list(kernels.backends()), sorted(ops)
    assert not ops & {"Einsum", "Erfc", "StatefulPartitionedCall", "PartitionedCall"}


@pytest.mark.parametrize("backend", ["cpu", "wasm"])
@pytest.mark.parametrize("name", list(MODELS))
def test_the_repaired_graph_matches_keras(converted, runs, name, backend):
    # Bug caught: a rewrite that computes something else (a wrong transpose order, groups
    # split along the wrong axis, erfc(x) = 1 + erf(x), hard-swish without its 1/6).
    _, _, expected = converted[name]
    got = runs[backend][name]
    assert not isinstance(got, str), got
    assert [g.shape for g in got] == [e.shape for e in expected]
    error = max(float(np.abs(g - e).max()) for g, e in zip(got, expected, strict=True))
    assert error <= MODELS[name][2], f"max abs error {error:.3g} > {MODELS[name][2]:.3g}"


# -- what is still refused, and how -------------------------------------------


def test_an_einsum_no_backend_can_run_is_refused_with_its_equation(tmp_path):
    # A diagonal: TF.js's own Einsum kernel refuses repeated labels, on every backend.
    import keras

    x = keras.Input((4, 4))
    keras.Model(x, keras.ops.einsum("bii->bi", x)).save(tmp_path / "diagonal.keras")
    with pytest.raises(ConversionError) as refused:
        convert_model(tmp_path / "diagonal.keras", tmp_path / "out", "none", "diagonal.keras",
                      Choice("tensorflow"))
    message = str(refused.value)
    assert message.startswith("diagonal.keras: TensorFlow's converter wrote the Einsum `"), message
    assert ("with the equation `abb->ab`, which repeats a label in `abb` (a diagonal or trace); "
            "TF.js's own Einsum kernel refuses it too") in message, message


def test_a_tensorflowjs_failure_shows_its_first_exception(tmp_path):
    # Bug caught: tensorflowjs retries its v1 path when the v2 one fails, and the error said
    # only "AssertionError: Identity is not in graph", the v1 path's own failure.
    import keras

    vectorize = L().TextVectorization(max_tokens=20, output_sequence_length=4)
    vectorize.adapt(["the cat sat", "a dog ran far"])
    text = keras.Input((1,), dtype="string")
    keras.Model(text, L().Dense(2)(L().Embedding(20, 3)(vectorize(text)))).save(tmp_path / "text.keras")
    with pytest.raises(ConversionError) as failed:
        convert_model(tmp_path / "text.keras", tmp_path / "out", "none", "text.keras", Choice("tensorflow"))
    message = str(failed.value)
    assert message.startswith("text.keras: the TensorFlow.js converter failed (KeyError: "), message
    assert ("in tensorflowjs's tf_saved_model_conversion_v2._get_resource_ids_maps); then, handling "
            "that, AssertionError: Identity is not in graph; tensorflowjs could not map the model's "
            "lookup tables") in message, message


def test_a_registered_class_keras_cannot_rebuild_is_reported_as_that(tmp_path):
    # Bug caught: Keras found the class but its __init__ raised on the saved config, and the
    # error said "the model uses the layer class `DTypePolicy`, which Keras cannot find".
    import keras

    @keras.saving.register_keras_serializable(package="tfjs_repairs_test")
    class Scaler(keras.layers.Layer):
        # Saved, the tuple comes back as a JSON list: the model saves but never loads.
        def __init__(self, factors, **kwargs):
            if not isinstance(factors, tuple):
                raise TypeError(f"factors must be a tuple, not {type(factors).__name__}")
            super().__init__(**kwargs)
            self.factors = factors

        def call(self, x):
            return x * self.factors[0]

    keras.Sequential([keras.Input((5,)), Scaler((2.0, 3.0)), L().Dense(3)]).save(tmp_path / "scaler.keras")
    with pytest.raises(ConversionError) as failed:
        convert_model(tmp_path / "scaler.keras", tmp_path / "out", "none", "scaler.keras",
                      Choice("tensorflow"))
    assert str(failed.value) == (
        "scaler.keras: Keras finds the layer class `Scaler` but cannot rebuild it from the config "
        "saved in the file (factors must be a tuple, not list); make the class accept what its "
        "get_config() returned, as JSON gives it back (lists for tuples), in its __init__ or a "
        "from_config, then build again"
    )
