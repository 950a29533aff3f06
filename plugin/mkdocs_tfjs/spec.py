"""Turn a parsed ``tfjs`` block into a checked :class:`WidgetSpec`.

Knows the keys every widget shares, asks the widget registry for the rest,
and resolves the model path inside the project folder (``paths.py``). The
widgets know nothing of this module: the import goes one way. Nothing here
imports MkDocs or TensorFlow.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .directive import Block
from .errors import DirectiveError
from .options import Option, check_value
from .paths import resolve_model_path, resolve_project_path
from .widgets import OUTPUTS, SHOWS, WIDGETS, Widget, WidgetSpec

__all__ = [
    "COMMON_OPTIONS",
    "WidgetSpec",
    "make_spec",
    "resolve_model_path",
    "resolve_project_path",
]

QUANTIZE_CHOICES = ("none", "float16", "uint8")
FORMAT_CHOICES = ("graph",)
BACKEND_CHOICES = ("auto", "webgl", "wasm", "cpu", "webgpu")
CONVERTER_CHOICES = ("auto", "native", "tensorflow")
LOAD_CHOICES = ("auto", "visible", "click")
_HTML_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")

COMMON_OPTIONS: tuple[Option, ...] = (
    Option(
        "model",
        (str,),
        "Path of the Keras model (.keras, .h5) or SavedModel folder, "
        "relative to the folder of mkdocs.yml.",
        required=True,
    ),
    # Checked against the build's widgets (the author's own included) in make_spec.
    Option("widget", (str,), "Which widget shows the model.", required=True),
    # Checked against the widget's outputs in make_spec.
    Option(
        "show",
        (str,),
        "What the widget shows of the model's output: `classes`, `values`, `palette`, "
        "`image` or `mask`; each widget has its default, so a block without `show` "
        "behaves as before.",
    ),
    Option("title", (str,), "Heading shown above the widget."),
    Option("caption", (str,), "Text shown under the widget."),
    Option(
        "quantize",
        (str,),
        "Weight quantization; defaults to the plugin's `quantize`.",
        choices=QUANTIZE_CHOICES,
    ),
    Option(
        "format",
        (str,),
        "TF.js model format; defaults to the plugin's `format`.",
        choices=FORMAT_CHOICES,
    ),
    Option(
        "converter",
        (str,),
        "Which converter turns the model into TF.js: `auto` (native when it supports every "
        "layer, else TensorFlow's when installed), `native` or `tensorflow`; defaults to the "
        "plugin's `converter`.",
        choices=CONVERTER_CHOICES,
    ),
    Option(
        "backend",
        (str,),
        "TF.js backend for the page; defaults to the plugin's `backend`.",
        choices=BACKEND_CHOICES,
    ),
    Option(
        "load",
        (str,),
        "When the reader's browser fetches the model: `visible` (as the widget nears the "
        "viewport), `click` (a **Load model** button saying the size; nothing is fetched "
        "before it is pressed) or `auto`: `visible` up to the plugin's `load_threshold`, "
        "`click` above it.",
        choices=LOAD_CHOICES,
        default="auto",
    ),
    Option(
        "browser_cache",
        (bool,),
        "`false` keeps this model out of the reader's browser cache (Cache Storage), which "
        "otherwise keeps it for later visits and offline use; defaults to the plugin's "
        "`browser_cache`.",
    ),
    Option(
        "id",
        (str,),
        "HTML id of the widget; generated when absent.",
        pattern=_HTML_ID,
        pattern_hint="a letter, then letters, digits, '-' or '_'",
    ),
)


def make_spec(
    block: Block,
    page: str,
    project_dir: Path,
    default_quantize: str,
    default_format: str,
    index: int,
    widgets: Mapping[str, Widget] = WIDGETS,
) -> WidgetSpec:
    """Check ``block.values`` and return the widget spec they describe.

    ``widgets`` are the widgets of this build: the built-in ones and the
    author's own.
    """
    values = dict(block.values)

    def fail(message: str, key: str | None = None) -> DirectiveError:
        line = block.key_lines.get(key, block.line) if key else block.line
        return DirectiveError(page, line, message)

    for option in COMMON_OPTIONS:
        if option.required and option.name not in values:
            example = "models/palette/generator.keras" if option.name == "model" else "palette"
            raise fail(
                f"the tfjs block has no `{option.name}` key; add for example "
                f"`{option.name}: {example}`"
                + (f" (widgets: {', '.join(widgets)})" if option.name == "widget" else "")
            )
    widget_name = values["widget"]
    if not isinstance(widget_name, str) or widget_name not in widgets:
        raise fail(
            f"unknown widget {widget_name!r}{_suggest(str(widget_name), widgets)}; "
            f"choose one of: {', '.join(widgets)} (or add your own under `widgets:` in mkdocs.yml)",
            "widget",
        )
    widget = widgets[widget_name]
    show = values.get("show", widget.default_show_for(values))
    # The author's modules may be output parts too, handed the output by a composing input.
    outputs = {**OUTPUTS, **{n: w for n, w in widgets.items() if w.kind == "author"}}
    if "show" in values and (
        not isinstance(show, str)
        or show not in (*SHOWS, *outputs)
        or (show not in widget.shows and not (widget.composes and show in outputs))
    ):
        offered = list(widget.shows) + (list(outputs) if widget.composes else [])
        raise fail(
            f"the {widget.name} widget cannot show {show!r}{_suggest(str(show), offered)}; "
            f"it shows {' or '.join(offered) or 'what its module draws'}",
            "show",
        )
    # An output part draws what the input's own module does not.
    output = outputs.get(show) if show is not None and show not in widget.shows else None
    output_options = output.options if output else ()
    known = {o.name: o for o in COMMON_OPTIONS + widget.options + output_options}
    extra: dict[str, Any] = {}
    for key in values:
        if key not in known and widget.extra_keys:
            problem = _not_plain_data(values[key])
            if problem:
                raise fail(
                    f"`{key}`: {problem}; keys of the {widget.name} widget reach its module as "
                    "JSON, so use text, numbers, true/false, lists or mappings",
                    key,
                )
            extra[key] = values[key]
        elif key not in known:
            # A key of another output part: say which `show:` takes it.
            takers = [n for n, w in outputs.items() if any(o.name == key for o in w.options)]
            if takers:
                raise fail(
                    f"`{key}` applies to `show: {' or '.join(takers)}`, and this block shows "
                    f"`{show}`; remove `{key}`, or show {' or '.join(takers)}",
                    key,
                )
            raise fail(
                f"unknown key `{key}` for the {widget.name} widget{_suggest(key, known)}; "
                f"valid keys: {', '.join(sorted(known))}",
                key,
            )
    checked: dict[str, Any] = {}
    for name, option in known.items():
        if name in values:
            problem = check_value(option, values[name])
            if problem:
                raise fail(f"`{name}`: {problem}", name)
            checked[name] = values[name]
        elif option.default is not None:
            checked[name] = option.default

    model_path = resolve_model_path(checked["model"], project_dir, lambda m: fail(m, "model"))
    spec = WidgetSpec(
        page=page,
        line=block.line,
        widget=widget,
        model=checked["model"],
        model_path=model_path,
        id=checked.get("id") or f"tfjs-{widget.name}-{index}",
        quantize=checked.get("quantize", default_quantize),
        format=checked.get("format", default_format),
        title=checked.get("title"),
        backend=checked.get("backend"),
        converter=checked.get("converter"),
        load=checked["load"],
        browser_cache=checked.get("browser_cache"),
        caption=checked.get("caption"),
        options={
            **{o.name: checked.get(o.name) for o in widget.options + output_options},
            **extra,
        },
        show=show,
        output=output,
        key_lines=dict(block.key_lines),
    )
    widget.check_options(spec, project_dir, fail)
    if output is not None:
        output.check_options(spec, project_dir, fail)
    return spec


def _not_plain_data(value: Any) -> str | None:
    """Return what in ``value`` JSON cannot carry (a date, binary data), or None."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return None
    if isinstance(value, list):
        return next((p for p in map(_not_plain_data, value) if p), None)
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return "mapping keys must be text"
        return next((p for p in map(_not_plain_data, value.values()) if p), None)
    return (
        f"{type(value).__name__} {value!r} is not text, a number, true/false, a list or a mapping"
    )


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""
