"""Regularization layers: noise, dropout and penalties that act in training only.

At inference each passes its input on as it is, so none of them adds an op.
"""

from __future__ import annotations

from ..graph import Tensor
from .registry import Call, layer


@layer(
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
)
def inference_identity(call: Call) -> Tensor:
    """Layers that do nothing at inference."""
    return call.x
