"""Per-inference speed in Chromium: the widget API's overhead, fused activations, threads.

Not tests: nothing here passes or fails. Three parts, each written into
``benchmarks/speed.json`` and the tables of ``benchmarks/speed.md`` (which
``docs/performance.md`` includes)::

    PYTHONPATH=plugin .venv/bin/python benchmarks/speed.py overhead fusion threads
    PYTHONPATH=plugin .venv/bin/python benchmarks/speed.py table   # rewrite speed.md only

- overhead: the demo site as built, one widget per example model, each on its
  own page and backend (``backend: auto``): ``tfjsWidgets.predict`` with a
  Float32Array (and with nested arrays) against plain TF.js on the same page,
  TF.js copy, backend and model (``tf.tensor`` from the same Float32Array,
  ``model.predict``, ``await y.array()``: the same result in the same form),
  as a ratio and as microseconds per call; and the same plain TF.js on a second
  copy of the model, the control: what this method reads between two identical
  variants (the machine's load, the JIT, where each copy's memory lies) is
  the limit of what it can tell. ``SPEED_OVERHEAD_ROUNDS`` rounds
  (120): the overhead is a few per cent and one round's ratio scatters by
  ±10-20 % here, so 40 rounds leave the median uncertain by some 3-4 %,
  120 by about 2 %. The run before (its figures, rounds, date and load) is
  kept beside the new one, so that two runs are always shown together.
- fusion: each example model and keras.applications' MobileNetV2 and
  EfficientNetB0 at 224 px (``weights=None``, 10 classes), converted twice by
  the native converter, with and without ``Graph.fuse_activations``, on the
  cpu and wasm backends of the full TF.js pieces on one bare page.
- threads: MobileNetV2 and EfficientNetB0 on WebAssembly, on a page served
  with COOP/COEP (cross-origin isolated): the threaded SIMD binary with 1 and
  2 threads against the single-threaded SIMD binary readers get elsewhere.

Every comparison is interleaved (the variants take turns, in alternating
order, round after round) in one Chromium. The overhead and fusion parts
time the CPU time of the page's main thread (``/proc/<pid>/schedstat`` of
Chromium's renderer, in nanoseconds), where the cpu and single-threaded
WebAssembly backends run: on a machine shared with other jobs (a load of
15-20 on two cores while these were taken) wall-clock times mostly measure
the wait for a core, CPU time does not. A sample is the mean of a block of k
inferences (k makes a block about 20 ms of CPU), less the cost of an empty
block; medians and 95th percentiles are over blocks. Threads need wall-clock
time (their point is running on several cores at once): that part is only
as good as the machine was idle.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, StaticServer, copy_demo_project  # noqa: E402

RESULTS = Path(os.environ.get("SPEED_JSON", Path(__file__).with_name("speed.json")))
REPORT = Path(__file__).with_name("speed.md")
TFJS = ROOT / "node_modules" / "@tensorflow"
SCRIPTS = [
    TFJS / "tfjs-core/dist/tf-core.min.js",
    TFJS / "tfjs-converter/dist/tf-converter.min.js",
    TFJS / "tfjs-backend-cpu/dist/tf-backend-cpu.min.js",
    TFJS / "tfjs-backend-wasm/dist/tf-backend-wasm.min.js",
]
ISOLATION = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}
APPLICATIONS = ("MobileNetV2", "EfficientNetB0")
#: Each example model (its folder under models/) → the demo page that shows it and the
#: stem of its file: the page's first widget on that model is measured.
WIDGETS = {
    "palette": ("demos/palette/", "generator"),
    "digits": ("demos/handwriting/", "digits"),
    "emoji": ("demos/image/", "classifier"),
    "penguins": ("demos/sliders/", "penguins"),
    "penguin-mass": ("demos/sliders/", "body_mass"),
    "digit-segmenter": ("demos/pictures/", "segmenter"),
    "digit-vae": ("demos/pictures/", "decoder"),
    "digit-denoiser": ("demos/pictures/", "denoiser"),
}

# The page's variants (name -> async function, one inference each) run from Python, a block
# at a time, with the main thread's CPU time read around each block.
INTERLEAVE = """
window.variants = {};
window.block = async (name, k) => { for (let i = 0; i < k; i++) await window.variants[name](); };
window.sampleInput = (shape) => {
  const size = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({length: size}, (_, i) => (Math.sin(i * 12.9898) + 1) / 2);
};
window.runOnce = async (model, x, shape, dtype = "float32") => {
  const input = window.tf.tensor(x, shape, dtype);
  const out = model.predict(input);
  const list = Array.isArray(out) ? out : [out];
  await Promise.all(list.map((t) => t.array()));
  input.dispose();
  window.tf.dispose(list);
};
"""

OVERHEAD = """async ([id]) => {
  const api = window.tfjsWidgets;
  await api.ready(id);
  const tf = window.tf;
  const config = JSON.parse(document.getElementById(id).dataset.config);
  const shape = config.inputs[0].map((d) => d ?? 1);
  const dtype = (config.inputDtypes || [])[0] || "float32";
  const x = window.sampleInput(shape);
  const nested = tf.tidy(() => tf.tensor(x, shape).arraySync());
  const url = new URL(config.model, document.baseURI).href;
  const model = await tf.loadGraphModel(url);
  // The control: plain TF.js again, on a second copy of the model, read as the widget is.
  const again = await tf.loadGraphModel(url);
  window.variants = {
    raw: () => window.runOnce(model, x, shape, dtype),
    widget: () => api.predict(id, x),
    nested: () => api.predict(id, nested),
    control: () => window.runOnce(again, x, shape, dtype),
  };
  return {backend: api.backend().name, shape};
}"""

BARE_PAGE = """<!doctype html><meta charset="utf-8"><title>speed</title>
{scripts}
<script>{interleave}</script>
"""

FUSION = """async ([backend, urls]) => {
  const tf = window.tf;
  await tf.setBackend(backend); await tf.ready();
  window.variants = {};
  for (const [name, url] of Object.entries(urls)) {
    const model = await tf.loadGraphModel(url);
    const shape = model.inputs[0].shape.map((d) => (d === -1 || d === null ? 1 : d));
    const x = window.sampleInput(shape);
    window.variants[name] = () => window.runOnce(model, x, shape);
  }
  return tf.getBackend();
}"""

THREADS_SETUP = """async ([threads]) => {
  const tf = window.tf;
  if (threads === 0) tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  else tf.wasm.setThreadsCount(threads);
  tf.wasm.setWasmPaths(new URL("wasm/", location.href).href);
  await tf.setBackend("wasm"); await tf.ready();
  return {isolated: window.crossOriginIsolated, threads: tf.wasm.getThreadsCount(),
          multithread: await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")};
}"""

SPARE_CORES = "Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', {get: () => CORES});"

THREADS_LOAD = """async ([url]) => {
  window.model = await window.tf.loadGraphModel(url);
  window.shape = window.model.inputs[0].shape.map((d) => (d === -1 || d === null ? 1 : d));
  window.x = window.sampleInput(window.shape);
  for (let i = 0; i < 3; i++) await window.runOnce(window.model, window.x, window.shape);
  return true;
}"""

THREADS_BLOCK = """async () => {
  const t = performance.now();
  await window.runOnce(window.model, window.x, window.shape);
  return performance.now() - t;
}"""


class MainThreadClock:
    """CPU time of a page's renderer main thread, in ns, from ``/proc/<pid>/schedstat``.

    The renderer is found as the one whose main thread does the work of a busy loop.
    """

    def __init__(self, chromium, page) -> None:
        cdp = chromium.new_browser_cdp_session()
        pids = [p["id"] for p in cdp.send("SystemInfo.getProcessInfo")["processInfo"] if p["type"] == "renderer"]
        cdp.detach()
        # Another renderer may be busy too (a closed page's, tearing down): the page's own
        # is the one that works during every one of three busy loops.
        busiest = []
        for _ in range(3):
            before = {pid: self.read(pid) for pid in pids}
            page.evaluate("() => { const end = performance.now() + 200; while (performance.now() < end); }")
            busiest.append(max(pids, key=lambda pid: self.read(pid) - before[pid]))
        self.pid = max(set(busiest), key=busiest.count)

    @staticmethod
    def read(pid: int) -> int:
        try:
            return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except (OSError, ValueError):
            return 0

    def now(self) -> int:
        return self.read(self.pid)


def interleaved(page, clock: MainThreadClock, rounds: int, block_ms: float = 20.0) -> dict:
    """Run the page's variants in turns; return {k, times: {name: [CPU ms per inference]}}."""
    names = page.evaluate("() => Object.keys(window.variants)")

    def block(name: str, k: int) -> float:
        started = clock.now()
        page.evaluate("([name, k]) => window.block(name, k)", [name, k])
        return (clock.now() - started) / 1e6

    for name in names:  # warm-up: the first calls compile and allocate
        block(name, 3)
    empty = statistics.median(block(names[0], 0) for _ in range(9))

    def per_inference(name: str) -> float:
        # Blocks of 1, 4, 16... inferences until one takes 5 ms: three inferences of a
        # 30 µs model are lost in the noise of the empty block, and k came out 5 times too small.
        n = 1
        while True:
            spent = block(name, n) - empty
            if spent >= 5 or n >= 1024:
                return spent / n
            n *= 4

    cheapest = min(per_inference(name) for name in names)
    if cheapest < 0.002:
        raise RuntimeError(f"renderer {clock.pid}'s main thread did not run the inferences")
    k = min(2000, max(1, math.ceil(block_ms / cheapest)))
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            times[name].append((block(name, k) - empty) / k)
    return {"k": k, "times": times}


def measured(chromium, page, rounds: int) -> dict:
    """:func:`interleaved` on the page's renderer, found again if the first guess was another."""
    for attempt in range(3):
        try:
            return interleaved(page, MainThreadClock(chromium, page), rounds)
        except RuntimeError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def paired(numerator: list[float], denominator: list[float]) -> dict:
    """The ratio of two variants, round by round (blocks run next to each other), as quartiles.

    Load from other processes moves both blocks of a round alike: the ratios
    scatter far less than the times themselves.
    """
    # A block the clock saw no work in (the renderer replaced under it) is no sample.
    ratios = sorted(a / b for a, b in zip(numerator, denominator, strict=True) if a > 0 and b > 0)
    q1, median, q3 = statistics.quantiles(ratios, n=4)
    return {"median": median, "q1": q1, "q3": q3}


def paired_difference(first: list[float], second: list[float]) -> dict:
    """What the first variant costs over the second, round by round, in microseconds, as quartiles."""
    gaps = sorted(1000 * (a - b) for a, b in zip(first, second, strict=True) if a > 0 and b > 0)
    q1, median, q3 = statistics.quantiles(gaps, n=4)
    return {"median": median, "q1": q1, "q3": q3}


def summary(times: list[float]) -> dict:
    """Median, 95th and 10th percentile. The 10th is the least moved by other processes'
    load: a block is only ever slowed by them, so the fast blocks are the variant's own cost."""
    ordered = sorted(times)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {"median": statistics.median(times), "p95": at(0.95), "p10": at(0.10), "n": len(times)}


@contextlib.contextmanager
def served(work: Path, site: Path, headers: dict[str, str] | None = None):
    """Serve ``site`` and start Chromium; on leaving, stop both and remove ``work``."""
    from playwright.sync_api import sync_playwright

    server = StaticServer(site, headers=headers)
    pw = sync_playwright().start()
    chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield server, chromium
    finally:
        chromium.close()
        pw.stop()
        server.close()
        shutil.rmtree(work, ignore_errors=True)


def bench_overhead(rounds: int) -> dict:
    """Widget API against plain TF.js, per example model, on the demo site as built."""
    work = Path(tempfile.mkdtemp(prefix="speed-site-"))
    copy_demo_project(work)
    # This checkout's package: the build runs in another folder, where a relative
    # PYTHONPATH=plugin finds nothing and the virtual environment's own install (another
    # checkout's runtime.js, say) would build the site instead.
    path = [str(ROOT / "plugin"), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": os.pathsep.join(path)}
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q"], cwd=work, env=env, check=True)
    out = {}
    with served(work, work / "site") as (server, chromium):
        for name, (path, stem) in WIDGETS.items():
            page = chromium.new_page()
            page.goto(server.url + path)
            page.wait_for_function("() => window.tfjsWidgets && window.tfjsWidgets.ids().length > 0")
            widget_id = page.evaluate(
                """(stem) => [...document.querySelectorAll('.tfjs-widget[data-config]')]
                     .find((el) => JSON.parse(el.dataset.config).model.includes('/models/' + stem + '-')).id""",
                stem)
            page.add_script_tag(content=INTERLEAVE)
            setup = page.evaluate(OVERHEAD, [widget_id])
            result = measured(chromium, page, rounds)
            row = {"widget": widget_id, "backend": setup["backend"], "k": result["k"], "shape": setup["shape"],
                   **{v: summary(t) for v, t in result["times"].items()}}
            times = result["times"]
            row["overhead"] = paired(times["widget"], times["raw"])
            row["overhead_us"] = paired_difference(times["widget"], times["raw"])
            row["overhead_nested"] = paired(times["nested"], times["raw"])
            row["control"] = paired(times["control"], times["raw"])
            print(name, json.dumps(row), flush=True)
            out[name] = row
            page.close()
    return out


def bare_site(root: Path) -> Path:
    """A page that loads the full TF.js pieces (core, converter, cpu, wasm) and the timing helpers."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "wasm").mkdir(exist_ok=True)
    tags = []
    for script in SCRIPTS:
        shutil.copy(script, root / script.name)
        tags.append(f'<script src="{script.name}"></script>')
    for binary in (TFJS / "tfjs-backend-wasm/dist").glob("*.wasm"):
        shutil.copy(binary, root / "wasm" / binary.name)
    (root / "index.html").write_text(BARE_PAGE.format(scripts="\n".join(tags), interleave=INTERLEAVE))
    return root


def convert_both(source: Path, out: Path, name: str) -> None:
    """Convert ``source`` into ``out/fused`` and ``out/unfused`` (Graph.fuse_activations off)."""
    from mkdocs_tfjs.convert import Choice, convert_model
    from mkdocs_tfjs.convert.graph import Graph

    convert_model(source, out / "fused", "none", name, Choice("native"))
    fuse = Graph.fuse_activations
    Graph.fuse_activations = lambda self: None
    try:
        convert_model(source, out / "unfused", "none", name, Choice("native"))
    finally:
        Graph.fuse_activations = fuse


def application_sources(work: Path) -> dict[str, Path]:
    """Save MobileNetV2 and EfficientNetB0 at 224 px as .keras files in ``work``."""
    import keras

    from tests.applications import build

    found = {}
    for name in APPLICATIONS:
        path = work / f"{name}.keras"
        build(name, 224).save(path)
        keras.backend.clear_session()
        found[name] = path
    return found


def bench_fusion(rounds: int, big_rounds: int, previous: dict) -> dict:
    work = Path(tempfile.mkdtemp(prefix="speed-fusion-"))
    site = bare_site(work / "site")
    sources = {p.parent.name: p for p in sorted((ROOT / "models").glob("*/*.keras"))}
    sources.update(application_sources(work))
    # SPEED_MODELS=MobileNetV2,EfficientNetB0 measures those only (the rest of speed.json stays).
    only = [n for n in os.environ.get("SPEED_MODELS", "").split(",") if n]
    sources = {n: p for n, p in sources.items() if not only or n in only}
    for name, source in sources.items():
        convert_both(source, site / name, name)
    out: dict = {}
    with served(work, site) as (server, chromium):
        for name in sources:
            for backend in os.environ.get("SPEED_BACKENDS", "cpu,wasm").split(","):
                page = chromium.new_page()
                page.goto(server.url + "index.html")
                page.evaluate("p => window.tf.wasm.setWasmPaths(p)", server.url + "wasm/")
                urls = {v: f"{server.url}{name}/{v}/model.json" for v in ("unfused", "fused")}
                n = big_rounds if name in APPLICATIONS else rounds
                assert page.evaluate(FUSION, [backend, urls]) == backend
                result = measured(chromium, page, n)
                row = {"k": result["k"], **{v: summary(t) for v, t in result["times"].items()}}
                row["speedup"] = paired(result["times"]["unfused"], result["times"]["fused"])
                print(name, backend, json.dumps(row), flush=True)
                out.setdefault(name, dict(previous.get(name, {})))[backend] = row
                page.close()
    return out


def bench_threads(rounds: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="speed-threads-"))
    site = bare_site(work / "site")
    for name, source in application_sources(work).items():
        from mkdocs_tfjs.convert import Choice, convert_model

        convert_model(source, site / name, "none", name, Choice("native"))
    out: dict = {"cores": os.cpu_count()}
    with served(work, site, ISOLATION) as (server, chromium):
        for name in APPLICATIONS:
            pages, setups = {}, {}
            for label, threads in (("single-threaded SIMD", 0), ("1 thread", 1), ("2 threads", 2)):
                page = chromium.new_page()
                # TF.js's threaded binary gives XNNPack at most half the logical cores the
                # page reports (1 on this 2-core box, whatever was asked): report twice the
                # cores so that the threads asked for are the threads that run.
                page.add_init_script(SPARE_CORES.replace("CORES", str(2 * os.cpu_count())))
                page.goto(server.url + "index.html")
                setups[label] = page.evaluate(THREADS_SETUP, [threads])
                page.evaluate(THREADS_LOAD, [f"{server.url}{name}/model.json"])
                pages[label] = page
            times: dict[str, list[float]] = {label: [] for label in pages}
            labels = list(pages)
            for r in range(rounds):
                for label in labels if r % 2 == 0 else labels[::-1]:
                    times[label].append(pages[label].evaluate(THREADS_BLOCK))
            out[name] = {label: {**summary(t), **setups[label],
                                 "speedup": paired(times["single-threaded SIMD"], t)}
                         for label, t in times.items()}
            print(name, json.dumps(out[name]), flush=True)
            for page in pages.values():
                page.close()
    return out


def as_overhead(ratio: dict) -> str:
    """A paired ratio as an overhead: median, and the middle half of the rounds."""
    return (f"{100 * (ratio['median'] - 1):+.1f} % ({100 * (ratio['q1'] - 1):+.0f} to "
            f"{100 * (ratio['q3'] - 1):+.0f})")


def as_microseconds(gap: dict | None) -> str:
    """A paired difference per call: median, and the middle half of the rounds."""
    if not gap:
        return "-"
    return f"{gap['median']:+.1f} µs ({gap['q1']:+.0f} to {gap['q3']:+.0f})"


def run_conditions(run: dict | None) -> str:
    """How a run of the overhead part went: rounds, date and the machine's load."""
    if not run:
        return "40 rounds"
    return (f"{run['rounds']} rounds, {run['date']}, load average {run['load'][0]:.1f} at the start "
            f"and {run['load'][1]:.1f} at the end on {os.cpu_count()} cores")


def as_speedup(ratio: dict) -> str:
    """A paired ratio as a speed-up: median, and the middle half of the rounds."""
    return f"{ratio['median']:.2f}× ({ratio['q1']:.2f}-{ratio['q3']:.2f})"


def write_report(data: dict) -> None:
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    lines = [f"Measured by `benchmarks/speed.py` on {os.cpu_count()} cores ({platform.machine()}), "
             f"shared with other jobs, {chromium}, {data.get('date', '')}. Milliseconds per inference of "
             "batch 1; median / 95th percentile over interleaved blocks of k inferences. Ratios "
             "(overhead, speed-up) are taken round by round between blocks that ran next to each other: "
             "their median, and in brackets the middle half of the rounds.", ""]
    if "overhead" in data:
        lines += ["**The widget API against plain TF.js** (same page, TF.js, backend and model; "
                  "*raw*: `tf.tensor` from a Float32Array, `model.predict`, `await y.array()`; "
                  + run_conditions(data.get("overhead_run")) + ")", "",
                  "| model | backend | k | raw | `predict(Float32Array)` | overhead | per call "
                  "| `predict(nested arrays)` | overhead | control: raw again |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, r in data["overhead"].items():
            lines.append(
                f"| {name} | {r['backend']} | {r['k']} | {r['raw']['median']:.3f} / {r['raw']['p95']:.3f} "
                f"| {r['widget']['median']:.3f} / {r['widget']['p95']:.3f} | {as_overhead(r['overhead'])} "
                f"| {as_microseconds(r.get('overhead_us'))} "
                f"| {r['nested']['median']:.3f} / {r['nested']['p95']:.3f} | {as_overhead(r['overhead_nested'])} "
                f"| {as_overhead(r['control']) if 'control' in r else '-'} |")
        previous = data.get("overhead_previous_run")
        if previous:
            models = previous["models"]
            lines += ["", "The run before (" + run_conditions(previous.get("run")) + "): `predict(Float32Array)` "
                      + ", ".join(f"{n} {100 * (r['overhead']['median'] - 1):+.1f} %"
                                  + (f" ({as_microseconds(r['overhead_us']).split(' (')[0]})" if r.get("overhead_us") else "")
                                  for n, r in sorted(models.items()))
                      + "; nested arrays " + ", ".join(
                          f"{n} {100 * (r['overhead_nested']['median'] - 1):+.1f} %" for n, r in sorted(models.items()))
                      + ("; the control " + ", ".join(
                          f"{n} {100 * (r['control']['median'] - 1):+.1f} %" for n, r in sorted(models.items()))
                         if all("control" in r for r in models.values()) else "")
                      + "."]
        lines.append("")
    if "fusion" in data:
        lines += ["**Activations fused into the convolution or matmul before them** (the same model "
                  "converted with and without `Graph.fuse_activations`)", "",
                  "| model | backend | k | not fused | fused | speed-up |", "| --- | --- | ---: | ---: | ---: | ---: |"]
        # The example models, then the two keras.applications models.
        order = sorted(data["fusion"], key=lambda n: (n in APPLICATIONS, n))
        for name, backends in ((n, data["fusion"][n]) for n in order):
            for backend, r in backends.items():
                lines.append(f"| {name} | {backend} | {r['k']} | {r['unfused']['median']:.3f} / {r['unfused']['p95']:.3f} "
                             f"| {r['fused']['median']:.3f} / {r['fused']['p95']:.3f} | {as_speedup(r['speedup'])} |")
        lines.append("")
    if "threads" in data:
        cores = data["threads"].get("cores")
        lines += [f"**WebAssembly threads** (wall-clock time on a cross-origin-isolated page; this machine "
                  f"has {cores} cores, shared with other jobs)", "",
                  "| model | binary | threads asked | `getThreadsCount()` | median / p95 | against single-threaded |",
                  "| --- | --- | --- | ---: | ---: | ---: |"]
        for name in APPLICATIONS:
            rows = data["threads"].get(name)
            if not rows:
                continue
            for label, r in rows.items():
                binary = "threaded SIMD" if r["multithread"] else "SIMD"
                asked = "-" if not r["multithread"] else label.split()[0]
                lines.append(f"| {name} | {binary} | {asked} | {r['threads']} | {r['median']:.1f} / {r['p95']:.1f} "
                             f"| {as_speedup(r['speedup'])} |")
        lines.append("")
    REPORT.write_text("\n".join(lines))


def main() -> None:
    parts = sys.argv[1:] or ["overhead", "fusion", "threads"]
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    rounds = int(os.environ.get("SPEED_ROUNDS", "40"))
    for part in parts:
        if part == "overhead":
            overhead_rounds = int(os.environ.get("SPEED_OVERHEAD_ROUNDS", "120"))
            if "overhead" in data:
                data["overhead_previous_run"] = {"run": data.get("overhead_run"), "models": {
                    name: {key: r[key] for key in ("overhead", "overhead_us", "overhead_nested", "control") if key in r}
                    for name, r in data["overhead"].items()}}
            started = os.getloadavg()[0]
            data["overhead"] = bench_overhead(overhead_rounds)
            data["overhead_run"] = {"rounds": overhead_rounds, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                    "load": [started, os.getloadavg()[0]]}
        elif part == "fusion":
            data["fusion"] = {**data.get("fusion", {}),
                              **bench_fusion(rounds, int(os.environ.get("SPEED_BIG_ROUNDS", "8")), data.get("fusion", {}))}
        elif part == "threads":
            data["threads"] = bench_threads(int(os.environ.get("SPEED_BIG_ROUNDS", "8")))
        elif part != "table":
            raise SystemExit(f"unknown part {part!r}: overhead, fusion, threads or table")
        if part != "table":
            data["date"] = time.strftime("%Y-%m-%d")
            RESULTS.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    write_report(data)
    print(REPORT.read_text())


if __name__ == "__main__":
    main()
