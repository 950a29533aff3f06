"""keras.layers' core: Dense, Embedding, Masking, and the layers that pass their input on."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import DType, Tensor
from ._common import (
    binary,
    cast,
    ints,
    nonzero,
    reduce,
    scalar,
    unary,
)
from ._fused import biased, kernel_and_bias
from .activations import activation, activation_name
from .registry import Call, Fold, layer


@layer("InputLayer", "Identity")
def identity(call: Call) -> Tensor:
    """Pass the model's input, or ``Identity()``'s, on as it is."""
    return call.x


@layer("Masking")
def masking(call: Call) -> Tensor:
    """``Masking(mask_value)``: a step whose every feature is ``mask_value`` becomes zeros.

    Its Keras mask (the steps with some other feature) goes to the layers
    that read it (the recurrent ones). A ``mask_value`` of 0 leaves the input
    as it is (a masked step is zeros already).
    """
    g, x = call.graph, call.x
    value = float(call.get("mask_value", 0.0))
    diff = binary(g, "Sub", x, scalar(g, value, "mask_value"), call.hint("diff")) if value else x
    distance = unary(g, "Abs", diff, call.hint("abs"))
    furthest = reduce(g, "Max", distance, [-1], True, call.hint("furthest"))
    keep = g.op(
        "Greater",
        [furthest, scalar(g, 0.0, "zero")],
        furthest.shape,
        call.hint("keep"),
        dtype="bool",
    )
    mask = cast(g, keep, "float32", call.hint("mask"))
    call.out_masks = [mask]
    if value == 0:
        return g.op("Identity", [x], x.shape, call.hint(), {"T": DType("float32")})
    return binary(g, "Mul", x, mask, call.hint())


def dense_like(
    call: Call, x: Tensor, kernel: np.ndarray, bias: np.ndarray | None, act: Any
) -> Tensor:
    """``x @ kernel + bias`` then the activation, fused where TF.js can."""
    g = call.graph
    shape = (*x.shape[:-1], kernel.shape[-1])
    k = call.const("kernel", kernel)
    if x.rank == 2:
        attrs = {"transpose_a": False, "transpose_b": False}
        if bias is not None:
            attrs["epsilon"] = 0.0
        return biased(
            call, ("MatMul", "_FusedMatMul"), x, k, bias, act, shape, attrs, call.hint("MatMul")
        )
    # Dense on [batch, ..., features] multiplies the last axis only.
    out = g.op(
        "BatchMatMulV2", [x, k], shape, call.hint("MatMul"), {"adj_x": False, "adj_y": False}
    )
    if bias is not None:
        out = binary(g, "AddV2", out, call.const("bias", bias), call.hint("BiasAdd"))
    return activation(g, out, act, call.hint(activation_name(act) or ""), call.legacy)


@layer("Dense", folds=Fold())
def dense(call: Call) -> Tensor:
    """``Dense(units)`` on a tensor of any rank ≥ 2."""
    (kernel,), bias = kernel_and_bias(call)
    return dense_like(call, call.x, kernel, bias, call.config.get("activation"))


@layer("Embedding")
def embedding(call: Call) -> Tensor:
    """``Embedding(input_dim, output_dim)``: a gather of rows by integer index."""
    g = call.graph
    table = call.weights()[0]
    indices = call.x
    if indices.dtype != "int32":
        indices = cast(g, indices, "int32", call.hint("indices"))
    if call.get("mask_zero", False):
        # Keras's mask: the steps whose index is not 0.
        kept = nonzero(g, indices, call.hint("kept"))
        as_float = cast(g, kept, "float32", call.hint("mask_float"))
        call.out_masks = [
            g.op("ExpandDims", [as_float, ints(g, -1, "axis")], (*kept.shape, 1), call.hint("mask"))
        ]
    return g.op(
        "GatherV2",
        [call.const("embeddings", table), indices, ints(g, 0, "axis")],
        (*indices.shape, table.shape[1]),
        call.hint(),
        {"batch_dims": 0},
    )
