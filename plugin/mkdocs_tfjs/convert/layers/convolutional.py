"""Convolutions: Conv1D/2D/3D (2-D groups included), depthwise, separable and transposed.

Each declares with ``folds=`` how a BatchNormalization after it folds into its
kernel and bias. 1-D layers run as their 2-D form over one row.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Tensor
from ._common import (
    as_2d,
    binary,
    conv_out,
    from_2d,
    ints,
    pair,
    require_channels_last,
    reshape,
    same_or_valid,
)
from ._fused import biased, kernel_and_bias
from .activations import activation, activation_name
from .registry import Call, Fold, Unsupported, layer


def conv2d_geometry(
    x: Tensor,
    kernel: np.ndarray,
    channels: int,
    strides: list[int],
    dilations: list[int],
    padding: str,
) -> tuple[tuple, dict[str, Any]]:
    """Return a 2-D (or depthwise) convolution's output shape and its NHWC attributes."""
    kh, kw = kernel.shape[:2]
    shape = (
        x.shape[0],
        conv_out(x.shape[1], kh, strides[0], dilations[0], padding),
        conv_out(x.shape[2], kw, strides[1], dilations[1], padding),
        channels,
    )
    attrs = {
        "strides": [1, *strides, 1],
        "dilations": [1, *dilations, 1],
        "padding": padding,
        "data_format": "NHWC",
    }
    return shape, attrs


def conv2d_op(
    call: Call,
    x: Tensor,
    kernel: np.ndarray,
    bias: np.ndarray | None,
    act: Any,
    strides: list[int],
    dilations: list[int],
    padding: str,
    suffix: str = "",
) -> Tensor:
    """Add a 2-D convolution with bias and activation, fused where TF.js can."""
    shape, attrs = conv2d_geometry(x, kernel, kernel.shape[3], strides, dilations, padding)
    if bias is not None:
        attrs["epsilon"] = 0.0
    k = call.const(suffix + "kernel", kernel)
    hint = call.hint(suffix + "Conv2D")
    return biased(call, ("Conv2D", "_FusedConv2D"), x, k, bias, act, shape, attrs, hint, suffix)


