"""How long a reader on a slow connection waits for a model, against its size.

Builds a real site (the mkdocs CLI, the plugin, ``runtime: local``) with one
palette widget per model size, each a dense generator whose hidden width sets
its bytes, with ``load: click``. For each, a fresh Chromium context (nothing
cached) opens the page, then Chromium's own network emulation is switched to a
profile and the **Load model** button is pressed; the time runs from the press
to the widget's ``data-state="ready"``: TF.js's lean file, ``model.json``, the
shards, and the warm-up inference.

Profiles, as DevTools and Lighthouse define them (download throughput after
their 0.9 / 0.8 factors, and round-trip latency): "Fast 3G" 1.44 Mbit/s with
562.5 ms; "Slow 3G" 0.4 Mbit/s with 2 s.

It writes ``benchmarks/loading.json`` and ``benchmarks/loading.md``, which the
Performance page includes and from which ``load_threshold``'s default is set.
Run with ``.venv/bin/python benchmarks/loading.py``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "plugin"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, Project, StaticServer, tfjs_block  # noqa: E402

#: Hidden widths of the generator: about 0.25, 0.5, 1, 2, 4 and 7 MB at float16.
WIDTHS = (4000, 8000, 16000, 32000, 64000, 112000)
PROFILES = {
    "Fast 3G": {"downloadThroughput": 1_440_000 / 8, "latency": 562.5},
    "Slow 3G": {"downloadThroughput": 400_000 / 8, "latency": 2000},
}
#: Slow 3G only up to this width: above it a run takes minutes and says nothing new.
SLOW_UP_TO = 32000

PRESS_TO_READY = """id => new Promise((resolve) => {
  const el = document.getElementById(id);
  const t0 = performance.now();
  new MutationObserver(() => {
    if (el.dataset.state === "ready" || el.dataset.state === "error") resolve([el.dataset.state, performance.now() - t0]);
  }).observe(el, { attributes: true, attributeFilter: ["data-state"] });
  el.querySelector(".tfjs-load-button").click();
})"""


def make_models(folder: Path) -> dict[int, Path]:
    import keras

    paths = {}
    for width in WIDTHS:
        model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(width, activation="relu"),
                                  keras.layers.Dense(15, activation="sigmoid")])
        paths[width] = folder / f"g{width}.keras"
        model.save(paths[width])
    return paths


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        project = Project(Path(tmp) / "site")
        models = make_models(Path(tmp))
        blocks = []
        for width, path in models.items():
            rel = f"models/{path.name}"
            (project.root / "models").mkdir(parents=True, exist_ok=True)
            (project.root / rel).write_bytes(path.read_bytes())
            blocks.append(tfjs_block(model=rel, widget="palette", id=f"w{width}", load="click"))
        project.config({"size_budget": "100 MB"})
        for width, block in zip(models, blocks):
            project.page(f"w{width}.md", "# Model\n\n" + block)
        result = project.build("--strict")
        assert result.returncode == 0, result.output
        sizes = {}
        for folder in (project.site / "assets" / "tfjs" / "models").iterdir():
            width = int(folder.name.split("-")[0][1:])
            sizes[width] = sum(p.stat().st_size for p in folder.iterdir())
        server = StaticServer(project.site)
        rows = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for width in WIDTHS:
                row = {"bytes": sizes[width]}
                for name, profile in PROFILES.items():
                    if name == "Slow 3G" and width > SLOW_UP_TO:
                        continue
                    context = browser.new_context()
                    page = context.new_page()
                    page.goto(f"{server.url}w{width}/")
                    page.wait_for_function("id => window.tfjsWidgets && window.tfjsWidgets.ids().includes(id)",
                                           arg=f"w{width}")
                    cdp = context.new_cdp_session(page)
                    cdp.send("Network.enable")
                    cdp.send("Network.emulateNetworkConditions",
                             {"offline": False, "uploadThroughput": -1, **profile})
                    state, ms = page.evaluate(PRESS_TO_READY, f"w{width}")
                    assert state == "ready", (width, name)
                    row[name] = round(ms / 1000, 1)
                    context.close()
                rows.append(row)
                print(row, flush=True)
            browser.close()
        server.close()
    (ROOT / "benchmarks" / "loading.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = ["| model (shipped) | Fast 3G: press to ready | Slow 3G: press to ready |",
             "| ---: | ---: | ---: |"]
    for row in rows:
        slow = f"{row['Slow 3G']:.1f} s" if "Slow 3G" in row else "not run"
        lines.append(f"| {row['bytes'] / 1e6:.2f} MB | {row['Fast 3G']:.1f} s | {slow} |")
    (ROOT / "benchmarks" / "loading.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
