"""An op, its bias and its activation, as one fused TF.js node where TF.js has one.

Shared by the layers that own a kernel and a bias (Dense, the convolutions),
whatever their domain.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Tensor
from .activations import activation, activation_name
from .registry import Call

# Activations TF.js fuses into _FusedConv2D / _FusedMatMul / FusedDepthwiseConv2dNative.
_FUSABLE = {"relu": "Relu", "relu6": "Relu6", "elu": "Elu", "sigmoid": "Sigmoid"}


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
    adds it, and applies the activation too where TF.js's fused kernels have it.
    """
    g = call.graph
    name = activation_name(act)
    act_hint = call.hint(suffix + (name or ""))
    if bias is None:
        return activation(g, g.op(ops[0], [x, k], shape, hint, attrs), act, act_hint, call.legacy)
    fused = _FUSABLE.get(name or "")
    attrs = {**attrs, "fused_ops": ["BiasAdd", fused] if fused else ["BiasAdd"], "num_args": 1}
    out = g.op(ops[1], [x, k, call.const(suffix + "bias", bias)], shape, hint, attrs)
    return out if fused else activation(g, out, act, act_hint, call.legacy)


def kernel_and_bias(call: Call, kernels: int = 1) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Return a layer's ``kernels`` kernel weights and its bias (None without ``use_bias``)."""
    weights = call.weights()
    return weights[:kernels], (weights[kernels] if call.get("use_bias", True) else None)
