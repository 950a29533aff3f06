"""The ``image`` output: the model's ``[batch, H, W, 1 | 3]`` output drawn on a canvas.

Grey for one channel, RGB for three; the value range, drawn from black to
white, is the block's ``range`` or read from the last activation (sigmoid:
0 to 1, tanh: -1 to 1). The folder is ``picture/`` because ``image/`` is the
input of the same name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...modelinfo import ModelInfo
from ...options import Option
from ..part import Fail, Widget, WidgetSpec

#: The value range of a picture that ends in these activations.
ACTIVATION_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


class ImageOutput(Widget):
    """A picture: the model's output tensor drawn on a canvas, one pixel per value."""

    name = "image"
    kind = "output"
    order = 60
    script = "picture.js"
    template = "picture.html"
    options = (
        Option(
            "range",
            (list,),
            "`show: image` only: `[low, high]`, the values of the model's output drawn as "
            "black and white (each channel mapped linearly to 0-255, clamped). Read from the "
            "output layer's activation when it is `sigmoid` (0 to 1) or `tanh` (-1 to 1); "
            "required otherwise.",
        ),
    )
    needs = "one output picture [batch, H, W, 1] (grey) or [batch, H, W, 3] (RGB)"

    def check_options(self, spec: WidgetSpec, project_dir: Path, fail: Fail) -> None:
        """Refuse a ``range`` that is not two numbers, low below high."""
        value = spec.options.get("range")
        if value is None:
            return
        numbers = [v for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(value) != 2 or len(numbers) != 2 or not numbers[0] < numbers[1]:
            raise fail(
                f"`range` must be `[low, high]`, two numbers with low below high; found {value!r}",
                "range",
            )

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Require one rank-4 output with 1 or 3 channels, and a range to draw it with."""
        out = info.outputs[0].shape if len(info.outputs) == 1 else ()
        if len(out) != 4 or out[1] is None or out[2] is None or out[3] not in (1, 3):
            raise self._misfit(spec, info)
        self.value_range(spec, info)

    def value_range(self, spec: WidgetSpec, info: ModelInfo) -> tuple[float, float]:
        """Return the values drawn black and white: declared, or read from the activation."""
        declared = spec.options.get("range")
        if declared is not None:
            return float(declared[0]), float(declared[1])
        activation = info.output_activation
        if activation in ACTIVATION_RANGES:
            return ACTIVATION_RANGES[activation]
        found = (
            f"its output layer has a `{activation}` activation"
            if activation
            else "its output layer has no activation to read"
        )
        raise spec.error(
            f"cannot tell which values of `{spec.model}`'s picture are black and white: "
            f"{found}; add `range: [low, high]` to the block (for example `range: [0, 255]`)",
            "show",
        )

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Tell the page the picture's size, channels and range, and the part's module."""
        _, height, width, channels = info.outputs[0].shape
        return {
            "module": self.script,
            "template": self.template,
            "height": height,
            "width": width,
            "channels": channels,
            "range": list(self.value_range(spec, info)),
        }


PART = ImageOutput()
