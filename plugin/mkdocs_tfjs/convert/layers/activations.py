"""Activations: Keras's activation functions, and the layers that apply one.

:func:`activation` applies an activation by name (or serialized form); the
other domains call it for their layers' ``activation`` option. Where TF.js
has no single op (swish, softsign, mish, gelu), it is composed from ops it has.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..graph import DType, Graph, Tensor, broadcasts_trailing
from ._common import (
    axis_of,
    binary,
    ints,
    scalar,
    unary,
)
from .registry import Call, Unsupported, layer


def relu_general(
    g: Graph, x: Tensor, hint: str, slope: float, max_value: Any, threshold: float
) -> Tensor:
    """Keras's ``relu(x, negative_slope, max_value, threshold)``, step by step as Keras does."""
    if slope != 0 and max_value is None and threshold == 0:
        return unary(g, "LeakyRelu", x, hint, alpha=float(slope))
    negative = None
    if slope != 0:
        shifted = (
            binary(g, "Sub", scalar(g, threshold, "threshold"), x, hint + "/neg")
            if threshold
            else unary(g, "Neg", x, hint + "/neg")
        )
        negative = unary(g, "Relu", shifted, hint + "/neg_relu")
    clip = max_value is not None
    if threshold != 0:
        keep = g.op(
            "Greater",
            [x, scalar(g, threshold, "threshold")],
            x.shape,
            hint + "/above",
            dtype="bool",
        )
        mask = g.op(
            "Cast",
            [keep],
            x.shape,
            hint + "/mask",
            {"DstT": DType("float32"), "SrcT": DType("bool")},
        )
        out = binary(g, "Mul", x, mask, hint + "/thresholded")
    elif max_value is not None and float(max_value) == 6:
        out = unary(g, "Relu6", x, hint)
        clip = False
    else:
        out = unary(g, "Relu", x, hint)
    if clip:
        out = g.op(
            "ClipByValue",
            [out, scalar(g, 0.0, "zero"), scalar(g, float(max_value), "max")],
            out.shape,
            hint + "/clip",
        )
    if negative is not None:
        out = binary(
            g,
            "Sub",
            out,
            binary(g, "Mul", scalar(g, slope, "slope"), negative, hint + "/neg_scaled"),
            hint + "/leaky",
        )
    return out


