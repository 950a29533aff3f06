"""One site build: pages in, widgets and converted models out.

This is the whole product without MkDocs: :class:`SiteBuild` takes a page's
Markdown and returns it with each ``tfjs`` block replaced by a placeholder,
fills the placeholders in the page's HTML, adds the page's script tags, and
finally writes models and assets into the site folder. An adapter (the MkDocs
plugin, or one for another generator) only calls these methods in order.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import runtime
from .cache import ModelCache, publish
from .convert import PREPROCESS_FILE, choose_converter, kernels, load_tensorflow
from .convert.keras_config import all_layer_names, read_config
from .convert.measure import describe_cost
from .directive import find_blocks, read_block, replace_blocks
from .errors import ConfigError, DirectiveError, TfjsError
from .modelfile import check_model_file
from .modelinfo import ModelInfo
from .paths import resolve_project_path
from .render import TEMPLATES, human_bytes, render_page_tags, render_widget
from .spec import WidgetSpec, make_spec
from .widgets import PARTS, WIDGETS, CustomWidget, Widget, part_files

#: The shared runtime (runtime.js, served-check.js, resize.js) and the frame's styles;
#: each part's module, template and styles are in its folder under widgets/.
ASSETS = Path(__file__).with_name("assets")
#: The one stylesheet of the site: the frame's styles, then each part's, in part order.
STYLESHEET = "tfjs-widgets.css"
MODELS_DIR = "assets/tfjs/models"
#: The service worker of ``threads: true``, written at the site's root (a worker serves
#: only the pages under its own folder), not with the widgets' assets; with ``threads``
#: off the same name holds one that retires it from readers who kept it from a build
#: with ``threads: true``.
ISOLATION_SOURCE = ASSETS / "isolation.js"
RETIRED_SOURCE = ASSETS / "isolation-retired.js"
ISOLATION_WORKER = "tfjs-isolation.js"
_JS_DTYPES = {"DT_FLOAT": "float32", "DT_INT32": "int32", "DT_INT64": "int32", "DT_BOOL": "bool"}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?\s*$", re.IGNORECASE)
_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}


def parse_size(value: str | int) -> int:
    """Return bytes for ``10 MB``, ``500KiB`` or a plain number of bytes."""
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a size; write for example `10 MB` or `500 KB`")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "b").lower()])


@dataclass
class Settings:
    """The plugin options, already resolved to absolute paths and bytes."""

    project_dir: Path
    quantize: str = "float16"
    format: str = "graph"
    cache_dir: Path | None = None
    runtime: str = "cdn"
    runtime_dir: Path | None = None
    size_budget: int = 10 * 1000**2
    #: ``load: auto`` asks the reader first above this many bytes (a **Load model** button).
    load_threshold: int = 2 * 1000**2
    #: Whether readers' browsers keep models (Cache Storage), and how much of them at most.
    browser_cache: bool = True
    browser_cache_size: int = 200 * 1000**2
    #: WebAssembly threads where the page is (or, through the service worker, becomes)
    #: cross-origin isolated.
    threads: bool = False
    backend: str = "auto"
    converter: str = "auto"
    #: Widgets of the author's own: name → ES module path, relative to project_dir.
    widgets: dict[str, str] = field(default_factory=dict)
    #: A folder of templates overriding the widgets' own (``palette.html``, ``base.html``...).
    templates_dir: Path | None = None


@dataclass
class PlacedWidget:
    """A widget on a page: its spec, its model and its rendered HTML."""

    spec: WidgetSpec
    info: ModelInfo
    token: str
    html: str = ""


@dataclass
class PageWidgets:
    """The widgets of one page, in page order."""

    page: str
    root: str
    widgets: list[PlacedWidget] = field(default_factory=list)


def relative_root(page_url: str) -> str:
    """Return the prefix from a page's URL to the site root, e.g. ``../``."""
    folder = posixpath.dirname(page_url)
    if not folder:
        return ""
    return "../" * (folder.count("/") + 1)