@layer("Conv2D", "Convolution2D", folds=Fold())
def conv2d(call: Call) -> Tensor:
    """``Conv2D`` with strides, dilation, ``same``/``valid`` padding and groups."""
    require_channels_last(call)
    (kernel,), bias = kernel_and_bias(call)
    strides, dilations = pair(call.get("strides", 1)), pair(call.get("dilation_rate", 1))
    padding, groups = same_or_valid(call), int(call.get("groups", 1))
    act = call.config.get("activation")
    if groups == 1:
        return conv2d_op(call, call.x, kernel, bias, act, strides, dilations, padding)
    channels = call.x.shape[3]
    if (
        groups == channels
        and strides[0] == strides[1]
        and (strides == [1, 1] or dilations == [1, 1])
    ):
        # One group per input channel is a depthwise convolution (ConvNeXt's 7x7):
        # output channel c * multiplier + m reads input channel c in both layouts.
        # Split into groups it was one Conv2D per channel: 18,000 nodes for ConvNeXtBase.
        kh, kw, _, filters = kernel.shape
        depthwise = kernel.reshape(kh, kw, channels, filters // channels)
        return depthwise_op(call, call.x, depthwise, bias, act, strides, dilations, padding)
    # TF.js has no grouped convolution: split the channels, convolve each group, concatenate.
    g = call.graph
    channels = call.x.shape[3] // groups
    per_group = kernel.shape[3] // groups
    parts_shape = (*call.x.shape[:3], channels)
    split = g.op(
        "Split",
        [ints(g, 3, "axis"), call.x],
        parts_shape,
        call.hint("split"),
        {"num_split": groups},
    )
    outs = []
    for i in range(groups):
        part = Tensor(split.name if i == 0 else f"{split.name}:{i}", parts_shape)
        k = kernel[..., i * per_group : (i + 1) * per_group]
        b = None if bias is None else bias[i * per_group : (i + 1) * per_group]
        outs.append(conv2d_op(call, part, k, b, None, strides, dilations, padding, f"group{i}/"))
    shape = (*outs[0].shape[:3], kernel.shape[3])
    joined = g.op(
        "ConcatV2", [*outs, ints(g, 3, "axis")], shape, call.hint("concat"), {"N": groups}
    )
    return activation(g, joined, act, call.hint(activation_name(act) or ""), call.legacy)


def padding_1d(call: Call, x: Tensor, kernel: int, dilation: int) -> tuple[Tensor, str]:
    """Return the input and TensorFlow padding of a 1-D layer; ``causal`` pads the input."""
    padding = str(call.get("padding", "valid")).upper()
    if padding == "CAUSAL":
        return causal_pad(call, x, kernel, dilation), "VALID"
    if padding not in ("SAME", "VALID"):
        raise Unsupported(f"padding: {padding.lower()}")
    return x, padding


def causal_pad(call: Call, x: Tensor, kernel: int, dilation: int) -> Tensor:
    """Left-pad the steps of [batch, steps, channels] for ``padding: causal``."""
    left = (kernel - 1) * dilation
    steps = None if x.shape[1] is None else x.shape[1] + left
    return call.graph.op(
        "Pad",
        [x, ints(call.graph, [[0, 0], [left, 0], [0, 0]], "paddings")],
        (x.shape[0], steps, x.shape[2]),
        call.hint("causal_pad"),
    )


@layer("Conv1D", "Convolution1D", folds=Fold())
def conv1d(call: Call) -> Tensor:
    """``Conv1D``, as a 2-D convolution over one row; ``causal`` padding included."""
    require_channels_last(call)
    (kernel,), bias = kernel_and_bias(call)
    stride, dilation = pair(call.get("strides", 1), 1)[0], pair(call.get("dilation_rate", 1), 1)[0]
    x, padding = padding_1d(call, call.x, kernel.shape[0], dilation)
    if int(call.get("groups", 1)) != 1:
        raise Unsupported("Conv1D with groups")
    out = conv2d_op(
        call,
        as_2d(call, x),
        kernel[None],
        bias,
        call.config.get("activation"),
        [1, stride],
        [1, dilation],
        padding,
    )
    return from_2d(call, out)


def depthwise_op(
    call: Call,
    x: Tensor,
    kernel: np.ndarray,
    bias: np.ndarray | None,
    act: Any,
    strides: list[int],
    dilations: list[int],
    padding: str,
) -> Tensor:
    """Add a depthwise convolution with bias and activation, fused where TF.js can."""
    _, _, channels, multiplier = kernel.shape
    shape, attrs = conv2d_geometry(x, kernel, channels * multiplier, strides, dilations, padding)
    k = call.const("depthwise_kernel", kernel)
    ops = ("DepthwiseConv2dNative", "FusedDepthwiseConv2dNative")
    return biased(call, ops, x, k, bias, act, shape, attrs, call.hint("depthwise"))


@layer("DepthwiseConv2D", folds=Fold(channels=(2, 3)))
def depthwise_conv2d(call: Call) -> Tensor:
    """``DepthwiseConv2D`` (Keras 3 and legacy Keras 2 configs)."""
    require_channels_last(call)
    (kernel,), bias = kernel_and_bias(call)
    return depthwise_op(
        call,
        call.x,
        kernel,
        bias,
        call.config.get("activation"),
        pair(call.get("strides", 1)),
        pair(call.get("dilation_rate", 1)),
        same_or_valid(call),
    )


@layer("SeparableConv2D", "SeparableConvolution2D", folds=Fold(kernel=1))
def separable_conv2d(call: Call) -> Tensor:
    """``SeparableConv2D``: depthwise, then a 1x1 convolution with the bias."""
    require_channels_last(call)
    (depthwise_kernel, pointwise_kernel), bias = kernel_and_bias(call, 2)
    strides, dilations = pair(call.get("strides", 1)), pair(call.get("dilation_rate", 1))
    depthwise = depthwise_op(
        call, call.x, depthwise_kernel, None, None, strides, dilations, same_or_valid(call)
    )
    return conv2d_op(
        call,
        depthwise,
        pointwise_kernel,
        bias,
        call.config.get("activation"),
        [1, 1],
        [1, 1],
        "VALID",
        "pointwise/",
    )


@layer("SeparableConv1D", "SeparableConvolution1D", folds=Fold(kernel=1))
def separable_conv1d(call: Call) -> Tensor:
    """``SeparableConv1D``, as the 2-D layer over one row."""
    require_channels_last(call)
    (depthwise_kernel, pointwise_kernel), bias = kernel_and_bias(call, 2)
    stride, dilation = pair(call.get("strides", 1), 1)[0], pair(call.get("dilation_rate", 1), 1)[0]
    x, padding = padding_1d(call, call.x, depthwise_kernel.shape[0], dilation)
    depthwise = depthwise_op(
        call,
        as_2d(call, x),
        depthwise_kernel[None],
        None,
        None,
        [1, stride],
        [1, dilation],
        padding,
    )
    out = conv2d_op(
        call,
        depthwise,
        pointwise_kernel[None],
        bias,
        call.config.get("activation"),
        [1, 1],
        [1, 1],
        "VALID",
        "pointwise/",
    )
    return from_2d(call, out)


@layer("Conv2DTranspose", "Convolution2DTranspose", folds=Fold(channels=(2,)))
def conv2d_transpose(call: Call) -> Tensor:
    """``Conv2DTranspose``, as TensorFlow's ``Conv2DBackpropInput`` (dilated: a convolution)."""
    require_channels_last(call)
    g = call.graph
    (kernel,), bias = kernel_and_bias(call)
    strides, padding = pair(call.get("strides", 1)), same_or_valid(call)
    dilations = pair(call.get("dilation_rate", 1))
    if dilations != [1, 1] and strides != [1, 1]:
        raise Unsupported("Conv2DTranspose with both strides and dilation_rate")
    output_padding = call.get("output_padding")
    extra = pair(output_padding) if output_padding is not None else None
    size = []
    for i in range(2):
        n, s = call.x.shape[1 + i], strides[i]
        k = (int(kernel.shape[i]) - 1) * dilations[i] + 1
        if n is None:
            raise Unsupported("Conv2DTranspose on an input whose height or width is not fixed")
        if extra is None:  # Keras's deconv_output_length
            size.append(n * s if padding == "SAME" else n * s + max(k - s, 0))
        else:
            pad = k // 2 if padding == "SAME" else 0
            size.append((n - 1) * s + k - 2 * pad + extra[i])
    if dilations != [1, 1]:
        return _dilated_transpose(call, kernel, bias, size, dilations, padding)
    filters = kernel.shape[2]
    shape = (call.x.shape[0], size[0], size[1], filters)
    # The batch size is known only when the model runs: read it from the input.
    batch = g.op("Shape", [call.x], (4,), call.hint("input_shape"), dtype="int32")
    batch = g.op(
        "StridedSlice",
        [batch, ints(g, [0], "begin0"), ints(g, [1], "end1"), ints(g, [1], "stride1")],
        (),
        call.hint("batch"),
        {
            "shrink_axis_mask": 1,
            "begin_mask": 0,
            "end_mask": 0,
            "ellipsis_mask": 0,
            "new_axis_mask": 0,
        },
        dtype="int32",
    )
    rest = [ints(g, v, f"size{v}") for v in (size[0], size[1], filters)]
    out_shape = g.op(
        "Pack", [batch, *rest], (4,), call.hint("output_shape"), {"N": 4, "axis": 0}, dtype="int32"
    )
    out = g.op(
        "Conv2DBackpropInput",
        [out_shape, call.const("kernel", kernel), call.x],
        shape,
        call.hint("conv_transpose"),
        {
            "strides": [1, *strides, 1],
            "padding": padding,
            "data_format": "NHWC",
            "dilations": [1, 1, 1, 1],
        },
    )
    if bias is not None:
        out = binary(g, "AddV2", out, call.const("bias", bias), call.hint("BiasAdd"))
    return activation(g, out, call.config.get("activation"), call.hint("activation"), call.legacy)


def _dilated_transpose(
    call: Call,
    kernel: np.ndarray,
    bias: np.ndarray | None,
    size: list[int],
    dilations: list[int],
    padding: str,
) -> Tensor:
    """Lower a stride-1 dilated ``Conv2DTranspose`` (TF.js's has no dilation) as a convolution.

    It is the convolution of the padded input with the flipped kernel (input
    and output channels swapped). TensorFlow pads the forward convolution
    ``(k - 1) // 2`` before for ``same``; the transpose pads the rest before.
    """
    x = call.x
    pads = [[0, 0]]
    for i in range(2):
        n, k = x.shape[1 + i], (int(kernel.shape[i]) - 1) * dilations[i] + 1
        forward_before = max(n - 1 + k - size[i], 0) // 2 if padding == "SAME" else 0
        before = k - 1 - forward_before
        pads.append([before, size[i] + k - 1 - n - before])
    pads.append([0, 0])
    shape = tuple(d if i in (0, 3) else d + sum(pads[i]) for i, d in enumerate(x.shape))
    padded = call.graph.op("Pad", [x, ints(call.graph, pads, "paddings")], shape, call.hint("pad"))
    flipped = np.ascontiguousarray(kernel[::-1, ::-1].transpose(0, 1, 3, 2))
    act = call.config.get("activation")
    return conv2d_op(call, padded, flipped, bias, act, [1, 1], dilations, "VALID")


@layer("Conv1DTranspose", "Convolution1DTranspose")
def conv1d_transpose(call: Call) -> Tensor:
    """``Conv1DTranspose``, as ``Conv2DTranspose`` over one row."""
    require_channels_last(call)
    config = dict(call.config)
    config["strides"] = [1, pair(call.get("strides", 1), 1)[0]]
    config["dilation_rate"] = [1, pair(call.get("dilation_rate", 1), 1)[0]]
    if call.get("output_padding") is not None:
        config["output_padding"] = [0, pair(call.get("output_padding"), 1)[0]]
    weights = call.load_weights

    def load() -> list[np.ndarray]:
        kernel, *rest = weights()
        return [np.asarray(kernel)[None], *rest]

    row = Call(
        call.graph, call.name, config, [as_2d(call, call.x)], load_weights=load, legacy=call.legacy
    )
    return from_2d(call, conv2d_transpose(row))


def _conv3d_op(
    call: Call,
    x: Tensor,
    kernel: np.ndarray,
    bias: np.ndarray | None,
    strides: list[int],
    dilations: list[int],
    padding: str,
) -> Tensor:
    """Add a 3-D convolution [batch, d, h, w, c], its bias and the layer's activation."""
    g = call.graph
    shape = (
        x.shape[0],
        *(
            conv_out(x.shape[1 + i], int(kernel.shape[i]), strides[i], dilations[i], padding)
            for i in range(3)
        ),
        int(kernel.shape[4]),
    )
    out = g.op(
        "Conv3D",
        [x, call.const("kernel", kernel)],
        shape,
        call.hint("Conv3D"),
        {
            "strides": [1, *strides, 1],
            "dilations": [1, *dilations, 1],
            "padding": padding,
            "data_format": "NDHWC",
        },
    )
    if bias is not None:
        out = binary(g, "AddV2", out, call.const("bias", bias), call.hint("BiasAdd"))
    act = call.config.get("activation")
    return activation(g, out, act, call.hint(activation_name(act) or ""), call.legacy)


@layer("Conv3D", "Convolution3D")
def conv3d(call: Call) -> Tensor:
    """``Conv3D`` with strides, dilation and ``same``/``valid`` padding."""
    require_channels_last(call)
    if int(call.get("groups", 1)) != 1:
        raise Unsupported("Conv3D with groups")
    (kernel,), bias = kernel_and_bias(call)
    strides, dilations = pair(call.get("strides", 1), 3), pair(call.get("dilation_rate", 1), 3)
    return _conv3d_op(call, call.x, kernel, bias, strides, dilations, same_or_valid(call))


@layer("Conv3DTranspose", "Convolution3DTranspose")
def conv3d_transpose(call: Call) -> Tensor:
    """``Conv3DTranspose``: zeros between the input's steps, then a 3-D convolution.

    TF.js's graph converter has no 3-D transposed convolution op; this is its
    definition: the stride-upsampled input, padded, convolved with the
    flipped kernel (input and output channels swapped), as TensorFlow crops it.
    """
    require_channels_last(call)
    g = call.graph
    (kernel,), bias = kernel_and_bias(call)
    strides, padding = pair(call.get("strides", 1), 3), same_or_valid(call)
    if pair(call.get("dilation_rate", 1), 3) != [1, 1, 1]:
        raise Unsupported("Conv3DTranspose with dilation_rate")
    extra = call.get("output_padding")
    extra = pair(extra, 3) if extra is not None else None
    x = call.x
    if any(d is None for d in x.shape[1:]):
        raise Unsupported("Conv3DTranspose on an input whose sizes are not fixed")
    pads = [[0, 0]]
    for i in range(3):
        n, s, k = x.shape[1 + i], strides[i], int(kernel.shape[i])
        if extra is None:  # Keras's deconv_output_length
            size = n * s if padding == "SAME" else n * s + max(k - s, 0)
        else:
            size = (n - 1) * s + k - 2 * (k // 2 if padding == "SAME" else 0) + extra[i]
        x = _spread(call, x, 1 + i, s)
        # TensorFlow's transpose is the gradient of a convolution of a `size` input: its
        # output starts where that convolution's padding before ends.
        total = max((-(-size // s) - 1) * s + k - size, 0) if padding == "SAME" else 0
        before = k - 1 - total // 2
        pads.append([before, size + k - 1 - x.shape[1 + i] - before])
    pads.append([0, 0])
    if any(p < 0 for pair_ in pads for p in pair_):
        raise Unsupported("Conv3DTranspose with this output_padding")
    shape = tuple(d if i in (0, 4) else d + sum(pads[i]) for i, d in enumerate(x.shape))
    padded = g.op("Pad", [x, ints(g, pads, "paddings")], shape, call.hint("pad"))
    flipped = np.ascontiguousarray(kernel[::-1, ::-1, ::-1].transpose(0, 1, 2, 4, 3))
    return _conv3d_op(call, padded, flipped, bias, [1, 1, 1], [1, 1, 1], "VALID")


def _spread(call: Call, x: Tensor, axis: int, stride: int) -> Tensor:
    """Put ``stride - 1`` zeros between the steps of ``axis`` (a size n becomes (n-1)·s+1)."""
    if stride == 1:
        return x
    g, n = call.graph, int(x.shape[axis])
    split = reshape(
        g, x, (*x.shape[: axis + 1], 1, *x.shape[axis + 1 :]), call.hint(f"split{axis}")
    )
    widths = [[0, 0]] * split.rank
    widths[axis + 1] = [0, stride - 1]
    wide = g.op(
        "Pad",
        [split, ints(g, widths, "paddings")],
        (*x.shape[: axis + 1], stride, *x.shape[axis + 1 :]),
        call.hint(f"zeros{axis}"),
    )
    joined = reshape(
        g, wide, (*x.shape[:axis], n * stride, *x.shape[axis + 1 :]), call.hint(f"join{axis}")
    )
    size = (n - 1) * stride + 1
    return g.op(
        "Slice",
        [
            joined,
            ints(g, [0] * x.rank, "begin"),
            ints(g, [-1 if i != axis else size for i in range(x.rank)], f"size{axis}_{size}"),
        ],
        (*x.shape[:axis], size, *x.shape[axis + 1 :]),
        call.hint(f"spread{axis}"),
    )
