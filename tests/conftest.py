"""Fixtures: tiny real MkDocs projects, the real mkdocs CLI, a static server, Chromium."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PALETTE_MODEL = ROOT / "models" / "palette" / "generator.keras"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Chromium with WebGPU on its software (SwiftShader) adapter (see tests/test_webgpu.py).
WEBGPU_ARGS = [*CHROMIUM_ARGS, "--enable-unsafe-webgpu"]
REPORT_SCRIPT = Path(__file__).with_name("helpers") / "mkdocs_report.py"


@dataclass
class Result:
    """What a run of the mkdocs CLI did."""

    returncode: int
    output: str
    tensorflow_imported: bool | None


@dataclass
class Project:
    """A throwaway MkDocs project in a temporary folder."""

    root: Path

    @property
    def site(self) -> Path:
        return self.root / "site"

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def page(self, rel: str, text: str) -> Path:
        return self.write(f"docs/{rel}", text)

    def config(self, plugin_options: dict | None = None, theme: str = "mkdocs", extra: str = "") -> None:
        options = {"runtime": "local", "runtime_dir": str(ROOT / "node_modules")}
        options.update(plugin_options or {})
        self.write(
            "mkdocs.yml",
            "site_name: Test site\n"
            # highlight.js comes from a CDN in the built-in themes; tests stay offline.
            f"theme:\n  name: {theme}\n  highlightjs: false\n"
            "plugins:\n  - search\n  - tfjs: " + json.dumps(options) + "\n" + extra,
        )

    def instant_site(self, nav: list[str], plugin_options: dict | None = None) -> StaticServer:
        """Write a Material config with instant navigation; return the server bound for it.

        The server is bound first: Material's instant navigation needs
        ``site_url``, which holds the server's port. The caller closes it.
        """
        server = StaticServer(self.root / "site")
        options = {"runtime": "local", "runtime_dir": str(ROOT / "node_modules")}
        options.update(plugin_options or {})
        self.write(
            "mkdocs.yml",
            f"site_name: Instant\nsite_url: {server.url}\n"
            "theme:\n  name: material\n  font: false\n  features: [navigation.instant]\n"
            f"plugins:\n  - tfjs: {json.dumps(options)}\nnav: {json.dumps(nav)}\n",
        )
        return server

    def mkdocs(self, *args: str, env: dict | None = None, timeout: float = 300) -> Result:
        """Run the real mkdocs CLI in this project, in a fresh Python process."""
        cmd = [sys.executable, str(REPORT_SCRIPT), *args]
        full_env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})}
        done = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True, env=full_env,
                              timeout=timeout)
        output = done.stdout + done.stderr
        imported = None
        for line in done.stdout.splitlines():
            if line.startswith("MKDOCS_REPORT "):
                imported = json.loads(line[len("MKDOCS_REPORT "):])["tensorflow"]
        return Result(done.returncode, output, imported)

    def build(self, *args: str, **kwargs) -> Result:
        return self.mkdocs("build", *args, **kwargs)


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One conversion cache for tests that are not about caching (saves conversions)."""
    return tmp_path_factory.mktemp("shared-cache")


@pytest.fixture
def project(tmp_path) -> Project:
    """An empty project with the palette model at models/palette/generator.keras."""
    proj = Project(tmp_path / "proj")
    (proj.root / "models" / "palette").mkdir(parents=True)
    shutil.copy(PALETTE_MODEL, proj.root / "models" / "palette" / "generator.keras")
    return proj


# What the model card says when `backend: auto` picks the CPU backend for the palette model.
SMALL_REASON = ("the models here need at most 23,500 multiply-adds per inference: small enough for the "
                "CPU backend, with no WebAssembly to download")

PALETTE_BLOCK = """
```tfjs
model: models/palette/generator.keras
widget: palette
title: Palette generator
```
"""


