"""Build a TensorFlow.js graph model and write ``model.json`` and its weight shards.

A :class:`Graph` collects nodes (``Placeholder``, ``Const`` and ops) with
their static shapes, which the lowering needs (``Flatten``, ``Reshape``,
pooling). :func:`write_graph_model` writes the format TF.js's
``loadGraphModel`` reads: the topology as TensorFlow ``NodeDef`` JSON, the
serving signature, and one weights group split into 4 MB shards, float32 or
quantized to float16 / affine uint8 exactly as tensorflowjs does.

Before writing, :meth:`Graph.fuse_activations` folds each activation op into
the fused convolution or matrix product before it, where TF.js's fused
kernels apply that activation themselves.

A function (the ``cond`` and ``body`` of a ``While``) is a graph too:
:meth:`Graph.body` starts one that shares the model's node names and
weights, :meth:`Graph.function` adds it to the model's function library
(``modelTopology.library.function``, TensorFlow's ``FunctionDef`` JSON, which
TF.js runs as a graph of its own under ``executeAsync``).

Output is deterministic: node names come from layer names, keys are sorted,
and nothing records a time or a path. Nothing here knows a Keras layer.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SHARD_BYTES = 4 * 1024 * 1024
_DTYPES = {"float32": "DT_FLOAT", "int32": "DT_INT32", "bool": "DT_BOOL", "variant": "DT_VARIANT"}

Shape = tuple  # of int | None; None is a size known only when the model runs

#: The ops that add a bias (``fused_ops: ["BiasAdd"]``) and may apply an activation after it.
FUSED_OPS = ("_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul")
#: Activation op → its name in ``fused_ops``: every activation tfjs-core's fused ops take
#: (``applyActivation`` in ``fused_util``; the WebAssembly backend's ``FusableActivation``
#: and the WebGL shaders take the same six), so each backend runs them inside the kernel.
FUSED_ACTIVATIONS = {
    "Relu": "Relu",
    "Relu6": "Relu6",
    "Elu": "Elu",
    "Sigmoid": "Sigmoid",
    "LeakyRelu": "LeakyRelu",
    "Prelu": "Prelu",
}


@dataclass
class Tensor:
    """An edge of the graph: a node's output and its static shape and dtype."""

    name: str
    shape: Shape
    dtype: str = "float32"

    @property
    def rank(self) -> int:
        """Return the number of dimensions."""
        return len(self.shape)