def model_folder(info: ModelInfo) -> str:
    """Return the content-hashed folder name of a converted model in the site."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(info.source.rstrip("/")).stem).strip("-") or "model"
    return f"{stem}-{info.content_hash[:8]}"


class SiteBuild:
    """Everything that happens to ``tfjs`` blocks during one build."""

    def __init__(
        self,
        settings: Settings,
        warn: Callable[[str], None],
        info: Callable[[str], None],
        cache_root: Path,
    ) -> None:
        check_templates_dir(settings)
        self.settings = settings
        self.warn = warn
        self.info = info
        self.cache = ModelCache(cache_root, warn)
        self.nonce = secrets.token_hex(4)
        self.models: dict[str, ModelInfo] = {}
        #: Every model file or folder a block named, converted or not (``mkdocs serve`` watches).
        self.model_paths: set[Path] = set()
        self.converted = 0
        self.widget_types: set[str] = set()
        self.site_files: dict[str, Path] = {}
        #: The site-relative URLs of the pages with widgets (``demos/image/``, ``""`` for the
        #: home page): the only pages the isolating service worker of ``threads: true`` serves.
        self.widget_pages: set[str] = set()
        self._over_budget: set[str] = set()
        self.widgets = custom_widgets(settings)
        self._assets = _asset_folder(self.widgets)
        self._local_sri: dict[str, str] = {}
        self._local_wasm: dict[str, str] = {}
        self._keys: dict[tuple[Path, str, str], str] = {}
        #: Whether a widget of this build runs on the lean runtime (its files are then copied).
        self.lean_used = False

    # -- pages ----------------------------------------------------------

    def process_markdown(
        self, markdown: str, page: str, page_url: str, first_line: int = 1
    ) -> tuple[str, PageWidgets]:
        """Replace each ``tfjs`` block of a page by a placeholder paragraph."""
        placed = PageWidgets(page=page, root=relative_root(page_url))
        blocks = find_blocks(markdown, first_line)
        seen_ids: dict[str, int] = {}
        per_widget: dict[str, int] = {}
        for index, block in enumerate(blocks, start=1):
            read_block(block, page)
            # Generated ids count per widget type: tfjs-palette-1, tfjs-handwriting-1, ...
            kind = str(block.values.get("widget"))
            per_widget[kind] = per_widget.get(kind, 0) + 1
            spec = make_spec(
                block,
                page,
                self.settings.project_dir,
                self.settings.quantize,
                self.settings.format,
                per_widget[kind],
                self.widgets,
            )
            if spec.id in seen_ids:
                raise DirectiveError(
                    page,
                    block.line,
                    f"the id `{spec.id}` is already used by the tfjs block on line "
                    f"{seen_ids[spec.id]}; give each widget on a page its own `id`",
                )
            seen_ids[spec.id] = block.line
            info = self.model_for(spec)
            spec.widget.check_model(spec, info)
            widget = PlacedWidget(spec, info, token=f"tfjswidget{self.nonce}x{index}")
            widget.html = render_widget(self._context(widget, placed.root), self._template_dirs())
            placed.widgets.append(widget)
            self.widget_types.add(spec.widget.name)
            self.site_files.update(spec.widget.site_files(spec))
        explicit = [w.spec for w in placed.widgets if w.spec.backend not in (None, "auto")]
        for other in explicit[1:]:
            if other.backend != explicit[0].backend:
                raise DirectiveError(
                    page,
                    other.line,
                    "the widgets on this page ask for different backends (`"
                    f"{explicit[0].backend}` on line {explicit[0].line}, `{other.backend}` here); "
                    "TF.js runs one backend per page, so give them the same `backend` or none",
                )
        if placed.widgets:
            self.widget_pages.add(_page_path(page_url))
        new = replace_blocks(markdown, blocks, [w.token for w in placed.widgets])
        return new, placed

    def fill_html(self, html: str, placed: PageWidgets) -> str:
        """Put each widget's HTML where its placeholder ended up."""
        taken = set(re.findall(r'\bid="([^"]+)"', html))
        for widget in placed.widgets:
            if widget.spec.id in taken:
                raise widget.spec.error(
                    f"another element of this page already has the id `{widget.spec.id}` (a "
                    "heading's anchor, most likely), so the page would find it instead of the "
                    "widget; give the widget another `id`",
                    "id",
                )
            # The lookahead keeps `…x1` from matching inside `…x10`.
            token = rf"{widget.token}(?![0-9])"
            pattern = re.compile(rf"<p>\s*{token}\s*</p>|{token}")
            html, count = pattern.subn(lambda _m, w=widget: w.html, html, count=1)
            if count == 0:
                raise DirectiveError(
                    placed.page,
                    widget.spec.line,
                    "the tfjs block vanished while Markdown was rendered (another extension "
                    "consumed it); put the block at the top level of the page or in an "
                    "admonition",
                )
        return html

    def page_tags(self, root: str) -> tuple[str, str]:
        """Return what to add to the ``<head>`` and ``<body>`` of a page at ``root``.

        The runtime imports each widget's module when a page shows one, so the
        tags are the same for every page: a page reached by Material's instant
        navigation needs none of its own.
        """
        sheets = [self._asset_tag(root, STYLESHEET, "href")]
        scripts = [self._asset_tag(root, "runtime.js", "src")]
        # A classic script without `integrity`: it is the one part that still runs
        # when the page is opened from disk, where no module or checked file loads.
        folder, _ = self._assets
        served_check = f"{root}assets/tfjs/{folder}/served-check.js"
        return render_page_tags(
            sheets,
            scripts,
            self._runtime_config(root, self._runtime_names()),
            served_check,
            self._template_dirs(),
        )

    def _template_dirs(self) -> tuple[str, ...]:
        folder = self.settings.templates_dir
        return (str(folder),) if folder else ()

    # -- models ---------------------------------------------------------

    def model_for(self, spec: WidgetSpec) -> ModelInfo:
        """Return the info of a spec's model, converting it if needed."""
        self.model_paths.add(spec.model_path)
        requested = spec.converter or self.settings.converter
        # Hashing a model file costs a read of all its bytes: once per build is enough.
        inputs = (spec.model_path, spec.quantize, spec.format, requested)
        if inputs not in self._keys:
            self._keys[inputs] = self.cache.key(*inputs)
        key = self._keys[inputs]
        found = self.models.get(key) or self.cache.lookup(key, spec.model)
        if found is None:
            try:
                check_model_file(spec.model_path, spec.model)
                choice = choose_converter(spec.model_path, requested, spec.model)
                if choice.converter == "tensorflow":
                    seconds = load_tensorflow()
                    if seconds:
                        self.info(f"loaded TensorFlow and the converter in {seconds:.1f} s")
                found = self.cache.convert(
                    key, spec.model_path, spec.model, spec.quantize, spec.format, choice
                )
            except TfjsError as exc:
                raise DirectiveError(spec.page, spec.line, _name_layers(exc, spec)) from exc
            self.converted += 1
            how = (
                "natively"
                if found.converter == "native"
                else f"with TensorFlow ({found.converter_reason})"
            )
            self.info(
                f"converted {spec.model} {how} ({human_bytes(found.source_bytes)} → "
                f"{human_bytes(found.shipped_bytes)}, {spec.quantize}) in "
                f"{found.convert_seconds:.2f} s"
            )
            if spec.quantize != "none":
                self.info(
                    f"{spec.model}, {spec.quantize} weights: "
                    f"{describe_cost(found.quantization_cost, spec.quantize)}"
                )
        self.models[key] = found
        # Per block, not per model: blocks sharing a model may ask for different backends.
        self._check_backends(spec, found, self.cache.files(key) / "model.json")
        self._check_budget(spec, found, self.cache.files(key) / "model.json")
        return found

    def _check_backends(self, spec: WidgetSpec, info: ModelInfo, model_json: Path) -> None:
        """Refuse a model that no backend, or not the block's backend, can run for readers."""
        wanted = spec.backend or self.settings.backend
        if info.backends and (wanted == "auto" or wanted in info.backends):
            return
        candidates = [wanted] if wanted != "auto" else list(kernels.backends())
        missing = sorted({op for b in candidates for op in kernels.unsupported(info.ops, b)})
        where = _op_layers(model_json, missing, spec.model_path)
        detail = ", ".join(f"{op}{where.get(op, '')}" for op in missing)
        if info.backends:
            raise spec.error(
                f"`backend: {wanted}` cannot run `{spec.model}`: TF.js's {wanted} backend has no "
                f"kernel for {detail}; use `backend: {info.backends[0]}` or `backend: auto`"
            )
        raise spec.error(
            f"no TF.js backend can run `{spec.model}`: TF.js has no kernel for {detail} on any "
            "backend; replace the layers that use these ops, "
            "or convert with the other converter (`converter: native` or `converter: tensorflow`)"
        )

    def _check_budget(self, spec: WidgetSpec, info: ModelInfo, model_json: Path) -> None:
        """Warn when a model a reader did not ask for is over ``size_budget``, with every way out.

        A block with ``load: click`` is exempt: its reader sees the size on the
        button and fetches nothing before pressing it.
        """
        budget = self.settings.size_budget
        if spec.load == "click" or info.shipped_bytes <= budget or spec.model in self._over_budget:
            return
        self._over_budget.add(spec.model)
        shipped = human_bytes(info.shipped_bytes)
        ways = [
            f"`quantize: {name}` (about {human_bytes(size)}; "
            f"{describe_cost(info.quantization_cost, name)})"
            for name, size in quantized_sizes(model_json, info).items()
            if size < info.shipped_bytes
        ]
        ways += [
            f"`load: click` on the block (readers fetch the {shipped} only when they press "
            "**Load model**; the budget does not apply to it)",
            f"`size_budget: {_round_up_mb(info.shipped_bytes)}` in mkdocs.yml (ship it as it is)",
            "a smaller architecture (fewer or narrower layers)",
        ]
        self.warn(
            f"{spec.page}:{spec.line}: {spec.model} converts to {shipped} ({spec.quantize}), "
            f"over the size_budget of {human_bytes(budget)}; readers download all of it "
            "before the widget works. Ways out: " + "; ".join(ways)
        )

    # -- the site -------------------------------------------------------

    def write_site(self, site_dir: Path) -> None:
        """Write the models used by this build, our assets and the local runtime."""
        for key, info in self.models.items():
            publish(self.cache.files(key), info.files, site_dir / MODELS_DIR / model_folder(info))
        for rel, source in self.site_files.items():
            target = site_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        if self.widget_types:
            folder, _ = self._assets
            target = site_dir / "assets" / "tfjs" / folder
            target.mkdir(parents=True, exist_ok=True)
            for name, data in _asset_sources(self.widgets).items():
                (target / name).write_bytes(data)
            if self.settings.runtime == "local":
                runtime.copy_local(self._runtime_dir(), site_dir, self._runtime_names())
            if self.lean_used:
                runtime.copy_lean(site_dir)
            (site_dir / ISOLATION_WORKER).write_text(self._isolation_worker())
        if self.models and not self.converted:
            count = len(self.models)
            self.info(
                f"{count} model{'s' if count != 1 else ''} up to date (cache: {self.cache.root})"
            )

    def _isolation_worker(self) -> str:
        """Return the service worker written at the site's root.

        With ``threads: true`` it is the isolating one, told the pages it isolates; without,
        the one that retires it from readers who kept it.
        """
        if not self.settings.threads:
            return RETIRED_SOURCE.read_text()
        pages = f"const PAGES = {json.dumps(sorted(self.widget_pages))};"
        return ISOLATION_SOURCE.read_text().replace("const PAGES = [];", pages, 1)

    def check_runtime(self) -> None:
        """Fail early when ``runtime: local`` lacks a file: every piece, fabric.js included."""
        if self.settings.runtime == "local":
            runtime.check_local(self._runtime_dir(), tuple(runtime.pieces()))

    def _runtime_dir(self) -> Path | None:
        return self.settings.runtime_dir

    def _runtime_names(self) -> tuple[str, ...]:
        extra = {p for name in self.widget_types for p in self.widgets[name].extra_runtime}
        return runtime.TFJS_PIECES + tuple(sorted(extra))

    def _runtime_config(self, root: str, names: tuple[str, ...]) -> dict[str, Any]:
        # The lean files are listed on every page, used or not, so that the tags stay
        # the same on every page (instant navigation reads them once per visit).
        config = self._pieces_config(root, names)
        config["scripts"].update(runtime.lean_scripts(root))
        if self.settings.threads:
            config["threads"] = True
            config["isolation"] = root + ISOLATION_WORKER
        return config

    def _pieces_config(self, root: str, names: tuple[str, ...]) -> dict[str, Any]:
        if self.settings.runtime == "cdn":
            return runtime.cdn_config(names)
        pieces = runtime.pieces()
        scripts = {}
        for name in names:
            piece = pieces[name]
            if name not in self._local_sri:  # hashed once per build, not once per page
                path = runtime.source_file(self._runtime_dir(), piece, piece.file)
                self._local_sri[name] = runtime.sri(path.read_bytes())
            scripts[name] = {"src": root + piece.vendor_path, "integrity": self._local_sri[name]}
        wasm = pieces["wasm"]
        if not self._local_wasm:  # hashed once per build, too
            self._local_wasm = runtime.wasm_integrity(
                {
                    asset: runtime.sri(
                        runtime.source_file(self._runtime_dir(), wasm, asset).read_bytes()
                    )
                    for asset in wasm.assets
                }
            )
        return {
            "scripts": scripts,
            "wasmPaths": f"{root}{runtime.VENDOR_DIR}/{wasm.npm_spec}/dist/",
            "wasmIntegrity": self._local_wasm,
        }

    def _runs_lean(self, spec: WidgetSpec, info: ModelInfo) -> bool:
        """Tell whether the lean runtime runs this widget's model, on every backend it may use.

        A part that says ``full_runtime`` (an author's widget, whose module may
        call any TF.js function) always gets the full runtime.
        """
        if spec.widget.full_runtime:
            return False
        # Every backend the model runs on, not only the one asked for: the page falls back to them.
        lean = runtime.lean_runs(info.ops, info.backends)
        self.lean_used = self.lean_used or lean
        return lean

    def _load_mode(self, spec: WidgetSpec, info: ModelInfo) -> str:
        """Return ``visible`` or ``click``; ``load: auto`` asks first above ``load_threshold``."""
        if spec.load != "auto":
            return spec.load
        return "click" if info.shipped_bytes > self.settings.load_threshold else "visible"

    def _asset_tag(self, root: str, name: str, attr: str) -> dict[str, str]:
        folder, hashes = self._assets
        return {attr: f"{root}assets/tfjs/{folder}/{name}", "integrity": hashes[name]}

    def _context(self, widget: PlacedWidget, root: str) -> dict[str, Any]:
        spec, info = widget.spec, widget.info
        config = {
            "model": f"{root}{MODELS_DIR}/{model_folder(info)}/model.json",
            "inputs": [list(t.shape) for t in info.inputs],
            "outputs": [list(t.shape) for t in info.outputs],
            "shippedBytes": info.shipped_bytes,
            "backend": spec.backend or self.settings.backend,
            # Only these backends register a kernel for every op of the model.
            "backends": info.backends,
            "dynamic": info.dynamic,
            # The page loads the lean runtime when every widget on it says so.
            "lean": self._runs_lean(spec, info),
            "macs": info.macs,
            # When the reader's browser fetches the model (`load:`, `auto` resolved here).
            "load": self._load_mode(spec, info),
            # Kept in the reader's browser by content hash; `name` says what a new hash replaces.
            "browserCache": {
                "on": self.settings.browser_cache
                if spec.browser_cache is None
                else spec.browser_cache,
                "capBytes": self.settings.browser_cache_size,
                "name": f"{spec.model}|{info.quantize}",
                "hash": info.content_hash,
            },
            "inputDtypes": [_JS_DTYPES.get(t.dtype, "float32") for t in info.inputs],
            "sourceBytes": info.source_bytes,
            # The page's way to the site root, for files the widget names (samples).
            "root": root,
            **spec.widget.browser_config(spec, info),
        }
        if PREPROCESS_FILE in info.files:
            # The model's own text or lookup layers, which the page runs before the graph
            # (only such a model's configuration names them: other pages are unchanged).
            config["preprocessing"] = f"{root}{MODELS_DIR}/{model_folder(info)}/{PREPROCESS_FILE}"
        return {
            "id": spec.id,
            "widget": spec.widget.name,
            "title": spec.title,
            "caption": spec.caption,
            "root": root,
            "config": config,
            "model": {
                "source": spec.model,
                "inputs_text": ", ".join(info.describe_input(i) for i in range(len(info.inputs))),
                "outputs_text": ", ".join(t.describe() for t in info.outputs),
                "params": info.params,
                "shipped_bytes": info.shipped_bytes,
                "source_bytes": info.source_bytes,
                "quantize": info.quantize,
                "load": self._load_mode(spec, info),
                "progress_text": progress_text(0, info.shipped_bytes),
                "quantization_cost": describe_cost(info.quantization_cost, info.quantize),
            },
        }