@pytest.fixture(scope="session")
def keras_palette():
    """The palette generator loaded by Keras itself, the reference for parity."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras.models.load_model(PALETTE_MODEL, compile=False)


class StaticServer:
    """A threaded HTTP server for a built site on a free loopback port."""

    def __init__(self, directory: Path, headers: dict[str, str] | None = None, port: int = 0) -> None:
        handler = functools.partial(_QuietHandler, directory=str(directory), headers=headers or {})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".js": "text/javascript"}

    def __init__(self, *args, headers: dict[str, str], **kwargs):
        self.extra_headers = headers
        super().__init__(*args, **kwargs)

    def end_headers(self):
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    """Serve a folder over HTTP on 127.0.0.1; returns its base URL."""
    servers = []

    def start(directory: Path, headers: dict[str, str] | None = None) -> str:
        server = StaticServer(directory, headers)
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageLog:
    """What a page did: console messages, page errors and requested URLs."""

    console_errors: list[str]
    page_errors: list[str]
    requests: list[str]
    # Chromium's own advice (a canvas read back too often, say) and the widgets' console.warn.
    console_warnings: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """Return the page errors and console errors so far."""
        return self.page_errors + self.console_errors


READY_OR_FAIL = """id => Promise.race([
  window.tfjsWidgets.ready(id),
  new Promise((_, reject) => setTimeout(() => reject(new Error(
    "widget " + id + " not ready after 60 s: " + (document.getElementById(id) || {dataset: {}}).dataset.state
  )), 60000)),
])"""


@pytest.fixture(scope="module")
def webgpu_browser(browser):
    """Debian's Chromium with WebGPU on its software (SwiftShader) adapter, beside the suite's."""
    gpu = browser.browser_type.launch(executable_path=CHROMIUM, args=WEBGPU_ARGS)
    yield gpu
    gpu.close()


@contextlib.contextmanager
def page_opener(browser):
    """Yield ``open_(url, wait_ready=None, init_script=None, **context_options)``.

    Each call opens the URL in a fresh context of ``browser`` (``context_options``
    go to ``new_context``, e.g. permissions) and returns the page and a
    :class:`PageLog` of what it does; the contexts close on exit.
    """
    contexts = []

    def open_(url: str, wait_ready: str | None = None, init_script: str | None = None,
              **context_options):
        context = browser.new_context(**context_options)
        contexts.append(context)
        page = context.new_page()
        if init_script:
            page.add_init_script(init_script)
        log = PageLog([], [], [])
        page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
        page.on("console",
                lambda m: log.console_warnings.append(m.text) if m.type == "warning" else None)
        page.on("pageerror", lambda e: log.page_errors.append(str(e)))
        page.on("request", lambda r: log.requests.append(r.url))
        page.goto(url)
        if wait_ready:
            # A widget that never settles fails here, in a minute, instead of hanging the suite.
            page.evaluate(READY_OR_FAIL, wait_ready)
        return page, log

    try:
        yield open_
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def open_page(browser):
    """Open a URL in a fresh browser context and record what the page does."""
    with page_opener(browser) as open_:
        yield open_


@pytest.fixture(scope="session")
def variant_models(tmp_path_factory) -> dict[str, Path]:
    """Small real models in every input format the plugin accepts, and misfits.

    - ``image``: a tiny CNN, 8x8x1 -> 10 (does not fit the palette widget)
    - ``palette_h5``: a 5 -> 15 model saved by Keras 3 as .h5
    - ``legacy_h5``: a 5 -> 15 model saved by Keras 2 (tf-keras) as .h5
    - ``saved_model``: a 5 -> 15 model exported as a SavedModel folder
    - ``palette_b``: a 5 -> 15 model as .keras, different weights from the demo's
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tf_keras

    out = tmp_path_factory.mktemp("variants")
    keras.utils.set_random_seed(1)

    def mlp():
        return keras.Sequential([keras.Input((5,)), keras.layers.Dense(16, activation="relu"),
                                 keras.layers.Dense(15, activation="sigmoid")])

    image = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    image.save(out / "image.keras")
    mlp().save(out / "palette_h5.h5")
    mlp().save(out / "palette_b.keras")
    mlp().export(str(out / "saved_model"), format="tf_saved_model", verbose=False)
    legacy = tf_keras.Sequential([tf_keras.layers.Dense(16, activation="relu", input_shape=(5,)),
                                  tf_keras.layers.Dense(15, activation="sigmoid")])
    legacy.save(out / "legacy_h5.h5", save_format="h5")
    return {
        "image": out / "image.keras",
        "palette_h5": out / "palette_h5.h5",
        "legacy_h5": out / "legacy_h5.h5",
        "saved_model": out / "saved_model",
        "palette_b": out / "palette_b.keras",
    }


