"""The widget against the other browser runtimes, side by side in one Chromium.

Not a test: nothing here passes or fails on time. For each model (the demo
models, and MobileNetV2 and EfficientNetB0 at 224 px from
``keras.applications``, ``weights=None``, 10 classes, realistic
BatchNormalization statistics as ``tests/applications.py`` builds them) it:

1. converts the model with each runtime's own tools: the plugin (a real
   ``mkdocs build``, ``quantize: none``, ``backend: wasm``) for TF.js;
   TensorFlow's ``tf.lite.TFLiteConverter`` for LiteRT.js; tf2onnx for
   ONNX Runtime Web (in ``benchmarks/.venv-peers``, made here from
   ``peers-requirements.txt``: tf2onnx and onnx pin other protobuf and numpy
   versions than the project's environment);
2. checks each conversion against Keras on a seeded input: in Python
   (TensorFlow Lite's interpreter, ONNX Runtime) and again in the browser,
   where every runtime's output is compared with Keras's; a runtime that
   disagrees by more than ``TOLERANCE`` is reported as wrong, without timings;
3. opens the built page in Debian's headless Chromium (single-threaded
   WebAssembly everywhere: the page is not cross-origin isolated), where the
   widget runs on the plugin's lean TF.js, and loads plain TF.js (the same
   lean file, a Float32Array in), ONNX Runtime Web (wasm execution provider)
   and LiteRT.js (XNNPack on wasm) beside it from their npm packages
   (``benchmarks/peers.mjs``);
4. times ``ROUNDS`` rounds, each running every runtime ``n`` times in a
   rotated order, so that the load of the machine falls on all of them; the
   median and p95 are over all inferences, the spread is the range of the
   rounds' medians;
5. records the bytes Chromium received per runtime (raw and gzipped) and the
   model files' sizes;
6. on MobileNetV2, profiles plain TF.js per kernel (``tf.profile``) and
   times LiteRT.js and TF.js on single-layer models of MobileNetV2's layer
   kinds, to say where the gap is.

Writes ``benchmarks/peers.json`` and ``benchmarks/peers.md`` (included by
the docs' Performance page). Run from the repository root::

    .venv/bin/python benchmarks/peers.py [--rounds 8] [MODEL ...]
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "plugin"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, Project, StaticServer, tfjs_block  # noqa: E402

PEER_VENV = HERE / ".venv-peers"
REQUIREMENTS = HERE / "peers-requirements.txt"
NODE = ROOT / "node_modules"
RESULTS = HERE / "peers.json"
REPORT = HERE / "peers.md"

#: name → (Keras file or keras.applications name, the block's widget keys).
DEMOS = {
    "palette": ("models/palette/generator.keras", {"widget": "palette"}),
    "digits": ("models/digits/digits.keras", {"widget": "handwriting", "labels": "digits"}),
    "emoji": ("models/emoji/classifier.keras",
              {"widget": "image", "labels": "models/emoji/classes.json", "preprocess": "mobilenet"}),
    "digit-segmenter": ("models/digit-segmenter/segmenter.keras",
                        {"widget": "image", "show": "mask", "labels": ["background", "digit", "blot"],
                         "preprocess": "scale"}),
}
APPLICATIONS = {
    "MobileNetV2 224": ("MobileNetV2", {"widget": "image", "preprocess": "mobilenet"}),
    "EfficientNetB0 224": ("EfficientNetB0", {"widget": "image", "preprocess": "none"}),
}
RUNTIMES = ("widget", "tfjs", "onnx", "litert")
TITLES = {"widget": "the widget's API", "tfjs": "plain TF.js (same lean file)",
          "onnx": "ONNX Runtime Web", "litert": "LiteRT.js"}
#: A runtime whose output differs from Keras's by more than this (absolute, and relative
#: to the largest output) is wrong, and its timings are not reported. float32 kernels
#: that sum in another order (XNNPack, ONNX Runtime's MLAS) differ by 1e-6 to 1e-5 here.
TOLERANCE = 1e-3
#: Samples per runtime and round, and inferences per sample (their mean is the sample:
#: Chromium rounds performance.now() to 0.1 ms), so that every round lasts a few
#: seconds per runtime. Anything else (a single layer): 10 samples of 2.
PER_ROUND = {"palette": (20, 20), "digits": (20, 5), "emoji": (10, 2), "digit-segmenter": (20, 2),
             "MobileNetV2 224": (5, 1), "EfficientNetB0 224": (4, 1)}


# --- the separate environment for tf2onnx ------------------------------------------------

def peer_python() -> Path:
    """Return the Python of ``.venv-peers``, creating or updating it from the requirements."""
    python = PEER_VENV / "bin" / "python"
    marker = PEER_VENV / "requirements.sha256"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and marker.exists() and marker.read_text() == digest:
        return python
    print(f"setting up {PEER_VENV.relative_to(ROOT)} (tf2onnx, onnx, onnxruntime) ...", flush=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
    marker.write_text(digest)
    return python


# --- models, conversions, checks ---------------------------------------------------------

def slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def load_model(name: str, work: Path):
    """Return (Keras model, path of its .keras file, block keys)."""
    import keras

    if name in DEMOS:
        rel, keys = DEMOS[name]
        return keras.models.load_model(ROOT / rel, compile=False), ROOT / rel, dict(keys)
    from tests.applications import build

    arch, keys = APPLICATIONS[name]
    model = build(arch, 224)
    path = work / f"{slug(name)}.keras"
    model.save(path)
    return model, path, {**keys, "labels": [f"class {i}" for i in range(10)]}


def reference_input(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A seeded batch of one, in the range the model is fed."""
    if name in APPLICATIONS:
        from tests.applications import image

        return image(APPLICATIONS[name][0], shape[1], batch=1).astype("float32")
    rng = np.random.default_rng(7)
    if name == "palette":
        return rng.normal(size=(1, *shape[1:])).astype("float32")
    return rng.uniform(0, 1, (1, *shape[1:])).astype("float32")


