"""The plugin's options in ``mkdocs.yml`` (schema only)."""

from __future__ import annotations

from mkdocs.config import base
from mkdocs.config import config_options as c


class TfjsConfig(base.Config):
    """Options of the ``tfjs`` plugin."""

    enabled = c.Type(bool, default=True)
    """Turn the plugin off (blocks are then left as code) without removing it."""

    quantize = c.Choice(("none", "float16", "uint8"), default="float16")
    """Weight quantization for blocks that do not set their own `quantize`."""

    format = c.Choice(("graph",), default="graph")
    """TF.js model format: `graph` (a TF.js graph model)."""

    converter = c.Choice(("auto", "native", "tensorflow"), default="auto")
    """`auto`: the native converter (numpy and h5py) when it supports every layer, else
    TensorFlow's when installed (`pip install "mkdocs-tfjs[tensorflow]"`); `native`;
    `tensorflow`."""

    cache = c.Type(bool, default=True)
    """Keep converted models between builds; with `false`, every build converts."""

    cache_dir = c.Type(str, default=".cache/plugin/tfjs")
    """Where converted models are kept, relative to the folder of mkdocs.yml."""

    runtime = c.Choice(("cdn", "local"), default="cdn")
    """`cdn`: TF.js and fabric.js from jsDelivr, pinned, with SRI; `local`: copied into the site."""

    runtime_dir = c.Optional(c.Type(str))
    """For `runtime: local`: a node_modules folder to take the npm packages from, relative to
    mkdocs.yml, instead of the copy shipped inside the plugin."""

    backend = c.Choice(("auto", "webgl", "wasm", "cpu", "webgpu"), default="auto")
    """TF.js backend: `auto` picks CPU for tiny models, WASM for small ones, WebGL for large
    ones and WebGPU for those of many multiply-adds, on a real GPU only; `webgpu` falls back
    to WASM."""

    widgets = c.Type(dict, default={})
    """Widgets of your own: `{name: path/to/module.js}`, paths relative to mkdocs.yml."""

    templates_dir = c.Optional(c.Type(str))
    """A folder of HTML templates overriding the widgets' own (`palette.html`, `base.html`...)."""

    size_budget = c.Type((str, int), default="10 MB")
    """A converted model above this size gives a warning (`--strict` fails on it)."""

    load_threshold = c.Type((str, int), default="2 MB")
    """`load: auto` fetches a model up to this size as its widget nears the viewport and
    asks the reader first (a **Load model** button) above it; a reader on "Fast 3G" waits
    about 19 s for a 2 MB model (benchmarks/loading.py)."""

    browser_cache = c.Type(bool, default=True)
    """Keep loaded models in the reader's browser (Cache Storage, keyed by the content
    hash) for later visits and offline use; a block's `browser_cache: false` opts out."""

    browser_cache_size = c.Type((str, int), default="200 MB")
    """The most the reader's browser keeps of this site's models; the oldest go first."""

    threads = c.Type(bool, default=False)
    """Let the WebAssembly backend run threads, on cross-origin-isolated pages only: the
    build writes a service worker at the site's root that isolates pages where the host
    sends no isolation headers (GitHub Pages); a reader's first visit reloads once."""
