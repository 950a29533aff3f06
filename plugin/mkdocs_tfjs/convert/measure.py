"""What quantizing a model's weights costs in its outputs, measured with numpy at build time.

The native converter's graph runs here on a small numpy interpreter, three
times on the same fixed inputs: with its float32 weights, and with the weights
quantized to float16 and to uint8 and dequantized exactly as the shards store
them (``graph.py``'s functions) and TF.js reads them back. The outputs'
largest and mean absolute differences are the cost of each quantization. The
interpreter computes in float64, so the numbers are the weights' doing, not
rounding in the arithmetic. It runs the ops the common layers lower to; a graph
with another op is reported as not measured, naming the op.

No Keras or TensorFlow: this works in the default install. Nothing here knows a
Keras layer.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .graph import Graph, Tensor, _affine_uint8

#: How many inputs the measure runs on, drawn once from this seed, uniform in [0, 1).
INPUTS = 8
SEED = 0


def fixed_inputs(shapes: list[tuple]) -> list[np.ndarray]:
    """Return the measure's inputs for a model taking ``shapes`` (a free batch size is INPUTS)."""
    rng = np.random.default_rng(SEED)
    out = []
    for shape in shapes:
        dims = [INPUTS if i == 0 and d is None else d for i, d in enumerate(shape)]
        if any(d is None for d in dims):
            raise _Unmeasured(f"an input has a free size other than the batch ({list(shape)})")
        out.append(rng.uniform(0.0, 1.0, dims).astype(np.float32))
    return out


def dequantized(array: np.ndarray, quantize: str) -> np.ndarray:
    """Return ``array`` as TF.js reads it back after ``quantize`` (float weights only)."""
    if array.dtype != np.float32 or quantize == "none":
        return array
    if quantize == "float16":
        return array.astype(np.float16).astype(np.float32)
    values, params = _affine_uint8(array)
    return (values.astype(np.float32) * np.float32(params["scale"]) + np.float32(params["min"]))


def quantization_cost(graph: Graph, outputs: list[Tensor]) -> dict[str, Any]:
    """Return ``{"inputs": n, "float16": {"max", "mean"}, "uint8": {...}}``.

    Or ``{"unmeasured": why}`` where the graph holds what the measure does not run.
    """
    try:
        if any(t.dtype != "float32" for t in graph.inputs):
            raise _Unmeasured("an input is not float32 (integer indices cannot be drawn at random)")
        feeds = fixed_inputs([t.shape for t in graph.inputs])
        weights = dict(graph.weights)
        reference = run_graph(graph.nodes, graph.inputs, outputs, feeds, weights)
        cost: dict[str, Any] = {"inputs": INPUTS}
        for quantize in ("float16", "uint8"):
            moved = {name: dequantized(value, quantize) for name, value in weights.items()}
            got = run_graph(graph.nodes, graph.inputs, outputs, feeds, moved)
            pairs = zip(reference, got, strict=True)
            diffs = np.concatenate([np.abs(a - b).ravel() for a, b in pairs])
            cost[quantize] = {"max": float(diffs.max()), "mean": float(diffs.mean())}
        return cost
    except _Unmeasured as exc:
        return {"unmeasured": str(exc)}
    except (ValueError, IndexError, KeyError) as exc:
        return {"unmeasured": f"the measure could not run the graph ({exc})"}


def describe_cost(cost: dict[str, Any] | None, quantize: str) -> str:
    """Return e.g. ``outputs move by at most 2.1e-03 (mean 3.4e-04) on 8 fixed inputs``."""
    if quantize == "none":
        return "none (float32 weights)"
    if not cost:
        return "not measured (converted by TensorFlow's converter)"
    if "unmeasured" in cost:
        return f"not measured: {cost['unmeasured']}"
    numbers = cost[quantize]
    return (
        f"outputs move by at most {numbers['max']:.1e} (mean {numbers['mean']:.1e}) "
        f"against float32, on {cost['inputs']} fixed inputs"
    )


class _Unmeasured(Exception):
    """The graph holds something the measure does not run."""


def run_graph(
    nodes: list[dict[str, Any]],
    inputs: list[Tensor],
    outputs: list[Tensor],
    feeds: list[np.ndarray],
    weights: dict[str, np.ndarray],
) -> list[np.ndarray]:
    """Run the graph's nodes in order (they are added in order) and return ``outputs``."""
    values = {t.name: f.astype(np.float64) for t, f in zip(inputs, feeds, strict=True)}
    for node in nodes:
        name, op = node["name"], node["op"]
        if op == "Placeholder":
            continue
        if op == "Const":
            value = weights[name]
            values[name] = value.astype(np.float64) if value.dtype == np.float32 else value
            continue
        run = _OPS.get(op)
        if run is None:
            raise _Unmeasured(f"the measure does not run the op {op}")
        args = [values[i.split(":")[0]] for i in node.get("input", []) if not i.startswith("^")]
        values[name] = run(args, _Attrs(node.get("attr", {})))
    return [values[t.name] for t in outputs]


