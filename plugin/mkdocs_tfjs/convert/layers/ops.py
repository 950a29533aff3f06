"""keras.ops nodes of a functional model (``ops.Add``...): ``x + 1``, ``ops.gelu(x)``, einsum."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..graph import DType, Tensor
from ._common import (
    axes_list,
    axis_of,
    binary,
    cast,
    ints,
    matmul,
    nonzero,
    reduce,
    reshape_tail,
    scalar,
    transpose,
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
    as_float = cast(g, x, "float32", call.hint("as_float"))
    keep = bool(call.get("keepdims", False))
    largest = reduce(g, "Max", as_float, axes, keep, call.hint("max"))
    return g.op(
        "Greater", [largest, scalar(g, 0.0, "zero")], largest.shape, call.hint(), dtype="bool"
    )


@layer("ops.LogicalOr")
def logical_or(call: Call) -> Tensor:
    """``keras.ops.logical_or(a, b)``: how Keras 3 records the mask of a merge of masked inputs.

    Written ``max(float(a), float(b)) > 0``: TF.js's WebAssembly ``Select`` fails on
    boolean values (memory access out of bounds), and the lean runtime has these ops.
    """
    g = call.graph
    truths = []
    for i, t in enumerate(_operands(call)):
        truth = t if t.dtype == "bool" else nonzero(g, t, call.hint(f"x{i}/nonzero"))
        truths.append(cast(g, truth, "float32", call.hint(f"x{i}/as_float")))
    either = binary(g, "Maximum", truths[0], truths[1], call.hint("max"))
    zero = scalar(g, 0.0, "zero")
    return g.op("Greater", [either, zero], either.shape, call.hint(), dtype="bool")


@layer("ops.ConvertToTensor")
def convert_to_tensor(call: Call) -> Tensor:
    """``keras.ops.convert_to_tensor(x, dtype)``: how Keras 3 records Attention's output mask."""
    x, dtype = call.x, _dtype(call.get("dtype"), call.x.dtype)
    return x if dtype == x.dtype else cast(call.graph, x, dtype, call.hint())


@layer("ops.OnesLike")
def ones_like(call: Call) -> Tensor:
    """``keras.ops.ones_like(x)``, in ``x``'s dtype (or the one given)."""
    x, dtype = call.x, _dtype(call.get("dtype"), call.x.dtype)
    return call.graph.op("OnesLike", [x], x.shape, call.hint(), {"T": DType(dtype)}, dtype)


@layer("ops.Cumsum")
def cumsum(call: Call) -> Tensor:
    """``keras.ops.cumsum(x, axis)`` (``axis=None`` sums the flattened tensor: refused)."""
    x = call.x
    if call.config.get("axis") is None:
        raise Unsupported("cumsum over the flattened tensor (axis=None)")
    dtype = _dtype(call.get("dtype"), x.dtype)
    if dtype != x.dtype:
        x = cast(call.graph, x, dtype, call.hint("cast"))
    axis = axis_of(int(call.config["axis"]), x.rank)
    return call.graph.op(
        "Cumsum",
        [x, ints(call.graph, axis, f"axis{axis}")],
        x.shape,
        call.hint(),
        {"exclusive": False, "reverse": False},
        dtype,
    )


def _dtype(value: object, default: str) -> str:
    if value is None:
        return default
    name = str(value.get("config", {}).get("name") if isinstance(value, dict) else value)
    return "int32" if "int" in name else "bool" if name == "bool" else "float32"


@layer("ops.Transpose")
def transpose_op(call: Call) -> Tensor:
    """``keras.ops.transpose(x, axes)`` (reversed axes by default)."""
    axes = call.config.get("axes")
    perm = [axis_of(int(a), call.x.rank) for a in axes] if axes else list(range(call.x.rank))[::-1]
    return transpose(call.graph, call.x, perm, call.hint())


@layer("ops.Matmul")
def matmul_op(call: Call) -> Tensor:
    """``keras.ops.matmul(a, b)``: batch axes equal on both sides, or a matrix on one."""
    a, b = _operands(call)
    if a.rank < 2 or b.rank < 2:
        raise Unsupported("matmul of a vector")
    if a.rank > 2 and b.rank > 2 and a.shape[:-2] != b.shape[:-2]:
        raise Unsupported(
            f"matmul broadcasting batch axes {a.shape[:-2]} against {b.shape[:-2]}"
            " (TF.js multiplies equal batches, or a matrix)"
        )
    if a.rank == 2 and b.rank > 2:
        raise Unsupported("matmul of a matrix by a batch of matrices")
    return matmul(call.graph, a, b, call.hint())


