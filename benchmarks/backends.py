"""Which TF.js backend costs least, against a model's multiply-adds.

For the example models and a ladder of synthetic ones (dense stacks and small
convolution stacks from about 10 k to 20 M multiply-adds per example), each
converted with the native converter, this opens a bare page in a fresh
Chromium context per backend (nothing cached) and records:

- *start*: loading the backend's script (and, for WebAssembly, fetching and
  compiling its binary) until ``tf.ready()``;
- *first result*: start + loading the model + the first inference;
- *median*: the median of 50 further inferences of batch 1.

It writes ``benchmarks/backends.json`` and ``benchmarks/backends.md``, which
the Performance page includes and from which ``backend: auto``'s threshold
(``SMALL_MODEL_MACS`` in ``assets/runtime.js``) is set. Run with
``.venv/bin/python benchmarks/backends.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "plugin"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from mkdocs_tfjs.convert import Choice, convert_model  # noqa: E402
from mkdocs_tfjs.runtime import VENDORED, pieces  # noqa: E402

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, StaticServer  # noqa: E402

EXAMPLES = {
    "palette": "models/palette/generator.keras",
    "penguins": "models/penguins/penguins.keras",
    "digits": "models/digits/digits.keras",
    "emoji": "models/emoji/classifier.keras",
}
BACKENDS = ("cpu", "wasm")
RUNS = 50

PAGE = """<!doctype html><meta charset="utf-8"><title>backend bench</title>
<script src="vendor/core.js"></script><script src="vendor/converter.js"></script>"""

TIMING = """async ([backend, n]) => {
  const load = (src) => new Promise((resolve, reject) => { const s = document.createElement("script");
    s.src = src; s.onload = resolve; s.onerror = reject; document.head.appendChild(s); });
  const t0 = performance.now();
  await load("vendor/" + backend + ".js");
  if (backend === "wasm") tf.wasm.setWasmPaths(new URL("vendor/", document.baseURI).href);
  await tf.setBackend(backend); await tf.ready();
  const start = performance.now() - t0;
  const model = await tf.loadGraphModel("model/model.json");
  const shape = model.inputs[0].shape.map((d) => (d === -1 || d === null ? 1 : d));
  const input = tf.randomUniform(shape).arraySync();
  const once = async () => { const x = tf.tensor(input); const y = model.predict(x);
    await y.data(); x.dispose(); y.dispose(); };
  await once();
  const first = performance.now() - t0;
  const times = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await once(); times.push(performance.now() - t); }
  return { start, first, times };
}"""


def synthetic_models(folder: Path) -> dict[str, Path]:
    """Return dense and convolution stacks spanning 10 k to 20 M multiply-adds."""
    import keras

    out = {}
    for width in (64, 128, 256, 512, 1024, 2048):
        model = keras.Sequential(
            [
                keras.Input((width,)),
                *(keras.layers.Dense(width, activation="relu") for _ in range(3)),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        out[f"dense {width}×3"] = model
    for channels in (4, 8, 16, 32, 64):
        model = keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                keras.layers.Conv2D(channels, 3, padding="same", activation="relu"),
                keras.layers.Conv2D(channels, 3, padding="same", activation="relu"),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        out[f"conv 28², {channels} ch"] = model
    paths = {}
    for name, model in out.items():
        path = folder / (name.replace(" ", "_").replace("×", "x").replace("²", "") + ".keras")
        model.save(path)
        paths[name] = path
    return paths


def convert(source: Path, out_dir: Path) -> int:
    """Convert with the native converter; return the model's multiply-adds per example."""
    convert_model(source, out_dir, "none", str(source), Choice("native"))
    return json.loads((out_dir / "model.json").read_text())["userDefinedMetadata"]["macs"]


def stage_page(folder: Path) -> None:
    """Write the bare page and the vendored runtime it loads."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(PAGE)
    vendor = folder / "vendor"
    vendor.mkdir()
    for name in ("core", "converter", *BACKENDS):
        piece = pieces()[name]
        (vendor / f"{name}.js").write_bytes((VENDORED / piece.npm_spec / piece.file).read_bytes())
        for asset in piece.assets:
            (vendor / Path(asset).name).write_bytes(
                (VENDORED / piece.npm_spec / asset).read_bytes()
            )


def measure(browser, url: str, backend: str) -> dict:
    """Time one backend on one model in a fresh context (an empty HTTP cache)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    raw = page.evaluate(TIMING, [backend, RUNS])
    context.close()
    return {"start": raw["start"], "first": raw["first"], "median": statistics.median(raw["times"])}


def run() -> list[dict]:
    """Convert every model and time it on each backend."""
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sources = {name: ROOT / rel for name, rel in EXAMPLES.items()}
        sources.update(synthetic_models(tmp))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for index, (name, source) in enumerate(sources.items()):
                site = tmp / f"site{index}"
                stage_page(site)
                macs = convert(source, site / "model")
                server = StaticServer(site)
                try:
                    row = {"model": name, "macs": macs}
                    for backend in BACKENDS:
                        row[backend] = measure(browser, server.url + "/index.html", backend)
                finally:
                    server.close()
                print(json.dumps(row), flush=True)
                rows.append(row)
            browser.close()
    return sorted(rows, key=lambda r: r["macs"])


def table(rows: list[dict]) -> str:
    """Return the Markdown table of the measurements."""
    lines = [
        "| model | multiply-adds | cpu: start / first result / median | "
        "wasm: start / first result / median | cpu ÷ wasm median |",
        "| --- | ---: | --- | --- | ---: |",
    ]
    for r in rows:
        cpu, wasm = r["cpu"], r["wasm"]
        lines.append(
            f"| {r['model']} | {r['macs']:,} | {cpu['start']:.0f} / {cpu['first']:.0f} / "
            f"{cpu['median']:.2f} ms | {wasm['start']:.0f} / {wasm['first']:.0f} / "
            f"{wasm['median']:.2f} ms | {cpu['median'] / max(wasm['median'], 0.05):.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    rows = run()
    (ROOT / "benchmarks" / "backends.json").write_text(json.dumps(rows, indent=1) + "\n")
    (ROOT / "benchmarks" / "backends.md").write_text(table(rows))
    print(table(rows))


if __name__ == "__main__":
    main()
