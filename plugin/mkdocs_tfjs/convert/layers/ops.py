"""keras.ops nodes of a functional model (``ops.Add``...): ``x + 1`` or ``ops.gelu(x)``."""

from __future__ import annotations

from collections.abc import Callable

from ..graph import Tensor
from ._common import (
    binary,
    scalar,
)
from .activations import gelu
from .registry import LAYERS, Call, layer


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
