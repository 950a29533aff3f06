"""Keras 2 files, numerically: models tf_keras saved as ``.h5``, converted natively, vs tf_keras.

Keras 2 (tf_keras, and ``tf.keras`` before TensorFlow 2.16) writes configs
that differ from Keras 3's: LeakyReLU's slope is ``alpha``,
``hard_sigmoid`` is ``clip(0.2 x + 0.5, 0, 1)`` (Keras 3: ``relu6(x + 3) / 6``),
DepthwiseConv2D carries ``depth_multiplier`` and a ``groups`` key,
BatchNormalization's ``axis`` is a list of positive axes, layers list their
inbound nodes as ``[layer, node, tensor, kwargs]`` lists and the first layer
holds ``batch_input_shape``. Each case is a tiny tf_keras model with random
weights, saved as ``.h5`` as tf_keras users do, converted with
``quantize: none``, run by the real TF.js (Node, all cases in one process,
through the harness of ``test_native_layers``) and compared with tf_keras's
own output. A config key read under its Keras 3 name only (a default
taken instead of the saved value), a Keras 3 formula applied to a Keras 2
file, or a weight read in the wrong order fails its case.

Errors are relative where ``|expected|`` exceeds 1 (``exponential`` reaches
2e5). The tolerance, 1.5e-6, sits just above the largest error measured over
all cases (1.03e-6, ``resizing-bilinear``).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from mkdocs_tfjs.convert import Choice, convert_model

from .test_native_layers import Case, case_input, masked_tokens
from .tfjs_node import run_models

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TOL = 1.5e-6


def seq(*layers, shape):
    import tf_keras

    return tf_keras.Sequential([tf_keras.layers.InputLayer(shape), *layers])


def randomized(model):
    """Random weights (initial ones hide weight-order bugs), positive moving variances."""
    rng = np.random.default_rng(13)
    weights = []
    for var in model.weights:
        value = rng.normal(size=var.shape).astype("float32")
        if "moving_variance" in var.name or var.name.endswith("variance:0"):
            value = rng.uniform(0.5, 2.0, size=var.shape).astype("float32")
        weights.append(value)
    model.set_weights(weights)
    return model


def one(make, shape, **kw):
    return Case(kw.pop("id"), lambda: randomized(seq(make(), shape=shape)), shape, save="h5", **kw)


# Activations tf_keras knows by name (tf_keras.activations, and the tf.nn
# functions its ``get`` accepts), each checked as a layer and inside a Dense.
ACTIVATIONS = [
    "elu", "exponential", "gelu", "hard_sigmoid", "linear", "mish", "relu", "selu", "sigmoid",
    "softmax", "softplus", "softsign", "swish", "silu", "tanh", "relu6", "leaky_relu", "log_softmax",
]


def cases() -> list[Case]:
    import tf_keras

    layers = tf_keras.layers
    out: list[Case] = []
    add = out.append
    # -- core and activations by name
    add(one(lambda: layers.Dense(7), (5,), id="dense"))
    add(one(lambda: layers.Dense(7, use_bias=False), (5,), id="dense-nobias"))
    add(one(lambda: layers.Dense(4, activation="relu"), (3, 5), id="dense-rank3"))
    for name in ACTIVATIONS:
        add(Case(f"activation-{name}", lambda name=name: randomized(seq(layers.Dense(6), layers.Activation(name), shape=(4,))),
                 (4,), low=-4, high=4, save="h5"))
        add(Case(f"dense-activation-{name}", lambda name=name: randomized(seq(layers.Dense(6, activation=name), shape=(4,))),
                 (4,), low=-4, high=4, save="h5"))
    # -- activation layers: Keras 2's parameter names
    add(one(lambda: layers.LeakyReLU(), (6,), id="leaky-relu-default-alpha"))
    add(one(lambda: layers.LeakyReLU(alpha=0.05), (6,), id="leaky-relu-alpha"))
    add(one(lambda: layers.ReLU(max_value=1.5), (6,), id="relu-max-value"))
    add(one(lambda: layers.ReLU(max_value=6.0), (6,), id="relu-max-value-6", low=-8, high=8))
    add(one(lambda: layers.ReLU(negative_slope=0.1), (6,), id="relu-negative-slope"))
    add(one(lambda: layers.ReLU(threshold=0.5), (6,), id="relu-threshold"))
    add(one(lambda: layers.ReLU(max_value=1.2, negative_slope=0.2, threshold=0.5), (6,), id="relu-all-options"))
    add(one(lambda: layers.ELU(), (6,), id="elu-default"))
    add(one(lambda: layers.ELU(alpha=0.5), (6,), id="elu-alpha"))
    add(one(lambda: layers.PReLU(shared_axes=[1, 2]), (3, 3, 4), id="prelu"))
    add(one(lambda: layers.Softmax(axis=1), (3, 4), id="softmax-axis1"))
    # -- convolutions
    for pad in ("valid", "same"):
        add(one(lambda pad=pad: layers.Conv2D(5, 3, padding=pad), (7, 8, 3), id=f"conv2d-{pad}"))
        add(one(lambda pad=pad: layers.Conv2D(4, (3, 2), strides=(2, 1), padding=pad), (9, 8, 3), id=f"conv2d-strided-{pad}"))
    add(one(lambda: layers.Conv2D(4, 3, dilation_rate=2, padding="same", activation="relu6"), (9, 9, 2), id="conv2d-dilated"))
    add(one(lambda: layers.Conv2D(6, 3, groups=2, padding="same", activation="elu"), (6, 6, 4), id="conv2d-groups"))
    add(one(lambda: layers.Conv2D(8, 3, groups=4, padding="same"), (6, 6, 4), id="conv2d-groups-per-channel"))
    add(one(lambda: layers.Conv2D(4, 3, activation="hard_sigmoid"), (6, 6, 3), id="conv2d-hard-sigmoid"))
    for pad in ("valid", "same", "causal"):
        add(one(lambda pad=pad: layers.Conv1D(4, 3, padding=pad), (9, 3), id=f"conv1d-{pad}"))
    add(one(lambda: layers.Conv1D(4, 3, strides=2, dilation_rate=1, padding="same", groups=1), (10, 3), id="conv1d-strided"))
    add(one(lambda: layers.DepthwiseConv2D(3, padding="same"), (6, 6, 3), id="depthwise"))
    add(one(lambda: layers.DepthwiseConv2D(3, strides=2, depth_multiplier=2, activation="relu"), (7, 7, 3), id="depthwise-mult"))
    add(one(lambda: layers.DepthwiseConv2D((3, 2), dilation_rate=2, depth_multiplier=3, use_bias=False), (8, 8, 2), id="depthwise-dilated"))
    add(one(lambda: layers.SeparableConv2D(4, 3, padding="same", depth_multiplier=2), (6, 6, 3), id="separable2d"))
    add(one(lambda: layers.SeparableConv2D(4, 3, strides=2, activation="relu"), (7, 7, 3), id="separable2d-strided"))
    add(one(lambda: layers.SeparableConv1D(4, 3, padding="same", depth_multiplier=2), (8, 3), id="separable1d"))
    for pad in ("valid", "same"):
        add(one(lambda pad=pad: layers.Conv2DTranspose(3, 3, strides=2, padding=pad), (4, 5, 2), id=f"conv2d-transpose-{pad}"))
    add(one(lambda: layers.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1), (4, 4, 2), id="conv2d-transpose-output-padding"))
    add(one(lambda: layers.Conv2DTranspose(2, 4, strides=2, padding="same", activation="sigmoid"), (3, 3, 2), id="conv2d-transpose-even-kernel"))
    # -- normalisation (Keras 2 writes BatchNormalization's axis as a list of positive axes)
    add(one(lambda: layers.BatchNormalization(), (6,), id="batchnorm"))
    add(one(lambda: layers.BatchNormalization(axis=1, epsilon=0.1), (3, 4, 2), id="batchnorm-axis1-epsilon"))
    add(one(lambda: layers.BatchNormalization(center=False), (3, 4), id="batchnorm-no-center"))
    add(one(lambda: layers.BatchNormalization(scale=False), (3, 4), id="batchnorm-no-scale"))
    # Keras 2 only: batch renormalisation adds three variables after the moving statistics.
    add(one(lambda: layers.BatchNormalization(renorm=True), (3, 4), id="batchnorm-renorm"))
    add(Case("conv2d-bn-folded", lambda: randomized(seq(layers.Conv2D(4, 3, use_bias=False), layers.BatchNormalization(epsilon=0.01), layers.ReLU(), shape=(6, 6, 3))), (6, 6, 3), save="h5"))
    add(Case("depthwise-bn-folded", lambda: randomized(seq(layers.DepthwiseConv2D(3, depth_multiplier=2), layers.BatchNormalization(), shape=(6, 6, 3))), (6, 6, 3), save="h5"))
    add(one(lambda: layers.LayerNormalization(), (3, 6), id="layernorm"))
    add(one(lambda: layers.LayerNormalization(axis=[1, 2], center=False, epsilon=0.1), (3, 4, 2), id="layernorm-axes"))
    add(Case("normalization-adapted", adapted_normalization, (3,), save="h5"))
    # -- pooling, reshaping, resampling
    add(one(lambda: layers.MaxPooling2D(3, strides=2, padding="same"), (7, 8, 2), id="maxpool2d-same"))
    add(one(lambda: layers.AveragePooling1D(2, padding="same"), (7, 3), id="avgpool1d-same"))
    add(one(lambda: layers.GlobalAveragePooling2D(keepdims=True), (4, 5, 3), id="global-avg-pool2d-keepdims"))
    add(one(lambda: layers.GlobalMaxPooling1D(), (6, 3), id="global-max-pool1d"))
    add(one(lambda: layers.Flatten(), (3, 4, 2), id="flatten"))
    add(one(lambda: layers.Reshape((4, -1)), (3, 4, 2), id="reshape"))
    add(one(lambda: layers.ZeroPadding2D(((1, 2), (0, 3))), (4, 4, 2), id="zero-padding2d"))
    add(one(lambda: layers.Cropping1D((1, 2)), (6, 2), id="cropping1d"))
    add(one(lambda: layers.UpSampling2D((2, 3), interpolation="bilinear"), (3, 4, 2), id="upsampling2d-bilinear"))
    add(one(lambda: layers.Resizing(6, 9), (4, 5, 3), id="resizing-bilinear"))
    add(one(lambda: layers.Rescaling(1 / 127.5, offset=-1), (4, 4, 3), id="rescaling", low=0, high=255))
    # Keras 2 models take float indices by default and truncate them, as TF.js's Cast does.
    add(Case("embedding-float-indices", lambda: randomized(seq(layers.Embedding(20, 4, input_length=6), shape=(6,))),
             (6,), low=0, high=20, save="h5"))
    add(Case("embedding-int-indices", lambda: randomized(tf_keras.Sequential([layers.InputLayer((6,), dtype="int32"), layers.Embedding(20, 4)])),
             (6,), dtype="int32", low=0, high=20, save="h5"))
    # -- Functional models: Keras 2's inbound_nodes lists, shared layers, merges, nesting
    add(Case("functional-shared-merge", functional_model, (6,), save="h5"))
    add(Case("functional-nested-sequential", nested_model, (6,), save="h5"))
    # -- recurrent layers: tf_keras's weight names (``lstm/lstm_cell/kernel:0``), its
    # hard_sigmoid, Bidirectional's forward-then-backward weights, masks from Embedding
    add(one(lambda: layers.LSTM(4), (6, 3), id="lstm"))
    add(one(lambda: layers.LSTM(4, return_sequences=True, go_backwards=True, recurrent_activation="hard_sigmoid"),
            (6, 3), id="lstm-backwards-hard-sigmoid"))
    add(one(lambda: layers.GRU(4, return_sequences=True), (6, 3), id="gru-reset-after"))
    add(one(lambda: layers.GRU(4, reset_after=False, return_sequences=True), (6, 3), id="gru-reset-before"))
    add(one(lambda: layers.SimpleRNN(4, activation="relu", use_bias=False), (6, 3), id="simple-rnn"))
    add(one(lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True)), (6, 3), id="bidirectional-lstm"))
    add(one(lambda: layers.Bidirectional(layers.GRU(3, reset_after=False), merge_mode="ave"), (6, 3), id="bidirectional-gru-ave"))
    add(one(lambda: layers.TimeDistributed(layers.Dense(3, activation="tanh")), (6, 3), id="time-distributed-dense"))
    add(Case("lstm-masked-embedding", lambda: randomized(tf_keras.Sequential([
        layers.InputLayer((7,), dtype="int32"), layers.Embedding(12, 3, mask_zero=True), layers.LSTM(4)])),
        (7,), dtype="int32", low=1, high=12, prepare=masked_tokens, save="h5"))
    add(Case("bidirectional-masked-functional", masked_bidirectional, (7,), dtype="int32", low=1, high=12,
             prepare=masked_tokens, save="h5"))
    add(Case("gru-state-initial-state", recurrent_states_model, (6, 3), save="h5"))
    return out + attention_cases()


def masked_bidirectional():
    """A functional model: Embedding(mask_zero=True) → Bidirectional(GRU) sequences → LSTM."""
    import tf_keras

    layers = tf_keras.layers
    x = tf_keras.Input((7,), dtype="int32")
    y = layers.Embedding(12, 3, mask_zero=True)(x)
    y = layers.Bidirectional(layers.GRU(3, return_sequences=True))(y)
    return randomized(tf_keras.Model(x, layers.LSTM(2)(y)))


def recurrent_states_model():
    """Initial states from the input and ``return_state``, all outputs concatenated into one."""
    import tf_keras

    layers = tf_keras.layers
    x = tf_keras.Input((6, 3))
    state = layers.Dense(4, activation="tanh")(layers.Flatten()(x))
    out, h = layers.GRU(4, return_state=True)(x, initial_state=[state])
    return randomized(tf_keras.Model(x, layers.Concatenate()([out, h, state])))


def attention_cases() -> list[Case]:
    """tf_keras's attention, normalisation, 3-D and augmentation layers (issue 19)."""
    import tf_keras

    from .test_native_layers import masked_inputs, uniform_inputs

    layers = tf_keras.layers
    out: list[Case] = []
    add = out.append
    # tf_keras's MultiHeadAttention: always the explicit path; a mask adds -1e9 (a fully masked
    # row is a softmax of equal scores, not zeros)
    add(Case("mha-self-causal", lambda: mha2((5, 8), None, {"num_heads": 2, "key_dim": 3}, {"use_causal_mask": True}), (5, 8), save="h5"))
    add(Case("mha-cross-mask", lambda: mha2((5, 8), (6, 4), {"num_heads": 2, "key_dim": 3, "value_dim": 4, "output_shape": 6}, {}, mask=True),
             None, save="h5", inputs=lambda rng: masked_inputs(rng, (5, 8), (6, 4))))
    add(Case("mha-scores-nobias", lambda: mha2((5, 8), None, {"num_heads": 3, "key_dim": 2, "use_bias": False}, {"return_attention_scores": True}, scores=True),
             (5, 8), save="h5"))
    add(Case("mha-axes", lambda: mha2((3, 4, 6), None, {"num_heads": 2, "key_dim": 3, "attention_axes": (1, 2)}, {}), (3, 4, 6), save="h5"))
    for cls, kw in [("Attention", {"use_scale": True}), ("Attention", {"score_mode": "concat"}), ("AdditiveAttention", {})]:
        # causal, without masks: tf_keras takes only boolean masks, which the Node runner cannot feed
        add(Case(f"{cls.lower()}-{'-'.join(kw) or 'default'}-causal", lambda cls=cls, kw=kw: dense_attention2(getattr(layers, cls)(**kw)),
                 None, save="h5", inputs=lambda rng: uniform_inputs(rng, (5, 4), (5, 4), (5, 4))))
    add(one(lambda: layers.LayerNormalization(center=False, scale=False), (3, 6), id="layernorm-both-off"))
    add(one(lambda: layers.GroupNormalization(groups=2), (3, 3, 4), id="groupnorm"))
    add(one(lambda: layers.UnitNormalization(), (3, 6), id="unit-normalization"))
    add(one(lambda: layers.Conv1DTranspose(3, 3, strides=2, padding="same"), (5, 2), id="conv1d-transpose"))
    add(one(lambda: layers.Conv3D(3, 2, strides=(1, 2, 1), padding="same", activation="relu"), (4, 5, 4, 2), id="conv3d"))
    add(one(lambda: layers.Conv3DTranspose(2, 3, strides=2, padding="valid"), (2, 3, 2, 2), id="conv3d-transpose"))
    add(one(lambda: layers.MaxPooling3D(2, padding="same"), (3, 5, 4, 2), id="maxpool3d-same"))
    add(one(lambda: layers.AveragePooling3D((2, 1, 2)), (4, 3, 4, 2), id="avgpool3d"))
    for cls, args in [("RandomFlip", ()), ("RandomRotation", (0.2,)), ("RandomZoom", (0.2,)), ("RandomContrast", (0.3,)),
                      ("RandomTranslation", (0.1, 0.1)), ("RandomBrightness", (0.2,))]:
        add(Case(f"augment-{cls}", lambda cls=cls, args=args: randomized(seq(getattr(layers, cls)(*args), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(3), shape=(8, 8, 3))),
                 (8, 8, 3), low=0, high=1, save="h5"))
    return out


