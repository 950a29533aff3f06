"""Turn a parsed ``tfjs`` block into a checked :class:`WidgetSpec`.

Knows the keys every widget shares, asks the widget registry for the rest,
and resolves the model path inside the project folder. Nothing here imports
MkDocs or TensorFlow.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .directive import Block
from .errors import DirectiveError
from .options import Option, check_value
from .widgets import WIDGETS, Widget

QUANTIZE_CHOICES = ("none", "float16", "uint8")
FORMAT_CHOICES = ("graph",)
BACKEND_CHOICES = ("auto", "webgl", "wasm", "cpu")
CONVERTER_CHOICES = ("auto", "native", "tensorflow")
_HTML_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")

COMMON_OPTIONS: tuple[Option, ...] = (
    Option(
        "model",
        (str,),
        "Path of the Keras model (.keras, .h5) or SavedModel folder, "
        "relative to the folder of mkdocs.yml.",
        required=True,
    ),
    Option(
        "widget", (str,), "Which widget shows the model.", required=True, choices=tuple(WIDGETS)
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
        "id",
        (str,),
        "HTML id of the widget; generated when absent.",
        pattern=_HTML_ID,
        pattern_hint="a letter, then letters, digits, '-' or '_'",
    ),
)

# Folders never searched when suggesting a model path for a misspelt one.
_SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "site", ".cache", "__pycache__"}
_MODEL_SUFFIXES = {".keras", ".h5", ".hdf5"}


@dataclass
class WidgetSpec:
    """Everything the build needs to know about one widget on one page."""

    page: str
    line: int
    widget: Widget
    model: str
    model_path: Path
    id: str
    quantize: str
    format: str
    title: str | None = None
    caption: str | None = None
    backend: str | None = None
    converter: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    #: Page line of each key of the block, so later checks can point at the key.
    key_lines: dict[str, int] = field(default_factory=dict)

    def error(self, message: str, key: str | None = None) -> DirectiveError:
        """Return an error that points at this widget's block, or at one of its keys."""
        return DirectiveError(self.page, self.key_lines.get(key, self.line), message)


def make_spec(
    block: Block,
    page: str,
    project_dir: Path,
    default_quantize: str,
    default_format: str,
    index: int,
) -> WidgetSpec:
    """Check ``block.values`` and return the widget spec they describe."""
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
                + (f" (widgets: {', '.join(WIDGETS)})" if option.name == "widget" else "")
            )
    widget_name = values["widget"]
    if not isinstance(widget_name, str) or widget_name not in WIDGETS:
        raise fail(
            f"unknown widget {widget_name!r}{_suggest(str(widget_name), WIDGETS)}; "
            f"choose one of: {', '.join(WIDGETS)}",
            "widget",
        )
    widget = WIDGETS[widget_name]
    known = {o.name: o for o in COMMON_OPTIONS + widget.options}
    for key in values:
        if key not in known:
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
        caption=checked.get("caption"),
        options={o.name: checked.get(o.name) for o in widget.options},
        key_lines=dict(block.key_lines),
    )
    widget.check_options(spec, project_dir, fail)
    return spec


def resolve_project_path(value: str, project_dir: Path, fail, key: str = "model") -> Path:
    """Resolve ``value`` against ``project_dir``; refuse paths that leave it or do not exist."""
    if os.path.isabs(value) or value.startswith("~"):
        raise fail(
            f"`{key}: {value}` is an absolute path; write it relative to the folder that "
            f"holds mkdocs.yml ({project_dir}) so the site builds on any machine"
        )
    root = project_dir.resolve()
    path = (root / value).resolve()
    if not path.is_relative_to(root):
        raise fail(
            f"`{key}: {value}` points outside the project folder ({root}); "
            "copy the file into the project and name it relative to mkdocs.yml"
        )
    if not path.exists():
        raise fail(f"`{key}: {value}` does not exist{_suggest_file(value, root, key)}")
    return path


def resolve_model_path(value: str, project_dir: Path, fail) -> Path:
    """Resolve a ``model`` value and check that it names a model."""
    path = resolve_project_path(value, project_dir, fail)
    if path.is_dir() and not (path / "saved_model.pb").exists():
        raise fail(
            f"`model: {value}` is a folder without saved_model.pb, so not a SavedModel; "
            "name a .keras or .h5 file, or a folder written by model.export()"
        )
    if path.is_file() and path.suffix.lower() not in _MODEL_SUFFIXES:
        raise fail(
            f"`model: {value}` is not a model file; use a Keras .keras or .h5 file "
            "or a SavedModel folder"
        )
    return path


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _suggest_file(value: str, root: Path, key: str) -> str:
    suffixes = _MODEL_SUFFIXES if key == "model" else {os.path.splitext(value)[1].lower()}
    candidates: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        if key == "model" and "saved_model.pb" in files:
            candidates.append(os.path.relpath(folder, root))
        candidates += [
            os.path.relpath(os.path.join(folder, f), root)
            for f in files
            if os.path.splitext(f)[1].lower() in suffixes
        ]
        if len(candidates) > 5000:
            break
    close = difflib.get_close_matches(value, candidates, n=1, cutoff=0.5)
    return (
        f"; did you mean `{close[0]}`?"
        if close
        else ("; check the path, relative to the folder that holds mkdocs.yml")
    )
