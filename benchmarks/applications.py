"""Every keras.applications architecture through the native converter, once.

Not a test (``tests/test_applications.py`` runs a representative set in the
suite): this is the full coverage run, too slow for the suite. Each
architecture is built with ``weights=None`` at its smallest allowed input,
10 classes, logits out, realistic BatchNormalization statistics
(``tests/applications.py``), saved as ``.keras``, converted natively and run
by TF.js's CPU backend in Node.js; its logits are compared with Keras's.

Models are handled one at a time and freed before the next (the largest,
ConvNeXtXLarge, has 350 million parameters). Run from the repository root::

    PYTHONPATH=plugin .venv/bin/python benchmarks/applications.py [NAME ...]

It writes ``benchmarks/applications.json`` (kept between runs, so a run can
be resumed or repeated for some names) and ``benchmarks/applications.md``.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from mkdocs_tfjs.convert import Choice, convert_model  # noqa: E402
from tests.applications import build, image  # noqa: E402
from tests.tfjs_node import run_models  # noqa: E402

ARCHITECTURES = [
    "MobileNet", "MobileNetV2", "MobileNetV3Small", "MobileNetV3Large",
    *[f"EfficientNetB{i}" for i in range(8)],
    *[f"EfficientNetV2{v}" for v in ("B0", "B1", "B2", "B3", "S", "M", "L")],
    "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
    "DenseNet121", "DenseNet169", "DenseNet201", "NASNetMobile", "NASNetLarge",
    "VGG16", "VGG19", "Xception", "InceptionV3", "InceptionResNetV2",
    *[f"ConvNeXt{v}" for v in ("Tiny", "Small", "Base", "Large", "XLarge")],
]
#: The coverage goal: native TF.js logits within this of Keras's, absolute,
#: and relative to the largest logit (random VGG19's logits are below 1e-4,
#: where an absolute bound alone says nothing).
TOLERANCE = 1e-4
RESULTS = Path(__file__).with_name("applications.json")
REPORT = Path(__file__).with_name("applications.md")


def measure(name: str, work: Path) -> dict:
    """Build, convert and run one architecture; return its row."""
    import keras

    started = time.perf_counter()
    model = build(name)
    size = int(model.input_shape[1])
    x = image(name, size)
    expected = np.asarray(model.predict(x, verbose=0))
    source = work / f"{name}.keras"
    model.save(source)
    build_seconds = time.perf_counter() - started
    del model
    keras.backend.clear_session()
    gc.collect()
    row = {"name": name, "input": size, "build_seconds": round(build_seconds, 1)}
    out = work / name
    try:
        result = convert_model(source, out, "none", name, Choice("native"))
    except Exception as exc:  # noqa: BLE001 - recorded in the report
        return {**row, "error": f"conversion: {type(exc).__name__}: {exc}"}
    row.update(params=result["params"], convert_seconds=round(result["seconds"], 2))
    source.unlink()
    [got] = run_models([(out, [x])])
    shutil.rmtree(out)
    if isinstance(got, str):
        return {**row, "error": f"TF.js: {got}"}
    error = float(np.abs(got[0] - expected).max())
    return {**row, "max_error": error, "max_logit": float(np.abs(expected).max())}


def write_report(rows: dict[str, dict]) -> None:
    """Write the Markdown table, in the order of :data:`ARCHITECTURES`."""
    lines = [
        "# keras.applications through the native converter",
        "",
        f"Written by `benchmarks/applications.py` on {platform.machine()}, "
        f"{os.cpu_count()} cores. Each model: `weights=None`, 10 classes, logits "
        "(`classifier_activation=None`), realistic BatchNormalization statistics, "
        "a batch of 2 seeded images at the smallest input Keras allows; converted "
        "with `converter: native`, `quantize: none`, run by TF.js's CPU backend in "
        f"Node.js, and compared with `model.predict`. Pass: max abs error ≤ {TOLERANCE:g}, "
        f"and ≤ {TOLERANCE:g} of the largest logit.",
        "",
        "EfficientNetV2M and L are built with BatchNormalization gammas around 0.6 instead of 1: "
        "with random weights and gammas around 1 their logits reach 2400 (M) and 2.6e6 (L) and "
        "float32 rounding decides them (Keras's own `model(x)` and `model.predict(x)` differ by "
        "1300 on M), so no converter can be checked against them (`tests/applications.py`, `GAMMA`).",
        "",
        "| Architecture | Params | Input | Native conversion (s) | Max abs error | Max abs logit "
        "| Relative error | Result |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name in ARCHITECTURES:
        row = rows.get(name)
        if row is None:
            lines.append(f"| {name} | | | | | | | not run |")
            continue
        if "error" in row:
            lines.append(f"| {name} | {row.get('params', '')} | {row['input']} | {row.get('convert_seconds', '')} "
                         f"| | | | fail: {row['error'][:200]} |")
            continue
        relative = row["max_error"] / row["max_logit"]
        verdict = "pass" if row["max_error"] <= TOLERANCE and relative <= TOLERANCE else "fail"
        lines.append(f"| {name} | {row['params']:,} | {row['input']} | {row['convert_seconds']:.2f} "
                     f"| {row['max_error']:.2g} | {row['max_logit']:.3g} | {relative:.2g} | {verdict} |")
    REPORT.write_text("\n".join(lines) + "\n")


def main() -> None:
    names = sys.argv[1:] or ARCHITECTURES
    rows = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for name in names:
        with tempfile.TemporaryDirectory(prefix="applications-") as tmp:
            row = measure(name, Path(tmp))
        gc.collect()
        print(json.dumps(row), flush=True)
        rows[name] = row
        RESULTS.write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n")
        write_report(rows)


if __name__ == "__main__":
    main()