def place(project: Project, source: Path, rel: str) -> str:
    """Copy a model (file or folder) into the project; return its relative path."""
    target = project.root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy(source, target)
    return rel


def training_script(name: str):
    """Import models/<name>/train.py under its own module name (both scripts are train.py)."""
    import importlib.util

    module_name = f"{name}_training"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, ROOT / "models" / name / "train.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def listening_port(pid: int) -> int | None:
    """Return the TCP port a process listens on (a server started on port 0), or None."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                return int(fields[1].rsplit(":", 1)[1], 16)
    return None


def wait_for_log(path: Path, needle: str, timeout: float, after: str | None = None) -> None:
    """Wait until ``needle`` appears in the log (after the last ``after`` when given)."""
    start_len = None
    if after is not None:
        text = path.read_text()
        start_len = text.rfind(after) + len(after)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text()
        if needle in text[start_len or 0:]:
            return
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} not in the serve log:\n{path.read_text()[-3000:]}")


@contextlib.contextmanager
def mkdocs_serve(root: Path):
    """Run `mkdocs serve` in ``root``; yield its URL and the path of its log, once it serves."""
    log_path = root / "serve.log"
    with log_path.open("w") as log_file:
        # Port 0: the server binds a free port itself, so no other process can take it first.
        server = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", "127.0.0.1:0"],
            cwd=root, stdout=log_file, stderr=subprocess.STDOUT,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    try:
        wait_for_log(log_path, "Serving on", 120)
        yield f"http://127.0.0.1:{listening_port(server.pid)}/", log_path
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """A server for the demo site, on a port bound now (port 0), before the site exists.

    The site is built afterwards with this server's URL as its site_url:
    Material's instant navigation only takes over links on the host and port
    of site_url.
    """
    root = tmp_path_factory.mktemp("demo") / "proj"
    server = StaticServer(root / "site")
    yield root, server
    server.close()


@pytest.fixture(scope="session")
def demo_site(demo_server):
    """The project's own documentation site, built as a user would build it."""
    root, server = demo_server
    copy_demo_project(root, site_url=server.url)
    project = Project(root)
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    return project.site


def copy_demo_project(root: Path, site_url: str | None = None) -> Path:
    """Copy this project's own docs site (its sources and models) to ``root``, as an author has it.

    No node_modules: ``runtime: local`` takes TF.js from inside the package.
    """
    # Not what `mkdocs-tfjs prepare` writes into docs/ for Zensical (git-ignored, maybe stale).
    generated = ROOT / "docs" / "assets" / "tfjs"
    shutil.copytree(ROOT / "docs", root / "docs",
                    ignore=lambda folder, names: {"tfjs"} if Path(folder) == generated.parent else set())
    shutil.copytree(ROOT / "models", root / "models", ignore=shutil.ignore_patterns("__pycache__"))
    # The Performance page includes the benchmarks' Markdown tables.
    (root / "benchmarks").mkdir()
    for table in (ROOT / "benchmarks").glob("*.md"):
        shutil.copy(table, root / "benchmarks" / table.name)
    config = (ROOT / "mkdocs.yml").read_text()
    if site_url:
        config = re.sub(r"(?m)^site_url: .*$", f"site_url: {site_url}", config)
    (root / "mkdocs.yml").write_text(config)
    return root