def quantized_sizes(model_json: Path, info: ModelInfo) -> dict[str, int]:
    """Return the shipped bytes of the model at each other ``quantize``, from its weights.

    Float weights take 4 bytes each unquantized, 2 at float16 and 1 at uint8
    (whose minimum and scale live in model.json); other weights stay as they are.
    """
    try:
        manifest = json.loads(model_json.read_text())["weightsManifest"]
    except (OSError, ValueError, KeyError):
        return {}
    width = {"none": 4, "float16": 2, "uint8": 1}
    floats = 0
    for group in manifest:
        for weight in group.get("weights", []):
            original = weight.get("quantization", {}).get("original_dtype", weight.get("dtype"))
            if original == "float32":
                floats += int(np.prod(weight.get("shape", []), dtype=np.int64))
    rest = info.shipped_bytes - floats * width.get(info.quantize, 4)
    return {q: rest + floats * w for q, w in width.items() if q != info.quantize}


def progress_text(done: int, total: int) -> str:
    """Return ``3.1 of 7.0 MB``, both in the total's unit (runtime.js's sizeText says the same)."""
    unit, scale = ("MB", 1000**2) if total >= 1000**2 else ("KB", 1000)
    return f"{done / scale:.1f} of {total / scale:.1f} {unit}"


def _round_up_mb(size: int) -> str:
    """Return a ``size_budget`` value just above ``size``, e.g. ``18 MB``."""
    return f"{int(size // 1000**2) + 1} MB"