def export_saved_model(model, shape: tuple[int, ...], folder: Path) -> None:
    """Export the model's inference function at batch 1, the input both peers' converters take."""
    import keras
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", lambda x: model(x, training=False),
                         input_signature=[tf.TensorSpec((1, *shape[1:]), tf.float32)])
    archive.write_out(str(folder), verbose=False)


def convert_tflite(saved_model: Path, out: Path, x: np.ndarray, expected: np.ndarray) -> dict:
    """TensorFlow's TFLite converter (float32), checked with TensorFlow Lite's interpreter."""
    import tensorflow as tf

    started = time.perf_counter()
    out.write_bytes(tf.lite.TFLiteConverter.from_saved_model(str(saved_model)).convert())
    seconds = time.perf_counter() - started
    interpreter = tf.lite.Interpreter(model_path=str(out), num_threads=1)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    # Native TFLite (XNNPack, one thread) for scale: what the same kernels do outside WebAssembly.
    times = []
    for _ in range(20):
        t = time.perf_counter()
        interpreter.invoke()
        times.append((time.perf_counter() - t) * 1000)
    return {"max_error": float(np.abs(got.reshape(expected.shape) - expected).max()),
            "seconds": round(seconds, 2), "tensorflow": tf.__version__,
            "native_median_ms": statistics.median(times)}


def convert_onnx(python: Path, saved_model: Path, out: Path, x: np.ndarray, expected: np.ndarray) -> dict:
    """tf2onnx in the peers' environment, checked there with ONNX Runtime."""
    np.save(out.with_suffix(".x.npy"), x)
    np.save(out.with_suffix(".y.npy"), expected)
    done = subprocess.run([str(python), str(HERE / "peers_onnx.py"), str(saved_model), str(out),
                           str(out.with_suffix(".x.npy")), str(out.with_suffix(".y.npy"))],
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"tf2onnx failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the site -----------------------------------------------------------------------------

def build_site(work: Path, models: dict[str, dict]) -> Path:
    """Build one page per model with the plugin (the widget, and the TF.js model plain TF.js loads)."""
    project = Project(work / "project")
    project.config({"quantize": "none", "backend": "wasm", "size_budget": "64 MB",
                    "cache_dir": str(work / "cache")})
    (project.root / "models/emoji").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "models/emoji/classes.json", project.root / "models/emoji/classes.json")
    for name, info in models.items():
        target = project.root / "models" / f"{slug(name)}.keras"
        shutil.copy(info["keras"], target)
        project.page(f"{slug(name)}.md", f"# {name}\n\n" + tfjs_block(
            model=f"models/{slug(name)}.keras", title=name, **info["keys"]))
    result = project.build("--strict")
    if result.returncode:
        raise RuntimeError(result.output)
    return project.site


