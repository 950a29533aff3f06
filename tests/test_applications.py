"""Whole keras.applications architectures through the native converter, against Keras.

The per-layer cases (``test_native_layers.py``) pin each lowering; these
pin how the lowerings compose in real graphs: BatchNormalization folded
into convolutions with and without bias, residual adds, concatenations of
many branches (DenseNet, Inception, NASNet), squeeze-and-excitation
multiplies (EfficientNet, MobileNetV3), hard-swish, in-graph preprocessing
(Rescaling, Normalization), LayerScale and LayerNormalization (ConvNeXt),
CustomScaleLayer (InceptionResNetV2), ZeroPadding and Cropping (NASNet).
The set covers every layer class the 36 ``keras.applications`` builders use
(``benchmarks/applications.py`` runs them all, at full depth).

Each model is built with ``weights=None`` at a small input, with
realistic BatchNormalization statistics (``tests/applications.py`` says
why), saved as ``.keras``, converted natively, and all of them run in one
Node.js process with TF.js's CPU backend. The outputs compared are the
logits (``classifier_activation=None``): a softmax over 10 classes squashes
an error in the logits by up to 4x, and saturates where one logit
dominates, so a real mismatch can hide under a tolerance on probabilities.

A few architectures also go through TensorFlow's converter, and the two
converters' TF.js outputs must agree as closely as native and Keras do.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from mkdocs_tfjs.convert import Choice, convert_model

from .applications import build, image
from .tfjs_node import run_models

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: Architecture → max abs error allowed on the logits, native TF.js vs Keras,
#: about 2x the error measured (in brackets, with the largest |logit|). The
#: errors are float32 rounding: summation order in TF.js's kernels and the
#: BatchNormalization folded into the weights.
TOLERANCE = {
    "MobileNet": 5e-7,  # 2.2e-7 (|logit| ≤ 0.35)
    "MobileNetV2": 4e-7,  # 1.5e-7 (0.35)
    "MobileNetV3Small": 2e-7,  # 8.9e-8 (0.11)
    "MobileNetV3Large": 3e-7,  # 1.1e-7 (0.12)
    "EfficientNetB0": 3e-6,  # 1.1e-6 (1.4)
    "EfficientNetV2B0": 4e-6,  # 1.9e-6 (2.0)
    "ResNet50": 3e-6,  # 1.2e-6 (1.1)
    "ResNet50V2": 7e-7,  # 3.1e-7 (0.28)
    "DenseNet121": 3e-7,  # 1.2e-7 (0.32)
    "NASNetMobile": 3e-5,  # 1.3e-5 (10.7: deep, unnormalised cell outputs)
    "VGG16": 2e-9,  # 8.1e-10 (0.0011: random VGG logits are tiny)
    "Xception": 3e-7,  # 1.2e-7 (0.29)
    "InceptionV3": 4e-7,  # 1.9e-7 (0.60)
    "InceptionResNetV2": 2e-6,  # 7.7e-7 (0.39)
    "ConvNeXtTiny": 8e-6,  # 3.6e-6 (4.1)
}
ARCHITECTURES = list(TOLERANCE)

#: Architectures also converted by TensorFlow's converter. In MobileNetV3, grappler
#: fuses Conv2D + BiasAdd + hard-swish into one _FusedConv2D whose activation TF.js's
#: fused kernels lack; TensorFlow's path splits it back into separate ops.
TENSORFLOW_PATH = ("MobileNetV2", "MobileNetV3Small")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Build, save, convert and run every architecture once.

    Returns ``{name: (keras logits, native TF.js result, TensorFlow-path result or None)}``;
    a result is a list of arrays, or the error text.
    """
    import keras

    root = tmp_path_factory.mktemp("applications")
    expected, results, runs = {}, {}, []
    for name in ARCHITECTURES:
        model = build(name)
        x = image(name, model.input_shape[1])
        expected[name] = np.asarray(model.predict(x, verbose=0))
        source = root / f"{name}.keras"
        model.save(source)
        del model
        keras.backend.clear_session()
        for converter in ("native", "tensorflow"):
            if converter == "tensorflow" and name not in TENSORFLOW_PATH:
                continue
            out = root / f"{name}-{converter}"
            try:
                convert_model(source, out, "none", name, Choice(converter))
            except Exception as exc:  # noqa: BLE001 - reported by the architecture's own test
                results[(name, converter)] = f"conversion failed: {type(exc).__name__}: {exc}"
                continue
            runs.append(((name, converter), out, x))
    got = run_models([(out, [x]) for _, out, x in runs])
    results.update({key: result for (key, _, _), result in zip(runs, got, strict=True)})
    return {name: (expected[name], results[(name, "native")], results.get((name, "tensorflow")))
            for name in ARCHITECTURES}


def _max_error(got, expected) -> float:
    assert not isinstance(got, str), got
    assert got[0].shape == expected.shape
    return float(np.abs(got[0] - expected).max())


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_native_conversion_matches_keras(outputs, name):
    expected, native, _ = outputs[name]
    error = _max_error(native, expected)
    assert error <= TOLERANCE[name], f"max abs error {error:.3g} > {TOLERANCE[name]:.3g}"


@pytest.mark.parametrize("name", TENSORFLOW_PATH)
def test_tensorflow_path_agrees_with_native(outputs, name):
    _, native, tensorflow = outputs[name]
    error = _max_error(tensorflow, native[0])
    assert error <= TOLERANCE[name], f"native vs TensorFlow path: max abs error {error:.3g} > {TOLERANCE[name]:.3g}"