def softmax_axis(g: Graph, x: Tensor, axis: int, hint: str, log: bool = False) -> Tensor:
    """Softmax or log-softmax along any axis (TF.js's ops take the last one)."""
    axis = axis_of(axis, x.rank)
    if axis == x.rank - 1:
        return unary(g, "LogSoftmax" if log else "Softmax", x, hint)
    perm = list(range(x.rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    moved = g.op(
        "Transpose", [x, ints(g, perm, "perm")], tuple(x.shape[p] for p in perm), hint + "/to_last"
    )
    done = unary(g, "LogSoftmax" if log else "Softmax", moved, hint + "/last")
    return g.op("Transpose", [done, ints(g, perm, "perm")], x.shape, hint)


def hard_sigmoid(g: Graph, x: Tensor, hint: str, legacy: bool) -> Tensor:
    """Keras 3's ``relu6(x + 3) / 6``; Keras 2's ``clip(0.2 x + 0.5, 0, 1)``."""
    if legacy:
        y = binary(
            g,
            "AddV2",
            binary(g, "Mul", x, scalar(g, 0.2, "c0_2"), hint + "/scaled"),
            scalar(g, 0.5, "c0_5"),
            hint + "/shifted",
        )
        return g.op(
            "ClipByValue", [y, scalar(g, 0.0, "zero"), scalar(g, 1.0, "one")], x.shape, hint
        )
    y = unary(
        g, "Relu6", binary(g, "AddV2", x, scalar(g, 3.0, "c3"), hint + "/plus3"), hint + "/relu6"
    )
    return binary(g, "Mul", y, scalar(g, 1 / 6, "c1_6"), hint)


def gelu(g: Graph, x: Tensor, hint: str, approximate: bool) -> Tensor:
    """GELU, exact (``0.5 x (1 + erf(x / √2))``) or the tanh approximation."""
    half_x = binary(g, "Mul", x, scalar(g, 0.5, "c0_5"), hint + "/half_x")
    if approximate:
        cube = binary(g, "Mul", binary(g, "Mul", x, x, hint + "/x2"), x, hint + "/x3")
        inner = binary(
            g,
            "AddV2",
            x,
            binary(g, "Mul", cube, scalar(g, 0.044715, "gelu_c"), hint + "/cubic"),
            hint + "/poly",
        )
        t = unary(
            g,
            "Tanh",
            binary(g, "Mul", inner, scalar(g, math.sqrt(2 / math.pi), "sqrt_2_pi"), hint + "/arg"),
            hint + "/tanh",
        )
    else:
        t = unary(
            g,
            "Erf",
            binary(g, "Mul", x, scalar(g, 1 / math.sqrt(2), "rsqrt2"), hint + "/arg"),
            hint + "/erf",
        )
    return binary(
        g, "Mul", half_x, binary(g, "AddV2", t, scalar(g, 1.0, "one"), hint + "/one_plus"), hint
    )


def activation(g: Graph, x: Tensor, spec: Any, hint: str, legacy: bool = False) -> Tensor:
    """Apply a Keras activation given by name (or its serialized form)."""
    name = activation_name(spec)
    simple = {
        "relu": "Relu",
        "relu6": "Relu6",
        "elu": "Elu",
        "selu": "Selu",
        "sigmoid": "Sigmoid",
        "tanh": "Tanh",
        "softplus": "Softplus",
        "exponential": "Exp",
    }
    if name in ("linear", None):
        return x
    if name in simple:
        return unary(g, simple[name], x, hint)
    if name == "softmax":
        return softmax_axis(g, x, -1, hint)
    if name == "log_softmax":
        return softmax_axis(g, x, -1, hint, log=True)
    if name == "leaky_relu":
        return unary(g, "LeakyRelu", x, hint, alpha=0.2)
    if name in ("silu", "swish"):
        return binary(g, "Mul", x, unary(g, "Sigmoid", x, hint + "/sigmoid"), hint)
    if name == "hard_sigmoid":
        return hard_sigmoid(g, x, hint, legacy)
    if name in ("hard_silu", "hard_swish"):
        return binary(g, "Mul", x, hard_sigmoid(g, x, hint + "/hard_sigmoid", legacy), hint)
    if name == "mish":
        return binary(
            g,
            "Mul",
            x,
            unary(g, "Tanh", unary(g, "Softplus", x, hint + "/softplus"), hint + "/tanh"),
            hint,
        )
    if name == "softsign":
        denominator = binary(
            g,
            "AddV2",
            unary(g, "Abs", x, hint + "/abs"),
            scalar(g, 1.0, "one"),
            hint + "/denominator",
        )
        return binary(g, "RealDiv", x, denominator, hint)
    if name == "gelu":
        return gelu(g, x, hint, approximate=False)
    raise Unsupported(f"the activation `{name}`")


def activation_name(spec: Any) -> str | None:
    """Return an activation's name, from a string or its serialized form (None for none)."""
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        # Keras 3 writes a built-in activation as a string, a custom one as a dict.
        config = spec.get("config")
        if spec.get("class_name") == "function" and isinstance(config, str):
            return config
        return str(spec.get("registered_name") or spec.get("class_name"))
    return str(spec)


@layer("Activation")
def activation_layer(call: Call) -> Tensor:
    """``Activation(name)``."""
    return activation(call.graph, call.x, call.config.get("activation"), call.hint(), call.legacy)


@layer("ReLU")
def relu_layer(call: Call) -> Tensor:
    """``ReLU(max_value, negative_slope, threshold)``."""
    return relu_general(
        call.graph,
        call.x,
        call.hint(),
        float(call.get("negative_slope", 0.0)),
        call.config.get("max_value"),
        float(call.get("threshold", 0.0)),
    )


@layer("LeakyReLU")
def leaky_relu_layer(call: Call) -> Tensor:
    """``LeakyReLU`` (``negative_slope`` in Keras 3, ``alpha`` in Keras 2)."""
    slope = call.config.get("negative_slope", call.config.get("alpha", 0.3))
    return unary(call.graph, "LeakyRelu", call.x, call.hint(), alpha=float(slope))


@layer("ELU")
def elu_layer(call: Call) -> Tensor:
    """``ELU(alpha)``: ``relu(x) + alpha · elu(min(x, 0))``."""
    g, alpha = call.graph, float(call.get("alpha", 1.0))
    if alpha == 1.0:
        return unary(g, "Elu", call.x, call.hint())
    negative = unary(
        g,
        "Elu",
        binary(g, "Minimum", call.x, scalar(g, 0.0, "zero"), call.hint("negative")),
        call.hint("elu"),
    )
    return binary(
        g,
        "AddV2",
        unary(g, "Relu", call.x, call.hint("positive")),
        binary(g, "Mul", negative, scalar(g, alpha, "alpha"), call.hint("scaled")),
        call.hint(),
    )


@layer("PReLU")
def prelu_layer(call: Call) -> Tensor:
    """``PReLU``, with its learned slopes (shared axes broadcast).

    Slopes shared over an axis before an unshared one (``shared_axes=[2]`` on
    ``[batch, H, W, C]``: shape ``(H, 1, C)``) are written out in full: the
    WebAssembly backend's Prelu repeats the slopes as one flat run over the
    output, which gives wrong values for them (measured: off by up to 40).
    """
    alpha = call.weights()[0]
    features = call.x.shape[1:]
    if not broadcasts_trailing(alpha.shape, features) and None not in features:
        alpha = np.ascontiguousarray(np.broadcast_to(alpha, features), dtype=np.float32)
    return binary(call.graph, "Prelu", call.x, call.const("alpha", alpha), call.hint())


@layer("Softmax")
def softmax_layer(call: Call) -> Tensor:
    """``Softmax(axis)``."""
    axis = call.get("axis", -1)
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise Unsupported("Softmax over several axes")
        axis = axis[0]
    return softmax_axis(call.graph, call.x, int(axis), call.hint())
