"""Benchmarks of mkdocs-tfjs: build time, bytes shipped, and in-browser speed.

Not tests: nothing here passes or fails. Run from the repository root with
``make benchmark`` (or ``.venv/bin/python benchmarks/run.py``); it writes
``benchmarks/results.md``, which ``docs/performance.md`` includes.

- build: cold and warm ``mkdocs build`` of the demo site, the same site with
  the plugin disabled, and the baseline of running ``tensorflowjs_converter``
  once per model; medians of several runs, and ratios taken in the same run.
- page: bytes each demo page ships (raw and gzipped; runtime, model, page), as
  recorded by Chromium, against a page built the way seeds 001 and 003 build
  theirs (the full ``tf.min.js`` bundle and float32 weights).
- browser: time from navigation to widget ready, first inference, and median
  and p95 of 100 inferences per backend, through the widget API and through
  raw TF.js on the same page and model.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, StaticServer, copy_demo_project  # noqa: E402

PYTHON = sys.executable
# This checkout's package first: builds run in temporary folders, where a virtual
# environment shared with another checkout would otherwise import that one's.
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
       "TFDF_DISABLE_WELCOME_MESSAGE": "1",
       "PYTHONPATH": os.pathsep.join([str(ROOT / "plugin"), *filter(None, [os.environ.get("PYTHONPATH")])])}
DEMO_MODELS = ["models/palette/generator.keras", "models/digits/digits.keras",
               "models/emoji/classifier.keras"]
PAGES = {"palette": ("demos/palette/", "tfjs-palette-1"),
         "handwriting": ("demos/handwriting/", "tfjs-handwriting-1"),
         "image": ("demos/image/", "tfjs-image-1")}
#: Pages measured for bytes only: the sliders demo, and the custom widget's page (an author's
#: module may call any TF.js function, so that page gets the full runtime).
BYTE_PAGES = {**PAGES, "sliders": ("demos/sliders/", "tfjs-sliders-1"),
              "custom widget": ("custom-widgets/", "tfjs-body-mass-1")}
KINDS = ("tfjs", "widgets", "binary", "model", "page")


def copy_demo(target: Path, plugin_enabled: bool = True) -> Path:
    """A copy of the demo site's sources, with its own cache."""
    copy_demo_project(target)
    if not plugin_enabled:
        config = target / "mkdocs.yml"
        config.write_text(config.read_text().replace("runtime: local", "runtime: local\n      enabled: false"))
    return target


