"""Small helpers every domain's lowering shares: shapes, constants, element-wise ops.

Nothing here lowers a layer or knows a Keras class by name; each helper adds
one or a few TF.js graph ops, with their static shapes, or reads a config
value the way Keras does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import DType, Graph, Tensor
from .registry import Call, Unsupported


def broadcast(a: tuple, b: tuple) -> tuple:
    """Return numpy's broadcast of two static shapes (None stays None)."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        out.append(db if da == 1 else da if db == 1 else (da if da is not None else db))
    return tuple(reversed(out))


def binary(g: Graph, op: str, a: Tensor, b: Tensor, hint: str) -> Tensor:
    """Add an element-wise op with broadcasting."""
    return g.op(op, [a, b], broadcast(a.shape, b.shape), hint)


def unary(g: Graph, op: str, x: Tensor, hint: str, **attrs: Any) -> Tensor:
    """Add an element-wise op of one input."""
    return g.op(op, [x], x.shape, hint, attrs)


def scalar(g: Graph, value: float, hint: str) -> Tensor:
    """Return a shared float32 scalar constant."""
    return g.const(hint, np.float32(value), key=f"scalar:{np.float32(value)!r}")


def ints(g: Graph, values: Any, hint: str) -> Tensor:
    """Return a shared int32 constant (shapes, axes, paddings)."""
    array = np.asarray(values, dtype=np.int32)
    return g.const(hint, array, "int32", key=f"int32:{array.shape}:{array.tolist()}")


def nonzero(g: Graph, x: Tensor, hint: str) -> Tensor:
    """Return ``x != 0`` as a bool tensor, written ``|x| > 0`` (ops the lean runtime has)."""
    zero = g.const(hint + "/zero", 0, x.dtype, key=f"zero:{x.dtype}")
    magnitude = g.op("Abs", [x], x.shape, hint + "/abs", dtype=x.dtype)
    return g.op("Greater", [magnitude, zero], x.shape, hint, dtype="bool")


def axis_of(axis: int, rank: int) -> int:
    """Return a non-negative axis."""
    return axis + rank if axis < 0 else axis


def reshape(g: Graph, x: Tensor, shape: tuple, hint: str) -> Tensor:
    """Reshape to ``shape``, whose first entry (the batch) may be None."""
    target = [-1 if d is None else int(d) for d in shape]
    if sum(1 for d in target if d == -1) > 1:
        raise Unsupported("a reshape with more than one unknown size")
    return g.op("Reshape", [x, ints(g, target, "shape")], tuple(shape), hint)


def reduce(g: Graph, op: str, x: Tensor, axes: list[int], keep: bool, hint: str) -> Tensor:
    """Add a reduction (Mean, Sum, Max, Min) over ``axes``."""
    axes = sorted(axis_of(a, x.rank) for a in axes)
    shape = tuple((1 if keep else None) if i in axes else d for i, d in enumerate(x.shape))
    shape = tuple(d for i, d in enumerate(shape) if keep or i not in axes)
    return g.op(op, [x, ints(g, axes, "axes")], shape, hint, {"keep_dims": keep})


def param_shape(x: Tensor, axes: list[int]) -> list[int]:
    """Return the broadcastable shape of per-``axes`` parameters for ``x``."""
    axes = [axis_of(a, x.rank) for a in axes]
    return [int(x.shape[i]) if i in axes else 1 for i in range(x.rank)]


def as_param(value: np.ndarray, x: Tensor, axes: list[int]) -> np.ndarray:
    """Reshape a per-``axes`` parameter so it broadcasts against ``x``."""
    if [axis_of(a, x.rank) for a in axes] == [x.rank - 1]:
        return value.reshape(-1)
    return value.reshape(param_shape(x, axes))


def axes_list(value: Any) -> list[int]:
    """Return an ``axis`` config value as a list."""
    return list(value) if isinstance(value, (list, tuple)) else [int(value)]


def pair(value: Any, n: int = 2) -> list[int]:
    """Return an int-or-tuple config value as a list of ``n`` ints."""
    if isinstance(value, (list, tuple)):
        return [int(v) for v in value]
    return [int(value)] * n


def require_channels_last(call: Call) -> None:
    """Refuse ``data_format: channels_first``, which the browser kernels do not run."""
    if call.get("data_format", "channels_last") != "channels_last":
        raise Unsupported("data_format: channels_first (save the model with channels_last)")


