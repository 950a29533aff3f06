"""Normalization layers: batch (at inference), layer, group, RMS and unit normalization.

:func:`batchnorm_affine` is also what the walker folds into the layer before
a BatchNormalization (see each handler's ``folds=``).
"""

from __future__ import annotations

import numpy as np

from ..graph import Tensor
from ._common import (
    as_param,
    axes_list,
    axis_of,
    binary,
    reduce,
    reshape_tail,
    scalar,
    unary,
)
from .registry import Call, Unsupported, layer


def batchnorm_affine(call: Call) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Return BatchNormalization's inference form ``x * scale + offset`` and its axes."""
    weights = call.weights()
    i = 0
    gamma = beta = None
    if call.get("scale", True):
        gamma, i = weights[i], i + 1
    if call.get("center", True):
        beta, i = weights[i], i + 1
    mean, variance = weights[i], weights[i + 1]
    epsilon = float(call.get("epsilon", 1e-3))
    scale = 1.0 / np.sqrt(variance.astype(np.float64) + epsilon)
    if gamma is not None:
        scale = scale * gamma
    offset = -mean * scale + (beta if beta is not None else 0.0)
    return scale.astype(np.float32), offset.astype(np.float32), axes_list(call.get("axis", -1))


@layer("BatchNormalization")
def batch_normalization(call: Call) -> Tensor:
    """``BatchNormalization`` at inference: one multiply and one add per channel."""
    scale, offset, axes = batchnorm_affine(call)
    g = call.graph
    out = binary(
        g, "Mul", call.x, call.const("scale", as_param(scale, call.x, axes)), call.hint("scale")
    )
    return binary(
        g, "AddV2", out, call.const("offset", as_param(offset, call.x, axes)), call.hint()
    )


def _mean_and_inverse_std(call: Call, x: Tensor, axes: list[int]) -> tuple[Tensor, Tensor]:
    """Return ``x``'s mean over ``axes`` and ``rsqrt(variance + epsilon)``, both kept as axes."""
    g = call.graph
    epsilon = scalar(g, float(call.get("epsilon", 1e-3)), "epsilon")
    mean = reduce(g, "Mean", x, axes, True, call.hint("mean"))
    squared = binary(g, "SquaredDifference", x, mean, call.hint("sq_diff"))
    variance = reduce(g, "Mean", squared, axes, True, call.hint("variance"))
    plus_eps = binary(g, "AddV2", variance, epsilon, call.hint("plus_eps"))
    return mean, unary(g, "Rsqrt", plus_eps, call.hint("rsqrt"))


@layer("LayerNormalization")
def layer_normalization(call: Call) -> Tensor:
    """``LayerNormalization``, including ``rms_scaling``."""
    g, x = call.graph, call.x
    axes = axes_list(call.get("axis", -1))
    weights = call.weights()
    rms = bool(call.get("rms_scaling", False))
    scale = call.get("scale", True) or rms
    gamma = weights[0] if scale else None
    beta = weights[1 if scale else 0] if call.get("center", True) and not rms else None
    mean, inv = _mean_and_inverse_std(call, x, axes)
    if rms:
        # Keras's rms_scaling divides by the standard deviation and does not centre.
        out = binary(g, "Mul", x, inv, call.hint("normalized"))
        return binary(g, "Mul", out, call.const("gamma", as_param(gamma, x, axes)), call.hint())
    if gamma is not None:
        inv = binary(
            g, "Mul", inv, call.const("gamma", as_param(gamma, x, axes)), call.hint("scaled")
        )
    out = binary(
        g, "Mul", binary(g, "Sub", x, mean, call.hint("centered")), inv, call.hint("normalized")
    )
    if beta is not None:
        out = binary(g, "AddV2", out, call.const("beta", as_param(beta, x, axes)), call.hint())
    return out


@layer("RMSNormalization")
def rms_normalization(call: Call) -> Tensor:
    """``RMSNormalization``: ``x * rsqrt(mean(x²) + epsilon) * scale``."""
    g, x = call.graph, call.x
    axes = axes_list(call.get("axis", -1))
    mean_square = reduce(
        g, "Mean", unary(g, "Square", x, call.hint("square")), axes, True, call.hint("mean_square")
    )
    epsilon = scalar(g, float(call.get("epsilon", 1e-6)), "epsilon")
    inv = unary(
        g,
        "Rsqrt",
        binary(g, "AddV2", mean_square, epsilon, call.hint("plus_eps")),
        call.hint("rsqrt"),
    )
    out = binary(g, "Mul", x, inv, call.hint("normalized"))
    return binary(
        g, "Mul", out, call.const("scale", as_param(call.weights()[0], x, axes)), call.hint()
    )


@layer("UnitNormalization")
def unit_normalization(call: Call) -> Tensor:
    """``UnitNormalization``: ``x * min(rsqrt(sum(x²)), 1 / 1e-12)`` over ``axis``."""
    g, x = call.graph, call.x
    axes = axes_list(call.get("axis", -1))
    total = reduce(
        g, "Sum", unary(g, "Square", x, call.hint("square")), axes, True, call.hint("sum")
    )
    inv = binary(
        g,
        "Minimum",
        unary(g, "Rsqrt", total, call.hint("rsqrt")),
        scalar(g, 1e12, "inv_eps"),
        call.hint("inv_norm"),
    )
    return binary(g, "Mul", x, inv, call.hint())


@layer("GroupNormalization")
def group_normalization(call: Call) -> Tensor:
    """``GroupNormalization(groups)`` over the channels (the last axis), as Keras computes it.

    The channels split into [groups, channels / groups]; each group's mean and
    variance run over every axis but the batch and the group.
    """
    g, x = call.graph, call.x
    if axis_of(int(call.get("axis", -1)), x.rank) != x.rank - 1:
        raise Unsupported("GroupNormalization over an axis other than the last")
    channels = x.shape[-1]
    groups = int(call.get("groups", 32))
    groups = channels if groups == -1 else groups
    size = channels // groups
    grouped = reshape_tail(g, x, x.rank - 1, [groups, size], call.hint("grouped"))
    axes = [a for a in range(1, grouped.rank) if a != grouped.rank - 2]
    mean, inv = _mean_and_inverse_std(call, grouped, axes)
    weights = call.weights()
    if call.get("scale", True):
        gamma = call.const("gamma", weights.pop(0).reshape(groups, size))
        inv = binary(g, "Mul", inv, gamma, call.hint("scaled"))
    res = unary(g, "Neg", binary(g, "Mul", mean, inv, call.hint("mean_inv")), call.hint("res"))
    if call.get("center", True):
        beta = call.const("beta", weights.pop(0).reshape(groups, size))
        res = binary(g, "AddV2", res, beta, call.hint("shifted"))
    out = binary(
        g, "AddV2", binary(g, "Mul", grouped, inv, call.hint("normalized")), res, call.hint("out")
    )
    return reshape_tail(g, out, x.rank - 1, [channels], call.hint())
