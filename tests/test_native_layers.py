"""Per-layer parity of the native converter: Keras's own output vs the real TF.js.

Each case is a tiny Keras model around one layer and option. It is saved
as a Keras user would save it, converted by the native converter
(``quantize: none``), run by TF.js's CPU backend in Node.js (all cases in one
process), and compared with ``model.predict`` of the same model. A wrong
padding, stride, default, axis, weight order or activation formula fails
its case. The tolerance, 5e-6, sits just above the largest error measured
over all cases (3.8e-6: float32 rounding through a folded BatchNormalization).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from mkdocs_tfjs.convert import Choice, convert_model

from .tfjs_node import run_models

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@dataclass
class Case:
    id: str
    build: object  # () -> keras.Model
    shape: tuple  # input shape without the batch
    tol: float = 5e-6
    dtype: str = "float32"
    low: float = -2.0
    high: float = 2.0
    save: str = "keras"  # keras | h5 | npz


def seq(*layers, shape):
    import keras

    return keras.Sequential([keras.Input(shape), *layers])


def L():
    import keras

    return keras.layers


def one(layer_fn, shape, **kw):
    return Case(kw.pop("id"), lambda: seq(layer_fn(), shape=shape), shape, **kw)


def cases() -> list[Case]:
    import keras

    layers = keras.layers
    out: list[Case] = []
    add = out.append
    # -- core
    add(one(lambda: layers.Dense(7), (5,), id="dense"))
    add(one(lambda: layers.Dense(7, activation="relu"), (5,), id="dense-relu-fused"))
    add(one(lambda: layers.Dense(7, use_bias=False, activation="tanh"), (5,), id="dense-nobias"))
    add(one(lambda: layers.Dense(6, activation="sigmoid"), (3, 5), id="dense-rank3"))
    add(one(lambda: layers.Dense(4), (3, 2, 5), id="dense-rank4"))
    for name in ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "sigmoid", "hard_sigmoid",
                 "silu", "swish", "hard_silu", "hard_swish", "mish", "softplus", "softsign", "tanh",
                 "exponential", "linear", "softmax", "log_softmax"]:
        add(Case(f"activation-{name}", lambda name=name: seq(layers.Dense(6), layers.Activation(name), shape=(4,)),
                 (4,), low=-4, high=4))
    add(Case("dense-activation-gelu", lambda: seq(layers.Dense(6, activation="gelu"), shape=(4,)), (4,), low=-4, high=4))
    for name, make in [
        ("dropout", lambda: layers.Dropout(0.5)), ("spatial-dropout1d", lambda: layers.SpatialDropout1D(0.5)),
        ("gaussian-noise", lambda: layers.GaussianNoise(1.0)), ("gaussian-dropout", lambda: layers.GaussianDropout(0.5)),
        ("activity-regularization", lambda: layers.ActivityRegularization(0.1)), ("identity", lambda: layers.Identity()),
    ]:
        add(Case(name, lambda make=make: seq(make(), layers.Dense(3), shape=(4, 5)), (4, 5)))
    add(Case("spatial-dropout2d", lambda: seq(layers.SpatialDropout2D(0.5), shape=(4, 4, 3)), (4, 4, 3)))
    add(one(lambda: layers.Flatten(), (3, 4, 2), id="flatten"))
    add(one(lambda: layers.Reshape((4, -1)), (3, 4, 2), id="reshape"))
    add(one(lambda: layers.Permute((2, 1, 3)), (3, 4, 2), id="permute"))
    add(one(lambda: layers.RepeatVector(3), (5,), id="repeat-vector"))
    add(Case("embedding", lambda: keras.Sequential([keras.Input((6,), dtype="int32"), layers.Embedding(20, 4)]),
             (6,), dtype="int32", low=0, high=20))
    # -- convolution
    for pad in ("valid", "same", "causal"):
        add(one(lambda pad=pad: layers.Conv1D(4, 3, padding=pad), (9, 3), id=f"conv1d-{pad}"))
    add(one(lambda: layers.Conv1D(4, 3, strides=2, padding="same", activation="relu"), (10, 3), id="conv1d-strided"))
    add(one(lambda: layers.Conv1D(4, 3, dilation_rate=2, padding="causal"), (10, 3), id="conv1d-dilated-causal"))
    for pad in ("valid", "same"):
        add(one(lambda pad=pad: layers.Conv2D(5, 3, padding=pad), (7, 8, 3), id=f"conv2d-{pad}"))
        add(one(lambda pad=pad: layers.Conv2D(4, (3, 2), strides=2, padding=pad), (9, 8, 3), id=f"conv2d-strided-{pad}"))
    add(one(lambda: layers.Conv2D(4, 3, dilation_rate=2, padding="same", activation="relu6"), (9, 9, 2), id="conv2d-dilated"))
    add(one(lambda: layers.Conv2D(6, 3, groups=2, padding="same", activation="elu"), (6, 6, 4), id="conv2d-groups"))
    add(one(lambda: layers.Conv2D(4, 1, use_bias=False, activation="swish"), (5, 5, 3), id="conv2d-nobias"))
    # groups == input channels (ConvNeXt's depthwise 7x7) is lowered as one depthwise convolution.
    add(one(lambda: layers.Conv2D(8, 3, groups=4, padding="same", activation="relu"), (6, 6, 4), id="conv2d-groups-per-channel"))
    add(one(lambda: layers.Conv2D(4, 3, groups=4, strides=2, use_bias=False), (7, 7, 4), id="conv2d-groups-per-channel-strided"))
    for pad in ("valid", "same"):
        add(one(lambda pad=pad: layers.Conv2DTranspose(3, 3, strides=2, padding=pad), (4, 5, 2), id=f"conv2d-transpose-{pad}"))
    add(one(lambda: layers.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1), (4, 4, 2),
            id="conv2d-transpose-output-padding"))
    add(one(lambda: layers.Conv2DTranspose(2, 2, strides=1, activation="sigmoid"), (4, 4, 2), id="conv2d-transpose-stride1"))
    add(one(lambda: layers.DepthwiseConv2D(3, padding="same"), (6, 6, 3), id="depthwise"))
    add(one(lambda: layers.DepthwiseConv2D(3, strides=2, depth_multiplier=2, activation="relu"), (7, 7, 3), id="depthwise-mult"))
    add(one(lambda: layers.DepthwiseConv2D(3, dilation_rate=2, use_bias=False), (8, 8, 2), id="depthwise-dilated"))
    add(one(lambda: layers.SeparableConv2D(4, 3, padding="same", depth_multiplier=2), (6, 6, 3), id="separable2d"))
    add(one(lambda: layers.SeparableConv2D(4, 3, strides=2, activation="relu"), (7, 7, 3), id="separable2d-strided"))
    add(one(lambda: layers.SeparableConv1D(4, 3, padding="same"), (8, 3), id="separable1d"))
    for cls in ("MaxPooling", "AveragePooling"):
        for pad in ("valid", "same"):
            add(one(lambda cls=cls, pad=pad: getattr(layers, cls + "2D")(3, strides=2, padding=pad), (7, 8, 2), id=f"{cls}2d-{pad}"))
            add(one(lambda cls=cls, pad=pad: getattr(layers, cls + "1D")(2, padding=pad), (7, 3), id=f"{cls}1d-{pad}"))
    for cls in ("GlobalAveragePooling", "GlobalMaxPooling"):
        add(one(lambda cls=cls: getattr(layers, cls + "2D")(), (4, 5, 3), id=f"{cls}2d"))
        add(one(lambda cls=cls: getattr(layers, cls + "2D")(keepdims=True), (4, 5, 3), id=f"{cls}2d-keepdims"))
        add(one(lambda cls=cls: getattr(layers, cls + "1D")(), (6, 3), id=f"{cls}1d"))
    add(one(lambda: layers.ZeroPadding2D(((1, 2), (0, 3))), (4, 4, 2), id="zero-padding2d"))
    add(one(lambda: layers.ZeroPadding1D(2), (4, 2), id="zero-padding1d"))
    add(one(lambda: layers.Cropping2D(((1, 0), (2, 1))), (6, 6, 2), id="cropping2d"))
    add(one(lambda: layers.Cropping1D((1, 2)), (6, 2), id="cropping1d"))
    add(one(lambda: layers.UpSampling2D(2), (3, 4, 2), id="upsampling2d-nearest"))
    add(one(lambda: layers.UpSampling2D((2, 3), interpolation="bilinear"), (3, 4, 2), id="upsampling2d-bilinear"))
    add(one(lambda: layers.UpSampling1D(3), (4, 2), id="upsampling1d"))
    # -- normalisation
    add(Case("batchnorm-folded-into-conv", lambda: trained_bn(seq(layers.Conv2D(4, 3, use_bias=False), layers.BatchNormalization(), shape=(6, 6, 3))), (6, 6, 3)))
    add(Case("batchnorm-folded-into-depthwise", lambda: trained_bn(seq(layers.DepthwiseConv2D(3, depth_multiplier=2), layers.BatchNormalization(), layers.ReLU(6.0), shape=(6, 6, 3))), (6, 6, 3)))
    add(Case("batchnorm-folded-into-dense", lambda: trained_bn(seq(layers.Dense(5), layers.BatchNormalization(center=False), shape=(4,))), (4,)))
    add(Case("batchnorm-after-activation", lambda: trained_bn(seq(layers.Conv2D(4, 3, activation="relu"), layers.BatchNormalization(scale=False), shape=(6, 6, 3))), (6, 6, 3)))
    add(Case("batchnorm-axis1", lambda: trained_bn(seq(layers.BatchNormalization(axis=1), shape=(3, 4, 2))), (3, 4, 2)))
    add(Case("layernorm", lambda: randomized(seq(layers.LayerNormalization(), shape=(3, 6))), (3, 6)))
    add(Case("layernorm-rms", lambda: randomized(seq(layers.LayerNormalization(rms_scaling=True), shape=(3, 6))), (3, 6)))
    add(Case("layernorm-axes", lambda: randomized(seq(layers.LayerNormalization(axis=[1, 2], center=False), shape=(3, 4, 2))), (3, 4, 2)))
    add(Case("rms-normalization", lambda: randomized(seq(layers.RMSNormalization(), shape=(3, 6))), (3, 6)))
    add(one(lambda: layers.UnitNormalization(), (3, 6), id="unit-normalization"))
    add(one(lambda: layers.Normalization(mean=[1.0, -2.0, 0.5], variance=[4.0, 0.25, 1.0]), (4, 3), id="normalization-config"))
    add(one(lambda: layers.Normalization(mean=[1.0, -2.0, 0.5], variance=[4.0, 0.25, 1.0], invert=True), (4, 3), id="normalization-invert"))
    add(Case("normalization-adapted", adapted_normalization, (3,)))
    # -- activation layers
    add(one(lambda: layers.ReLU(), (6,), id="relu-layer"))
    add(one(lambda: layers.ReLU(max_value=1.5), (6,), id="relu-max-value"))
    add(one(lambda: layers.ReLU(negative_slope=0.1), (6,), id="relu-negative-slope"))
    add(one(lambda: layers.ReLU(max_value=6.0, negative_slope=0.2, threshold=0.5), (6,), id="relu-all-options"))
    add(one(lambda: layers.ReLU(threshold=0.5), (6,), id="relu-threshold"))
    add(one(lambda: layers.LeakyReLU(negative_slope=0.15), (6,), id="leaky-relu-layer"))
    add(one(lambda: layers.ELU(alpha=0.5), (6,), id="elu-alpha"))
    add(Case("prelu", lambda: randomized(seq(layers.PReLU(shared_axes=[1, 2]), shape=(3, 3, 4))), (3, 3, 4)))
    add(one(lambda: layers.Softmax(axis=1), (3, 4), id="softmax-axis1"))
    # -- merges
    for cls in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
        add(Case(f"merge-{cls.lower()}", lambda cls=cls: merge_model(getattr(layers, cls)()), (4,)))
    add(Case("concatenate", lambda: merge_model(layers.Concatenate()), (4,)))
    add(Case("concatenate-axis1", lambda: merge_model(layers.Concatenate(axis=1), reshape=True), (4,)))
    # -- preprocessing inside the model
    add(one(lambda: layers.Rescaling(1 / 127.5, offset=-1), (4, 4, 3), id="rescaling", low=0, high=255))
    add(one(lambda: layers.Rescaling([0.5, 2.0, -1.0]), (4, 4, 3), id="rescaling-per-channel"))
    add(one(lambda: layers.Resizing(6, 9), (4, 5, 3), id="resizing-bilinear-up"))
    add(one(lambda: layers.Resizing(3, 2), (7, 6, 3), id="resizing-bilinear-down"))
    add(one(lambda: layers.Resizing(6, 9, interpolation="nearest"), (4, 5, 3), id="resizing-nearest"))
    add(one(lambda: layers.Resizing(4, 4, crop_to_aspect_ratio=True), (6, 9, 3), id="resizing-crop-to-aspect"))
    add(one(lambda: layers.CenterCrop(3, 4), (6, 7, 3), id="center-crop"))
    add(one(lambda: layers.CenterCrop(8, 6), (5, 7, 3), id="center-crop-upscale"))
    # -- keras.ops arithmetic and application layers
    add(Case("ops-arithmetic", ops_model, (4,)))
    add(Case("layer-scale", layer_scale_model, (3, 3, 4)))
    add(Case("ops-gelu-approximate", lambda: gelu_op_model(True), (4,), low=-4, high=4))
    add(Case("ops-gelu-exact", lambda: gelu_op_model(False), (4,), low=-4, high=4))
    # -- model structure and file formats
    add(Case("nested-sequential", nested_model, (6,)))
    add(Case("shared-layer", shared_model, (6,)))
    add(Case("nested-sequential-h5", nested_model, (6,), save="h5"))
    add(Case("conv-bn-h5", lambda: trained_bn(seq(layers.Conv2D(4, 3), layers.BatchNormalization(), layers.Activation("relu"), layers.Flatten(), layers.Dense(3, activation="softmax"), shape=(6, 6, 2))), (6, 6, 2), save="h5"))
    add(Case("nested-sequential-npz", nested_model, (6,), save="npz"))
    add(Case("conv-bn-npz", lambda: trained_bn(seq(layers.Conv2D(4, 3), layers.BatchNormalization(), layers.Dense(3), shape=(6, 6, 2))), (6, 6, 2), save="npz"))
    return out


def randomized(model):
    """Give every weight random values (initial ones hide weight-order bugs)."""
    rng = np.random.default_rng(7)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model


def trained_bn(model):
    """Random weights, with positive variances where BatchNormalization needs them."""
    rng = np.random.default_rng(11)
    weights = []
    for var in model.weights:
        value = rng.normal(size=var.shape).astype("float32")
        if "variance" in var.path:
            value = rng.uniform(0.5, 2.0, size=var.shape).astype("float32")
        weights.append(value)
    model.set_weights(weights)
    return model


def adapted_normalization():
    import keras

    norm = keras.layers.Normalization()
    norm.adapt(np.random.default_rng(5).normal(3.0, 2.0, size=(64, 3)).astype("float32"))
    return seq(norm, keras.layers.Dense(2), shape=(3,))


def merge_model(merge, reshape=False):
    import keras

    x = keras.Input((4,))
    a = keras.layers.Dense(4, activation="tanh")(x)
    b = keras.layers.Dense(4)(x)
    if reshape:
        a, b = keras.layers.Reshape((2, 2))(a), keras.layers.Reshape((2, 2))(b)
    return keras.Model(x, merge([a, b]))


def ops_model():
    import keras

    x = keras.Input((4,))
    y = keras.layers.Dense(4)(x)
    y = (y + 3.0) * 0.5
    y = keras.ops.divide(y, 2.0)
    y = keras.ops.subtract(1.0, y)
    return keras.Model(x, y)


def gelu_op_model(approximate: bool):
    import keras

    x = keras.Input((4,))
    return keras.Model(x, keras.ops.gelu(keras.layers.Dense(6)(x), approximate=approximate))


def layer_scale_model():
    import keras
    from keras.src.applications.convnext import LayerScale

    x = keras.Input((3, 3, 4))
    return randomized(keras.Model(x, LayerScale(1e-6, 4)(keras.layers.Conv2D(4, 1)(x))))


def nested_model():
    import keras

    inner = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(4)], name="inner")
    x = keras.Input((6,))
    y = keras.layers.Dense(6, name="outer")(x)
    return trained_bn(keras.Model(x, inner(y)))


def shared_model():
    import keras

    x = keras.Input((6,))
    shared = keras.layers.Dense(6, activation="tanh")
    y = shared(shared(x))
    return randomized(keras.Model(x, keras.layers.Add()([y, x])))


CASES = cases()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Save, convert and run every case once; return {id: (expected, got, error)}."""
    import keras

    keras.utils.set_random_seed(3)
    root = tmp_path_factory.mktemp("layers")
    rng = np.random.default_rng(0)
    runs, expected, failures = [], {}, {}
    for case in CASES:
        model = case.build()
        folder = root / case.id
        folder.mkdir()
        shape = (3, *case.shape)
        if case.dtype == "int32":
            x = rng.integers(case.low, case.high, size=shape).astype("int32")
        else:
            x = rng.uniform(case.low, case.high, size=shape).astype("float32")
        expected[case.id] = np.asarray(model.predict(x, verbose=0))
        source = folder / f"model.{'keras' if case.save != 'h5' else 'h5'}"
        if case.save == "npz":
            from keras.src.saving import saving_lib

            saving_lib.save_model(model, source, weights_format="npz")
        else:
            model.save(source)
        out = folder / "tfjs"
        try:
            convert_model(source, out, "none", case.id, Choice("native"))
        except Exception as exc:  # noqa: BLE001 - reported by the case's own test
            failures[case.id] = f"conversion failed: {type(exc).__name__}: {exc}"
            continue
        runs.append((case, out, [x]))
    got = run_models([(out, inputs) for _, out, inputs in runs])
    results = {case.id: (expected[case.id], result) for (case, _, _), result in zip(runs, got, strict=True)}
    results.update({key: (expected[key], message) for key, message in failures.items()})
    return results


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_matches_keras(results, case):
    expected, got = results[case.id]
    assert not isinstance(got, str), got
    assert got[0].shape == expected.shape
    error = float(np.abs(got[0] - expected).max())
    assert error <= case.tol, f"max abs error {error:.3g} > {case.tol}"


