"""What a recurrence over a sequence of free length costs, beside the same one unrolled.

One model, ``Masking`` → ``Bidirectional(GRU(32))`` → ``LSTM(32)`` → ``Dense(3)``
over 16 features a step, is saved three times with the same weights: over
``keras.Input((None, 16))`` (the native converter writes a ``While`` loop,
run with ``executeAsync``) and over 10 and 50 fixed steps (unrolled, run with
``execute``). This records the native conversion time of each (best of 3),
its ``model.json`` size and node count, and, with the real TF.js from npm in
Node.js (``any_length.cjs``), the median time of one inference of batch 1 at
10 and at 50 steps on the CPU and WebAssembly backends (30 runs after 5 to
warm up), and the tensors left behind by one more (0 expected). It writes
``benchmarks/any_length.json`` and ``benchmarks/any_length.md`` (shown on the
Performance page). Run with ``.venv/bin/python benchmarks/any_length.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugin"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from mkdocs_tfjs.convert import Choice, convert_model  # noqa: E402

FEATURES, UNITS, LENGTHS, ROUNDS = 16, 32, (10, 50), 30


def model(steps: int | None):
    """The benchmark's model over ``steps`` steps (None: any number)."""
    import keras

    layers = keras.layers
    x = keras.Input((steps, FEATURES))
    y = layers.Bidirectional(layers.GRU(UNITS, return_sequences=True))(layers.Masking(0.0)(x))
    y = layers.LSTM(UNITS)(y)
    return keras.Model(x, layers.Dense(3, activation="softmax")(y))


def convert(source: Path, out: Path) -> float:
    """Convert ``source`` natively three times into ``out``; return the best time in seconds."""
    best = float("inf")
    for _ in range(3):
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        convert_model(source, out, "none", source.stem, Choice("native"))
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Measure and write any_length.json and any_length.md."""
    import keras

    keras.utils.set_random_seed(1)
    with tempfile.TemporaryDirectory(prefix="any-length-") as tmp:
        work = Path(tmp)
        free = model(None)
        variants = {"any length": (None, free)}
        for steps in LENGTHS:
            fixed = model(steps)
            fixed.set_weights(free.get_weights())
            variants[f"{steps} steps, unrolled"] = (steps, fixed)
        rows, runs = {}, []
        for name, (steps, keras_model) in variants.items():
            source = work / f"{name.replace(' ', '_').replace(',', '')}.keras"
            keras_model.save(source)
            out = work / source.stem
            seconds = convert(source, out)
            topology = json.loads((out / "model.json").read_text())["modelTopology"]
            functions = topology["library"].get("function", [])
            rows[name] = {
                "convert_ms": round(seconds * 1000, 1),
                "model_json_bytes": (out / "model.json").stat().st_size,
                # The loop's functions count: their nodes are part of the graph TF.js runs.
                "nodes": len(topology["node"]) + sum(len(f["nodeDef"]) for f in functions),
            }
            for length in LENGTHS if steps is None else (steps,):
                runs.append({"name": name, "dir": str(out), "steps": length,
                             "features": FEATURES, "async": steps is None})
        spec = work / "spec.json"
        spec.write_text(json.dumps({"backends": ["cpu", "wasm"], "rounds": ROUNDS, "runs": runs}))
        done = subprocess.run(["node", str(Path(__file__).with_name("any_length.cjs")), str(spec)],
                              cwd=ROOT, capture_output=True, text=True, check=True)
        timings = json.loads(done.stdout)
    for t in timings:
        t.pop("dir")
        t["median_ms"] = round(t["median_ms"], 2)
    (ROOT / "benchmarks" / "any_length.json").write_text(
        json.dumps({"models": rows, "inference": timings}, indent=1, sort_keys=True) + "\n")
    lines = ["| model | native conversion | model.json | nodes |", "| --- | ---: | ---: | ---: |"]
    lines += [
        f"| {n} | {r['convert_ms']} ms | {r['model_json_bytes'] / 1000:.0f} KB | {r['nodes']} |"
        for n, r in rows.items()
    ]
    lines += ["", "| model | steps | backend | median per inference | tensors left |",
              "| --- | ---: | --- | ---: | ---: |"]
    lines += [
        f"| {t['name']} | {t['steps']} | {t['backend']} | {t['median_ms']} ms | {t['leaked']} |"
        for t in timings
    ]
    (ROOT / "benchmarks" / "any_length.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
