"""The ``handwriting`` widget: a drawing pad in, the top-k classes out.

``show:`` may name another output part (``image``, ``mask``), which then
draws what the model returns (sketch to picture); the widget hands it the
drawing the model saw.
"""

from __future__ import annotations

from typing import Any

from ...modelinfo import ModelInfo
from ...options import Option
from ..classes.part import OUTPUTS_OPTION, ClassifierWidget, labels_option
from ..part import WidgetSpec


class HandwritingWidget(ClassifierWidget):
    """Draw a character on a canvas; see the model's top-k guesses."""

    name = "handwriting"
    order = 20
    extra_runtime = ("fabric",)
    options = (
        labels_option(" Without `labels` the classes are shown as their numbers."),
        OUTPUTS_OPTION,
        Option(
            "topk",
            (int,),
            "How many candidates to show; at most the model's classes.",
            default=3,
            minimum=1,
        ),
        Option(
            "delay",
            (int,),
            "Milliseconds of stillness before recognising; default 800, and 400 on touch devices.",
            minimum=0,
            maximum=10000,
        ),
        Option(
            "stroke",
            (int, float),
            "Pen width in canvas pixels.",
            default=14,
            minimum=1,
            maximum=100,
        ),
        Option(
            "invert",
            (bool,),
            "`true`: the model was trained on light strokes on a dark "
            "background (MNIST, EMNIST); `false`: dark on light.",
            default=True,
        ),
        Option(
            "border",
            (int,),
            "Empty pixels around the character in the model's input; "
            "default 2 for a 28 x 28 input, scaled for other sizes.",
            minimum=0,
        ),
    )
    needs = "one single-channel square image [batch, N, N, 1] and a [batch, classes] output"

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Require an N x N x 1 input, and labels that match the outputs or an output part's fit."""
        if len(info.inputs) != 1:
            raise self._misfit(spec, info)
        shape = info.inputs[0].shape
        if len(shape) != 4 or shape[1] is None or shape[1] != shape[2] or shape[3] != 1:
            raise self._misfit(spec, info)
        self.check_output(spec, info)
        border = spec.options.get("border")
        if border is not None and 2 * border >= shape[1]:
            raise spec.error(
                f"`border: {border}` leaves no room for the character in a "
                f"{shape[1]} x {shape[1]} input; use at most {(shape[1] - 1) // 2}",
                "border",
            )

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Tell the page the input size, drawing options, and the labels or the output part."""
        size = info.inputs[0].shape[1] or 0
        shown = self.output_config(spec, info)
        border = spec.options.get("border")
        return {
            "size": size,
            **shown,
            "delay": spec.options.get("delay"),
            "stroke": spec.options["stroke"],
            "invert": spec.options["invert"],
            "border": border if border is not None else round(2 * size / 28),
        }


PART = HandwritingWidget()
