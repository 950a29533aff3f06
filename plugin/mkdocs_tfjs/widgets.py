"""The widgets: their own keys, what models they accept, what the page gets.

A widget here is a description, not code that runs in the browser: its keys
(beyond the common ones), the check that a converted model fits it, and the
JSON configuration handed to its ES module (``assets/<name>.js``). Nothing
here imports MkDocs or TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DirectiveError
from .modelinfo import ModelInfo
from .options import Option

if TYPE_CHECKING:
    from .spec import WidgetSpec

Fail = Callable[..., DirectiveError]


class Widget:
    """Base class of a widget description."""

    name: str = ""
    #: Keys this widget accepts besides the common ones.
    options: tuple[Option, ...] = ()
    #: Runtime pieces (see ``runtime.py``) the widget needs beyond TF.js.
    extra_runtime: tuple[str, ...] = ()
    #: What the widget needs of a model, for error messages.
    needs: str = ""

    def check_options(self, spec: WidgetSpec, project_dir: Path, fail: Fail) -> None:
        """Check keys whose validity depends on other keys or on files."""

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Raise a :class:`DirectiveError` when the model does not fit the widget."""

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Return the widget-specific part of the configuration the page gets."""
        return {}

    def _misfit(self, spec: WidgetSpec, info: ModelInfo) -> DirectiveError:
        return spec.error(
            f"`{spec.model}` does not fit the {self.name} widget: it {info.describe_io()}, "
            f"but the {self.name} widget needs {self.needs}"
        )


class PaletteWidget(Widget):
    """A generator of colour palettes: noise in, 3·k values in [0, 1] out."""

    name = "palette"
    options = (
        Option(
            "noise",
            (str,),
            "Distribution of the generator's input: `uniform` in [0, 1) or standard `normal`.",
            choices=("uniform", "normal"),
            default="uniform",
        ),
        Option(
            "sort",
            (str,),
            "Order of the swatches: as the model returns them (`none`) "
            "or from dark to light (`lightness`).",
            choices=("none", "lightness"),
            default="none",
        ),
    )
    needs = "a model that takes one noise vector [batch, n] and returns 3·k values [batch, 3·k]"

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Require one rank-2 input and a rank-2 output of 3·k values."""
        if len(info.inputs) != 1 or len(info.outputs) != 1:
            raise self._misfit(spec, info)
        noise, out = info.inputs[0].shape, info.outputs[0].shape
        if len(noise) != 2 or noise[1] is None or len(out) != 2 or out[1] is None:
            raise self._misfit(spec, info)
        if out[1] % 3 != 0:
            raise self._misfit(spec, info)

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Tell the page the noise size, the number of colours and the options."""
        return {
            "noiseSize": info.inputs[0].shape[1],
            "colours": (info.outputs[0].shape[1] or 0) // 3,
            "noise": spec.options["noise"],
            "sort": spec.options["sort"],
        }


WIDGETS: dict[str, Widget] = {w.name: w for w in (PaletteWidget(),)}
