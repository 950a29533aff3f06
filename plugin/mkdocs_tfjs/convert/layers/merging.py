"""Merging layers: Add, Subtract, Multiply, Maximum, Minimum, Average, Concatenate."""

from __future__ import annotations

from collections.abc import Callable

from ..graph import Tensor
from ._common import (
    axis_of,
    binary,
    ints,
    scalar,
)
from .registry import LAYERS, Call, layer


def _chain(op: str) -> Callable[[Call], Tensor]:
    def lower(call: Call) -> Tensor:
        out = call.inputs[0]
        for i, other in enumerate(call.inputs[1:]):
            last = i == len(call.inputs) - 2
            out = binary(
                call.graph, op, out, other, call.hint() if last else call.hint(f"{op}_{i}")
            )
        return out

    lower.__doc__ = f"An element-wise merge, as a chain of ``{op}``."
    return lower


LAYERS.update(
    {
        "Add": _chain("AddV2"),
        "Multiply": _chain("Mul"),
        "Maximum": _chain("Maximum"),
        "Minimum": _chain("Minimum"),
        "Subtract": _chain("Sub"),
    }
)


@layer("Average")
def average(call: Call) -> Tensor:
    """``Average``: the sum times 1/n."""
    total = _chain("AddV2")(Call(call.graph, call.name + "/sum", call.config, call.inputs))
    return binary(
        call.graph,
        "Mul",
        total,
        scalar(call.graph, 1 / len(call.inputs), f"inv{len(call.inputs)}"),
        call.hint(),
    )


@layer("Concatenate")
def concatenate(call: Call) -> Tensor:
    """``Concatenate(axis)``."""
    rank = call.inputs[0].rank
    axis = axis_of(int(call.get("axis", -1)), rank)
    size = [t.shape[axis] for t in call.inputs]
    shape = list(call.inputs[0].shape)
    shape[axis] = None if None in size else sum(size)
    return call.graph.op(
        "ConcatV2",
        [*call.inputs, ints(call.graph, axis, "axis")],
        tuple(shape),
        call.hint(),
        {"N": len(call.inputs)},
    )