def timed(cmd: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


NATIVE_TIMER = """
import json, statistics, sys, tempfile, time, shutil
from pathlib import Path
from mkdocs_tfjs.convert import Choice, convert_model
out = {}
for model in sys.argv[2:]:
    times = []
    for _ in range(int(sys.argv[1])):
        work = Path(tempfile.mkdtemp())
        started = time.perf_counter()
        convert_model(Path(model), work / "m", "float16", model, Choice("native"))
        times.append(time.perf_counter() - started)
        shutil.rmtree(work)
    out[model] = statistics.median(times)
print(json.dumps(out))
"""


def bench_build(runs: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    site = copy_demo(work / "site")
    plain = copy_demo(work / "plain", plugin_enabled=False)
    tensorflow = copy_demo(work / "tensorflow")
    config = tensorflow / "mkdocs.yml"
    config.write_text(config.read_text().replace("runtime: local", "runtime: local\n      converter: tensorflow"))
    mkdocs = [PYTHON, "-m", "mkdocs", "build", "-q"]
    cold, cold_tf, warm, without = [], [], [], []
    for _ in range(runs):
        shutil.rmtree(site / ".cache", ignore_errors=True)
        cold.append(timed(mkdocs, site))
        shutil.rmtree(tensorflow / ".cache", ignore_errors=True)
        cold_tf.append(timed(mkdocs, tensorflow))
    for _ in range(runs + 2):
        warm.append(timed(mkdocs, site))
        without.append(timed(mkdocs, plain))
    # Native conversion per model: the median of several, in one warm process.
    native = subprocess.run([PYTHON, "-c", NATIVE_TIMER, str(runs * 3), *[str(ROOT / m) for m in DEMO_MODELS]],
                            env=ENV, check=True, capture_output=True, text=True).stdout
    native_times = {Path(k).relative_to(ROOT).as_posix(): v for k, v in json.loads(native).items()}
    # The baseline: Keras export, then the converter command, once per model.
    exported = work / "exported"
    export = ("import sys, keras\nfor src, dst in zip(sys.argv[1::2], sys.argv[2::2]):\n"
              "    keras.models.load_model(src, compile=False).export(dst, verbose=False)\n")
    args = []
    for model in DEMO_MODELS:
        args += [str(ROOT / model), str(exported / Path(model).stem)]
    subprocess.run([PYTHON, "-c", export, *args], env=ENV, check=True, capture_output=True)
    converter = str(Path(PYTHON).with_name("tensorflowjs_converter"))
    per_model = {m: [] for m in DEMO_MODELS}
    for _ in range(runs):
        for model in DEMO_MODELS:
            out = work / "cli" / Path(model).stem
            shutil.rmtree(out, ignore_errors=True)
            per_model[model].append(timed([converter, "--input_format=tf_saved_model", "--quantize_float16=*",
                                           str(exported / Path(model).stem), str(out)], work))
    shutil.rmtree(work, ignore_errors=True)
    med = statistics.median
    return {"runs": runs, "cold": med(cold), "cold_tensorflow": med(cold_tf), "warm": med(warm),
            "without": med(without), "warm_overhead": med(warm) / med(without) - 1,
            "per_model": {m: {"cli": med(per_model[m]), "native": native_times[m]} for m in DEMO_MODELS}}


def bench_install() -> dict:
    """Disk size of a fresh virtual environment: plain install, and with the [tensorflow] extra."""
    sizes = {}
    for name, spec in (("default", str(ROOT)), ("tensorflow", f"{ROOT}[tensorflow]")):
        venv = Path(tempfile.mkdtemp(prefix=f"bench-install-{name}-")) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        before = du(venv)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "-c", str(ROOT / "constraints.txt"), spec], check=True, capture_output=True)
        sizes[name] = du(venv) - before
        shutil.rmtree(venv.parent, ignore_errors=True)
    return sizes


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def gz(data: bytes) -> int:
    return len(gzip.compress(data, 9))


def classify(url: str) -> str:
    """Return which piece a response is: TF.js, our widget code, the WebAssembly binary, model, page."""
    if "/assets/tfjs/models/" in url:
        return "model"
    if url.endswith(".wasm"):
        return "binary"
    if "/assets/tfjs/vendor/" in url:
        return "tfjs"
    if "/assets/tfjs/" in url:
        return "widgets"
    return "page"


