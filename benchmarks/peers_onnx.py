"""ONNX side of ``benchmarks/peers.py``: convert with tf2onnx, check with ONNX Runtime.

Runs inside ``benchmarks/.venv-peers`` (``peers-requirements.txt``), never in
the project's virtual environment: tf2onnx and onnx want other protobuf and
numpy pins than the ones the tests compare against. ``peers.py`` creates that
environment and calls this script once per model::

    .venv-peers/bin/python peers_onnx.py SAVED_MODEL OUT.onnx INPUT.npy EXPECTED.npy

It converts the SavedModel (exported from the Keras model with a fixed
batch of 1) with tf2onnx's own converter, runs the ONNX file once on
ONNX Runtime's CPU provider with the input Keras saw, and prints one line of
JSON: the maximum absolute difference from Keras's output, the opset, the
versions and the conversion time.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

OPSET = 17


def main() -> None:
    saved_model, out, input_path, expected_path = sys.argv[1:5]
    import numpy as np
    import onnxruntime
    import tf2onnx
    from tf2onnx import convert

    started = time.perf_counter()
    # tf2onnx's command line, as it documents it for SavedModels, in this process (TensorFlow
    # is imported once); its log goes to stderr, the result alone to stdout.
    sys.argv = ["tf2onnx.convert", "--saved-model", saved_model, "--output", out, "--opset", str(OPSET)]
    with contextlib.redirect_stdout(sys.stderr):
        convert.main()
    seconds = time.perf_counter() - started
    session = onnxruntime.InferenceSession(out, providers=["CPUExecutionProvider"])
    x = np.load(input_path)
    [got] = session.run(None, {session.get_inputs()[0].name: x})[:1]
    expected = np.load(expected_path)
    print(json.dumps({
        "max_error": float(np.abs(got.reshape(expected.shape) - expected).max()),
        "opset": OPSET, "tf2onnx": tf2onnx.__version__, "onnxruntime": onnxruntime.__version__,
        "seconds": round(seconds, 2), "input_name": session.get_inputs()[0].name,
    }))


if __name__ == "__main__":
    main()
