"""TF.js's WebGPU backend on Chromium's software adapter, against WebAssembly: for what it is worth.

No GPU was at hand when this was written (the development machine has none,
and no GPU machine was lent), so this times the webgpu backend on SwiftShader,
the software WebGPU adapter Debian's Chromium offers with
``--enable-unsafe-webgpu``, beside single-threaded WebAssembly in the same
browser. It says what WebGPU's fixed costs are (starting the device,
compiling shaders at the first inference, a round trip per inference) and
nothing about a real GPU's speed, which is why ``backend: auto`` never takes a
software adapter. Same method as ``benchmarks/backends.py`` (a bare page per
backend in a fresh context: start, first result, median of further
inferences of batch 1), on the example models and two convolution stacks.
Writes ``benchmarks/webgpu.json`` and ``benchmarks/webgpu.md``; run with
``.venv/bin/python benchmarks/webgpu.py``.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "plugin"))
from mkdocs_tfjs.runtime import VENDORED, pieces  # noqa: E402

from benchmarks.backends import EXAMPLES, TIMING, convert, synthetic_models  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, StaticServer  # noqa: E402

BACKENDS = ("wasm", "webgpu")
#: Fewer than backends.py's 50: SwiftShader runs the larger models at seconds each.
RUNS = 20
SYNTHETIC = ("conv 28², 16 ch", "conv 28², 64 ch")
PAGE = """<!doctype html><meta charset="utf-8"><title>webgpu bench</title>
<script src="vendor/core.js"></script><script src="vendor/converter.js"></script>"""


def stage_page(folder: Path) -> None:
    """Write the bare page and the vendored pieces it loads (core, converter, wasm, webgpu)."""
    vendor = folder / "vendor"
    vendor.mkdir(parents=True)
    (folder / "index.html").write_text(PAGE)
    for name in ("core", "converter", *BACKENDS):
        piece = pieces()[name]
        (vendor / f"{name}.js").write_bytes((VENDORED / piece.npm_spec / piece.file).read_bytes())
        for asset in piece.assets:
            (vendor / Path(asset).name).write_bytes((VENDORED / piece.npm_spec / asset).read_bytes())


def run() -> tuple[list[dict], dict]:
    """Time every model on both backends; return the rows and the adapter's description."""
    from playwright.sync_api import sync_playwright

    rows, adapter = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sources = {name: ROOT / rel for name, rel in EXAMPLES.items()}
        sources.update({k: v for k, v in synthetic_models(tmp).items() if k in SYNTHETIC})
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--enable-unsafe-webgpu"])
            for index, (name, source) in enumerate(sources.items()):
                site = tmp / f"site{index}"
                stage_page(site)
                macs = convert(source, site / "model")
                server = StaticServer(site)
                try:
                    row = {"model": name, "macs": macs}
                    for backend in BACKENDS:
                        context = browser.new_context()
                        page = context.new_page()
                        page.goto(server.url + "index.html")
                        if not adapter:
                            adapter = page.evaluate("""async () => { const a = await navigator.gpu.requestAdapter();
                              const i = a.info || {}; return {vendor: i.vendor, architecture: i.architecture,
                              fallback: Boolean(i.isFallbackAdapter || a.isFallbackAdapter)}; }""")
                        raw = page.evaluate(TIMING, [backend, RUNS])
                        context.close()
                        row[backend] = {"start": raw["start"], "first": raw["first"],
                                        "median": statistics.median(raw["times"])}
                finally:
                    server.close()
                print(json.dumps(row), flush=True)
                rows.append(row)
            browser.close()
    return sorted(rows, key=lambda r: r["macs"]), adapter


def table(rows: list[dict], adapter: dict) -> str:
    """Return the Markdown table of the measurements."""
    lines = [
        f"Adapter: vendor `{adapter.get('vendor')}`, architecture `{adapter.get('architecture')}`, "
        f"fallback {str(adapter.get('fallback')).lower()} (software). Milliseconds; {RUNS} inferences.",
        "",
        "| model | multiply-adds | wasm: start / first result / median | "
        "webgpu (software): start / first result / median | webgpu ÷ wasm median |",
        "| --- | ---: | --- | --- | ---: |",
    ]
    for r in rows:
        wasm, gpu = r["wasm"], r["webgpu"]
        lines.append(
            f"| {r['model']} | {r['macs']:,} | {wasm['start']:.0f} / {wasm['first']:.0f} / "
            f"{wasm['median']:.2f} | {gpu['start']:.0f} / {gpu['first']:.0f} / "
            f"{gpu['median']:.2f} | {gpu['median'] / max(wasm['median'], 0.05):.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    rows, adapter = run()
    (ROOT / "benchmarks" / "webgpu.json").write_text(json.dumps({"adapter": adapter, "rows": rows}, indent=1) + "\n")
    (ROOT / "benchmarks" / "webgpu.md").write_text(table(rows, adapter))
    print(table(rows, adapter))


if __name__ == "__main__":
    main()
