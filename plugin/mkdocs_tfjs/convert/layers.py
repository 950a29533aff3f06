"""The lowering: one small function per Keras layer class, looked up in :data:`LAYERS`.

Each function takes a :class:`Call` (the layer's config, its input tensors,
its weights) and adds TF.js graph ops to the graph, with Keras's exact
semantics (padding, strides, dilation, defaults), and returns its output
tensor(s). Where TF.js has no single op (swish, softsign, mish, gelu), the
function composes one from ops it has. Only ``channels_last`` is lowered.

A layer class missing from the table is unsupported: the converter reports
it by name and never guesses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .graph import DType, Graph, Tensor

#: Keras layer class (or ``ops.<Class>`` for keras.ops nodes) → lowering function.
LAYERS: dict[str, Callable[[Call], Tensor | list[Tensor]]] = {}


class Unsupported(Exception):
    """A layer option this converter does not lower (the message says which)."""


@dataclass
class Call:
    """One call of a layer in the model's graph."""

    graph: Graph
    name: str
    config: dict[str, Any]
    inputs: list[Tensor]
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    load_weights: Callable[[], list[np.ndarray]] = lambda: []
    legacy: bool = False

    @property
    def x(self) -> Tensor:
        """Return the single input."""
        return self.inputs[0]

    def weights(self) -> list[np.ndarray]:
        """Return the layer's weights, float32, in Keras's variable order."""
        return [np.asarray(w, dtype=np.float32) for w in self.load_weights()]

    def get(self, key: str, default: Any = None) -> Any:
        """Return a config value, or ``default`` when absent or null."""
        value = self.config.get(key)
        return default if value is None else value

    def hint(self, suffix: str = "") -> str:
        """Return a node name hint under this layer's name."""
        return f"{self.name}/{suffix}" if suffix else self.name

    def const(self, suffix: str, value: Any, dtype: str = "float32") -> Tensor:
        """Add a constant named after this layer."""
        return self.graph.const(self.hint(suffix), value, dtype)


@dataclass(frozen=True)
class Fold:
    """How a BatchNormalization after a layer folds into the layer's own weights.

    ``kernel`` is the index, among the layer's weights, of the kernel that
    makes the output channels (its bias follows it); ``channels`` are that
    kernel's axes holding the output channels, in output order
    (DepthwiseConv2D's input channel then multiplier: channel ``c * m + j``).
    """

    kernel: int = 0
    channels: tuple[int, ...] = (-1,)

    def apply(
        self, weights: list[np.ndarray], scale: np.ndarray, offset: np.ndarray, has_bias: bool
    ) -> list[np.ndarray]:
        """Return the weights, with a bias, of the layer followed by ``x * scale + offset``."""
        kernel = weights[self.kernel]
        shape = [1] * kernel.ndim
        for axis in self.channels:
            shape[axis] = kernel.shape[axis]
        bias = weights[self.kernel + 1] if has_bias else np.zeros_like(offset)
        return [
            *weights[: self.kernel],
            (kernel * scale.reshape(shape)).astype(np.float32),
            (bias * scale + offset).astype(np.float32),
        ]


#: Keras layer class → how a BatchNormalization after it folds into its weights.
FOLDS: dict[str, Fold] = {}


def layer(
    *names: str, folds: Fold | None = None
) -> Callable[[Callable[[Call], Any]], Callable[[Call], Any]]:
    """Register a lowering function for one or more Keras class names.

    ``folds`` says how a BatchNormalization after the layer folds into the
    weights the function reads; the walker folds it and lowers a biased layer.
    """

    def register(fn: Callable[[Call], Any]) -> Callable[[Call], Any]:
        for name in names:
            LAYERS[name] = fn
            if folds is not None:
                FOLDS[name] = folds
        return fn

    return register


# -- shapes and small op helpers ------------------------------------------


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


# -- activations -------------------------------------------------------------


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
    name = _activation_name(spec)
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


def _activation_name(spec: Any) -> str | None:
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        # Keras 3 writes a built-in activation as a string, a custom one as a dict.
        config = spec.get("config")
        if spec.get("class_name") == "function" and isinstance(config, str):
            return config
        return str(spec.get("registered_name") or spec.get("class_name"))
    return str(spec)