def mha2(q_shape, v_shape, kw, call, mask=False, scores=False):
    """One tf_keras MultiHeadAttention on its own inputs, small random weights."""
    import tf_keras

    q = tf_keras.Input(q_shape)
    inputs, extra = [q], dict(call)
    value = q
    if v_shape is not None:
        value = tf_keras.Input(v_shape)
        inputs.append(value)
    if mask:
        extra["attention_mask"] = tf_keras.Input((q_shape[0], (v_shape or q_shape)[0]))
        inputs.append(extra["attention_mask"])
    out = tf_keras.layers.MultiHeadAttention(**kw)(q, value, **extra)
    return small(tf_keras.Model(inputs if len(inputs) > 1 else q, out[1] if scores else out))


def dense_attention2(layer):
    import tf_keras

    q, v, k = tf_keras.Input((5, 4)), tf_keras.Input((5, 4)), tf_keras.Input((5, 4))
    out = layer([q, v, k], use_causal_mask=True)
    return small(tf_keras.Model([q, v, k], out))


def small(model):
    """Random weights of scale 0.3: attention's outputs stay near 1."""
    rng = np.random.default_rng(13)
    model.set_weights([0.3 * rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model


def adapted_normalization():
    import tf_keras

    norm = tf_keras.layers.Normalization()
    norm.adapt(np.random.default_rng(5).normal(3.0, 2.0, size=(64, 3)).astype("float32"))
    model = seq(norm, tf_keras.layers.Dense(2), shape=(3,))
    dense = model.layers[-1]
    dense.set_weights([np.random.default_rng(6).normal(size=w.shape).astype("float32") for w in dense.get_weights()])
    return model


def functional_model():
    import tf_keras

    layers = tf_keras.layers
    x = tf_keras.Input((6,))
    shared = layers.Dense(6, activation="tanh")
    y = shared(shared(x))
    a = layers.Add()([y, x])
    b = layers.Concatenate()([layers.Dense(3)(a), layers.Multiply()([a, y])])
    return randomized(tf_keras.Model(x, layers.Dense(4, activation="hard_sigmoid")(b)))


def nested_model():
    import tf_keras

    layers = tf_keras.layers
    inner = tf_keras.Sequential([layers.InputLayer((6,)), layers.Dense(5), layers.BatchNormalization(),
                                 layers.LeakyReLU(alpha=0.2), layers.Dense(4)], name="inner")
    x = tf_keras.Input((6,))
    return randomized(tf_keras.Model(x, inner(layers.Dense(6, name="outer")(x))))


CASES = cases()


def save_convert_run(cases: list[Case], root) -> dict[str, tuple[np.ndarray, object]]:
    """Save, convert and run every case; return {id: (expected, outputs or error text)}."""
    import tf_keras

    tf_keras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    runs, expected, failures = [], {}, {}
    for case in cases:
        model = case.build()
        folder = root / case.id
        folder.mkdir()
        x = case_input(case, rng)
        expected[case.id] = np.asarray(model(x, training=False))
        source = folder / "model.h5"
        model.save(source, save_format="h5")
        try:
            convert_model(source, folder / "tfjs", "none", case.id, Choice("native"))
        except Exception as exc:  # noqa: BLE001 - reported by the case's own test
            failures[case.id] = f"conversion failed: {type(exc).__name__}: {exc}"
            continue
        runs.append((case, folder / "tfjs", x if isinstance(x, list) else [x]))
    got = run_models([(out, inputs) for _, out, inputs in runs])
    results = {case.id: (expected[case.id], result) for (case, _, _), result in zip(runs, got, strict=True)}
    results.update({key: (expected[key], message) for key, message in failures.items()})
    return results


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return tmp_path_factory.mktemp("keras2")


@pytest.fixture(scope="module")
def results(folders):
    return save_convert_run(CASES, folders)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_keras2_layer_matches_tf_keras(results, case):
    expected, got = results[case.id]
    assert not isinstance(got, str), got
    assert got[0].shape == expected.shape
    error = relative_error(got[0], expected)
    limit = AUGMENT_TOL if case.id.startswith("augment-") else TOL
    assert error <= limit, f"max error {error:.3g} > {limit}"


#: The augmentation cases: the convolution and dense after the identity sum 108 and 72
#: products of unscaled random weights; measured up to 6.0e-6 relative (RandomBrightness).
AUGMENT_TOL = 8e-6


def relative_error(got: np.ndarray, expected: np.ndarray) -> float:
    """Return the largest error, relative where ``|expected|`` exceeds 1 (float32 rounding grows with the value)."""
    return float((np.abs(got - expected) / np.maximum(1.0, np.abs(expected))).max())


def test_keras2_files_are_read_as_keras2(folders, results):
    """The cases really are Keras 2 files, and Keras 2's BatchNormalization still folds.

    A file tf_keras wrote records ``keras_version`` 2.x (what selects Keras 2's
    ``hard_sigmoid``); its BatchNormalization axis ``[3]`` is the channels axis,
    so the layer folds into the convolution before it and leaves no Mul behind.
    """
    import h5py

    with h5py.File(folders / "conv2d-bn-folded" / "model.h5", "r") as handle:
        assert str(handle.attrs["keras_version"]).startswith("2.")
        config = json.loads(handle.attrs["model_config"])
    axes = [e["config"]["axis"] for e in config["config"]["layers"] if e["class_name"] == "BatchNormalization"]
    assert axes == [[3]]
    for case in ("conv2d-bn-folded", "depthwise-bn-folded"):
        nodes = json.loads((folders / case / "tfjs" / "model.json").read_text())["modelTopology"]["node"]
        ops = [node["op"] for node in nodes]
        assert "Mul" not in ops and "AddV2" not in ops, (case, ops)


def nested_variants():
    """A model called inside a Functional model, as each Keras numbers its calls.

    A model built on its own Input owns a call (node 0) that the config leaves
    out, and references to its first saved call say node 1: Keras 3 does so
    for a nested Functional model, Keras 2 for any nested model, a Sequential
    one built later included. The walker numbered saved calls from 0 and
    stopped with ``KeyError: ('inner', 1, 0)`` on every such file.
    """
    import keras
    import tf_keras

    for name, k in (("keras3", keras), ("keras2", tf_keras)):
        for kind in ("functional", "sequential", "sequential-built-later"):
            layers = k.layers
            if kind == "functional":
                i = k.Input((6,))
                inner = k.Model(i, layers.Dense(4)(layers.BatchNormalization()(layers.Dense(5)(i))), name="inner")
            elif kind == "sequential":
                inner = k.Sequential([k.Input((6,)), layers.Dense(5), layers.ReLU(), layers.Dense(4)], name="inner")
            else:
                inner = k.Sequential([layers.Dense(5, activation="tanh"), layers.Dense(4)], name="inner")
            for use in ("output", "twice"):
                x = k.Input((6,))
                y = layers.Dense(6, name="outer")(x)
                # As the model's output, the call is named in output_layers (Keras 3 counts
                # from 1 there for a Functional model); called twice, in the Add's arguments.
                out = inner(y) if use == "output" else layers.Add()([inner(y), inner(x)])
                model = k.Model(x, out)
                rng = np.random.default_rng(8)
                model.set_weights([rng.uniform(0.5, 2.0, w.shape).astype("float32") if "variance" in v.name
                                   else rng.normal(size=w.shape).astype("float32")
                                   for v, w in zip(model.weights, model.get_weights(), strict=True)])
                for suffix in ("h5", "keras"):
                    yield f"{name}-{kind}-{use}.{suffix}", model


def test_nested_models_are_numbered_as_keras_numbers_them(tmp_path):
    """Nested models in Keras 2 and Keras 3 files (``.h5`` and ``.keras``) convert and match.

    Measured: at most 8.2e-7 (relative where above 1) over the 24 files.
    """
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, size=(3, 6)).astype("float32")
    runs, expected = [], []
    for name, model in nested_variants():
        source = tmp_path / name
        if name.startswith("keras2") and name.endswith(".h5"):
            model.save(source, save_format="h5")
        else:
            model.save(source)
        convert_model(source, tmp_path / f"{name}-tfjs", "none", name, Choice("native"))
        runs.append((tmp_path / f"{name}-tfjs", [x]))
        expected.append((name, np.asarray(model(x, training=False))))
    for (name, want), got in zip(expected, run_models(runs), strict=True):
        assert not isinstance(got, str), (name, got)
        assert relative_error(got[0], want) <= 1e-6, name
