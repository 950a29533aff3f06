"""Convolutions: Conv1D/2D (groups included), depthwise, separable and transposed.

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
