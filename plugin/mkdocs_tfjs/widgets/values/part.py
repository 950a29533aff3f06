"""The ``values`` output: the model's ``[batch, m]`` output shown as m named numbers.

Any composing input may show it: the sliders (a regression on tabular
features), the image or handwriting input (a picture scored on m scales).
The names are ``labels`` (the sliders also take them from their ``outputs``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...modelinfo import ModelInfo
from ...options import Option
from ..classes.part import labels_option, read_labels
from ..part import Fail, Widget, WidgetSpec

DECIMALS = Option(
    "decimals",
    (int,),
    "`show: values` only: decimals shown for each value.",
    default=2,
    minimum=0,
    maximum=10,
)
UNIT = Option(
    "unit",
    (str,),
    "`show: values` only: text shown after each value, after a space (`g`, `%`, `°C`).",
)


class ValuesOutput(Widget):
    """Named numbers: one row per output value, its name and the value with a unit."""

    name = "values"
    kind = "output"
    order = 55
    script = "values.js"
    template = "values.html"
    options = (
        labels_option(" For `show: values`, one name per value, in the model's order."),
        DECIMALS,
        UNIT,
    )
    needs = "one output of m values [batch, m]"

    def check_options(self, spec: WidgetSpec, project_dir: Path, fail: Fail) -> None:
        """Load the names (a list or a JSON file) when the input has not."""
        read_labels(spec, project_dir, fail)

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Require one rank-2 output; as many names as values, when the block names them."""
        out = info.outputs[0].shape if len(info.outputs) == 1 else ()
        if len(out) != 2 or out[1] is None:
            raise self._misfit(spec, info)
        names = spec.options.get("labels")
        if names is not None and len(names) != out[1]:
            raise spec.error(
                f"`labels` has {len(names)} names but `{spec.model}` returns {out[1]} values "
                f"({info.outputs[0].describe()}); give one name per value, in the model's order",
                "labels",
            )

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Tell the page the names, the decimals and the unit, and the part's module."""
        count = info.outputs[0].shape[1]
        return {
            "module": self.script,
            "template": self.template,
            "labels": spec.options.get("labels") or [str(i) for i in range(count)],
            "decimals": spec.options["decimals"],
            "unit": spec.options.get("unit") or "",
        }


PART = ValuesOutput()
