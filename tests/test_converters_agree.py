"""The native and the TensorFlow conversions of the example models agree, and both match Keras.

Both run on TF.js's CPU backend in one Node.js process. A difference shows a
lowering that departs from what TensorFlow itself computes for the layer.
"""

from __future__ import annotations

import numpy as np
import pytest

from mkdocs_tfjs.convert import Choice, convert_model

from .conftest import ROOT
from .tfjs_node import run_models

MODELS = {"palette/generator.keras": (32, 5), "digits/digits.keras": (8, 28, 28, 1),
          "emoji/classifier.keras": (4, 64, 64, 3)}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    import keras

    root = tmp_path_factory.mktemp("agree")
    rng = np.random.default_rng(12)
    cases, expected = [], {}
    for name, shape in MODELS.items():
        x = rng.uniform(0, 1, size=shape).astype("float32")
        expected[name] = keras.models.load_model(ROOT / "models" / name, compile=False).predict(x, verbose=0)
        for converter in ("native", "tensorflow"):
            out = root / converter / name.replace("/", "-")
            convert_model(ROOT / "models" / name, out, "none", name, Choice(converter))
            cases.append((out, [x]))
    results = iter(run_models(cases))
    return {name: (expected[name], next(results), next(results)) for name in MODELS}


@pytest.mark.parametrize("name", list(MODELS))
def test_native_and_tensorflow_conversions_agree(outputs, name):
    expected, native, tensorflow = outputs[name]
    assert not isinstance(native, str), native
    assert not isinstance(tensorflow, str), tensorflow
    # Measured: the two conversions differ by at most 1.5e-7, and each from Keras by at most 3e-7.
    assert float(np.abs(native[0] - tensorflow[0]).max()) <= 1e-6
    assert float(np.abs(native[0] - expected).max()) <= 1e-6
    assert float(np.abs(tensorflow[0] - expected).max()) <= 1e-6