def stage_peers(site: Path, models: dict[str, dict]) -> None:
    """Copy the peers' npm files and models into the site; point the pages' import map at them."""
    peers = site / "peers"
    for rel, dest in (("onnxruntime-web/dist/ort.wasm.min.mjs", "ort/"),
                      ("onnxruntime-web/dist/ort-wasm-simd-threaded.mjs", "ort/"),
                      ("onnxruntime-web/dist/ort-wasm-simd-threaded.wasm", "ort/"),
                      ("@litertjs/core/dist/index.js", "litert/core/"),
                      ("@litertjs/wasm-utils/dist/index.js", "litert/wasm-utils/")):
        (peers / dest).mkdir(parents=True, exist_ok=True)
        shutil.copy(NODE / rel, peers / dest)
    shutil.copytree(NODE / "@litertjs/core/wasm", peers / "litert/wasm", dirs_exist_ok=True)
    shutil.copy(HERE / "peers.mjs", peers / "peers.mjs")
    # @litertjs/core imports "@litertjs/wasm-utils" by its bare name: an import map resolves it.
    importmap = ('<script type="importmap">{"imports":{"@litertjs/wasm-utils":'
                 '"/peers/litert/wasm-utils/index.js"}}</script>')
    for name, info in models.items():
        (peers / "models").mkdir(exist_ok=True)
        for kind in ("onnx", "tflite"):
            if info.get(kind):
                shutil.copy(info[kind]["path"], peers / "models" / f"{slug(name)}.{kind}")
        page = site / slug(name) / "index.html"
        html = page.read_text().replace("<head>", "<head>" + importmap, 1)
        page.write_text(html)
        # The same page on the full TF.js pieces, for tf.profile (see peers.mjs).
        (site / f"{slug(name)}-full").mkdir(exist_ok=True)
        (site / f"{slug(name)}-full" / "index.html").write_text(html.replace('"lean":true', '"lean":false'))


# --- the browser --------------------------------------------------------------------------

def gz(data: bytes) -> int:
    return len(gzip.compress(data, 9))


def classify(url: str) -> str | None:
    """Which runtime's code a response is (models are counted from their files)."""
    if "/peers/ort/" in url:
        return "onnx"
    if "/peers/litert/" in url:
        return "litert"
    if "/assets/tfjs/vendor/" in url:
        return "tfjs"
    if "/assets/tfjs/" in url and "/assets/tfjs/models/" not in url:
        return "widget code"
    return None


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def error_of(got: list[float], expected: np.ndarray) -> float:
    got = np.asarray(got, dtype="float64")
    if got.size != expected.size:
        return float("inf")
    return float(np.abs(got - expected.reshape(-1)).max())


def measure_model(browser, base: str, name: str, info: dict, rounds: int, profile: bool,
                  page_of: str | None = None, tfjs_url: str | None = None, tflite_url: str | None = None) -> dict:
    """Open the model's page, set every runtime up, check it, and time interleaved rounds.

    ``page_of``, ``tfjs_url`` and ``tflite_url``: run a model that has no page of its own (a
    single layer) on another model's page, on plain TF.js and LiteRT.js only.
    """
    page = browser.new_page()
    bodies: dict[str, int] = {}
    gzipped: dict[str, int] = {}

    def record(response):
        if response.ok and classify(response.url):
            body = response.body()
            bodies[response.url], gzipped[response.url] = len(body), gz(body)

    page.on("response", record)
    started = time.perf_counter()
    page.goto(f"{base}/{slug(page_of or name)}/")
    widget_id = page.evaluate("document.querySelector('[data-config]').id")
    page.evaluate("id => window.tfjsWidgets.ready(id)", widget_id)
    ready_ms = (time.perf_counter() - started) * 1000
    config = json.loads(page.evaluate(f"document.getElementById('{widget_id}').dataset.config"))
    x, expected, shape = info["input"], info["expected"], list(info["input"].shape)
    flat = x.reshape(-1).tolist()
    runtimes = ["tfjs", "litert"] if page_of else [r for r in RUNTIMES if r in ("widget", "tfjs") or info.get(
        {"onnx": "onnx", "litert": "tflite"}.get(r, r))]
    spec = {"widgetId": widget_id, "shape": shape, "input": flat, "base": "/peers/",
            "tfjsModel": tfjs_url or page.evaluate(f"new URL({json.dumps(config['model'])}, document.baseURI).href"),
            "onnxModel": f"/peers/models/{slug(name)}.onnx",
            "tfliteModel": tflite_url or f"/peers/models/{slug(name)}.tflite",
            "runtimes": runtimes}
    page.evaluate("async () => { window.peers = await import('/peers/peers.mjs'); }")
    backend = page.evaluate("window.tfjsWidgets.backend()")
    setup = page.evaluate("spec => window.peers.setup(spec)", spec)
    outputs = page.evaluate("x => window.peers.outputs(x)", flat)
    scale = max(1.0, float(np.abs(expected).max()))
    row: dict = {"model": name, "ready_ms": ready_ms, "tfjs_model_url": spec["tfjsModel"], "backend": backend,
                 "crossOriginIsolated": setup.pop("crossOriginIsolated"), "runtimes": {}}
    live = []
    for runtime in runtimes:
        entry = dict(setup.get(runtime, {}))
        if "error" not in entry:
            entry["max_error"] = error_of(outputs[runtime], expected)
            if not entry["max_error"] <= TOLERANCE * scale:
                entry["error"] = f"output differs from Keras's by {entry['max_error']:.3g}"
            else:
                live.append(runtime)
        row["runtimes"][runtime] = entry
    times: dict[str, list[float]] = {r: [] for r in live}
    medians: dict[str, list[float]] = {r: [] for r in live}
    n, group = PER_ROUND.get(name, (10, 2))
    row["group"] = group
    for index in range(rounds if live else 0):
        order = live[index % len(live):] + live[:index % len(live)]
        got = page.evaluate("([order, n, g, x]) => window.peers.round(order, n, g, x)", [order, n, group, flat])
        for runtime, values in got.items():
            times[runtime].extend(values)
            medians[runtime].append(statistics.median(values))
    for runtime in live:
        entry = row["runtimes"][runtime]
        entry.update(median=statistics.median(times[runtime]), p95=pct(times[runtime], 0.95),
                     mean=statistics.fmean(times[runtime]), runs=len(times[runtime]),
                     round_medians=[min(medians[runtime]), max(medians[runtime])])
    kinds: dict[str, list[int]] = {}
    for url, size in bodies.items():
        kind = classify(url)
        kinds.setdefault(kind, [0, 0])
        kinds[kind][0] += size
        kinds[kind][1] += gzipped[url]
    row["bytes"] = {kind: {"raw": raw, "gzip": gzb, "files": sorted(u.rsplit("/", 1)[1] for u in bodies
                                                                     if classify(u) == kind)}
                    for kind, (raw, gzb) in kinds.items()}
    page.close()
    if profile:
        row["profile"] = profile_kernels(browser, base, name, spec)
    return row


