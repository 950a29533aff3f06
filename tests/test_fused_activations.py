"""Activations fused into the convolution or matrix product before them, on every backend.

TF.js's fused kernels (``_FusedConv2D``, ``FusedDepthwiseConv2dNative``,
``_FusedMatMul``) apply Relu, Relu6, Elu, Sigmoid, LeakyRelu (with its slope)
and Prelu (with its slopes) themselves. The native converter writes each such
activation into the op before it, whether it is the layer's own
(``Dense(activation="relu")``) or a layer of its own after it (MobileNetV2's
``ReLU(6.0)`` after a Conv2D and a folded BatchNormalization). Each case here
checks that the fused op is really written (no separate activation op is
left) and that TF.js's CPU and WebAssembly backends, in Node.js, and its WebGL
backend in Chromium (software WebGL, SwiftShader) give Keras's own output; one case checks that an activation is left apart where fusing it
would be wrong. The tolerance, 5e-6, is the per-layer suite's (measured here:
at most 2.9e-6 on cpu, wasm and webgl, through a folded BatchNormalization).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from mkdocs_tfjs.convert import Choice, convert_model

from .test_native_layers import randomized, trained_bn
from .tfjs_node import run_models

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TOLERANCE = 5e-6
ROOT = Path(__file__).resolve().parents[1]
ACTIVATION_OPS = {"Relu", "Relu6", "Elu", "Sigmoid", "LeakyRelu", "Prelu"}


def _cases():
    """Return {id: (build, input shape, the activation op fused, or None where it must stay apart)}."""
    import keras

    layers = keras.layers

    def seq(*body, shape):
        return keras.Sequential([keras.Input(shape), *body])

    def residual():
        x = keras.Input((5, 5, 3))
        y = layers.Conv2D(3, 3, padding="same")(x)
        # The convolution's output is read by the ReLU and by the Add: fusing would change the Add.
        return keras.Model(x, layers.Add()([layers.ReLU()(y), y]))

    return {
        "conv-bn-relu6": (lambda: trained_bn(seq(
            layers.Conv2D(4, 3, use_bias=False), layers.BatchNormalization(), layers.ReLU(6.0),
            shape=(6, 6, 3))), (6, 6, 3), "Relu6"),
        "conv-relu-layer": (lambda: randomized(seq(layers.Conv2D(4, 3), layers.ReLU(), shape=(6, 6, 3))),
                            (6, 6, 3), "Relu"),
        "conv-own-leaky-relu": (lambda: randomized(seq(layers.Conv2D(4, 2, activation="leaky_relu"), shape=(5, 5, 2))),
                                (5, 5, 2), "LeakyRelu"),
        "dense-leaky-relu-layer": (lambda: randomized(seq(layers.Dense(6), layers.LeakyReLU(negative_slope=0.15),
                                                          shape=(4,))), (4,), "LeakyRelu"),
        "depthwise-bn-elu": (lambda: trained_bn(seq(
            layers.DepthwiseConv2D(3, use_bias=False), layers.BatchNormalization(), layers.ELU(),
            shape=(6, 6, 3))), (6, 6, 3), "Elu"),
        "dense-sigmoid-layer": (lambda: randomized(seq(layers.Dense(5), layers.Activation("sigmoid"), shape=(4,))),
                                (4,), "Sigmoid"),
        "conv-prelu-per-channel": (lambda: randomized(seq(layers.Conv2D(4, 3), layers.PReLU(shared_axes=[1, 2]),
                                                          shape=(6, 6, 3))), (6, 6, 3), "Prelu"),
        "dense-prelu": (lambda: randomized(seq(layers.Dense(6), layers.PReLU(), shape=(4,))), (4,), "Prelu"),
        "depthwise-prelu-unshared": (lambda: randomized(seq(layers.DepthwiseConv2D(2), layers.PReLU(),
                                                            shape=(5, 5, 3))), (5, 5, 3), "Prelu"),
        # Slopes shared over the width only, (H, 1, C): the WebAssembly backend reads them wrong
        # unless they are written out in full (which the PReLU lowering does).
        "conv-prelu-shared-width": (lambda: randomized(seq(layers.Conv2D(4, 3), layers.PReLU(shared_axes=[2]),
                                                           shape=(6, 6, 3))), (6, 6, 3), "Prelu"),
        "conv-output-read-twice": (lambda: randomized(residual()), (5, 5, 3), None),
    }


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """Build, save and convert each case; return {id: (folder, input, Keras's output, fused op)}."""
    import keras

    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(1)
    root = tmp_path_factory.mktemp("fused")
    out = {}
    cases = _cases()
    assert sorted(cases) == sorted(CASE_IDS)
    for case, (build, shape, fused) in cases.items():
        model = build()
        x = rng.uniform(-2, 2, size=(2, *shape)).astype("float32")
        source = root / f"{case}.keras"
        model.save(source)
        folder = root / case
        convert_model(source, folder, "none", case, Choice("native"))
        out[case] = (folder, x, keras.ops.convert_to_numpy(model(x, training=False)), fused)
    return out


def _nodes(folder: Path) -> list[dict]:
    return json.loads((folder / "model.json").read_text())["modelTopology"]["node"]


def _fused_ops(node: dict) -> list[str]:
    import base64

    return [base64.b64decode(s).decode() for s in node["attr"].get("fused_ops", {}).get("list", {}).get("s", [])]


#: The ids of ``_cases()``, known without importing Keras.
CASE_IDS = ["conv-bn-relu6", "conv-relu-layer", "conv-own-leaky-relu", "dense-leaky-relu-layer", "depthwise-bn-elu",
            "dense-sigmoid-layer", "conv-prelu-per-channel", "dense-prelu", "depthwise-prelu-unshared",
            "conv-prelu-shared-width", "conv-output-read-twice"]


@pytest.mark.parametrize("case", CASE_IDS)
def test_activation_is_written_into_the_fused_op(converted, case):
    """The fused op carries the activation and no separate activation op is left (or, where
    fusing would be wrong, the activation stays its own op and the fused op adds the bias only)."""
    folder = converted[case][0]
    expected = converted[case][3]
    nodes = _nodes(folder)
    fused = [n for n in nodes if n["op"] in ("_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul")]
    left = [n["op"] for n in nodes if n["op"] in ACTIVATION_OPS]
    assert len(fused) == 1, [n["op"] for n in nodes]
    if expected is None:
        assert _fused_ops(fused[0]) == ["BiasAdd"] and left, [n["op"] for n in nodes]
        return
    assert _fused_ops(fused[0]) == ["BiasAdd", expected], _fused_ops(fused[0])
    assert not left, f"{left} not fused"
    attrs = fused[0]["attr"]
    if expected == "Prelu":
        assert int(attrs["num_args"]["i"]) == 2 and len(fused[0]["input"]) == 4
    if expected == "LeakyRelu":
        slope = 0.15 if case.startswith("dense") else 0.2
        assert attrs["leakyrelu_alpha"]["f"] == pytest.approx(slope)


@pytest.mark.parametrize("backend", ["cpu", "wasm"])
def test_fused_activations_match_keras(converted, backend):
    """TF.js's fused kernels give Keras's output on each backend, for every case at once."""
    names = sorted(converted)
    got = run_models([(converted[n][0], [converted[n][1]]) for n in names], backend)
    errors = {}
    for name, result in zip(names, got, strict=True):
        assert not isinstance(result, str), f"{name}: {result}"
        errors[name] = float(np.abs(result[0] - converted[name][2]).max())
    worst = max(errors, key=errors.get)
    assert errors[worst] <= TOLERANCE, f"{worst} on {backend}: max abs error {errors[worst]:.3g}"


WEBGL_RUN = """async (cases) => {
  await tf.setBackend("webgl");
  await tf.ready();
  const out = {};
  for (const [name, shape, values] of cases) {
    const model = await tf.loadGraphModel(name + "/model.json");
    const x = tf.tensor(values, shape);
    const y = model.predict(x);
    out[name] = Array.from(await y.data());
    tf.dispose([x, y]);
    model.dispose();
  }
  return {backend: tf.getBackend(), out};
}"""


def test_fused_activations_match_keras_on_webgl(converted, tmp_path, serve, browser):
    """The same cases on TF.js's WebGL backend in Chromium (software WebGL here, SwiftShader)."""
    import shutil

    root = ROOT / "node_modules" / "@tensorflow"
    scripts = ["tfjs-core/dist/tf-core.min.js", "tfjs-converter/dist/tf-converter.min.js",
               "tfjs-backend-webgl/dist/tf-backend-webgl.min.js"]
    for script in scripts:
        shutil.copy(root / script, tmp_path / Path(script).name)
    tags = "".join(f'<script src="{Path(s).name}"></script>' for s in scripts)
    (tmp_path / "index.html").write_text(f"<!doctype html><meta charset='utf-8'>{tags}")
    for name, (folder, _, _, _) in converted.items():
        shutil.copytree(folder, tmp_path / name)
    page = browser.new_page()
    try:
        page.goto(serve(tmp_path) + "index.html")
        cases = [[n, list(x.shape), x.ravel().tolist()] for n, (_, x, _, _) in sorted(converted.items())]
        result = page.evaluate(WEBGL_RUN, cases)
    finally:
        page.close()
    assert result["backend"] == "webgl"
    errors = {n: float(np.abs(np.asarray(v).reshape(converted[n][2].shape) - converted[n][2]).max())
              for n, v in result["out"].items()}
    worst = max(errors, key=errors.get)
    assert errors[worst] <= TOLERANCE, f"{worst} on webgl: max abs error {errors[worst]:.3g}"
