"""Pooling: max and average, 1-D to 3-D, and the global poolings (1-D to 3-D)."""

from __future__ import annotations

from collections.abc import Callable

from ..graph import Tensor
from ._common import (
    as_2d,
    binary,
    conv_out,
    from_2d,
    pair,
    reduce,
    require_channels_last,
    reshape,
    same_or_valid,
)
from .registry import LAYERS, Call, Unsupported


def pool(
    call: Call, op: str, x: Tensor, size: list[int], strides: list[int], padding: str
) -> Tensor:
    """Max or average pooling over [batch, h, w, c]."""
    shape = (
        x.shape[0],
        conv_out(x.shape[1], size[0], strides[0], 1, padding),
        conv_out(x.shape[2], size[1], strides[1], 1, padding),
        x.shape[3],
    )
    return call.graph.op(
        op,
        [x],
        shape,
        call.hint(op),
        {
            "ksize": [1, *size, 1],
            "strides": [1, *strides, 1],
            "padding": padding,
            "data_format": "NHWC",
        },
    )


def _pool2d(op: str) -> Callable[[Call], Tensor]:
    def lower(call: Call) -> Tensor:
        require_channels_last(call)
        size = pair(call.get("pool_size", 2))
        strides = pair(call.get("strides") or size)
        return pool(call, op, call.x, size, strides, same_or_valid(call))

    lower.__doc__ = f"2-D pooling as ``{op}``."
    return lower


def _pool1d(op: str) -> Callable[[Call], Tensor]:
    def lower(call: Call) -> Tensor:
        require_channels_last(call)
        size = pair(call.get("pool_size", 2), 1)[0]
        stride = pair(call.get("strides") or size, 1)[0]
        return from_2d(
            call, pool(call, op, as_2d(call, call.x), [1, size], [1, stride], same_or_valid(call))
        )

    lower.__doc__ = f"1-D pooling as ``{op}`` over one row."
    return lower


# Keras's short aliases (MaxPool2D...) are the same classes: one function for both names.
for _name, _short, _op in (
    ("MaxPooling", "MaxPool", "MaxPool"),
    ("AveragePooling", "AvgPool", "AvgPool"),
):
    LAYERS[f"{_name}2D"] = LAYERS[f"{_short}2D"] = _pool2d(_op)
    LAYERS[f"{_name}1D"] = LAYERS[f"{_short}1D"] = _pool1d(_op)


def _global_pool(op: str, spatial: int) -> Callable[[Call], Tensor]:
    def lower(call: Call) -> Tensor:
        require_channels_last(call)
        if op == "Mean" and spatial == 1 and call.mask is not None:
            return _masked_average(call, call.mask)
        return reduce(
            call.graph,
            op,
            call.x,
            list(range(1, 1 + spatial)),
            bool(call.get("keepdims", False)),
            call.hint(),
        )

    lower.__doc__ = f"Global pooling as ``{op}`` over the spatial axes."
    return lower


def _masked_average(call: Call, mask: Tensor) -> Tensor:
    """GlobalAveragePooling1D given a Keras mask: the mean over the kept steps only.

    ``sum(x · mask) / sum(mask)`` over the steps, as Keras 3 and tf_keras
    compute it (a sequence with every step masked gives 0 / 0, NaN, in Keras
    too). The other global poolings read no mask, in either Keras.
    """
    g, keep = call.graph, bool(call.get("keepdims", False))
    kept = binary(g, "Mul", call.x, mask, call.hint("kept"))
    total = reduce(g, "Sum", kept, [1], keep, call.hint("sum"))
    count = reduce(g, "Sum", mask, [1], keep, call.hint("count"))
    return binary(g, "RealDiv", total, count, call.hint())


def _pool3d(op: str) -> Callable[[Call], Tensor]:
    def lower(call: Call) -> Tensor:
        require_channels_last(call)
        size = pair(call.get("pool_size", 2), 3)
        strides = pair(call.get("strides") or size, 3)
        padding, x = same_or_valid(call), call.x
        if op == "MaxPool3D":
            return _max_pool3d(call, x, size, strides, padding)
        shape = (
            x.shape[0],
            *(conv_out(x.shape[1 + i], size[i], strides[i], 1, padding) for i in range(3)),
            x.shape[4],
        )
        attrs = {
            "ksize": [1, *size, 1],
            "strides": [1, *strides, 1],
            "padding": padding,
            "data_format": "NDHWC",
        }
        return call.graph.op(op, [x], shape, call.hint(op), attrs)

    lower.__doc__ = f"3-D pooling as ``{op}``."
    return lower


def _max_pool3d(call: Call, x: Tensor, size: list[int], strides: list[int], padding: str) -> Tensor:
    """3-D max pooling as 2-D max pooling over rows and columns, then over depth.

    A box's maximum is the maximum over depth of each slice's maximum, and
    TensorFlow's padding is per axis, so this is exact. TF.js's WebAssembly
    MaxPool3D starts each window at the smallest positive float, not at minus
    infinity: a window of negative values pools to 1.2e-38 there.
    """
    g = call.graph
    batch, depth, height, width, channels = x.shape
    if None in (depth, height, width, channels):
        raise Unsupported("MaxPooling3D on an input whose sizes are not fixed")
    slices = reshape(g, x, (None, height, width, channels), call.hint("slices"))
    pooled = pool(call, "MaxPool", slices, size[1:], strides[1:], padding)
    rows, cols = pooled.shape[1], pooled.shape[2]
    stacked = reshape(g, pooled, (batch, depth, rows * cols, channels), call.hint("stacked"))
    deep = pool(call, "MaxPool", stacked, [size[0], 1], [strides[0], 1], padding)
    return reshape(g, deep, (batch, deep.shape[1], rows, cols, channels), call.hint())


for _name, _short, _op in (
    ("MaxPooling", "MaxPool", "MaxPool3D"),
    ("AveragePooling", "AvgPool", "AvgPool3D"),
):
    LAYERS[f"{_name}3D"] = LAYERS[f"{_short}3D"] = _pool3d(_op)


# GlobalAvgPool2D, GlobalMaxPool2D... are Keras's aliases of the same classes.
for _name, _short, _op in (("Average", "Avg", "Mean"), ("Max", "Max", "Max")):
    for _n in (1, 2, 3):
        LAYERS[f"Global{_name}Pooling{_n}D"] = LAYERS[f"Global{_short}Pool{_n}D"] = _global_pool(
            _op, _n
        )
