"""Widgets of the author's own: the frame (``custom.html``) their ES module draws in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...modelinfo import ModelInfo
from ..part import Widget, WidgetSpec


class CustomWidget(Widget):
    """A widget of the author's own: an ES module named under ``widgets:`` in mkdocs.yml.

    The build checks the keys every widget takes; the block's other keys
    reach the module unchanged as ``ctx.options``.
    """

    kind = "author"
    order = 90
    extra_keys = True
    # With `show:` the module may hand the model's output to an output part (ctx.outputPart()).
    composes = True
    # The author's module may call any TF.js function, not only those the lean runtime holds.
    full_runtime = True
    needs = "what its module expects"

    def __init__(self, name: str = "custom", module: Path | None = None) -> None:
        self.name = name
        self.module = module

    #: As an output part (``show:`` naming it after a built-in input), it draws in this frame.
    template = "custom_output.html"

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Hand the module the block's own keys; as an output part, its module and frame.

        As an output part the module registers its class with ``registerOutput`` and the
        input hands it the model's output; the build checks no shape for it.
        """
        if spec.output is self:
            return {"module": f"{self.name}.js", "template": self.template, "author": self.name}
        if spec.output is not None:
            return {"options": spec.options, "output": spec.output.browser_config(spec, info)}
        return {"options": spec.options}

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Check nothing of the module's own; an output part named in ``show:`` checks its fit."""
        if spec.output is not None and spec.output is not self:
            spec.output.check_model(spec, info)


#: The frame itself; each widget under ``widgets:`` in mkdocs.yml is a CustomWidget of its own.
PART = CustomWidget()