@layer("ops.Split")
def split(call: Call) -> list[Tensor]:
    """``keras.ops.split(x, sections or indices, axis)``: equal parts, or cut at indices."""
    g, x = call.graph, call.x
    axis = axis_of(int(call.get("axis", 0)), x.rank)
    size = x.shape[axis]
    spec = call.config["indices_or_sections"]
    if isinstance(spec, int):
        if size is None or size % spec:
            raise Unsupported(f"split of an axis of size {size} into {spec} equal parts")
        sizes = [size // spec] * spec
    else:
        if size is None:
            raise Unsupported("split at indices of an axis whose size is not fixed")
        cuts = [0, *[int(i) for i in spec], size]
        sizes = [b - a for a, b in zip(cuts, cuts[1:], strict=False)]
    node = g.op(
        "SplitV",
        [x, ints(g, sizes, "size_splits"), ints(g, axis, f"axis{axis}")],
        x.shape,
        call.hint(),
        {"num_split": len(sizes)},
        x.dtype,
    )
    return [
        Tensor(node.name if i == 0 else f"{node.name}:{i}", _with(x.shape, axis, n), x.dtype)
        for i, n in enumerate(sizes)
    ]


def _with(shape: tuple, axis: int, size: int) -> tuple:
    return (*shape[:axis], size, *shape[axis + 1 :])


@layer("ops.Einsum")
def einsum(call: Call) -> Tensor:
    """``keras.ops.einsum`` of two operands, as a batched matmul with transposes and reshapes.

    Each letter is a batch axis (in both operands and the output), a summed axis
    (in both operands only) or a free axis of one operand (and the output): the
    attention patterns (``bqhd,bkhd->bhqk``, ``bhqk,bkhd->bqhd``, ``bij,jk->bik``).
    Anything else (one operand, ``...``, a letter twice in an operand, a letter
    summed in one operand only) is refused: TF.js's Einsum kernel is not on wasm.
    """
    g = call.graph
    equation = str(call.config["subscripts"]).replace(" ", "")
    if "->" not in equation or "." in equation or equation.count(",") != 1:
        raise Unsupported(f"einsum `{equation}` (two operands and an explicit output only)")
    left, out = equation.split("->")
    sa, sb = left.split(",")
    a, b = _operands(call)
    if any(len(set(s)) != len(s) for s in (sa, sb, out)) or (len(sa), len(sb)) != (a.rank, b.rank):
        raise Unsupported(f"einsum `{equation}` (a letter twice in one operand)")
    batch = [c for c in sa if c in sb and c in out]
    summed = [c for c in sa if c in sb and c not in out]
    free_a = [c for c in sa if c not in sb]
    free_b = [c for c in sb if c not in sa]
    if any(c not in out for c in free_a + free_b) or set(out) != set(batch + free_a + free_b):
        raise Unsupported(f"einsum `{equation}` (a letter summed in one operand only)")
    sizes = {c: d for s, t in ((sa, a), (sb, b)) for c, d in zip(s, t.shape, strict=True)}
    if any(sizes[c] is None for c in summed + free_a + free_b):
        raise Unsupported(f"einsum `{equation}` on axes whose sizes are not fixed")

    def prod(letters: list[str]) -> int:
        return int(np.prod([sizes[c] for c in letters], dtype=np.int64))

    x = transpose(g, a, [sa.index(c) for c in batch + free_a + summed], call.hint("a"))
    x = reshape_tail(g, x, len(batch), [prod(free_a), prod(summed)], call.hint("a/matrix"))
    y = transpose(g, b, [sb.index(c) for c in batch + summed + free_b], call.hint("b"))
    y = reshape_tail(g, y, len(batch), [prod(summed), prod(free_b)], call.hint("b/matrix"))
    if not batch:
        product = g.op(
            "MatMul",
            [x, y],
            (prod(free_a), prod(free_b)),
            call.hint("product"),
            {"transpose_a": False, "transpose_b": False},
        )
    else:
        product = matmul(g, x, y, call.hint("product"))
    order = batch + free_a + free_b
    full = reshape_tail(
        g, product, len(batch), [sizes[c] for c in free_a + free_b], call.hint("unflat")
    )
    return transpose(g, full, [order.index(c) for c in out], call.hint())