@pytest.mark.parametrize(("quantize", "tol"), [("float16", 1e-4), ("uint8", 3e-3)])
def test_quantized_weights_decode_in_tfjs(tmp_path, quantize, tol):
    """float16 and affine uint8 weights as TF.js decodes them (a wrong scale or min is off by far more).

    Measured on the digits model (softmax outputs, random input): float16 4.7e-5, uint8 1.5e-3.
    """
    import keras

    source = Path(__file__).resolve().parents[1] / "models" / "digits" / "digits.keras"
    model = keras.models.load_model(source, compile=False)
    x = np.random.default_rng(2).uniform(0, 1, size=(8, 28, 28, 1)).astype("float32")
    convert_model(source, tmp_path / quantize, quantize, "digits", Choice("native"))
    manifest = (tmp_path / quantize / "model.json").read_text()
    assert f'"dtype":"{quantize}"' in manifest
    (got,) = run_models([(tmp_path / quantize, [x])])
    error = float(np.abs(got[0] - model.predict(x, verbose=0)).max())
    assert error <= tol, error


def test_weight_lookup_reads_each_layer_tag_once(tmp_path, monkeypatch):
    """Reading a .keras file's weights is linear in the number of layers.

    The reader once scanned every layer's name tag for each layer it looked
    up: quadratic, 15 s of NASNetMobile's conversion (770 layers). Counting
    HDF5 attribute reads keeps the test independent of the machine's speed:
    about one per layer now, ``layers² / 2`` then.
    """
    import h5py
    import keras

    layers = 120
    model = keras.Sequential([keras.Input((2,)), *[keras.layers.Dense(2) for _ in range(layers)]])
    model.save(tmp_path / "deep.keras")
    reads = 0
    original = h5py.AttributeManager.__getitem__

    def counting(self, name):
        nonlocal reads
        reads += 1
        return original(self, name)

    monkeypatch.setattr(h5py.AttributeManager, "__getitem__", counting)
    convert_model(tmp_path / "deep.keras", tmp_path / "tfjs", "none", "deep", Choice("native"))
    assert reads <= 2 * layers, f"{reads} HDF5 attribute reads for {layers} layers"


