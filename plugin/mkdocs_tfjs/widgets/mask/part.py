"""The ``mask`` output: a ``[batch, H, W, C]`` per-pixel class score map over the input picture.

Each pixel is drawn in the colour of its most probable class, on a layer
over the picture the model saw, with an opacity control and a legend of the
classes (``labels``). The mask must be the input picture's size, so the
input has to be a picture (the ``image`` widget).
"""

from __future__ import annotations

import colorsys
from pathlib import Path
from typing import Any

from ...modelinfo import ModelInfo
from ...options import Option
from ..classes.part import labels_option, read_labels
from ..part import Fail, Widget, WidgetSpec

#: Class colours: Tableau 10, distinct and readable over most pictures.
BASE_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


def class_colours(count: int) -> list[str]:
    """Return ``count`` distinct colours: Tableau 10, then hues a golden angle apart."""
    colours = list(BASE_COLOURS[:count])
    step = 0
    while len(colours) < count:
        hue = (step * 0.381966) % 1.0
        lightness = (0.45, 0.6, 0.35)[(step // 7) % 3]
        red, green, blue = colorsys.hls_to_rgb(hue, lightness, 0.7)
        colour = "#{:02x}{:02x}{:02x}".format(*(round(255 * v) for v in (red, green, blue)))
        step += 1
        # The page tells the classes apart by colour alone: no two may be equal.
        if colour not in colours:
            colours.append(colour)
    return colours


class MaskOutput(Widget):
    """Coloured classes over the input picture: the argmax of each pixel's scores."""

    name = "mask"
    kind = "output"
    order = 70
    script = "mask.js"
    template = "mask.html"
    options = (
        labels_option(" For `show: mask`, one per channel of the mask."),
        Option(
            "opacity",
            (float,),
            "`show: mask` only: how opaque the coloured classes start over the picture, "
            "from 0 (the picture alone) to 1 (the classes alone); readers change it with a slider.",
            default=0.5,
            minimum=0,
            maximum=1,
        ),
    )
    needs = "a picture input [batch, H, W, channels] and a mask output [batch, H, W, classes]"

    def check_options(self, spec: WidgetSpec, project_dir: Path, fail: Fail) -> None:
        """Load the labels (a name, a list or a JSON file) when the input has not."""
        read_labels(spec, project_dir, fail)

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Require a mask of the input picture's size with two classes or more, one label each."""
        out = info.outputs[0].shape if len(info.outputs) == 1 else ()
        picture = info.inputs[0].shape if len(info.inputs) == 1 else ()
        fits = (
            len(out) == 4
            and len(picture) == 4
            and None not in out[1:]
            and out[3] >= 2
            and tuple(out[1:3]) == tuple(picture[1:3])
        )
        if not fits:
            raise self._misfit(spec, info, also=", the mask as high and wide as the picture")
        labels = spec.options.get("labels")
        if labels is not None and len(labels) != out[3]:
            raise spec.error(
                f"`labels` has {len(labels)} labels but `{spec.model}`'s mask has {out[3]} "
                "classes; give one label per channel of the mask, in the model's order",
                "labels",
            )

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Tell the page the mask's size, its classes' labels and colours, and the opacity."""
        _, height, width, classes = info.outputs[0].shape
        return {
            "module": self.script,
            "template": self.template,
            "height": height,
            "width": width,
            "classes": classes,
            "labels": spec.options.get("labels") or [str(i) for i in range(classes)],
            "colours": class_colours(classes),
            "opacity": spec.options["opacity"],
        }


PART = MaskOutput()
