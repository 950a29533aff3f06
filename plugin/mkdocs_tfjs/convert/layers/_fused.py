"""An op, its bias and its activation, as one fused TF.js node where TF.js has one.

Shared by the layers that own a kernel and a bias (Dense, the convolutions),
whatever their domain. The bias goes into the fused node here; the activation
follows as its own op, the layer's own or a later layer's (``ReLU(6.0)`` after
a Conv2D and a folded BatchNormalization), and :meth:`Graph.fuse_activations`
folds it into the fused node where TF.js's fused kernels apply it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Tensor
from .activations import activation, activation_name
from .registry import Call


def biased(
    call: Call,
    ops: tuple[str, str],
    x: Tensor,
    k: Tensor,
    bias: np.ndarray | None,
    act: Any,
    shape: tuple,
    attrs: dict[str, Any],
    hint: str,
    suffix: str = "",
) -> Tensor:
    """Add ``ops[0](x, k)``, the bias and the activation.

    With a bias, one ``ops[1]`` node (``_FusedConv2D``, ``_FusedMatMul``...)
    adds it; the activation after it is fused when the graph is written.
    """
    g = call.graph
    act_hint = call.hint(suffix + (activation_name(act) or ""))
    if bias is None:
        out = g.op(ops[0], [x, k], shape, hint, attrs)
    else:
        attrs = {**attrs, "fused_ops": ["BiasAdd"], "num_args": 1}
        out = g.op(ops[1], [x, k, call.const(suffix + "bias", bias)], shape, hint, attrs)
    return activation(g, out, act, act_hint, call.legacy)


def kernel_and_bias(call: Call, kernels: int = 1) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Return a layer's ``kernels`` kernel weights and its bias (None without ``use_bias``)."""
    weights = call.weights()
    return weights[:kernels], (weights[kernels] if call.get("use_bias", True) else None)
