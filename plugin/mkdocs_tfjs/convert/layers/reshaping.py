"""Reshaping: Flatten, Reshape, Permute, RepeatVector, zero padding, cropping, upsampling."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Tensor
from ._common import (
    ints,
    pair,
    require_channels_last,
    reshape,
    resize,
)
from .registry import Call, Unsupported, layer


@layer("Flatten")
def flatten(call: Call) -> Tensor:
    """``Flatten()``: [batch, ...] → [batch, product]."""
    require_channels_last(call)
    rest = call.x.shape[1:]
    if any(d is None for d in rest):
        raise Unsupported("Flatten of an input whose sizes are not fixed")
    return reshape(
        call.graph, call.x, (call.x.shape[0], int(np.prod(rest, dtype=np.int64))), call.hint()
    )


@layer("Reshape")
def reshape_layer(call: Call) -> Tensor:
    """``Reshape(target_shape)``, with at most one -1."""
    target = [int(d) for d in call.config["target_shape"]]
    if -1 in target:
        known = int(np.prod([d for d in target if d != -1]))
        total = int(np.prod(call.x.shape[1:]))
        target[target.index(-1)] = total // known
    return reshape(call.graph, call.x, (call.x.shape[0], *target), call.hint())


@layer("Permute")
def permute(call: Call) -> Tensor:
    """``Permute(dims)`` (1-based dims, batch fixed)."""
    perm = [0, *[int(d) for d in call.config["dims"]]]
    shape = tuple(call.x.shape[p] for p in perm)
    return call.graph.op("Transpose", [call.x, ints(call.graph, perm, "perm")], shape, call.hint())


@layer("RepeatVector")
def repeat_vector(call: Call) -> Tensor:
    """``RepeatVector(n)``: [batch, f] → [batch, n, f]."""
    g, n = call.graph, int(call.config["n"])
    expanded = g.op(
        "ExpandDims",
        [call.x, ints(g, 1, "axis")],
        (call.x.shape[0], 1, call.x.shape[1]),
        call.hint("expand"),
    )
    return g.op(
        "Tile",
        [expanded, ints(g, [1, n, 1], "multiples")],
        (call.x.shape[0], n, call.x.shape[1]),
        call.hint(),
    )


def _pads(value: Any, n: int) -> list[list[int]]:
    """Return a ZeroPadding/Cropping config value as ``[[before, after], ...]``."""
    if isinstance(value, int):
        return [[value, value]] * n
    value = list(value)
    if n == 1:
        return (
            [[int(value[0]), int(value[1])]]
            if len(value) == 2 and not isinstance(value[0], (list, tuple))
            else [list(map(int, value[0]))]
        )
    return [[int(v), int(v)] if isinstance(v, int) else [int(v[0]), int(v[1])] for v in value]


@layer("ZeroPadding1D", "ZeroPadding2D")
def zero_padding(call: Call) -> Tensor:
    """``ZeroPadding1D/2D``."""
    require_channels_last(call)
    spatial = call.x.rank - 2
    pads = _pads(call.get("padding", 1), spatial)
    full = [[0, 0], *pads, [0, 0]]
    shape = tuple(
        None if d is None else d + (p[0] + p[1]) for d, p in zip(call.x.shape, full, strict=True)
    )
    shape = (call.x.shape[0], *shape[1:])
    return call.graph.op("Pad", [call.x, ints(call.graph, full, "paddings")], shape, call.hint())


@layer("Cropping1D", "Cropping2D")
def cropping(call: Call) -> Tensor:
    """``Cropping1D/2D``, as a ``StridedSlice``."""
    require_channels_last(call)
    spatial = call.x.rank - 2
    crops = _pads(call.get("cropping", 1), spatial)
    begin = [0, *[c[0] for c in crops], 0]
    end = [0, *[-c[1] for c in crops], 0]
    end_mask = 1 | (1 << (spatial + 1))
    for i, c in enumerate(crops):
        if c[1] == 0:
            end_mask |= 1 << (i + 1)
    shape = tuple(
        d if i in (0, spatial + 1) else (None if d is None else d - sum(crops[i - 1]))
        for i, d in enumerate(call.x.shape)
    )
    g = call.graph
    return g.op(
        "StridedSlice",
        [
            call.x,
            ints(g, begin, "begin"),
            ints(g, end, "end"),
            ints(g, [1] * len(begin), "strides"),
        ],
        shape,
        call.hint(),
        {
            "begin_mask": 1 | (1 << (spatial + 1)),
            "end_mask": end_mask,
            "ellipsis_mask": 0,
            "new_axis_mask": 0,
            "shrink_axis_mask": 0,
        },
    )


@layer("UpSampling2D")
def upsampling2d(call: Call) -> Tensor:
    """``UpSampling2D``: ``nearest`` repeats rows and columns; ``bilinear`` resizes."""
    require_channels_last(call)
    size = pair(call.get("size", 2))
    height, width = call.x.shape[1], call.x.shape[2]
    if height is None or width is None:
        raise Unsupported("UpSampling2D on an input whose height or width is not fixed")
    method = call.get("interpolation", "nearest")
    if method == "nearest":
        # Integer factors without half-pixel centres repeat each pixel exactly.
        return call.graph.op(
            "ResizeNearestNeighbor",
            [call.x, ints(call.graph, [height * size[0], width * size[1]], "size")],
            (call.x.shape[0], height * size[0], width * size[1], call.x.shape[3]),
            call.hint(),
            {"align_corners": False, "half_pixel_centers": False},
        )
    return resize(call, call.x, height * size[0], width * size[1], method, call.hint())


@layer("UpSampling1D")
def upsampling1d(call: Call) -> Tensor:
    """``UpSampling1D(size)``: each step repeated ``size`` times."""
    g, n = call.graph, int(call.get("size", 2))
    batch, steps, channels = call.x.shape
    if steps is None:
        raise Unsupported("UpSampling1D on an input whose length is not fixed")
    expanded = g.op(
        "ExpandDims", [call.x, ints(g, 2, "axis")], (batch, steps, 1, channels), call.hint("expand")
    )
    tiled = g.op(
        "Tile",
        [expanded, ints(g, [1, 1, n, 1], "multiples")],
        (batch, steps, n, channels),
        call.hint("tile"),
    )
    return reshape(g, tiled, (batch, steps * n, channels), call.hint())
