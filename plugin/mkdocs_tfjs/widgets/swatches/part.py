"""The ``palette`` output: the model's ``[batch, 3·k]`` output drawn as k colour swatches.

A click on a swatch copies its hex code. The folder is ``swatches/`` because
``palette/`` is the input of the same name (noise and a Generate button).
"""

from __future__ import annotations

from typing import Any

from ...modelinfo import ModelInfo
from ...options import Option
from ..part import Widget, WidgetSpec


class PaletteOutput(Widget):
    """k colours: each three values in [0, 1] (red, green, blue), drawn as a swatch."""

    name = "palette"
    kind = "output"
    order = 58
    script = "swatches.js"
    template = "swatches.html"
    options = (
        Option(
            "sort",
            (str,),
            "Order of the swatches: as the model returns them (`none`) "
            "or from dark to light (`lightness`).",
            choices=("none", "lightness"),
            default="none",
        ),
    )
    needs = "one output of 3·k values in [0, 1] [batch, 3·k]"

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Require one rank-2 output of 3·k values."""
        out = info.outputs[0].shape if len(info.outputs) == 1 else ()
        if len(out) != 2 or out[1] is None or out[1] % 3 != 0:
            # Without `show:`, the widget's default output was asked for.
            raise self._misfit(spec, info, "show" if "show" in spec.key_lines else "widget")

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Tell the page the number of colours and their order, and the part's module."""
        return {
            "module": self.script,
            "template": self.template,
            "colours": info.outputs[0].shape[1] // 3,
            "sort": spec.options["sort"],
        }


PART = PaletteOutput()