# Activations TF.js fuses into _FusedConv2D / _FusedMatMul / FusedDepthwiseConv2dNative.
_FUSABLE = {"relu": "Relu", "relu6": "Relu6", "elu": "Elu", "sigmoid": "Sigmoid"}


# -- core ---------------------------------------------------------------------


@layer(
    "InputLayer",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
    "Identity",
)
def identity(call: Call) -> Tensor:
    """Layers that do nothing at inference."""
    return call.x


@layer("Masking")
def masking(call: Call) -> Tensor:
    """``Masking(mask_value)``: a step whose every feature is ``mask_value`` becomes zeros.

    The mask itself is dropped: no lowered layer reads it. A ``mask_value`` of 0
    leaves the input as it is (a masked step is zeros already).
    """
    g, x = call.graph, call.x
    value = float(call.get("mask_value", 0.0))
    if value == 0:
        return x
    diff = binary(g, "Sub", x, scalar(g, value, "mask_value"), call.hint("diff"))
    distance = unary(g, "Abs", diff, call.hint("abs"))
    furthest = reduce(g, "Max", distance, [-1], True, call.hint("furthest"))
    keep = g.op(
        "Greater",
        [furthest, scalar(g, 0.0, "zero")],
        furthest.shape,
        call.hint("keep"),
        dtype="bool",
    )
    mask = g.op(
        "Cast",
        [keep],
        keep.shape,
        call.hint("mask"),
        {"DstT": DType("float32"), "SrcT": DType("bool")},
    )
    return binary(g, "Mul", x, mask, call.hint())


@layer("Activation")
def activation_layer(call: Call) -> Tensor:
    """``Activation(name)``."""
    return activation(call.graph, call.x, call.config.get("activation"), call.hint(), call.legacy)


def biased(
    call: Call,
    ops: tuple[str, str],
    x: Tensor,
    k: Tensor,
    bias: np.ndarray | None,
    act: Any,
    shape: tuple,
    attrs: dict[str, Any],
    hint: str,
    suffix: str = "",
) -> Tensor:
    """Add ``ops[0](x, k)``, the bias and the activation.

    With a bias, one ``ops[1]`` node (``_FusedConv2D``, ``_FusedMatMul``...)
    adds it, and applies the activation too where TF.js's fused kernels have it.
    """
    g = call.graph
    name = _activation_name(act)
    act_hint = call.hint(suffix + (name or ""))
    if bias is None:
        return activation(g, g.op(ops[0], [x, k], shape, hint, attrs), act, act_hint, call.legacy)
    fused = _FUSABLE.get(name or "")
    attrs = {**attrs, "fused_ops": ["BiasAdd", fused] if fused else ["BiasAdd"], "num_args": 1}
    out = g.op(ops[1], [x, k, call.const(suffix + "bias", bias)], shape, hint, attrs)
    return out if fused else activation(g, out, act, act_hint, call.legacy)


def kernel_and_bias(call: Call, kernels: int = 1) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Return a layer's ``kernels`` kernel weights and its bias (None without ``use_bias``)."""
    weights = call.weights()
    return weights[:kernels], (weights[kernels] if call.get("use_bias", True) else None)


def dense_like(
    call: Call, x: Tensor, kernel: np.ndarray, bias: np.ndarray | None, act: Any
) -> Tensor:
    """``x @ kernel + bias`` then the activation, fused where TF.js can."""
    g = call.graph
    shape = (*x.shape[:-1], kernel.shape[-1])
    k = call.const("kernel", kernel)
    if x.rank == 2:
        attrs = {"transpose_a": False, "transpose_b": False}
        if bias is not None:
            attrs["epsilon"] = 0.0
        return biased(
            call, ("MatMul", "_FusedMatMul"), x, k, bias, act, shape, attrs, call.hint("MatMul")
        )
    # Dense on [batch, ..., features] multiplies the last axis only.
    out = g.op(
        "BatchMatMulV2", [x, k], shape, call.hint("MatMul"), {"adj_x": False, "adj_y": False}
    )
    if bias is not None:
        out = binary(g, "AddV2", out, call.const("bias", bias), call.hint("BiasAdd"))
    return activation(g, out, act, call.hint(_activation_name(act) or ""), call.legacy)