class _Attrs:
    """A node's attributes, read back from TensorFlow's AttrValue JSON."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def get(self, key: str, default: Any = None) -> Any:
        value = self.raw.get(key)
        if value is None:
            return default
        if "list" in value:
            items = value["list"]
            if "i" in items:
                return [int(v) for v in items["i"]]
            if "s" in items:
                return [base64.b64decode(v).decode() for v in items["s"]]
            return [float(v) for v in items.get("f", [])]
        if "s" in value:
            return base64.b64decode(value["s"]).decode()
        if "i" in value:
            return int(value["i"])
        if "f" in value:
            return float(value["f"])
        if "b" in value:
            return bool(value["b"])
        return default


def _conv_pads(size: int, k: int, stride: int, dilation: int, padding: str) -> tuple[int, int, int]:
    """Return (output size, pad before, pad after) as TensorFlow computes them."""
    span = (k - 1) * dilation + 1
    if padding == "SAME":
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + span - size, 0)
        return out, total // 2, total - total // 2
    if padding == "VALID":
        return (size - span) // stride + 1, 0, 0
    raise _Unmeasured(f"the measure does not run {padding} padding")


def _windows(x: np.ndarray, kh: int, kw: int, attrs: _Attrs, fill: float = 0.0):
    """Yield (i, j, the input under kernel position i, j) over the output grid, NHWC."""
    strides = attrs.get("strides", [1, 1, 1, 1])
    dilations = attrs.get("dilations", [1, 1, 1, 1])
    padding = attrs.get("padding", "VALID")
    oh, top, bottom = _conv_pads(x.shape[1], kh, strides[1], dilations[1], padding)
    ow, left, right = _conv_pads(x.shape[2], kw, strides[2], dilations[2], padding)
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    for i in range(kh):
        for j in range(kw):
            y, z = i * dilations[1], j * dilations[2]
            rows = slice(y, y + (oh - 1) * strides[1] + 1, strides[1])
            cols = slice(z, z + (ow - 1) * strides[2] + 1, strides[2])
            yield i, j, padded[:, rows, cols]


def _conv2d(x: np.ndarray, k: np.ndarray, attrs: _Attrs) -> np.ndarray:
    out = None
    for i, j, window in _windows(x, k.shape[0], k.shape[1], attrs):
        part = window @ k[i, j]
        out = part if out is None else out + part
    return out


def _depthwise(x: np.ndarray, k: np.ndarray, attrs: _Attrs) -> np.ndarray:
    out = None
    for i, j, window in _windows(x, k.shape[0], k.shape[1], attrs):
        part = window[..., :, None] * k[i, j]
        out = part if out is None else out + part
    return out.reshape(*out.shape[:3], -1)


def _pool(x: np.ndarray, attrs: _Attrs, kind: str) -> np.ndarray:
    ksize = attrs.get("ksize")
    if kind == "max":
        return np.max([w for _, _, w in _windows(x, ksize[1], ksize[2], attrs, -np.inf)], axis=0)
    # TensorFlow's average leaves the padding out of the count.
    total = np.sum([w for _, _, w in _windows(x, ksize[1], ksize[2], attrs)], axis=0)
    ones = np.ones(x.shape[:3] + (1,))
    count = np.sum([w for _, _, w in _windows(ones, ksize[1], ksize[2], attrs)], axis=0)
    return total / count


_ACTIVATIONS: dict[str, Callable[[np.ndarray, _Attrs], np.ndarray]] = {
    "Relu": lambda x, a: np.maximum(x, 0),
    "Relu6": lambda x, a: np.clip(x, 0, 6),
    "Elu": lambda x, a: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "Selu": lambda x, a: 1.0507009873554805
    * np.where(x > 0, x, 1.6732632423543772 * np.expm1(np.minimum(x, 0))),
    "Sigmoid": lambda x, a: 1 / (1 + np.exp(-x)),
    "Tanh": lambda x, a: np.tanh(x),
    "Softplus": lambda x, a: np.logaddexp(0, x),
    "Exp": lambda x, a: np.exp(x),
    "Abs": lambda x, a: np.abs(x),
    "Neg": lambda x, a: -x,
    "Square": lambda x, a: x * x,
    "Rsqrt": lambda x, a: 1 / np.sqrt(x),
    "LeakyRelu": lambda x, a: np.where(x > 0, x, a.get("alpha", 0.2) * x),
    "Identity": lambda x, a: x,
}


def _resize_nearest(x: np.ndarray, size: np.ndarray, attrs: _Attrs) -> np.ndarray:
    half = 0.5 if attrs.get("half_pixel_centers", False) else 0.0
    rows, cols = ([min(int(math.floor((i + half) * n / m)), n - 1) for i in range(m)]
                  for n, m in zip(x.shape[1:3], (int(size[0]), int(size[1])), strict=True))
    return x[:, rows][:, :, cols]


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _elementwise(f: Callable[[np.ndarray, _Attrs], np.ndarray]):
    return lambda args, a: f(args[0], a)


def _fused(op: Callable[[np.ndarray, np.ndarray, _Attrs], np.ndarray]):
    def run(args: list[np.ndarray], attrs: _Attrs) -> np.ndarray:
        out = op(args[0], args[1], attrs)
        for fused in attrs.get("fused_ops", []):
            if fused == "BiasAdd":
                out = out + args[2]
            elif fused in _ACTIVATIONS:
                out = _ACTIVATIONS[fused](out, attrs)
            else:
                raise _Unmeasured(f"the measure does not run the fused op {fused}")
        return out

    return run


def _matmul(a: np.ndarray, b: np.ndarray, attrs: _Attrs) -> np.ndarray:
    if attrs.get("transpose_a", False):
        a = np.swapaxes(a, -1, -2)
    if attrs.get("transpose_b", False):
        b = np.swapaxes(b, -1, -2)
    return a @ b


def _axes(value: np.ndarray) -> tuple[int, ...]:
    return tuple(int(v) for v in np.atleast_1d(value))


def _reshape(x: np.ndarray, shape: np.ndarray) -> np.ndarray:
    return x.reshape([int(d) for d in shape])


def _squeeze(x: np.ndarray, attrs: _Attrs) -> np.ndarray:
    dims = attrs.get("squeeze_dims", []) or attrs.get("axis", [])
    return np.squeeze(x, axis=tuple(dims) if dims else None)


_OPS: dict[str, Callable[[list[np.ndarray], _Attrs], np.ndarray]] = {
    **{op: _elementwise(f) for op, f in _ACTIVATIONS.items()},
    "Softmax": lambda args, a: _softmax(args[0]),
    "LogSoftmax": lambda args, a: np.log(_softmax(args[0])),
    "MatMul": lambda args, a: _matmul(args[0], args[1], a),
    "BatchMatMulV2": lambda args, a: _matmul(args[0], args[1], a),
    "_FusedMatMul": _fused(_matmul),
    "Conv2D": lambda args, a: _conv2d(args[0], args[1], a),
    "_FusedConv2D": _fused(_conv2d),
    "DepthwiseConv2dNative": lambda args, a: _depthwise(args[0], args[1], a),
    "FusedDepthwiseConv2dNative": _fused(_depthwise),
    "BiasAdd": lambda args, a: args[0] + args[1],
    "Add": lambda args, a: args[0] + args[1],
    "AddV2": lambda args, a: args[0] + args[1],
    "Sub": lambda args, a: args[0] - args[1],
    "Mul": lambda args, a: args[0] * args[1],
    "RealDiv": lambda args, a: args[0] / args[1],
    "Maximum": lambda args, a: np.maximum(args[0], args[1]),
    "Minimum": lambda args, a: np.minimum(args[0], args[1]),
    "SquaredDifference": lambda args, a: (args[0] - args[1]) ** 2,
    "ClipByValue": lambda args, a: np.clip(args[0], args[1], args[2]),
    "MaxPool": lambda args, a: _pool(args[0], a, "max"),
    "AvgPool": lambda args, a: _pool(args[0], a, "avg"),
    "Mean": lambda args, a: np.mean(args[0], _axes(args[1]), keepdims=a.get("keep_dims", False)),
    "Sum": lambda args, a: np.sum(args[0], _axes(args[1]), keepdims=a.get("keep_dims", False)),
    "Max": lambda args, a: np.max(args[0], _axes(args[1]), keepdims=a.get("keep_dims", False)),
    "Reshape": lambda args, a: _reshape(args[0], args[1]),
    "Squeeze": lambda args, a: _squeeze(args[0], a),
    "ExpandDims": lambda args, a: np.expand_dims(args[0], int(np.asarray(args[1]).ravel()[0])),
    "Transpose": lambda args, a: np.transpose(args[0], [int(p) for p in args[1]]),
    "ConcatV2": lambda args, a: np.concatenate(args[:-1], int(np.asarray(args[-1]).ravel()[0])),
    "Pad": lambda args, a: np.pad(args[0], [tuple(int(v) for v in p) for p in args[1]]),
    "Shape": lambda args, a: np.array(args[0].shape, np.int32),
    "ResizeNearestNeighbor": lambda args, a: _resize_nearest(args[0], args[1], a),
    "Pack": lambda args, a: np.stack(args, axis=a.get("axis", 0)),
}
