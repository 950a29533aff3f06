"""BatchNormalization folded into each layer it folds into, and left alone where it must be.

The native converter folds a BatchNormalization into the weights of the
layer before it (as TensorFlow's optimiser does): each output channel's
kernel slice times ``gamma / sqrt(variance + epsilon)``, and a new bias.
Each layer keeps its output channels on its own kernel axis (the last one,
axis 2 of Conv2DTranspose's kernel, ``channel * multiplier + m`` over the
last two of DepthwiseConv2D's, the pointwise kernel of a separable
convolution), so each fold is its own way to go wrong. Every case here has
random moving statistics, gamma and beta (the initial ones, 0 and 1, hide
a wrong axis), is compared with Keras's own output on the real TF.js (Node,
all cases in one process), and its ``model.json`` is checked: a folded case
has the very ops of the same layer without the BatchNormalization (with a
bias), an unfolded one still has the BatchNormalization's multiply.

Errors are relative where ``|expected|`` exceeds 1. The tolerance, 1.5e-6,
sits just above the largest error measured over the cases (1.25e-6,
``conv2d-nobias``); ``conv-called-twice`` has its own, 4e-6 (3.3e-6
measured: two convolutions and a BatchNormalization in series).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import pytest

from mkdocs_tfjs.convert import Choice, convert_model

from .test_keras2_parity import relative_error
from .test_native_layers import trained_bn
from .tfjs_node import run_models

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

@dataclass
class Fold:
    id: str
    build: object  # () -> (keras.Model, the BatchNormalization's name, the folded layer or None)
    shape: tuple
    folds: bool = True
    tol: float = 1.5e-6


def folded(make_layer, shape, **bn):
    """Input → the layer → BatchNormalization(**bn) → ReLU (the usual block)."""

    def build():
        import keras

        layer = make_layer()
        norm = keras.layers.BatchNormalization(name="bn", **bn)
        model = keras.Sequential([keras.Input(shape), layer, norm, keras.layers.ReLU()])
        return trained_bn(model), "bn", layer

    return build


def fold_cases() -> list[Fold]:
    import keras

    layers = keras.layers
    return [
        Fold("conv1d", folded(lambda: layers.Conv1D(5, 3, padding="same"), (9, 3), epsilon=0.01), (9, 3)),
        Fold("conv1d-causal-nobias", folded(lambda: layers.Conv1D(5, 3, padding="causal", use_bias=False), (9, 3), center=False), (9, 3)),
        Fold("conv2d", folded(lambda: layers.Conv2D(5, 3, strides=2), (7, 7, 3)), (7, 7, 3)),
        Fold("conv2d-nobias", folded(lambda: layers.Conv2D(4, (3, 2), padding="same", use_bias=False), (6, 5, 3), scale=False), (6, 5, 3)),
        Fold("separable-conv1d", folded(lambda: layers.SeparableConv1D(4, 3, depth_multiplier=2), (8, 3), epsilon=0.1), (8, 3)),
        Fold("separable-conv2d-nobias", folded(lambda: layers.SeparableConv2D(4, 3, depth_multiplier=2, use_bias=False), (6, 6, 3)), (6, 6, 3)),
        Fold("conv2d-transpose", folded(lambda: layers.Conv2DTranspose(3, 3, strides=2, padding="same"), (4, 4, 2), epsilon=0.01), (4, 4, 2)),
        Fold("conv2d-transpose-nobias", folded(lambda: layers.Conv2DTranspose(3, 2, strides=2, use_bias=False), (3, 4, 2), center=False), (3, 4, 2)),
        Fold("dense", folded(lambda: layers.Dense(6), (5,), epsilon=0.1), (5,)),
        Fold("dense-rank3-nobias", folded(lambda: layers.Dense(6, use_bias=False), (3, 5), scale=False), (3, 5)),
        Fold("depthwise-conv2d", folded(lambda: layers.DepthwiseConv2D(3, depth_multiplier=3, padding="same"), (6, 6, 2), epsilon=0.01), (6, 6, 2)),
        Fold("depthwise-conv2d-nobias", folded(lambda: layers.DepthwiseConv2D(3, strides=2, use_bias=False), (7, 7, 3), center=False), (7, 7, 3)),
        Fold("inside-nested-functional", nested_fold, (6, 6, 3)),
        # Where folding would change the result, the BatchNormalization stays.
        Fold("conv-with-activation", folded(lambda: layers.Conv2D(4, 3, activation="relu"), (6, 6, 3)), (6, 6, 3), folds=False),
        Fold("grouped-conv", folded(lambda: layers.Conv2D(4, 3, groups=2), (6, 6, 4)), (6, 6, 4), folds=False),
        Fold("dense-bn-other-axis", folded(lambda: layers.Dense(6), (3, 5), axis=1), (3, 5), folds=False),
        Fold("conv-output-used-twice", conv_used_twice, (6, 6, 3), folds=False),
        Fold("conv-called-twice", conv_called_twice, (6, 6, 3), folds=False, tol=4e-6),
        Fold("bn-called-twice", bn_called_twice, (6, 6, 3), folds=False),
    ]


def nested_fold():
    """The fold reads both layers' weights under the nested model's scope."""
    import keras

    i = keras.Input((6, 6, 3))
    conv = keras.layers.Conv2D(4, 3)
    inner = keras.Model(i, keras.layers.BatchNormalization(name="bn")(conv(i)), name="inner")
    x = keras.Input((6, 6, 3))
    return trained_bn(keras.Model(x, keras.layers.Flatten()(inner(x)))), "bn", None


def conv_used_twice():
    import keras

    x = keras.Input((6, 6, 3))
    c = keras.layers.Conv2D(4, 3)(x)
    y = keras.layers.Add()([keras.layers.BatchNormalization(name="bn")(c), c])
    return trained_bn(keras.Model(x, y)), "bn", None


def conv_called_twice():
    import keras

    x = keras.Input((6, 6, 3))
    conv = keras.layers.Conv2D(3, 3, padding="same")
    y = conv(keras.layers.BatchNormalization(name="bn")(conv(x)))
    return trained_bn(keras.Model(x, y)), "bn", None


def bn_called_twice():
    import keras

    x = keras.Input((6, 6, 3))
    norm = keras.layers.BatchNormalization(name="bn")
    a = norm(keras.layers.Conv2D(3, 3, padding="same")(x))
    b = norm(keras.layers.Conv2D(3, 1)(x))
    return trained_bn(keras.Model(x, keras.layers.Add()([a, b]))), "bn", None


FOLDS = fold_cases()


def ops_of(folder) -> list[tuple[str, str]]:
    """Return the (op, name) of every node that computes (no constants, inputs, identities)."""
    nodes = json.loads((folder / "model.json").read_text())["modelTopology"]["node"]
    return [(n["op"], n["name"]) for n in nodes if n["op"] not in ("Const", "Placeholder", "Identity")]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """Save, convert and run every case once; return {id: (expected, got, ops, reference ops)}."""
    import keras

    keras.utils.set_random_seed(5)
    root = tmp_path_factory.mktemp("folds")
    rng = np.random.default_rng(3)
    runs, info = [], {}
    for case in FOLDS:
        model, bn, layer = case.build()
        x = rng.uniform(-2, 2, size=(3, *case.shape)).astype("float32")
        model.save(root / f"{case.id}.keras")
        try:
            convert_model(root / f"{case.id}.keras", root / case.id, "none", case.id, Choice("native"))
        except Exception as exc:  # noqa: BLE001 - reported by the case's own tests
            info[case.id] = (None, f"conversion failed: {type(exc).__name__}: {exc}", bn, [], None)
            continue
        reference = None
        if layer is not None and case.folds:
            # The same layer alone, with a bias: what the fold must leave.
            config = {**layer.get_config(), "use_bias": True}
            alone = keras.Sequential([keras.Input(case.shape), type(layer).from_config(config)])
            alone.save(root / f"{case.id}-alone.keras")
            convert_model(root / f"{case.id}-alone.keras", root / f"{case.id}-alone", "none", case.id, Choice("native"))
            reference = [op for op, _ in ops_of(root / f"{case.id}-alone")]
        info[case.id] = (np.asarray(model(x, training=False)), None, bn, ops_of(root / case.id), reference)
        runs.append((case.id, root / case.id, [x]))
    for (key, _, _), got in zip(runs, run_models([run[1:] for run in runs]), strict=True):
        info[key] = (info[key][0], got, *info[key][2:])
    return info


@pytest.mark.parametrize("case", FOLDS, ids=[c.id for c in FOLDS])
def test_batchnorm_fold_matches_keras(converted, case):
    """A wrong channel axis, a lost bias, gamma or beta, or a fold that should not happen
    (after an activation, into a layer whose output is also used elsewhere) is off by far
    more than float32 rounding."""
    expected, got, _, _, _ = converted[case.id]
    assert not isinstance(got, str), got
    assert got[0].shape == expected.shape
    error = relative_error(got[0], expected)
    assert error <= case.tol, f"max error {error:.3g} > {case.tol}"


@pytest.mark.parametrize("case", FOLDS, ids=[c.id for c in FOLDS])
def test_batchnorm_folds_exactly_where_it_can(converted, case):
    """A folded BatchNormalization leaves no op of its own: the graph is the layer's alone
    (a layer missing from the folding table keeps a Mul and an AddV2 per BatchNormalization).
    An unfolded one keeps its multiply."""
    _, got, bn, ops, reference = converted[case.id]
    assert not (isinstance(got, str) and got.startswith("conversion failed")), got
    own = [op for op, name in ops if name == bn or name.startswith(f"{bn}/") or f"/{bn}/" in name]
    if case.folds:
        assert own == [], ops
        if reference is not None:
            assert [op for op, _ in ops if op != "Relu"] == reference
    else:
        assert "Mul" in own, ops