def _op_layers(model_json: Path, ops: list[str], source: Path) -> dict[str, str]:
    """Return, for each op, `` (in layer `name`)`` from the first node of ``model_json`` using it.

    Only called for an error message: it reads the files again.
    """
    try:
        nodes = json.loads(model_json.read_text())["modelTopology"]["node"]
    except (OSError, ValueError, KeyError):
        return {}
    return _node_layers(nodes, ops, source)


def _node_layers(nodes: list[dict[str, Any]], ops: list[str], source: Path) -> dict[str, str]:
    """Return, for each op, `` (in layer `name`)`` from the first of ``nodes`` that uses it.

    Node names carry the layer's scope: ``dense/MatMul`` natively,
    ``StatefulPartitionedCall/model/dense_1/MatMul`` from TensorFlow's converter,
    ``sequential_1/dense_1/Gelu/Erfc`` in a SavedModel's functions.
    """
    found: dict[str, str] = {}
    try:
        names = all_layer_names(read_config(source, source.name)[0]) if source.is_file() else set()
    except (OSError, ValueError, KeyError, TfjsError):
        return found
    for node in nodes:
        op = node.get("op")
        if op not in ops or op in found:
            continue
        scopes = str(node.get("name", "")).split("/")[:-1]
        layers = [n for part in scopes for n in (part, re.sub(r"_\d+$", "", part)) if n in names]
        found[op] = f" (in layer `{layers[-1]}`)" if layers else ""
    return found


