"""The ``palette`` widget: noise in, a palette of colour swatches out."""

from __future__ import annotations

from typing import Any

from ...modelinfo import ModelInfo
from ...options import Option
from ..part import Widget, WidgetSpec


class PaletteWidget(Widget):
    """A generator of colour palettes: noise in, 3·k values in [0, 1] out."""

    name = "palette"
    order = 10
    shows = ("palette",)
    default_show = "palette"
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


PART = PaletteWidget()
