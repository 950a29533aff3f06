"""The ``generator`` input: noise and a Generate button; an output part shows what comes out."""

from __future__ import annotations

from typing import Any

from ...modelinfo import ModelInfo
from ...options import Option
from ..part import Widget, WidgetSpec


def noise_option(default: str) -> Option:
    """Return the `noise` key with its default (the palette's is uniform)."""
    return Option(
        "noise",
        (str,),
        "Distribution of the generator's input: `uniform` in [0, 1) or standard `normal`.",
        choices=("uniform", "normal"),
        default=default,
    )


class GeneratorWidget(Widget):
    """Noise in, the model's output shown by the output part ``show:`` names (default ``image``)."""

    name = "generator"
    order = 15
    default_show = "image"
    composes = True
    options = (noise_option("normal"),)
    needs = "one noise vector [batch, n]"

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Require one rank-2 input; the output part checks the output."""
        if len(info.inputs) != 1:
            raise self._misfit(spec, info)
        noise = info.inputs[0].shape
        if len(noise) != 2 or noise[1] is None:
            raise self._misfit(spec, info)
        assert spec.output is not None  # a composing input always has an output part
        spec.output.check_model(spec, info)

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Tell the page the noise size and distribution, and the output part's configuration."""
        assert spec.output is not None
        return {
            "noiseSize": info.inputs[0].shape[1],
            "noise": spec.options["noise"],
            "output": spec.output.browser_config(spec, info),
        }


PART = GeneratorWidget()