@pytest.fixture(scope="session")
def demo_url(demo_site, demo_server):
    """The demo site served at its site_url."""
    return demo_server[1].url


def inferences(page, widget_id: str) -> int:
    """How many inferences a widget has run (the runtime's own counter)."""
    return page.evaluate("id => window.tfjsWidgets.stats(id).inferences", widget_id)


def wait_idle_after(page, widget_id: str, before: int) -> dict:
    """Wait until the widget ran an inference past ``before`` and nothing runs, waits or is scheduled."""
    page.wait_for_function("([id, n]) => { const s = window.tfjsWidgets.stats(id); "
                           "return s.inferences > n && !s.busy; }", arg=[widget_id, before])
    return page.evaluate("id => window.tfjsWidgets.stats(id)", widget_id)


@pytest.fixture(scope="session")
def package_source(tmp_path_factory) -> Path:
    """This checkout's files as git sees them (tracked, or untracked and not ignored), copied.

    `pip install <checkout>` builds in the checkout and packs whatever an earlier build left in
    its ignored build/ folder (files since moved or deleted ship again); a copy holds only the
    files a fresh clone would.
    """
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    target = tmp_path_factory.mktemp("package-source") / "mkdocs-tfjs"
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel)
    return target


def tfjs_block(**keys) -> str:
    """Return a ```tfjs block with these keys, each value written as JSON (which YAML reads)."""
    body = "\n".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in keys.items())
    return f"```tfjs\n{body}\n```\n"


def tensors_after_presses(page, widget_id: str, presses: int) -> tuple[int, list[int]]:
    """Press the widget's Generate button until its tensor count settles (two presses), then
    ``presses`` times more; return the settled count and the count after each press."""

    def generate() -> int:
        before = inferences(page, widget_id)
        page.click(f"#{widget_id} .tfjs-generate")
        wait_idle_after(page, widget_id, before)
        return page.evaluate("window.tfjsWidgets.memory().numTensors")

    generate()
    return generate(), [generate() for _ in range(presses)]


def seeded_keras(seed: int):
    """Return Keras with its random seed set, so that a test's models get the same weights each run."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    keras.utils.set_random_seed(seed)
    return keras


def saved(folder: Path, models: dict) -> dict:
    """Save each model as ``<name>.keras`` in ``folder``; return them with the folder under ``"dir"``."""
    for name, model in models.items():
        model.save(folder / f"{name}.keras")
    return {**models, "dir": folder}


def project_with_models(root: Path, models_dir: Path, names, shared_cache: Path | None = None,
                        **config) -> Project:
    """Return a project at ``root`` holding ``models/<name>.keras`` from ``models_dir``.

    Models convert at `quantize: none` (into ``shared_cache`` when given); ``config`` adds
    plugin options.
    """
    project = Project(root)
    (project.root / "models").mkdir(parents=True)
    for name in names:
        shutil.copyfile(models_dir / f"{name}.keras", project.root / "models" / f"{name}.keras")
    cache = {"cache_dir": str(shared_cache)} if shared_cache else {}
    project.config({"quantize": "none", **cache, **config})
    return project


def assert_build_fails_at_key(project: Project, keys: dict, key: str, message: str) -> None:
    """Build a page of one block with ``keys``: it must fail with ``message`` at ``key``'s line."""
    block = tfjs_block(**keys)
    project.page("page.md", "# P\n\n" + block)
    line = 3 + next(i for i, text in enumerate(block.splitlines()) if text.startswith(f"{key}:"))
    result = project.build()
    assert result.returncode != 0
    assert f"docs/page.md:{line}: {message}" in result.output, result.output