def profile_kernels(browser, base: str, name: str, spec: dict) -> list:
    """``tf.profile`` the model on plain TF.js, on a copy of its page that loads the full pieces."""
    page = browser.new_page()
    page.goto(f"{base}/{slug(name)}-full/")
    widget_id = page.evaluate("document.querySelector('[data-config]').id")
    page.evaluate("id => window.tfjsWidgets.ready(id)", widget_id)
    assert page.evaluate("window.tfjsWidgets.backend()")["runtime"] == "full"
    page.evaluate("async () => { window.peers = await import('/peers/peers.mjs'); }")
    page.evaluate("spec => window.peers.setup(spec)", {**spec, "runtimes": ["tfjs"]})
    runs = page.evaluate("([x, shape]) => window.peers.profile(x, shape, 5)", [spec["input"], spec["shape"]])
    page.close()
    return runs


def model_bytes(site: Path, info: dict, tfjs_dir: Path) -> dict:
    files = {"tfjs": [p for p in tfjs_dir.iterdir() if p.is_file()],
             "onnx": [Path(info["onnx"]["path"])] if info.get("onnx") else [],
             "litert": [Path(info["tflite"]["path"])] if info.get("tflite") else []}
    return {kind: {"raw": sum(p.stat().st_size for p in paths), "gzip": sum(gz(p.read_bytes()) for p in paths)}
            for kind, paths in files.items() if paths}


# --- the per-op analysis on MobileNetV2 ----------------------------------------------------

def layer_kind(kernel: dict) -> str:
    """Name a TF.js kernel by what MobileNetV2 uses it for (1×1 or 3×3 convolution, depthwise)."""
    name = kernel["name"]
    if name in ("FusedConv2D", "Conv2D"):
        filt = kernel["inputs"][1] if len(kernel["inputs"]) > 1 else None
        if filt and filt[0] == 1 and filt[1] == 1:
            return f"{name} 1×1 (pointwise)"
        return f"{name} {filt[0]}×{filt[1]}" if filt else name
    return name


def op_table(profile_runs: list[list[dict]]) -> list[dict]:
    """Per kernel kind: calls, median total ms over the repeats, share of the inference."""
    totals: dict[str, list[float]] = {}
    calls: dict[str, int] = {}
    # An op with a custom gradient (fusedConv2d, fusedDepthwiseConv2d, fusedMatMul) is
    # recorded once more around its kernel, as "<op>__op": count the kernel only.
    profile_runs = [[k for k in run if not k["name"].endswith("__op")] for run in profile_runs]
    for run in profile_runs:
        per: dict[str, float] = {}
        for kernel in run:
            kind = layer_kind(kernel)
            per[kind] = per.get(kind, 0.0) + float(kernel["ms"])
        for kind, ms in per.items():
            totals.setdefault(kind, []).append(ms)
    for kernel in profile_runs[0]:
        calls[layer_kind(kernel)] = calls.get(layer_kind(kernel), 0) + 1
    # The total is the sum of the kinds' medians, so that the shares add up to 1.
    whole = sum(statistics.median(v) for v in totals.values())
    rows = [{"kind": kind, "calls": calls.get(kind, 0), "ms": statistics.median(v),
             "share": statistics.median(v) / whole} for kind, v in totals.items()]
    return sorted(rows, key=lambda r: -r["ms"]) + [{"kind": "total", "calls": sum(calls.values()),
                                                    "ms": whole, "share": 1.0}]