_MISSING_OPS = re.compile(r"no kernel for these ops: (?P<ops>\w+(?:, \w+)*)")


def _name_layers(error: TfjsError, spec: WidgetSpec) -> str:
    """Return ``error``'s message with the layer of each op TF.js lacks, when the graph says it.

    TensorFlow's converter names ops only (``Erfc``); the error carries the
    graph's nodes, whose names hold the layer's scope.
    """
    message = str(error)
    nodes = getattr(error, "nodes", None)
    match = _MISSING_OPS.search(message)
    if not nodes or not match:
        return message
    ops = match.group("ops").split(", ")
    where = _node_layers(nodes, ops, spec.model_path)
    named = ", ".join(f"{op}{where.get(op, '')}" for op in ops)
    return message[: match.start("ops")] + named + message[match.end("ops") :]


_WIDGET_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


def reserved_names() -> set[str]:
    """Return the names an author's widget may not take: the parts' and the shipped files'.

    An author's widget ``x`` lands as ``x.js`` beside our modules and is drawn
    with ``x.html`` from among our templates, so a name like any of those
    files would replace ours (``served-check``, ``runtime``, ``topk``...).
    Derived from the package's folders (assets/, templates/ and each part's),
    not kept by hand, so a new part or file is reserved the day it lands.
    """
    files = [p for folder in (ASSETS, TEMPLATES) for p in folder.iterdir() if p.is_file()]
    files += part_files()
    # Widget names use '-' where file names may use '_' (page_head.html).
    return {p.name.split(".")[0].replace("_", "-") for p in files} | {p.name for p in PARTS}