@layer("Dense", folds=Fold())
def dense(call: Call) -> Tensor:
    """``Dense(units)`` on a tensor of any rank ≥ 2."""
    (kernel,), bias = kernel_and_bias(call)
    return dense_like(call, call.x, kernel, bias, call.config.get("activation"))


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


@layer("Embedding")
def embedding(call: Call) -> Tensor:
    """``Embedding(input_dim, output_dim)``: a gather of rows by integer index."""
    g = call.graph
    table = call.weights()[0]
    indices = call.x
    if indices.dtype != "int32":
        indices = g.op(
            "Cast",
            [indices],
            indices.shape,
            call.hint("indices"),
            {"DstT": DType("int32"), "SrcT": DType(indices.dtype)},
            dtype="int32",
        )
    return g.op(
        "GatherV2",
        [call.const("embeddings", table), indices, ints(g, 0, "axis")],
        (*indices.shape, table.shape[1]),
        call.hint(),
        {"batch_dims": 0},
    )


# -- convolution ---------------------------------------------------------------


def _padding(call: Call) -> str:
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
    padding, groups = _padding(call), int(call.get("groups", 1))
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
    return activation(g, joined, act, call.hint(_activation_name(act) or ""), call.legacy)


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
        _padding(call),
    )


@layer("SeparableConv2D", "SeparableConvolution2D", folds=Fold(kernel=1))
def separable_conv2d(call: Call) -> Tensor:
    """``SeparableConv2D``: depthwise, then a 1x1 convolution with the bias."""
    require_channels_last(call)
    (depthwise_kernel, pointwise_kernel), bias = kernel_and_bias(call, 2)
    strides, dilations = pair(call.get("strides", 1)), pair(call.get("dilation_rate", 1))
    depthwise = depthwise_op(
        call, call.x, depthwise_kernel, None, None, strides, dilations, _padding(call)
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
    strides, padding = pair(call.get("strides", 1)), _padding(call)
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


# -- pooling, padding, cropping, resampling ------------------------------------


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
        return pool(call, op, call.x, size, strides, _padding(call))

    lower.__doc__ = f"2-D pooling as ``{op}``."
    return lower


def _pool1d(op: str) -> Callable[[Call], Tensor]:
    def lower(call: Call) -> Tensor:
        require_channels_last(call)
        size = pair(call.get("pool_size", 2), 1)[0]
        stride = pair(call.get("strides") or size, 1)[0]
        return from_2d(
            call, pool(call, op, as_2d(call, call.x), [1, size], [1, stride], _padding(call))
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


# GlobalAvgPool2D, GlobalMaxPool2D... are Keras's aliases of the same classes.
for _name, _short, _op in (("Average", "Avg", "Mean"), ("Max", "Max", "Max")):
    for _n in (1, 2, 3):
        LAYERS[f"Global{_name}Pooling{_n}D"] = LAYERS[f"Global{_short}Pool{_n}D"] = _global_pool(
            _op, _n
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


@layer("Resizing")
def resizing(call: Call) -> Tensor:
    """``Resizing(height, width)``, bilinear or nearest, optionally cropping to the aspect ratio."""
    require_channels_last(call)
    height, width = int(call.config["height"]), int(call.config["width"])
    x = call.x
    if call.get("pad_to_aspect_ratio", False):
        raise Unsupported("Resizing with pad_to_aspect_ratio")
    if call.get("crop_to_aspect_ratio", False):
        x = center_crop_to(call, x, *_aspect_crop(x.shape[1], x.shape[2], height, width), "crop")
    return resize(call, x, height, width, str(call.get("interpolation", "bilinear")), call.hint())


def _aspect_crop(h: int, w: int, th: int, tw: int) -> tuple[int, int]:
    crop_h = min(h, int(w * th / tw))
    crop_w = min(w, int(h * tw / th))
    return crop_h, crop_w


def center_crop_to(call: Call, x: Tensor, height: int, width: int, suffix: str) -> Tensor:
    """Take the centred ``height`` x ``width`` region of [batch, h, w, c]."""
    g = call.graph
    top, left = (x.shape[1] - height) // 2, (x.shape[2] - width) // 2
    return g.op(
        "Slice",
        [x, ints(g, [0, top, left, 0], "begin"), ints(g, [-1, height, width, -1], "size")],
        (x.shape[0], height, width, x.shape[3]),
        call.hint(suffix),
    )


@layer("CenterCrop")
def center_crop(call: Call) -> Tensor:
    """``CenterCrop(height, width)``; a smaller input is first resized as Keras does."""
    require_channels_last(call)
    height, width = int(call.config["height"]), int(call.config["width"])
    h, w = call.x.shape[1], call.x.shape[2]
    if h is None or w is None:
        raise Unsupported("CenterCrop on an input whose height or width is not fixed")
    if h >= height and w >= width:
        return center_crop_to(call, call.x, height, width, "")
    crop_h, crop_w = _aspect_crop(h, w, height, width)
    cropped = center_crop_to(call, call.x, crop_h, crop_w, "crop")
    return resize(call, cropped, height, width, "bilinear", call.hint())


@layer("Rescaling")
def rescaling(call: Call) -> Tensor:
    """``Rescaling(scale, offset)``: ``x * scale + offset``."""
    g = call.graph
    scale, offset = call.config.get("scale", 1.0), call.config.get("offset", 0.0)
    out = binary(
        g, "Mul", call.x, call.const("scale", np.asarray(scale, np.float32)), call.hint("scale")
    )
    if np.any(np.asarray(offset) != 0):
        out = binary(
            g, "AddV2", out, call.const("offset", np.asarray(offset, np.float32)), call.hint()
        )
    return out


# -- normalisation ---------------------------------------------------------------


def batchnorm_affine(call: Call) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Return BatchNormalization's inference form ``x * scale + offset`` and its axes."""
    weights = call.weights()
    i = 0
    gamma = beta = None
    if call.get("scale", True):
        gamma, i = weights[i], i + 1
    if call.get("center", True):
        beta, i = weights[i], i + 1
    mean, variance = weights[i], weights[i + 1]
    epsilon = float(call.get("epsilon", 1e-3))
    scale = 1.0 / np.sqrt(variance.astype(np.float64) + epsilon)
    if gamma is not None:
        scale = scale * gamma
    offset = -mean * scale + (beta if beta is not None else 0.0)
    return scale.astype(np.float32), offset.astype(np.float32), axes_list(call.get("axis", -1))


@layer("BatchNormalization")
def batch_normalization(call: Call) -> Tensor:
    """``BatchNormalization`` at inference: one multiply and one add per channel."""
    scale, offset, axes = batchnorm_affine(call)
    g = call.graph
    out = binary(
        g, "Mul", call.x, call.const("scale", as_param(scale, call.x, axes)), call.hint("scale")
    )
    return binary(
        g, "AddV2", out, call.const("offset", as_param(offset, call.x, axes)), call.hint()
    )


@layer("LayerNormalization")
def layer_normalization(call: Call) -> Tensor:
    """``LayerNormalization``, including ``rms_scaling``."""
    g, x = call.graph, call.x
    axes = axes_list(call.get("axis", -1))
    epsilon = scalar(g, float(call.get("epsilon", 1e-3)), "epsilon")
    weights = call.weights()
    rms = bool(call.get("rms_scaling", False))
    scale = call.get("scale", True) or rms
    gamma = weights[0] if scale else None
    beta = weights[1 if scale else 0] if call.get("center", True) and not rms else None
    mean = reduce(g, "Mean", x, axes, True, call.hint("mean"))
    variance = reduce(
        g,
        "Mean",
        binary(g, "SquaredDifference", x, mean, call.hint("sq_diff")),
        axes,
        True,
        call.hint("variance"),
    )
    inv = unary(
        g, "Rsqrt", binary(g, "AddV2", variance, epsilon, call.hint("plus_eps")), call.hint("rsqrt")
    )
    if rms:
        # Keras's rms_scaling divides by the standard deviation and does not centre.
        out = binary(g, "Mul", x, inv, call.hint("normalized"))
        return binary(g, "Mul", out, call.const("gamma", as_param(gamma, x, axes)), call.hint())
    if gamma is not None:
        inv = binary(
            g, "Mul", inv, call.const("gamma", as_param(gamma, x, axes)), call.hint("scaled")
        )
    out = binary(
        g, "Mul", binary(g, "Sub", x, mean, call.hint("centered")), inv, call.hint("normalized")
    )
    if beta is not None:
        out = binary(g, "AddV2", out, call.const("beta", as_param(beta, x, axes)), call.hint())
    return out


@layer("RMSNormalization")
def rms_normalization(call: Call) -> Tensor:
    """``RMSNormalization``: ``x * rsqrt(mean(x²) + epsilon) * scale``."""
    g, x = call.graph, call.x
    axes = axes_list(call.get("axis", -1))
    mean_square = reduce(
        g, "Mean", unary(g, "Square", x, call.hint("square")), axes, True, call.hint("mean_square")
    )
    epsilon = scalar(g, float(call.get("epsilon", 1e-6)), "epsilon")
    inv = unary(
        g,
        "Rsqrt",
        binary(g, "AddV2", mean_square, epsilon, call.hint("plus_eps")),
        call.hint("rsqrt"),
    )
    out = binary(g, "Mul", x, inv, call.hint("normalized"))
    return binary(
        g, "Mul", out, call.const("scale", as_param(call.weights()[0], x, axes)), call.hint()
    )


@layer("UnitNormalization")
def unit_normalization(call: Call) -> Tensor:
    """``UnitNormalization``: ``x * min(rsqrt(sum(x²)), 1 / 1e-12)`` over ``axis``."""
    g, x = call.graph, call.x
    axes = axes_list(call.get("axis", -1))
    total = reduce(
        g, "Sum", unary(g, "Square", x, call.hint("square")), axes, True, call.hint("sum")
    )
    inv = binary(
        g,
        "Minimum",
        unary(g, "Rsqrt", total, call.hint("rsqrt")),
        scalar(g, 1e12, "inv_eps"),
        call.hint("inv_norm"),
    )
    return binary(g, "Mul", x, inv, call.hint())


@layer("Normalization")
def normalization(call: Call) -> Tensor:
    """Lower ``Normalization``: ``(x - mean) / max(sqrt(variance), 1e-7)``, or its inverse."""
    g, x = call.graph, call.x
    axes = axes_list(call.get("axis", -1))
    if call.config.get("mean") is not None:
        mean = np.asarray(call.config["mean"], np.float32)
        variance = np.asarray(call.config["variance"], np.float32)
    else:
        weights = call.weights()
        mean, variance = weights[0], weights[1]
    std = np.maximum(np.sqrt(variance), np.float32(1e-7)).astype(np.float32)
    shape = param_shape(x, axes)
    mean, std = mean.reshape(shape), std.reshape(shape)
    if call.get("invert", False):
        return binary(
            g,
            "AddV2",
            binary(g, "Mul", x, call.const("std", std), call.hint("scaled")),
            call.const("mean", mean),
            call.hint(),
        )
    return binary(
        g,
        "RealDiv",
        binary(g, "Sub", x, call.const("mean", mean), call.hint("centered")),
        call.const("std", std),
        call.hint(),
    )


# -- activation layers -----------------------------------------------------------


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
    """``PReLU``, with its learned slopes (shared axes broadcast)."""
    alpha = call.weights()[0]
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


# -- merges ------------------------------------------------------------------------


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


# -- keras.ops nodes and small layers of keras.applications --------------------------


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


@layer("LayerScale")
def layer_scale(call: Call) -> Tensor:
    """ConvNeXt's ``LayerScale``: ``x * gamma``."""
    return binary(call.graph, "Mul", call.x, call.const("gamma", call.weights()[0]), call.hint())


@layer("CustomScaleLayer")
def custom_scale(call: Call) -> Tensor:
    """InceptionResNetV2's ``CustomScaleLayer``: ``inputs[0] + inputs[1] * scale``."""
    g = call.graph
    scaled = binary(
        g,
        "Mul",
        call.inputs[1],
        scalar(g, float(call.config["scale"]), "scale"),
        call.hint("scaled"),
    )
    return binary(g, "AddV2", call.inputs[0], scaled, call.hint())