# --- the report -----------------------------------------------------------------------------

def ms(entry: dict, key: str) -> str:
    return f"{entry[key]:.2f}" if key in entry else ""


def kb(n: int) -> str:
    return f"{n / 1024:,.0f} KB" if n < 1024 * 1024 * 10 else f"{n / 1024 / 1024:,.1f} MB"


def write_report(data: dict) -> str:
    meta, rows = data["meta"], data["models"]
    lines = [
        f"Measured on {meta['machine']}, Chromium {meta['chromium']} (headless, Debian), "
        f"{meta['date']}, load average {meta['load'][0]:.0f}-{meta['load'][1]:.0f} during the run; "
        f"{meta['rounds']} interleaved rounds per model, single-threaded WebAssembly "
        f"everywhere (the page is not cross-origin isolated: `crossOriginIsolated` is "
        f"{str(meta['isolated']).lower()}); TF.js {meta['tfjs']} (the plugin's lean wasm file, SIMD), "
        f"ONNX Runtime Web {meta['onnxruntime-web']} (wasm execution provider), LiteRT.js "
        f"{meta['litert']} (XNNPack, wasm). Models: float32 everywhere (`quantize: none`); ONNX by "
        f"tf2onnx {meta['tf2onnx']} (opset {meta['opset']}), TFLite by TensorFlow {meta['tensorflow']}'s "
        "`TFLiteConverter`. The machine is shared with other work: read the spread (the range of "
        "the rounds' medians) before any difference under it.",
        "",
        "**Median ms per inference, batch 1** (p95; spread of the rounds' medians). A sample is the mean "
        "of *g* back-to-back inferences (*g* in the first column: Chromium rounds `performance.now()` "
        "to 0.1 ms here); median and p95 are over the samples of all rounds. "
        "*widget*: `tfjsWidgets.predict(id, nestedArray)`; *TF.js*: `model.predict(tf.tensor(Float32Array))` "
        "and `await data()` on the same page; every column's output checked against Keras's "
        f"(≤ {TOLERANCE:g} × max(1, largest output)).",
        "",
        "| model | " + " | ".join(TITLES[r] for r in RUNTIMES) + " | native TFLite, 1 thread (Python, XNNPack) |",
        "| --- |" + " ---: |" * (len(RUNTIMES) + 1),
    ]
    for row in rows:
        cells = []
        for runtime in RUNTIMES:
            entry = row["runtimes"].get(runtime, {})
            if "error" in entry:
                cells.append("fails: " + entry["error"].splitlines()[0][:80])
            elif "median" in entry:
                lo, hi = entry["round_medians"]
                cells.append(f"**{entry['median']:.2f}** ({entry['p95']:.2f}; {lo:.2f}-{hi:.2f})")
            else:
                conversion = row.get({"onnx": "onnx_conversion", "litert": "tflite_conversion"}.get(runtime)) or {}
                cells.append(f"fails: the converted model differs from Keras's by {conversion['max_error']:.3g}"
                             if "max_error" in conversion else
                             "fails: " + conversion.get("error", "not converted")[:80])
        native = row.get("native_tflite_ms")
        native_cell = f"{native:.3g}" if native else ""
        lines.append(f"| {row['model']} (g = {row['group']}) | " + " | ".join(cells) + f" | {native_cell} |")
    lines += [
        "",
        "**First inference and start** (ms): *runtime start* loads the runtime's script and WebAssembly "
        "(the widget's and plain TF.js's already ran with the page: *ready* is navigation to the widget "
        "ready, model included), *model load* fetches and prepares the model, *first* is the first "
        "inference after it.",
        "",
        "| model | widget: ready / first | TF.js: load / first | ONNX Runtime Web: start / load / first "
        "| LiteRT.js: start / load / first |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        r = row["runtimes"]

        def three(e):
            return "" if "first" not in e else f"{e['init']:.0f} / {e['load']:.0f} / {e['first']:.1f}"
        lines.append(f"| {row['model']} | {row['ready_ms']:.0f} / {r['widget'].get('first', 0):.1f} | "
                     f"{r['tfjs'].get('load', 0):.0f} / {r['tfjs'].get('first', 0):.1f} | "
                     f"{three(r.get('onnx', {}))} | {three(r.get('litert', {}))} |")
    lines += [
        "",
        "**Max abs error against Keras** (the same seeded input; in the browser, and at conversion "
        "in Python: TensorFlow Lite's interpreter, ONNX Runtime's CPU provider)",
        "",
        "| model | largest output | widget | TF.js | ONNX Runtime Web (Python) | LiteRT.js (Python) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        r = row["runtimes"]

        def err(key, conv=None, r=r):
            e = r.get(key, {})
            text = f"{e['max_error']:.2g}" if "max_error" in e else "n/a"
            if conv:
                text += f" ({conv['max_error']:.2g})" if "max_error" in conv else f" ({conv.get('error', 'n/a')})"
            return text
        lines.append(f"| {row['model']} | {row['max_output']:.3g} | {err('widget')} | {err('tfjs')} | "
                     f"{err('onnx', row.get('onnx_conversion'))} | {err('litert', row.get('tflite_conversion'))} |")
    runtime_bytes = data["runtime_bytes"]
    lines += [
        "",
        "**Bytes shipped** (as Chromium received them; gzipped with `gzip -9`). Runtime: the code "
        "and WebAssembly each runtime fetched; the widget adds the plugin's own modules (*widget code*). "
        "Models: float32, all files.",
        "",
        "| runtime | files | raw | gzipped |",
        "| --- | --- | ---: | ---: |",
    ]
    names = {"widget code": "the widget's own code (the plugin's modules and styles)",
             "tfjs": "TF.js (the lean wasm file and its binary)", "onnx": "ONNX Runtime Web",
             "litert": "LiteRT.js"}
    for kind, b in runtime_bytes.items():
        lines.append(f"| {names.get(kind, kind)} | {', '.join(b['files'])} | {kb(b['raw'])} | {kb(b['gzip'])} |")
    lines += ["", "| model | TF.js graph model raw / gz | ONNX raw / gz | TFLite raw / gz |",
              "| --- | ---: | ---: | ---: |"]
    for row in rows:
        mb = row["model_bytes"]

        def pair(kind, mb=mb):
            return f"{kb(mb[kind]['raw'])} / {kb(mb[kind]['gzip'])}" if kind in mb else ""
        lines.append(f"| {row['model']} | {pair('tfjs')} | {pair('onnx')} | {pair('litert')} |")
    if data.get("ops"):
        lines += ["", OPS_HEADER, "", "| TF.js kernel (MobileNetV2 224) | calls | ms | share |",
                  "| --- | ---: | ---: | ---: |"]
        for op in data["ops"]:
            lines.append(f"| {op['kind']} | {op['calls']} | {op['ms']:.2f} | {op['share']:.0%} |")
    if data.get("layers"):
        lines += ["", LAYERS_HEADER, "",
                  "| layer of MobileNetV2 224 | multiply-adds (+ the widening) | TF.js ms | LiteRT.js ms "
                  "| TF.js ÷ LiteRT.js |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for layer in data["layers"]:
            t, lt, spread = layer.get("tfjs"), layer.get("litert"), layer.get("spread", {})

            def cell(value, key, spread=spread):
                if value is None:
                    return "fails"
                lo, hi = spread.get(key) or (value, value)
                return f"{value:.2f} ({lo:.2f}-{hi:.2f})"
            ratio = f"{t / lt:.1f}" if t and lt else ""
            lines.append(f"| {layer['name']} | {layer['macs']:,} (+ {layer.get('prelude_macs', 0):,}) | "
                         f"{cell(t, 'tfjs')} | {cell(lt, 'litert')} | {ratio} |")
    text = "\n".join(lines) + "\n"
    REPORT.write_text(text)
    return text


OPS_HEADER = ("**Where plain TF.js's time goes on MobileNetV2** (`tf.profile` on the wasm backend, on "
              "the full TF.js pieces, whose kernels are the lean file's: per kernel kind, the median of 5 "
              "profiled inferences; the total is their sum, above the median inference of the first table, "
              "as profiling adds work around every kernel)")
LAYERS_HEADER = ("**The same layers alone**: single-layer models with MobileNetV2's shapes (a one-channel "
                 "input widened by a 1×1 convolution, the layer, ReLU6, a global average: small input and "
                 "output, so the copies in and out do not hide the layer), converted like the rest and timed "
                 "interleaved on both runtimes (median ms; spread of the rounds' medians)")


# --- main -------------------------------------------------------------------------------------

def prepare(names: list[str], work: Path, python: Path, peers: bool = True) -> dict[str, dict]:
    """Convert each model for every runtime and check the conversions against Keras.

    ``peers=False``: the Keras model and its reference output only (a page to host the layers).
    """
    models = {}
    for name in names:
        print(f"converting {name} ...", flush=True)
        model, path, keys = load_model(name, work)
        shape = tuple(model.input_shape)
        x = reference_input(name, shape)
        expected = np.asarray(model.predict(x, verbose=0), dtype="float32")
        info = {"keras": path, "keys": keys, "input": x, "expected": expected}
        models[name] = info
        if not peers:
            continue
        saved = work / f"{slug(name)}-saved"
        export_saved_model(model, shape, saved)
        for kind in ("tflite", "onnx"):
            out = work / f"{slug(name)}.{kind}"
            try:
                result = (convert_tflite(saved, out, x, expected) if kind == "tflite"
                          else convert_onnx(python, saved, out, x, expected))
            except Exception as exc:  # noqa: BLE001 - recorded in the report
                info[f"{kind}_conversion"] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
                continue
            info[f"{kind}_conversion"] = result
            scale = max(1.0, float(np.abs(expected).max()))
            if result["max_error"] <= TOLERANCE * scale:
                info[kind] = {"path": out}
            print(f"  {kind}: max abs error {result['max_error']:.3g}", flush=True)
    return models


def layer_models(work: Path) -> dict[str, dict]:
    """Single-layer models with the shapes of MobileNetV2 224's main layer kinds.

    Each takes a one-channel picture, widens it to the layer's channels with a 1×1
    convolution (at most a ninth of the layer's multiply-adds), runs the layer and ReLU6,
    and averages the result down to its channels: the input and output stay small, so
    what is timed is the layer and not copying megabytes in and out of WebAssembly (a
    LiteRT.js tensor is copied more times than a TF.js one on the way in and out).
    """
    import keras

    specs = {
        "first 3×3 conv, stride 2, 224² × 3 → 112² × 32": ((224, 224, 3), keras.layers.Conv2D(32, 3, 2, "same")),
        "1×1 expand, 56² × 24 → 144": ((56, 56, 24), keras.layers.Conv2D(144, 1)),
        "3×3 depthwise, 56² × 144": ((56, 56, 144), keras.layers.DepthwiseConv2D(3, padding="same")),
        "1×1 project, 56² × 144 → 24": ((56, 56, 144), keras.layers.Conv2D(24, 1)),
        "1×1 expand, 14² × 96 → 576": ((14, 14, 96), keras.layers.Conv2D(576, 1)),
        "3×3 depthwise, 14² × 576": ((14, 14, 576), keras.layers.DepthwiseConv2D(3, padding="same")),
        "1×1 last conv, 7² × 320 → 1280": ((7, 7, 320), keras.layers.Conv2D(1280, 1)),
    }
    out = {}
    for index, (name, ((h, w, c), layer)) in enumerate(specs.items()):
        keras.utils.set_random_seed(index)
        model = keras.Sequential([keras.Input((h, w, 1)), keras.layers.Conv2D(c, 1), layer,
                                  keras.layers.ReLU(6.0), keras.layers.GlobalAveragePooling2D()])
        path = work / f"layer-{index}.keras"
        model.save(path)
        kernel = layer.kernel.shape
        out_h, out_w = model.layers[1].output.shape[1:3]
        macs = (out_h * out_w * int(np.prod(kernel)) if isinstance(layer, keras.layers.Conv2D)
                else out_h * out_w * c * kernel[0] * kernel[1])
        out[name] = {"model": model, "path": path, "macs": macs, "prelude_macs": h * w * c}
    return out


def convert_layers(layers: dict[str, dict], work: Path) -> None:
    """Convert each single-layer model to TFLite and check it against Keras."""
    for index, layer in enumerate(layers.values()):
        x = np.random.default_rng(3).uniform(-1, 1, (1, *layer["model"].input_shape[1:])).astype("float32")
        expected = np.asarray(layer["model"].predict(x, verbose=0), dtype="float32")
        saved = work / f"layer-{index}-saved"
        export_saved_model(layer["model"], layer["model"].input_shape, saved)
        out = work / f"layer-{index}.tflite"
        conversion = convert_tflite(saved, out, x, expected)
        layer.update(input=x, expected=expected, tflite={"path": out}, tflite_conversion=conversion)


def stage_layers(site: Path, layers: dict[str, dict]) -> None:
    """Convert the layers for TF.js with the plugin's converter, beside their TFLite files."""
    from mkdocs_tfjs.convert import Choice, convert_model

    for index, layer in enumerate(layers.values()):
        convert_model(layer["path"], site / "peers" / "layers" / str(index), "none", str(layer["path"]),
                      Choice("native"))
        shutil.copy(layer["tflite"]["path"], site / "peers" / "layers" / f"{index}.tflite")


def measure_layers(browser, base: str, host: str, layers: dict[str, dict], rounds: int) -> list[dict]:
    """Time each layer on plain TF.js and LiteRT.js, on the host model's page."""
    rows = []
    for index, (name, layer) in enumerate(layers.items()):
        print(f"measuring the layer {name} ...", flush=True)
        row = measure_model(browser, base, name, layer, rounds, profile=False, page_of=host,
                            tfjs_url=f"/peers/layers/{index}/model.json", tflite_url=f"/peers/layers/{index}.tflite")
        r = row["runtimes"]
        rows.append({"name": name, "macs": layer["macs"], "prelude_macs": layer["prelude_macs"],
                     "tfjs": r["tfjs"].get("median"),
                     "litert": r["litert"].get("median"),
                     "spread": {k: v.get("round_medians") for k, v in r.items()},
                     "max_error": {k: v.get("max_error") for k, v in r.items()},
                     "errors": {k: v["error"] for k, v in r.items() if "error" in v}})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--table-only", action="store_true", help="rewrite peers.md from peers.json")
    parser.add_argument("--layers-only", action="store_true",
                        help="measure the single layers again only (on the digits page); keep the rest of peers.json")
    parser.add_argument("models", nargs="*", default=[*DEMOS, *APPLICATIONS])
    args = parser.parse_args()
    if args.table_only:
        print(write_report(json.loads(RESULTS.read_text())))
        return
    from playwright.sync_api import sync_playwright

    python = peer_python()
    work = Path(tempfile.mkdtemp(prefix="peers-"))
    if args.layers_only:
        models = prepare(["digits"], work, python, peers=False)
        host = "digits"
    else:
        models = prepare(args.models, work, python)
        host = "MobileNetV2 224" if "MobileNetV2 224" in models else None
    layers = layer_models(work) if host else {}
    convert_layers(layers, work)
    print("building the site ...", flush=True)
    site = build_site(work, models)
    stage_peers(site, models)
    stage_layers(site, layers)
    server = StaticServer(site)
    rows: list[dict] = []
    runtime_bytes: dict[str, dict] = {}
    loads: list[float] = []  # the 1-minute load average as each model starts: how busy the machine was
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            chromium = browser.version
            for name, info in models.items() if not args.layers_only else ():
                print(f"measuring {name} ...", flush=True)
                loads.append(os.getloadavg()[0])
                row = measure_model(browser, server.url, name, info, args.rounds, profile=name == "MobileNetV2 224")
                model_json = site / urllib.parse.urlparse(row.pop("tfjs_model_url")).path.lstrip("/")
                row["model_bytes"] = model_bytes(site, info, model_json.parent)
                row["max_output"] = float(np.abs(info["expected"]).max())
                row["tflite_conversion"] = info.get("tflite_conversion")
                row["onnx_conversion"] = info.get("onnx_conversion")
                if row["tflite_conversion"] and "native_median_ms" in row["tflite_conversion"]:
                    row["native_tflite_ms"] = row["tflite_conversion"]["native_median_ms"]
                for kind, b in row.pop("bytes").items():
                    runtime_bytes.setdefault(kind, b)
                print(json.dumps({k: v for k, v in row.items() if k != "profile"}, default=str)[:2000], flush=True)
                rows.append(row)
            layer_rows = measure_layers(browser, server.url, host, layers, args.rounds) if host else []
            browser.close()
    finally:
        server.close()
    if args.layers_only:
        data = json.loads(RESULTS.read_text())
        data["layers"] = layer_rows
    else:
        profiled = [r["profile"] for r in rows if "profile" in r]
        tf_version = models[next(iter(models))]["tflite_conversion"].get("tensorflow", "")
        onnx_info = next((m["onnx_conversion"] for m in models.values()
                          if "tf2onnx" in (m.get("onnx_conversion") or {})), {})
        versions = {pkg: json.loads((NODE / pkg / "package.json").read_text())["version"]
                    for pkg in ("@tensorflow/tfjs-core", "onnxruntime-web", "@litertjs/core")}
        data = {
            "meta": {"machine": f"{os.cpu_count()} cores ({platform.machine()}), shared", "chromium": chromium,
                     "load": [min(loads), max(loads)] if loads else None,
                     "date": datetime.date.today().isoformat(), "rounds": args.rounds,
                     "isolated": rows[0]["crossOriginIsolated"] if rows else False,
                     "tfjs": versions["@tensorflow/tfjs-core"], "onnxruntime-web": versions["onnxruntime-web"],
                     "litert": versions["@litertjs/core"], "tf2onnx": onnx_info.get("tf2onnx", ""),
                     "opset": onnx_info.get("opset", ""), "tensorflow": tf_version},
            "models": [{k: v for k, v in row.items() if k != "profile"} for row in rows],
            "runtime_bytes": runtime_bytes, "ops": op_table(profiled[0]) if profiled else [],
            "layers": layer_rows,
        }
    RESULTS.write_text(json.dumps(data, indent=1, default=str) + "\n")
    print(write_report(data))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
