"""The quantization cost the build reports, against Keras's own outputs.

``convert/measure.py`` runs the native converter's graph with numpy (no Keras in
the default install) on fixed inputs, with float32 weights and with the weights
quantized as the shards store them. Here Keras is the reference: the
interpreter's float32 pass must give Keras's outputs, and the reported float16
and uint8 costs must be what Keras itself gives with the weights the converter
shipped, read back from the shards as TF.js reads them (for the models whose
weights reach the graph as they are: no BatchNormalization folded into them).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from mkdocs_tfjs.convert import Choice, convert_model
from mkdocs_tfjs.convert.graph import Tensor
from mkdocs_tfjs.convert.measure import fixed_inputs, run_graph
from mkdocs_tfjs.modelinfo import read_signature

from .conftest import ROOT

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

EXAMPLES = ["digits/digits", "digit-vae/decoder", "digit-denoiser/denoiser",
            "digit-segmenter/segmenter", "palette/generator", "penguins/penguins",
            "emoji/classifier"]
#: Weights that reach the graph unchanged: Keras with dequantized weights is then the reference.
UNFOLDED = ["digits/digits", "digit-vae/decoder", "digit-denoiser/denoiser"]


def keras_model(name: str):
    import keras

    return keras.models.load_model(ROOT / "models" / f"{name}.keras", compile=False)


def convert(name: str, out: Path, quantize: str = "none") -> dict:
    return convert_model(ROOT / "models" / f"{name}.keras", out, quantize, name, Choice("native", ""))


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_measure_runs_the_float32_graph_as_keras_does(tmp_path, name):
    result = convert(name, tmp_path / "model")
    data = json.loads((tmp_path / "model" / "model.json").read_text())
    [group] = data["weightsManifest"]
    raw = b"".join((tmp_path / "model" / p).read_bytes() for p in group["paths"])
    weights, offset = {}, 0
    for entry in group["weights"]:
        count = int(np.prod(entry["shape"], dtype=np.int64))
        dtype = np.dtype(entry["dtype"])
        weights[entry["name"]] = np.frombuffer(raw, dtype, count, offset).reshape(entry["shape"])
        offset += count * dtype.itemsize
    ins, outs = read_signature(data)
    feeds = fixed_inputs([t.shape for t in ins])
    tensors = [Tensor(t.name.split(":")[0], t.shape) for t in ins]
    ours = run_graph(data["modelTopology"]["node"], tensors,
                     [Tensor(t.name.split(":")[0], t.shape) for t in outs], feeds, weights)
    theirs = keras_model(name).predict(feeds if len(feeds) > 1 else feeds[0], verbose=0)
    theirs = theirs if isinstance(theirs, list) else [theirs]
    # Keras computes in float32, the measure in float64: measured up to 1.24e-6 (8e-6 relative).
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)
    assert set(result["quantization_cost"]) == {"inputs", "float16", "uint8"}, result["quantization_cost"]


def shipped_weights(folder: Path) -> list[np.ndarray]:
    """Return the float weights of a converted model as TF.js reads them back from its shards.

    Read from the files, as TF.js's own dequantization does (uint8: ``q * scale + min``;
    float16: widened), not with the measure's code.
    """
    data = json.loads((folder / "model.json").read_text())
    [group] = data["weightsManifest"]
    raw = b"".join((folder / p).read_bytes() for p in group["paths"])
    out, offset = [], 0
    for entry in group["weights"]:
        quantization = entry.get("quantization", {})
        dtype = np.dtype(quantization.get("dtype", entry["dtype"]))
        count = int(np.prod(entry["shape"], dtype=np.int64))
        values = np.frombuffer(raw, dtype, count, offset).reshape(entry["shape"])
        offset += count * dtype.itemsize
        if quantization.get("dtype") == "uint8":
            values = values.astype(np.float32) * np.float32(quantization["scale"]) + np.float32(
                quantization["min"])
        if quantization.get("original_dtype", entry["dtype"]) == "float32":
            out.append(values.astype(np.float32))
    return out


@pytest.mark.parametrize("name", UNFOLDED)
def test_the_reported_cost_is_what_keras_gives_with_the_shipped_weights(tmp_path, name):
    cost = convert(name, tmp_path / "model")["quantization_cost"]
    model = keras_model(name)
    feeds = fixed_inputs([tuple(model.inputs[0].shape)])[0]
    original = model.get_weights()
    reference = model.predict(feeds, verbose=0)
    for quantize in ("float16", "uint8"):
        convert(name, tmp_path / quantize, quantize)
        shipped = shipped_weights(tmp_path / quantize)
        assert [w.shape for w in shipped] == [w.shape for w in original]
        model.set_weights(shipped)
        moved = np.abs(model.predict(feeds, verbose=0) - reference)
        # Keras's float32 arithmetic adds its own noise (about 1e-7) to the weights' doing.
        assert cost[quantize]["max"] == pytest.approx(float(moved.max()), rel=1e-3, abs=1e-6)
        assert cost[quantize]["mean"] == pytest.approx(float(moved.mean()), rel=1e-3, abs=1e-6)
    assert cost["uint8"]["max"] > cost["float16"]["max"] > 0