def test_several_inputs_and_outputs_keep_their_order(tmp_path):
    """A Functional model with two inputs and two outputs: each input lands on its own
    Placeholder and each output comes back in the model's order (a swap is off by far
    more than float32 rounding)."""
    import keras

    a, b = keras.Input((3,), name="a"), keras.Input((4, 2), name="b")
    shared = keras.layers.Dense(5, activation="tanh")
    joined = keras.layers.Concatenate()([shared(a), keras.layers.Flatten()(b)])
    first = keras.layers.Dense(2, name="first")(joined)
    second = keras.layers.Dense(6, activation="sigmoid", name="second")(shared(keras.layers.Dense(3)(first)))
    model = randomized(keras.Model([a, b], [first, second]))
    model.save(tmp_path / "two.keras")
    rng = np.random.default_rng(4)
    x = [rng.normal(size=(3, 3)).astype("float32"), rng.normal(size=(3, 4, 2)).astype("float32")]
    convert_model(tmp_path / "two.keras", tmp_path / "tfjs", "none", "two", Choice("native"))
    (got,) = run_models([(tmp_path / "tfjs", x)])
    assert not isinstance(got, str), got
    expected = model.predict(x, verbose=0)
    assert [g.shape for g in got] == [e.shape for e in expected]
    for g, e in zip(got, expected, strict=True):
        assert float(np.abs(g - e).max()) <= 5e-6


def test_conv2d_with_one_group_per_channel_is_one_depthwise_op(tmp_path):
    """ConvNeXt's depthwise convolutions (``Conv2D(groups=channels)``) stay one op each.

    They were split into one Conv2D per channel and concatenated: right, but
    18,000 graph nodes for ConvNeXtBase, and as many kernel launches per
    inference in the browser.
    """
    import json

    import keras

    model = seq(keras.layers.Conv2D(64, 7, groups=64, padding="same"), shape=(8, 8, 64))
    model.save(tmp_path / "depthwise.keras")
    convert_model(tmp_path / "depthwise.keras", tmp_path / "tfjs", "none", "depthwise", Choice("native"))
    nodes = json.loads((tmp_path / "tfjs" / "model.json").read_text())["modelTopology"]["node"]
    ops = sorted(node["op"] for node in nodes if node["op"] not in ("Const", "Placeholder", "Identity"))
    assert ops == ["FusedDepthwiseConv2dNative"], ops