def custom_widgets(settings: Settings) -> dict[str, Widget]:
    """Return the build's widgets: the built-in ones and those ``widgets:`` in mkdocs.yml names."""
    widgets = dict(WIDGETS)
    reserved = reserved_names()
    for name, value in settings.widgets.items():
        where = f"mkdocs.yml: tfjs: widgets: {name}"
        if not isinstance(name, str) or not _WIDGET_NAME.match(name):
            raise ConfigError(
                f"{where}: a widget name is lower-case letters, digits and '-', "
                "starting with a letter"
            )
        if name in WIDGETS or name in reserved:
            raise ConfigError(
                f"{where}: `{name}` is taken by a built-in module; choose another name"
            )
        if not isinstance(value, str) or not value.endswith((".js", ".mjs")):
            raise ConfigError(
                f"{where}: give the path of an ES module (.js), relative to mkdocs.yml"
            )

        def fail(message: str) -> ConfigError:
            # The message quotes `name: value` itself: the key is said once.
            return ConfigError(f"mkdocs.yml: tfjs: widgets: {message}")

        widgets[name] = CustomWidget(
            name, resolve_project_path(value, settings.project_dir, fail, name)
        )
    return widgets


def check_templates_dir(settings: Settings) -> None:
    """Refuse a ``templates_dir`` that is not a folder: its overrides would silently not apply."""
    folder = settings.templates_dir
    if folder is None or folder.is_dir():
        return
    shown = os.path.relpath(folder, settings.project_dir)
    what = "is a file, not a folder" if folder.exists() else "does not exist"
    raise ConfigError(
        f"mkdocs.yml: tfjs: templates_dir: `{shown}` {what} ({folder}); create that folder "
        "with your templates (palette.html, base.html...) or remove the option"
    )


