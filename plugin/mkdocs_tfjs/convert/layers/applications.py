"""The small custom layers keras.applications models carry (ConvNeXt, InceptionResNetV2)."""

from __future__ import annotations

from ..graph import Tensor
from ._common import (
    binary,
    scalar,
)
from .registry import Call, layer


@layer("LayerScale")
def layer_scale(call: Call) -> Tensor:
    """ConvNeXt's ``LayerScale``: ``x * gamma``."""
    return binary(call.graph, "Mul", call.x, call.const("gamma", call.weights()[0]), call.hint())


@layer("CustomScaleLayer")
def custom_scale(call: Call) -> Tensor:
    """InceptionResNetV2's ``CustomScaleLayer``: ``inputs[0] + inputs[1] * scale``."""
    g = call.graph
    scaled = binary(
        g,
        "Mul",
        call.inputs[1],
        scalar(g, float(call.config["scale"]), "scale"),
        call.hint("scaled"),
    )
    return binary(g, "AddV2", call.inputs[0], scaled, call.hint())