def same_or_valid(call: Call) -> str:
    """Return a layer's ``padding`` as TensorFlow spells it; other paddings are unsupported."""
    padding = str(call.get("padding", "valid")).upper()
    if padding not in ("SAME", "VALID"):
        raise Unsupported(f"padding: {padding.lower()}")
    return padding


def conv_out(size: int | None, kernel: int, stride: int, dilation: int, padding: str) -> int | None:
    """Return a convolution's output size along one axis (TensorFlow's rule)."""
    if size is None:
        return None
    if padding == "SAME":
        return -(-size // stride)
    return (size - (kernel - 1) * dilation - 1) // stride + 1


def as_2d(call: Call, x: Tensor) -> Tensor:
    """[batch, steps, channels] → [batch, 1, steps, channels], for 1-D layers."""
    return call.graph.op(
        "ExpandDims",
        [x, ints(call.graph, 1, "axis")],
        (x.shape[0], 1, *x.shape[1:]),
        call.hint("expand"),
    )


def from_2d(call: Call, x: Tensor) -> Tensor:
    """Undo :func:`as_2d`."""
    return call.graph.op(
        "Squeeze", [x], (x.shape[0], *x.shape[2:]), call.hint(), {"squeeze_dims": [1]}
    )


def resize(call: Call, x: Tensor, height: int, width: int, method: str, hint: str) -> Tensor:
    """Resize [batch, h, w, c] with half-pixel centres, as Keras 3 does."""
    op = {"bilinear": "ResizeBilinear", "nearest": "ResizeNearestNeighbor"}.get(method)
    if op is None:
        raise Unsupported(f"interpolation: {method}")
    return call.graph.op(
        op,
        [x, ints(call.graph, [height, width], "size")],
        (x.shape[0], height, width, x.shape[3]),
        hint,
        {"align_corners": False, "half_pixel_centers": True},
    )


def reshape_tail(
    g: Graph, x: Tensor, keep: int, tail: list[int], hint: str, like: Tensor | None = None
) -> Tensor:
    """Reshape the axes after the first ``keep`` of ``x`` to ``tail`` (static sizes).

    The first ``keep`` sizes stay as they are, or become the first ``keep``
    of ``like`` (TimeDistributed: the inner layer's output back to the
    steps); where more than one of them is known only when the model runs
    (the batch and a sequence length), the target shape is read from the
    input's own shape (or ``like``'s).
    """
    source = x if like is None else like
    head = source.shape[:keep]
    if sum(1 for d in head if d is None) <= 1:
        return reshape(g, x, (*head, *tail), hint)
    shape = g.op("Shape", [source], (source.rank,), hint + "/shape", dtype="int32")
    leading = g.op(
        "StridedSlice",
        [shape, ints(g, [0], "begin0"), ints(g, [keep], f"end{keep}"), ints(g, [1], "stride1")],
        (keep,),
        hint + "/leading",
        {
            "shrink_axis_mask": 0,
            "begin_mask": 0,
            "end_mask": 0,
            "ellipsis_mask": 0,
            "new_axis_mask": 0,
        },
        dtype="int32",
    )
    target = g.op(
        "ConcatV2",
        [leading, ints(g, list(tail), "tail"), ints(g, 0, "axis")],
        (keep + len(tail),),
        hint + "/target",
        {"N": 2},
        dtype="int32",
    )
    return g.op("Reshape", [x, target], (*head, *tail), hint)


def transpose(g: Graph, x: Tensor, perm: list[int], hint: str) -> Tensor:
    """Permute the axes of ``x`` (nothing is added for the identity)."""
    if list(perm) == list(range(x.rank)):
        return x
    return g.op("Transpose", [x, ints(g, perm, "perm")], tuple(x.shape[p] for p in perm), hint)


def matmul(g: Graph, a: Tensor, b: Tensor, hint: str, adj_y: bool = False) -> Tensor:
    """Batched ``a @ b`` (``b`` transposed in its last two axes with ``adj_y``).

    TF.js flattens the batch axes of each side: they must be equal, or one
    side must have none.
    """
    n = b.shape[-2] if adj_y else b.shape[-1]
    batch = a.shape[:-2] if len(a.shape) >= len(b.shape) else b.shape[:-2]
    return g.op(
        "BatchMatMulV2", [a, b], (*batch, a.shape[-2], n), hint, {"adj_x": False, "adj_y": adj_y}
    )


def cast(g: Graph, x: Tensor, dtype: str, hint: str) -> Tensor:
    """Cast ``x`` to ``dtype``."""
    return g.op("Cast", [x], x.shape, hint, {"DstT": DType(dtype), "SrcT": DType(x.dtype)}, dtype)