@dataclass
class Graph:
    """Nodes in the order they were added, and the weights of the ``Const`` nodes."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    weights: list[tuple[str, np.ndarray]] = field(default_factory=list)
    inputs: list[Tensor] = field(default_factory=list)
    #: Multiply-adds per example of the matrix and convolution ops: what an inference costs
    #: (a function's body counts once, as if its loop ran one step).
    macs: int = 0
    #: The function library: ``FunctionDef`` JSON of each function, in the order added.
    functions: list[dict[str, Any]] = field(default_factory=list)
    _names: set[str] = field(default_factory=set)
    _consts: dict[str, Tensor] = field(default_factory=dict)
    _shapes: dict[str, Shape] = field(default_factory=dict)

    def unique(self, hint: str) -> str:
        """Return a node name based on ``hint`` that no node has yet."""
        base = re.sub(r"[^A-Za-z0-9_./-]", "_", hint).strip("/") or "node"
        name, n = base, 0
        while name in self._names:
            n += 1
            name = f"{base}_{n}"
        self._names.add(name)
        return name

    def body(self) -> Graph:
        """Return an empty graph for a function's body.

        Its nodes are its own (a body reads only its arguments and its own
        constants); its node names and weights are the model's, so every name
        is unique in the model and the body's constants go in its shards.
        """
        return Graph(weights=self.weights, functions=self.functions, _names=self._names)

    def argument(self, hint: str, shape: Shape, dtype: str = "float32") -> Tensor:
        """Add an argument of a function body (an input that no node makes)."""
        tensor = Tensor(self.unique(hint), tuple(shape), dtype)
        self.inputs.append(tensor)
        return tensor

    def function(self, hint: str, body: Graph, outputs: list[Tensor]) -> str:
        """Add ``body`` to the function library, returning ``outputs``; return its name.

        TF.js keeps one output index per node of a function and disposes every
        tensor of the body that is not an output once the body has run (a
        tensor written into a TensorList included). So each output is the
        node that makes it (or the argument, returned as it came), and only a
        node's second output (a ``Split``'s) or a tensor returned twice goes
        through an ``Identity`` of its own.
        """
        name = self.unique(hint)
        returned: list[Tensor] = []
        for i, t in enumerate(outputs):
            if ":" in t.name or t.name in {r.name for r in returned}:
                t = body.op(
                    "Identity", [t], t.shape, f"{name}/output_{i}", {"T": DType(t.dtype)}, t.dtype
                )
            returned.append(t)
        self.functions.append(
            {
                "signature": {
                    "name": name,
                    "inputArg": [{"name": t.name, "type": _DTYPES[t.dtype]} for t in body.inputs],
                    "outputArg": [
                        {"name": f"output_{i}", "type": _DTYPES[t.dtype]}
                        for i, t in enumerate(returned)
                    ],
                },
                "nodeDef": body.nodes,
                "ret": {f"output_{i}": f"{t.name}:0" for i, t in enumerate(returned)},
            }
        )
        self.macs += body.macs
        return name

    def placeholder(self, hint: str, shape: Shape, dtype: str = "float32") -> Tensor:
        """Add a model input."""
        name = self.unique(hint)
        self.nodes.append(
            {
                "name": name,
                "op": "Placeholder",
                "attr": {
                    "dtype": {"type": _DTYPES[dtype]},
                    "shape": {"shape": _shape_proto(shape)},
                },
            }
        )
        tensor = Tensor(name, tuple(shape), dtype)
        self.inputs.append(tensor)
        return tensor

    def const(
        self, hint: str, value: Any, dtype: str = "float32", key: str | None = None
    ) -> Tensor:
        """Add a constant; ``key`` shares one node between callers that give the same key."""
        if key is not None and key in self._consts:
            return self._consts[key]
        array = np.ascontiguousarray(np.asarray(value, dtype=dtype))
        name = self.unique(hint)
        self.nodes.append(
            {
                "name": name,
                "op": "Const",
                "attr": {
                    "dtype": {"type": _DTYPES[dtype]},
                    "value": {
                        "tensor": {
                            "dtype": _DTYPES[dtype],
                            "tensorShape": _shape_proto(array.shape),
                        }
                    },
                },
            }
        )
        self.weights.append((name, array))
        tensor = Tensor(name, tuple(array.shape), dtype)
        if key is not None:
            self._consts[key] = tensor
        return tensor

    def op(
        self,
        op: str,
        inputs: list[Tensor],
        shape: Shape,
        hint: str,
        attrs: dict[str, Any] | None = None,
        dtype: str = "float32",
    ) -> Tensor:
        """Add an op node; ``attrs`` are given as Python values (see :func:`attr`)."""
        name = self.unique(hint)
        node: dict[str, Any] = {"name": name, "op": op, "input": [t.name for t in inputs]}
        node["attr"] = {key: attr(value) for key, value in (attrs or {}).items()}
        self.nodes.append(node)
        self.macs += _macs(op, inputs, tuple(shape))
        self._shapes[name] = tuple(shape)
        return Tensor(name, tuple(shape), dtype)

    def fuse_activations(self) -> None:
        """Fold each activation op into the fused op it alone consumes.

        ``_FusedConv2D(x, k, bias)`` then ``Relu6`` becomes one
        ``_FusedConv2D`` with ``fused_ops: ["BiasAdd", "Relu6"]`` (``LeakyRelu``
        keeps its slope as ``leakyrelu_alpha``; ``Prelu`` its slopes as a second
        argument): one kernel call and one tensor fewer per layer, and on
        WebAssembly XNNPack clamps Relu and Relu6 in the convolution itself.
        The fused node keeps its name and the activation's consumers read it.
        An op whose output something else reads too is left alone.
        """
        consumers: dict[str, int] = {}
        for node in self.nodes:
            for name in node.get("input", []):
                consumers[name] = consumers.get(name, 0) + 1
        by_name = {node["name"]: node for node in self.nodes}
        weights = dict(self.weights)
        renamed: dict[str, str] = {}
        for node in self.nodes:
            act = FUSED_ACTIVATIONS.get(node["op"])
            inputs = node.get("input", [])
            if act is None or not inputs:
                continue
            producer = by_name.get(inputs[0])
            if (
                producer is None
                or producer["op"] not in FUSED_OPS
                or consumers.get(producer["name"]) != 1
                or producer["attr"].get("fused_ops") != attr(["BiasAdd"])
            ):
                continue
            if act == "Prelu":
                alpha = weights.get(inputs[1])
                if alpha is None or not broadcasts_trailing(
                    alpha.shape, self._shapes[producer["name"]]
                ):
                    continue
                producer["input"].append(inputs[1])
                producer["attr"]["num_args"] = attr(2)
            if act == "LeakyRelu":
                producer["attr"]["leakyrelu_alpha"] = node["attr"]["alpha"]
            producer["attr"]["fused_ops"] = attr(["BiasAdd", act])
            renamed[node["name"]] = producer["name"]
        if not renamed:
            return
        self.nodes = [node for node in self.nodes if node["name"] not in renamed]
        for node in self.nodes:
            if "input" in node:
                node["input"] = [renamed.get(name, name) for name in node["input"]]


def broadcasts_trailing(alpha: tuple, output: Shape) -> bool:
    """Tell whether PReLU slopes of shape ``alpha`` cover whole trailing axes of ``output``.

    The WebAssembly backend's PReLU, alone or fused, reads the slopes as one
    flat run repeated over the output (its ``channels`` is their count):
    right for per-channel slopes (``(1, 1, C)``) or slopes over every axis but
    the batch, wrong for ``(H, 1, C)``.
    """
    dims = list(alpha)
    while dims and dims[0] == 1:
        dims.pop(0)
    return not dims or tuple(dims) == tuple(output[len(output) - len(dims) :])


def _size(shape: Shape) -> int:
    return int(np.prod([1 if d is None else d for d in shape], dtype=np.int64))


def _macs(op: str, inputs: list[Tensor], shape: Shape) -> int:
    """Return the multiply-adds per example of one op (0 for the cheap element-wise ones)."""
    if op in ("MatMul", "_FusedMatMul"):
        return _size(shape[1:]) * int(inputs[1].shape[0])
    if op == "BatchMatMulV2":  # a kernel [k, n], or a batch of matrices (attention)
        return _size(shape[1:]) * int(inputs[0].shape[-1] or 0)
    if op in ("Conv2D", "_FusedConv2D"):
        kh, kw, channels, _ = inputs[1].shape
        return _size(shape[1:]) * kh * kw * channels
    if op in ("DepthwiseConv2dNative", "FusedDepthwiseConv2dNative"):
        kh, kw, _, _ = inputs[1].shape
        return _size(shape[1:]) * kh * kw
    if op == "Conv2DBackpropInput":
        kh, kw, _, _ = inputs[1].shape
        return _size(inputs[2].shape[1:]) * kh * kw * int(inputs[1].shape[2])
    return 0


class DType(str):
    """A dtype attribute value (``DType("float32")``)."""


class Func(str):
    """A function attribute value: the name of a function of the library (``Func("body")``)."""


def attr(value: Any) -> dict[str, Any]:
    """Return TensorFlow's ``AttrValue`` JSON for a Python value."""
    if isinstance(value, DType):
        return {"type": _DTYPES[str(value)]}
    if isinstance(value, Func):
        return {"func": {"name": str(value)}}
    if isinstance(value, bool):
        return {"b": value}
    if isinstance(value, int):
        return {"i": str(value)}
    if isinstance(value, float):
        return {"f": value}
    if isinstance(value, str):
        return {"s": _b64(value)}
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, DType) for v in value) and value:
            return {"list": {"type": [_DTYPES[str(v)] for v in value]}}
        if all(isinstance(v, str) for v in value) and value:
            return {"list": {"s": [_b64(v) for v in value]}}
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return {"list": {"i": [str(v) for v in value]}}
        return {"list": {"f": [float(v) for v in value]}}
    raise TypeError(f"no AttrValue for {value!r}")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _shape_proto(shape: Shape) -> dict[str, Any]:
    if not shape:
        return {}
    return {"dim": [{"size": str(-1 if d is None else int(d))} for d in shape]}