@contextlib.contextmanager
def served_chromium(site: Path, port: int):
    """Serve the site and yield (base URL, headless Chromium)."""
    from playwright.sync_api import sync_playwright

    server = StaticServer(site, port=port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield server.url, browser
            browser.close()
    finally:
        server.close()


def bench_pages(site: Path, port: int) -> dict:
    out = {}
    with served_chromium(site, port) as (base, browser):
        for name, (path, widget_id) in BYTE_PAGES.items():
            page = browser.new_page()
            bodies: dict[str, bytes] = {}
            page.on("response", lambda r, b=bodies: b.__setitem__(r.url, r.body()) if r.ok else None)
            page.goto(base + path)
            page.evaluate("id => window.tfjsWidgets.ready(id)", widget_id)
            page.wait_for_timeout(500)
            totals = {k: [0, 0] for k in KINDS}
            for url, body in bodies.items():
                kind = classify(url)
                totals[kind][0] += len(body)
                totals[kind][1] += gz(body)
            config = json.loads(page.evaluate(f"document.getElementById('{widget_id}').dataset.config"))
            model_dir = site / path / Path(config["model"]).parent
            params = int(re.sub(r"\D", "", page.locator(f"#{widget_id} .tfjs-card dd").nth(3).text_content()))
            tf_min = (ROOT / "node_modules/@tensorflow/tfjs/dist/tf.min.js").read_bytes()
            model_json = (model_dir / "model.json").read_bytes()
            # Seed style: the whole tf.min.js, float32 weights, and the same page.
            seed_raw = len(tf_min) + params * 4 + len(model_json) + totals["page"][0]
            seed_gz = gz(tf_min) + int(params * 4 * 0.93) + gz(model_json) + totals["page"][1]
            # Seed 001's handwriting page draws with fabric.js too: count it on both sides.
            fabric = [b for u, b in bodies.items() if "/fabric@" in u]
            seed_raw += sum(len(b) for b in fabric)
            seed_gz += sum(gz(b) for b in fabric)
            # With `backend: cpu` the page loads the cpu script instead of the WASM script and
            # binary: the lean file of cpu instead of wasm's, or tf-backend-cpu instead of the wasm piece.
            backend = page.evaluate("window.tfjsWidgets.backend()")
            wasm_js = [b for u, b in bodies.items()
                       if ("tfjs-backend-wasm" in u or "tfjs-lean-wasm" in u) and u.endswith(".js")]
            cpu_file = (
                ROOT / "plugin/mkdocs_tfjs/vendor/lean/tfjs-lean-cpu.min.js" if backend["runtime"] == "lean"
                else ROOT / "node_modules/@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.min.js")
            if backend["name"] == "cpu":  # `auto` already chose it: nothing to swap
                cpu_tfjs_gz = totals["tfjs"][1]
            else:
                cpu_tfjs_gz = totals["tfjs"][1] - sum(gz(b) for b in wasm_js) + gz(cpu_file.read_bytes())
            cpu_gz = sum(v[1] for v in totals.values()) - totals["binary"][1] - totals["tfjs"][1] + cpu_tfjs_gz
            out[name] = {"totals": totals, "seed_raw": seed_raw, "seed_gz": seed_gz, "cpu_gz": cpu_gz,
                         "cpu_tfjs_gz": cpu_tfjs_gz, "runtime": backend["runtime"], "backend": backend["name"]}
            page.close()
    return out


RAW_TIMING = """async ([url, shape, n, backend]) => {
  const tf = window.tf;
  if (!tf.findBackend(backend)) {
    // The runtime loads only the backend it chose; load this one's script the same way.
    const config = JSON.parse(document.querySelector("script[data-tfjs-runtime]").dataset.tfjsRuntime);
    await new Promise((resolve, reject) => { const s = document.createElement("script");
      s.src = new URL(config.scripts[backend].src, document.baseURI).href; s.onload = resolve; s.onerror = reject;
      document.head.appendChild(s); });
  }
  if (backend !== tf.getBackend()) { await tf.setBackend(backend); await tf.ready(); }
  const model = await tf.loadGraphModel(url);
  const input = tf.randomUniform(shape).arraySync();
  const once = async () => { const t = performance.now(); const x = tf.tensor(input);
    const y = model.predict(x); await y.array(); x.dispose(); y.dispose(); return performance.now() - t; };
  const first = await once();
  const times = [];
  for (let i = 0; i < n; i++) times.push(await once());
  model.dispose();
  return {first, times};
}"""

WIDGET_TIMING = """async ([id, shape, n]) => {
  const input = window.tf.randomUniform(shape).arraySync();
  const times = [];
  for (let i = 0; i < n; i++) { const t = performance.now();
    await window.tfjsWidgets.predict(id, input); times.push(performance.now() - t); }
  return times;
}"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def full_runtime_copy(site: Path) -> Path:
    """Return a copy of the built site whose widgets all load the full TF.js pieces.

    The raw-TF.js comparison switches backends on one page, which needs the
    pieces (the lean file holds one backend); the lean and the full runtime run
    the same kernels, to the bit (tests/test_lean_runtime.py).
    """
    full = site.with_name(site.name + "-full")
    shutil.copytree(site, full)
    for page in full.rglob("*.html"):
        page.write_text(page.read_text().replace('"lean":true', '"lean":false'))
    return full


def bench_browser(site: Path, port: int, n: int) -> dict:
    out = {}
    full = StaticServer(full_runtime_copy(site))
    with served_chromium(site, port) as (base, browser):
        for name, (path, widget_id) in PAGES.items():
            page = browser.new_page()
            started = time.perf_counter()
            page.goto(base + path)
            page.evaluate("id => window.tfjsWidgets.ready(id)", widget_id)
            ready_ms = (time.perf_counter() - started) * 1000
            page.close()
            page = browser.new_page()
            page.goto(full.url + path)
            page.evaluate("id => window.tfjsWidgets.ready(id)", widget_id)
            config = json.loads(page.evaluate(f"document.getElementById('{widget_id}').dataset.config"))
            shape = [1 if d is None else d for d in config["inputs"][0]]
            url = page.evaluate(f"new URL({json.dumps(config['model'])}, document.baseURI).href")
            widget = page.evaluate(WIDGET_TIMING, [widget_id, shape, n])
            backend = page.evaluate("window.tfjsWidgets.backend().name")
            results = {"ready_ms": ready_ms, "backend": backend,
                       "widget": {"median": statistics.median(widget), "p95": pct(widget, 0.95),
                                  "mean": statistics.fmean(widget)}}
            for raw_backend in ("wasm", "cpu", "webgl"):
                raw = page.evaluate(RAW_TIMING, [url, shape, n, raw_backend])
                results[raw_backend] = {"first": raw["first"], "median": statistics.median(raw["times"]),
                                        "p95": pct(raw["times"], 0.95), "mean": statistics.fmean(raw["times"])}
            page.evaluate("b => window.tf.setBackend(b)", backend)
            results["overhead"] = results["widget"]["median"] / results[backend]["median"]
            # Chromium rounds performance.now() to 0.1 ms: means show what medians round away.
            results["overhead_mean"] = results["widget"]["mean"] / results[backend]["mean"]
            out[name] = results
            page.close()
    full.close()
    return out


def kb(n: float) -> str:
    return f"{n / 1000:,.0f} KB" if n >= 10_000 else f"{n / 1000:,.1f} KB"


def write_table(build: dict, pages: dict, timings: dict, runs: int) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"Measured on {os.cpu_count()} cores ({cpu}), no GPU, {chromium}, served on localhost, "
        f"{time.strftime('%Y-%m-%d')}.",
        "",
        "**Build** (the demo site: three models; medians of "
        f"{runs} cold and {runs + 2} warm runs)",
        "",
        "| | seconds |",
        "| --- | ---: |",
        f"| cold `mkdocs build`, native converter (the default) | {build['cold']:.2f} |",
        f"| cold `mkdocs build` with `converter: tensorflow` (imports TensorFlow) | {build['cold_tensorflow']:.2f} |",
        f"| warm `mkdocs build` (every model cached) | {build['warm']:.2f} |",
        f"| the same site with the plugin disabled | {build['without']:.2f} |",
        "",
        f"A warm build costs {100 * build['warm_overhead']:+.0f}% over the site without the plugin. "
        "Per model, the native conversion (median in a warm process) against the "
        "`tensorflowjs_converter` command (after Keras `export()`, which is not counted):",
        "",
        "| model | `tensorflowjs_converter` (s) | native (s) | ratio |",
        "| --- | ---: | ---: | ---: |",
        *[f"| `{m}` | {v['cli']:.2f} | {v['native']:.4f} | {v['cli'] / v['native']:.0f}× |"
          for m, v in build["per_model"].items()],
        "",
        *(install_lines(build["install"]) if "install" in build else []),
        "**Bytes shipped** per demo page (raw / gzipped, as Chromium received them), against a page "
        "built as seeds 001 and 003 build theirs (full `tf.min.js`, float32 weights, fabric.js where the "
        "page draws, the same page). "
        "*TF.js*: the lean file or the full pieces the page loaded (and fabric.js on the handwriting "
        "page, from the same vendor folder); *widgets*: runtime.js, the widget's module and "
        "stylesheet; *binary*: the WebAssembly backend's `.wasm`.",
        "",
        "| page | TF.js | widgets | binary | model | page | total | seed-style total | ratio (gz) "
        "| with `backend: cpu`: TF.js (gz), ratio |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, p in pages.items():
        t = p["totals"]
        total = [sum(v[i] for v in t.values()) for i in (0, 1)]
        cells = " | ".join(f"{kb(t[k][0])} / {kb(t[k][1])}" for k in KINDS[1:])
        lines.append(
            f"| {name} | {p['runtime']} ({p['backend']}): {kb(t['tfjs'][0])} / {kb(t['tfjs'][1])} | "
            f"{cells} | {kb(total[0])} / {kb(total[1])} | {kb(p['seed_raw'])} / {kb(p['seed_gz'])} | "
            f"{total[1] / p['seed_gz']:.2f} | {kb(p['cpu_tfjs_gz'])}, {p['cpu_gz'] / p['seed_gz']:.2f} |")
    lines += [
        "",
        "**In the browser** (ms; *ready* on the page as built; then 100 inferences of batch 1 after a "
        "warm-up on a copy of the page that loads the full TF.js pieces, which run the same kernels "
        "as the lean file, to the bit, so that *raw*, plain TF.js on the same model, can switch "
        "backends; WebGL here is software, SwiftShader)",
        "",
        "| page | ready after navigation | widget backend | widget median / p95 | raw wasm median / p95 "
        "| raw cpu median / p95 | raw webgl first / median | widget ÷ raw: medians, means |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in timings.items():
        lines.append(
            f"| {name} | {r['ready_ms']:.0f} | {r['backend']} | {r['widget']['median']:.2f} / "
            f"{r['widget']['p95']:.2f} | {r['wasm']['median']:.2f} / {r['wasm']['p95']:.2f} | "
            f"{r['cpu']['median']:.2f} / {r['cpu']['p95']:.2f} | {r['webgl']['first']:.0f} / "
            f"{r['webgl']['median']:.2f} | {r['overhead']:.2f}, {r['overhead_mean']:.2f} |")
    return "\n".join(lines) + "\n"


def install_lines(sizes: dict) -> list[str]:
    mb = {k: v / 1e6 for k, v in sizes.items()}
    return [
        "**Install size** (a fresh virtual environment's growth, pinned by `constraints.txt`)",
        "",
        "| install | MB |",
        "| --- | ---: |",
        f"| `pip install mkdocs-tfjs` | {mb['default']:.0f} |",
        f"| `pip install \"mkdocs-tfjs[tensorflow]\"` | {mb['tensorflow']:.0f} |",
        "",
        f"The default install is {mb['tensorflow'] / mb['default']:.0f}× smaller.",
        "",
    ]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--inferences", type=int, default=100)
    parser.add_argument("--table-only", action="store_true",
                        help="rewrite results.md from the last results.json")
    parser.add_argument("--pages-only", action="store_true",
                        help="measure the bytes per page only; reuse the rest of the last results.json")
    parser.add_argument("--skip-build", action="store_true",
                        help="reuse the build figures of the last results.json")
    args = parser.parse_args()
    if args.table_only:
        data = json.loads((ROOT / "benchmarks" / "results.json").read_text())
        table = write_table(data["build"], data["pages"], data["browser"], data["build"]["runs"])
        (ROOT / "benchmarks" / "results.md").write_text(table)
        print(table)
        return

    print("build benchmark ...", flush=True)
    cached = ROOT / "benchmarks" / "results.json"
    if (args.skip_build or args.pages_only) and cached.exists():
        build = json.loads(cached.read_text())["build"]
    else:
        build = bench_build(args.runs)
        print("install sizes ...", flush=True)
        build["install"] = bench_install()
    print(json.dumps(build, indent=1), flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-site-"))
    source = copy_demo(work / "src")
    port = free_port()
    config = (source / "mkdocs.yml").read_text()
    (source / "mkdocs.yml").write_text(re.sub(r"(?m)^site_url: .*$", f"site_url: http://127.0.0.1:{port}/", config))
    subprocess.run([PYTHON, "-m", "mkdocs", "build", "-q"], cwd=source, env=ENV, check=True)
    print("page bytes ...", flush=True)
    pages = bench_pages(source / "site", port)
    print("browser timings ...", flush=True)
    if args.pages_only:
        timings = json.loads(cached.read_text())["browser"]
    else:
        timings = bench_browser(source / "site", port, args.inferences)
    table = write_table(build, pages, timings, args.runs)
    (ROOT / "benchmarks" / "results.md").write_text(table)
    (ROOT / "benchmarks" / "results.json").write_text(
        json.dumps({"build": build, "pages": pages, "browser": timings}, indent=1) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    print(table)


if __name__ == "__main__":
    main()
