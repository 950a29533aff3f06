"""What every widget part is: its keys, its check against the model, what the page gets.

A part is a folder under ``widgets/``: its Python (``part.py``, which names
the part in ``PART``), its ES module, its template and its styles. An input
part is what a block names in ``widget:``; an output part shows what a model
returns and is used by the inputs (``classes``: the top-k bars). The
``custom`` part is the frame of the author's own widgets. Nothing here
imports MkDocs or TensorFlow, nor the spec (``spec.py`` imports this).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..errors import DirectiveError
from ..modelinfo import ModelInfo
from ..options import Option

Fail = Callable[..., DirectiveError]

#: The file kinds a part folder ships: ES modules, templates and styles.
PART_FILES = ("*.js", "*.html", "*.css")


class Widget:
    """Base class of a part: an input (a widget a block names) or an output."""

    name: str = ""
    #: ``input`` (what a block's ``widget:`` names), ``output``, or ``author``: the
    #: frame of an author's widget.
    kind: ClassVar[str] = "input"
    #: Where the part comes in lists shown to authors and in the stylesheet.
    order: ClassVar[int] = 100
    #: The part's folder (set by the registry).
    folder: Path | None = None
    #: Keys this widget accepts besides the common ones.
    options: tuple[Option, ...] = ()
    #: Runtime pieces (see ``runtime.py``) the widget needs beyond TF.js.
    extra_runtime: tuple[str, ...] = ()
    #: What the widget needs of a model, for error messages.
    needs: str = ""
    #: Whether keys beyond the common ones pass through to the widget's module.
    extra_keys: bool = False
    #: Whether the page needs all of TF.js, not the lean runtime, whatever the model's ops.
    full_runtime: bool = False
    #: Inputs: the outputs this input's own module draws (``show:`` may name them).
    shows: tuple[str, ...] = ()
    #: Inputs: what ``show:`` defaults to (None: the input decides, as the sliders' ``kind``).
    default_show: str | None = None
    #: Inputs: whether the input hands the model's output to an output part's module,
    #: so that ``show:`` may name any output part.
    composes: bool = False
    #: Output parts: the ES module and the template that draw the output.
    script: str = ""
    template: str = ""
    #: The author's ES module of a widget of their own (built-in parts ship theirs in their folder).
    module: Path | None = None

    def files(self) -> list[Path]:
        """Return the part's ES modules, templates and styles, sorted."""
        if self.folder is None:
            return []
        return sorted(p for pattern in PART_FILES for p in self.folder.glob(pattern))

    def default_show_for(self, values: dict[str, Any]) -> str | None:
        """Return what a block without ``show:`` shows, given its keys (``values``)."""
        return self.default_show

    def check_options(self, spec: WidgetSpec, project_dir: Path, fail: Fail) -> None:
        """Check keys whose validity depends on other keys or on files."""

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Raise a :class:`DirectiveError` when the model does not fit the widget."""

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Return the widget-specific part of the configuration the page gets."""
        return {}

    def site_files(self, spec: WidgetSpec) -> dict[str, Path]:
        """Return files to copy into the site: ``{path in the site: source}``."""
        return {}

    def _misfit(
        self, spec: WidgetSpec, info: ModelInfo, key: str = "show", also: str = ""
    ) -> DirectiveError:
        """Return the error of a model this widget cannot take; ``also`` adds to its need.

        An output part's points at ``key`` (the block's ``show:``), an input's at the block.
        """
        if self.kind == "output":
            return spec.error(
                f"`{spec.model}` does not fit `show: {self.name}`: it {info.describe_io()}, "
                f"but the {self.name} output needs {self.needs}{also}",
                key,
            )
        return spec.error(
            f"`{spec.model}` does not fit the {self.name} widget: it {info.describe_io()}, "
            f"but the {self.name} widget needs {self.needs}{also}"
        )


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
    #: When the reader's browser fetches the model: ``auto``, ``visible`` or ``click``.
    load: str = "auto"
    #: ``browser_cache:`` of the block; None takes the plugin's option.
    browser_cache: bool | None = None
    options: dict[str, Any] = field(default_factory=dict)
    #: What the widget shows of the model's output (``show:``, or the input's default).
    show: str | None = None
    #: The output part that draws it, where the input's own module does not.
    output: Widget | None = None
    #: The page line of each key of the block, for errors about one key.
    key_lines: dict[str, int] = field(default_factory=dict)

    def error(self, message: str, key: str | None = None) -> DirectiveError:
        """Return an error that points at ``key``'s line, or at the block's first line."""
        return DirectiveError(
            self.page, self.key_lines.get(key, self.line) if key else self.line, message
        )