def write_graph_model(
    graph: Graph,
    outputs: list[Tensor],
    out_dir: Path,
    quantize: str,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """Write ``model.json`` and ``group1-shard*.bin`` into ``out_dir`` (created here).

    Returns the ``model.json`` content.
    """
    # TensorFlow names a model's outputs Identity, Identity_1, ...; so do we.
    final = [
        graph.op("Identity", [t], t.shape, "Identity", {"T": DType(t.dtype)}, t.dtype)
        for t in outputs
    ]
    graph.fuse_activations()
    width = len(str(max(len(graph.inputs), len(outputs)) - 1))
    signature = {
        "inputs": {f"input_{i:0{width}d}": _tensor_info(t) for i, t in enumerate(graph.inputs)},
        "outputs": {f"output_{i:0{width}d}": _tensor_info(t) for i, t in enumerate(final)},
    }
    entries, data = _weights_data(graph.weights, quantize)
    shard_count = max(1, -(-len(data) // SHARD_BYTES))
    paths = [f"group1-shard{i + 1}of{shard_count}.bin" for i in range(shard_count)]
    model = {
        "format": "graph-model",
        "generatedBy": metadata.get("generatedBy", ""),
        "convertedBy": metadata.get("convertedBy", ""),
        "signature": signature,
        "modelTopology": {
            "node": graph.nodes,
            "library": {"function": graph.functions} if graph.functions else {},
            "versions": {"producer": 1},
        },
        "weightsManifest": [{"paths": paths, "weights": entries}],
        "userDefinedMetadata": {**metadata.get("userDefinedMetadata", {}), "macs": graph.macs},
    }
    out_dir.mkdir(parents=True)
    for i, path in enumerate(paths):
        (out_dir / path).write_bytes(data[i * SHARD_BYTES : (i + 1) * SHARD_BYTES])
    (out_dir / "model.json").write_text(json.dumps(model, sort_keys=True, separators=(",", ":")))
    return model


def _tensor_info(tensor: Tensor) -> dict[str, Any]:
    return {
        "name": f"{tensor.name}:0",
        "dtype": _DTYPES[tensor.dtype],
        "tensorShape": _shape_proto(tensor.shape),
    }


def _weights_data(
    weights: list[tuple[str, np.ndarray]], quantize: str
) -> tuple[list[dict[str, Any]], bytes]:
    entries = []
    chunks = []
    for name, array in weights:
        entry: dict[str, Any] = {
            "name": name,
            "shape": list(array.shape),
            "dtype": str(array.dtype),
        }
        if array.dtype == np.float32 and quantize == "float16":
            array = array.astype(np.float16)
            entry["quantization"] = {"dtype": "float16", "original_dtype": "float32"}
        elif array.dtype == np.float32 and quantize == "uint8":
            array, params = _affine_uint8(array)
            entry["quantization"] = {"dtype": "uint8", "original_dtype": "float32", **params}
        entries.append(entry)
        chunks.append(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())
    return entries, b"".join(chunks)


def _affine_uint8(data: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """Quantize as tensorflowjs does: zero exactly representable where it is in range."""
    low, high = float(data.min()) if data.size else 0.0, float(data.max()) if data.size else 0.0
    if low == high:
        return np.zeros(data.shape, np.uint8), {"min": low, "scale": 1.0}
    scale = (high - low) / 255
    if low <= 0 <= high:
        low = -round(-low / scale) * scale
        high = 255 * scale + low
    quantized = np.round((data.clip(low, high) - low) / scale).astype(np.uint8)
    return quantized, {"min": low, "scale": scale}