def _page_path(page_url: str) -> str:
    """Return a page's URL as the isolating worker compares it: ``a/index.html`` is ``a/``."""
    return page_url[: -len("index.html")] if page_url.endswith("index.html") else page_url


def _asset_sources(widgets: dict[str, Widget]) -> dict[str, bytes]:
    """Return the widgets folder's files, ``{name: bytes}``.

    They are the shared runtime, every part's modules, the stylesheet (the
    frame's styles, then each part's) and the author's modules as
    ``<name>.js``. The parts' modules land side by side, so their relative imports
    (``import ... from "./runtime.js"``) hold in the site as in the package.
    """
    workers = (ISOLATION_SOURCE, RETIRED_SOURCE)
    sources = {a.name: a.read_bytes() for a in sorted(ASSETS.glob("*.js")) if a not in workers}
    sheet = (ASSETS / STYLESHEET).read_bytes()
    for path in part_files():
        if path.suffix == ".js":
            if path.name in sources:
                raise ConfigError(f"two widget parts ship {path.name}; rename one ({path})")
            sources[path.name] = path.read_bytes()
        elif path.suffix == ".css":
            sheet += path.read_bytes()
    sources[STYLESHEET] = sheet
    sources.update(
        {f"{w.name}.js": w.module.read_bytes() for w in widgets.values() if w.module is not None}
    )
    return sources


def _asset_folder(widgets: dict[str, Widget]) -> tuple[str, dict[str, str]]:
    """Return the content-hashed folder name of the widget assets and their SRI hashes.

    One folder for all of them, the author's modules included, keeps relative
    ES module imports between them (``import ... from "./runtime.js"``)
    working, while a changed file still gets new URLs.
    """
    digest = hashlib.sha256()
    hashes = {}
    for name, data in sorted(_asset_sources(widgets).items()):
        digest.update(name.encode() + b"\0" + data)
        hashes[name] = runtime.sri(data)
    return f"widgets-{digest.hexdigest()[:8]}", hashes
