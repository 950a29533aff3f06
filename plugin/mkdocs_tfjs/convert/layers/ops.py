"""keras.ops nodes of a functional model (``ops.Add``...): ``x + 1`` or ``ops.gelu(x)``."""

from __future__ import annotations

from collections.abc import Callable

from ..graph import DType, Tensor
from ._common import (
    axes_list,
    binary,
    nonzero,
    reduce,
    scalar,
)
from .activations import gelu
from .registry import LAYERS, Call, Unsupported, layer


def _operands(call: Call) -> tuple[Tensor, Tensor]:
    """Return the two operands of a keras.ops binary node; numbers become constants."""
    values = []
    pending = iter(call.inputs)
    for arg in call.args[:2]:
        if isinstance(arg, (int, float)):
            values.append(
                scalar(
                    call.graph, float(arg), f"c{float(arg)!r}".replace(".", "_").replace("-", "m")
                )
            )
        else:
            values.append(next(pending))
    return values[0], values[1]


def _op_binary(op: str) -> Callable[[Call], Tensor]:
    def lower(call: Call) -> Tensor:
        a, b = _operands(call)
        return binary(call.graph, op, a, b, call.hint())

    lower.__doc__ = f"The keras.ops node, as ``{op}`` (numbers become constants)."
    return lower


LAYERS.update(
    {
        "ops.Add": _op_binary("AddV2"),
        "ops.Subtract": _op_binary("Sub"),
        "ops.Multiply": _op_binary("Mul"),
        "ops.Divide": _op_binary("RealDiv"),
        "ops.TrueDivide": _op_binary("RealDiv"),
        "ops.Maximum": _op_binary("Maximum"),
        "ops.Minimum": _op_binary("Minimum"),
    }
)


@layer("ops.Gelu")
def gelu_op(call: Call) -> Tensor:
    """``keras.ops.gelu(x, approximate=...)`` (approximate by default, as in keras.ops)."""
    return gelu(call.graph, call.x, call.hint(), approximate=bool(call.get("approximate", True)))


@layer("ops.NotEqual")
def not_equal_op(call: Call) -> Tensor:
    """``keras.ops.not_equal(x, value)``: how Keras 3 records a mask (``mask_zero``, Masking).

    Written as ``|x - value| > 0`` (exact for finite numbers).
    """
    g = call.graph
    x = call.x
    value = next((a for a in call.args[:2] if isinstance(a, (int, float))), None)
    if value is None:
        raise Unsupported("not_equal of two tensors")
    diff = x
    if value:
        diff = binary(g, "Sub", x, g.const(call.hint("value"), value, x.dtype), call.hint("diff"))
        diff.dtype = x.dtype
    return nonzero(g, diff, call.hint())


@layer("ops.Any")
def any_op(call: Call) -> Tensor:
    """``keras.ops.any(x, axis, keepdims)`` of a boolean tensor, as ``max(float(x)) > 0``."""
    g, x = call.graph, call.x
    axes = axes_list(call.get("axis", list(range(x.rank))))
    as_float = g.op(
        "Cast",
        [x],
        x.shape,
        call.hint("as_float"),
        {"DstT": DType("float32"), "SrcT": DType("bool")},
    )
    keep = bool(call.get("keepdims", False))
    largest = reduce(g, "Max", as_float, axes, keep, call.hint("max"))
    return g.op(
        "Greater", [largest, scalar(g, 0.0, "zero")], largest.shape, call.hint(), dtype="bool"
    )
