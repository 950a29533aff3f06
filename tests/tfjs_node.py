"""Run TF.js graph models with the real TF.js from npm in one Node.js process.

The reference side of the parity tests: many converted models, one process
(``helpers/run_graph_models.cjs``), outputs read back as numpy arrays.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RUNNER = Path(__file__).with_name("helpers") / "run_graph_models.cjs"


def run_models(cases: list[tuple[Path, list[np.ndarray]]], backend: str = "cpu") -> list[list[np.ndarray] | str]:
    """Run each ``(model folder, inputs)``; return its outputs, or the error text."""
    with tempfile.TemporaryDirectory(prefix="tfjs-node-") as tmp:
        work = Path(tmp)
        specs = []
        for i, (folder, inputs) in enumerate(cases):
            entries = []
            for j, array in enumerate(inputs):
                # Booleans travel as int32 0/1 (the runner makes them bool tensors again).
                dtype = "bool" if array.dtype == bool else "int32" if np.issubdtype(array.dtype, np.integer) else "float32"
                stored = "float32" if dtype == "float32" else "int32"
                file = work / f"in-{i}-{j}.bin"
                file.write_bytes(np.ascontiguousarray(array).astype(f"<{stored[0]}4").tobytes())
                entries.append({"dtype": dtype, "shape": list(array.shape), "file": str(file)})
            specs.append({"dir": str(folder), "inputs": entries})
        (work / "cases.json").write_text(json.dumps(specs))
        done = subprocess.run(
            ["node", str(RUNNER), str(work / "cases.json"), str(work / "results.json"), backend],
            cwd=ROOT, capture_output=True, text=True, timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the Node runner failed: {done.stderr[-2000:]}")
        results = json.loads((work / "results.json").read_text())
        out: list[list[np.ndarray] | str] = []
        for result in results:
            if "error" in result:
                out.append(result["error"])
            else:
                out.append([
                    np.frombuffer(Path(o["file"]).read_bytes(), "<f4").reshape(o["shape"])
                    for o in result["outputs"]
                ])
        return out
