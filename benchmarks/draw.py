"""How long the picture output parts take to draw a 256 x 256 result.

The `mask` and `image` output parts (``widgets/mask/mask.js``,
``widgets/picture/picture.js``) get the model's output as a nested
``[H][W][C]`` array, as ``tensor.array()`` returns it, and draw it on their
canvas. This opens a bare page in Chromium with each part's template markup,
hands ``show()`` a 256 x 256 output (mask: 4 and 21 classes; picture: grey
and RGB) 50 times, and records the median and the slowest draw, against the
16.7 ms of one animation frame at 60 Hz. Model time is not counted: the
question is whether drawing adds a frame after the result arrives.

It writes ``benchmarks/draw.json`` and ``benchmarks/draw.md``, which the
Performance page includes. Run with ``.venv/bin/python benchmarks/draw.py``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "plugin"))

from mkdocs_tfjs.widgets.mask.part import class_colours  # noqa: E402

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, StaticServer  # noqa: E402

WIDGETS = ROOT / "plugin" / "mkdocs_tfjs" / "widgets"
SIZE = 256
RUNS = 50
FRAME_MS = 1000 / 60
CASES = [("mask", 4), ("mask", 21), ("image", 1), ("image", 3)]

PAGE = """<!doctype html><meta charset="utf-8"><body>
<figure id="mask"><canvas class="tfjs-mask-picture" width="256" height="256"></canvas>
<canvas class="tfjs-mask-classes" width="256" height="256"></canvas>
<input type="range" class="tfjs-mask-opacity" min="0" max="100" value="50"></figure>
<figure id="image"><canvas class="tfjs-picture-canvas" width="256" height="256"></canvas></figure>
</body>"""

MEASURE = """async ([part, channels, size, runs, colours]) => {
  const module = await import(part === "mask" ? "./mask.js" : "./picture.js");
  const el = document.getElementById(part);
  const config = part === "mask"
    ? {height: size, width: size, classes: channels, opacity: 0.5,
       labels: colours.map((_, i) => String(i)), colours}
    : {height: size, width: size, channels, range: [0, 1]};
  const drawer = new module.default(el, config);
  // A fresh nested array per run, as tensor.array() hands over each result.
  const value = (x, y, c, seed) => ((x * 7 + y * 13 + c * 29 + seed) % 97) / 97;
  const make = (seed) => Array.from({length: size}, (_, y) => Array.from({length: size},
    (_, x) => Array.from({length: channels}, (_, c) => value(x, y, c, seed))));
  const picture = {rgb: new Float64Array(size * size * 3).fill(128)};
  const times = [];
  for (let i = 0; i < runs + 5; i++) {
    const output = make(i);
    const started = performance.now();
    drawer.show(output, picture);
    const ms = performance.now() - started;
    if (i >= 5) times.push(ms);  // the first runs compile the code
  }
  return times;
}"""


def main() -> None:
    """Measure each case and write the JSON and Markdown tables."""
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copy(WIDGETS / "mask" / "mask.js", folder)
        shutil.copy(WIDGETS / "picture" / "picture.js", folder)
        (folder / "index.html").write_text(PAGE)
        server = StaticServer(folder)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for part, channels in CASES:
                    page = browser.new_page()
                    page.goto(server.url)
                    times = page.evaluate(
                        MEASURE, [part, channels, SIZE, RUNS, class_colours(max(channels, 2))]
                    )
                    page.close()
                    rows.append({
                        "part": part, "channels": channels, "median_ms": statistics.median(times),
                        "max_ms": max(times),
                    })
                    print(rows[-1])
                browser.close()
        finally:
            server.close()
    (ROOT / "benchmarks" / "draw.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = [
        f"| output part | {SIZE} × {SIZE} × channels | median draw | slowest of {RUNS} | "
        "within a frame (16.7 ms) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        what = f"{row['channels']} classes" if row["part"] == "mask" else (
            "grey" if row["channels"] == 1 else "RGB")
        fits = "yes" if row["max_ms"] < FRAME_MS else "median only" if (
            row["median_ms"] < FRAME_MS) else "no"
        lines.append(f"| `show: {row['part']}` | {what} | {row['median_ms']:.1f} ms | "
                     f"{row['max_ms']:.1f} ms | {fits} |")
    (ROOT / "benchmarks" / "draw.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
