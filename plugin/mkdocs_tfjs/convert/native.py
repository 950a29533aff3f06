"""The native converter: a Keras file in, a TF.js graph model out, with numpy and h5py.

:func:`convert_native` reads the file (``keras_file``), walks the model's
layer graph (Sequential, Functional, models nested in models, shared layers,
several inputs and outputs), calls each layer's lowering function from
``layers.LAYERS`` (the ``layers`` package, one module per domain), and
writes the graph model (``graph``). The walker knows no layer by name
except the containers, and BatchNormalization, which it folds into the
layer before it, as TensorFlow's optimiser does, where that layer's handler
declares how (``layers.FOLDS``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConversionError
from .graph import DType, Graph, Tensor, write_graph_model
from .keras_config import (
    MODEL_CLASSES,
    Ref,
    layer_name,
    output_activation,
    read_config,
    tensor_refs,
)
from .keras_file import KerasFile, read_keras_file
from .layers import FOLDS, LAYERS, Call, Unsupported, batchnorm_affine
from .layers._common import binary, ints
from .measure import quantization_cost
from .strings import FORMAT, PREPROCESS_FILE, STRING_LAYERS, Front, LayerFiles

_INT_DTYPES = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}


class UnsupportedLayer(ConversionError):
    """A layer (or a layer option) the native converter does not lower."""

    def __init__(self, label: str, layers: list[tuple[str, str, str]]) -> None:
        self.layers = layers
        super().__init__(f"{label}: {not_supported(layers)}")


def not_supported(layers: list[tuple[str, str, str]]) -> str:
    """Say which layers the native converter lacks, for ``(class, name, why)`` triples.

    E.g. "the native converter does not support the layer `lstm` of class LSTM (nor GRU)".
    """
    cls, name, why = layers[0]
    first = f"the native converter does not support the layer `{name}` of class {cls}"
    first += f" ({why})" if why else ""
    others = sorted({c for c, _, _ in layers[1:] if c != cls})
    return first + (f" (nor {', '.join(others)})" if others else "")


def layer_key(entry: dict[str, Any]) -> str:
    """Return the :data:`LAYERS` key of a config entry (``ops.Add`` for a keras.ops node)."""
    name = str(entry.get("class_name", ""))
    return f"ops.{name}" if str(entry.get("module", "")).startswith("keras.src.ops") else name


def unsupported_layers(config: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Return ``(class, name, why)`` of every layer of a model config without a lowering.

    A model that is not a Sequential or Functional one (a subclass of
    ``keras.Model`` with its own ``call``) has no graph to walk at all.
    """
    if config.get("class_name") not in MODEL_CLASSES:
        name = layer_name(config) or "model"
        return [(str(config.get("class_name")), name, "a model subclass")]
    found = []
    for entry in config.get("config", {}).get("layers", []):
        key = layer_key(entry)
        if key in MODEL_CLASSES:
            found += unsupported_layers(entry)
        elif key not in LAYERS:
            found.append((key, layer_name(entry), ""))
    return found


@dataclass
class _Node:
    """One call of a layer: which layer, and which tensors it takes."""

    entry: dict[str, Any]
    index: int
    refs: list[Ref]
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: The tensors Keras 3 passes as ``mask=`` (its functional models record the masks).
    mask_refs: list[Ref] = field(default_factory=list)

    @property
    def name(self) -> str:
        return layer_name(self.entry)


def _ref(value: Any) -> Ref | None:
    """Return the tensor reference a Keras 3 argument stands for, if it is a tensor."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = value["config"]["keras_history"]
        return (str(history[0]), int(history[1]), int(history[2]))
    return None


def _flatten_args(args: Any, refs: list[Ref]) -> Any:
    ref = _ref(args)
    if ref is not None:
        refs.append(ref)
        return ref
    if isinstance(args, (list, tuple)):
        return [_flatten_args(a, refs) for a in args]
    if isinstance(args, dict) and "class_name" not in args:
        return {key: _flatten_args(value, refs) for key, value in args.items()}
    return args


def _keras2_kwargs(kwargs: dict[str, Any], refs: list[Ref]) -> dict[str, Any]:
    """Return a Keras 2 call's keyword arguments, ``[layer, node, index]`` tensors as refs.

    tf_keras saves the tensors a layer takes by keyword (MultiHeadAttention's
    ``value``, ``attention_mask``; Attention's ``mask``, a list of them) as
    such triples in the node's fourth entry.
    """
    return {key: _keras2_tensors(value, refs) for key, value in kwargs.items()}


def _keras2_tensors(value: Any, refs: list[Ref]) -> Any:
    if (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and all(isinstance(v, int) for v in value[1:])
    ):
        ref = (value[0], int(value[1]), int(value[2]))
        refs.append(ref)
        return ref
    if isinstance(value, list):
        return [_keras2_tensors(v, refs) for v in value]
    return value


def _first_node_index(entry: dict[str, Any], inbound_nodes: list[Any]) -> int:
    """Return the index that tensor references give the first saved call of a layer entry.

    Keras 2 saves a nested model built on its own Input without its node 0
    (the Input to its outputs) but still counts that node, so the first saved
    call is node 1; that holds for any model whose first layer is an
    InputLayer, Sequential included. Keras 3 numbers the calls in the layers'
    arguments from 0 (see :func:`_keras3_output_refs` for its outputs).
    """
    if not inbound_nodes or isinstance(inbound_nodes[0], dict):
        return 0
    if entry.get("class_name") not in MODEL_CLASSES:
        return 0
    layers = entry.get("config", {}).get("layers") or [{}]
    return int(layers[0].get("class_name") == "InputLayer")


def _keras3_output_refs(entries: list[dict[str, Any]], refs: list[Ref]) -> list[Ref]:
    """Return a Keras 3 model's output references in the numbering of its layers' arguments.

    Keras 3 numbers a nested Functional model's calls from 1 in
    ``output_layers`` (counting a node 0 it does not save) and from 0 in the
    arguments of the layers it feeds; its loader subtracts 1 from the former.
    """
    functional = {
        layer_name(e)
        for e in entries
        if e.get("class_name") == "Functional"
        and isinstance((e.get("inbound_nodes") or [None])[0], dict)
    }
    return [(name, index - 1 if name in functional else index, t) for name, index, t in refs]


def _graph_nodes(config: dict[str, Any]) -> tuple[list[_Node], list[Ref], list[Ref]]:
    """Return a model's layer calls, its input references and its output references."""
    body = config.get("config", {})
    entries = body.get("layers", [])
    if config.get("class_name") == "Sequential":
        nodes, previous = [], ("__input__", 0, 0)
        for entry in entries:
            if entry.get("class_name") == "InputLayer":
                continue
            nodes.append(_Node(entry, 0, [previous]))
            previous = (layer_name(entry), 0, 0)
        return nodes, [("__input__", 0, 0)], [previous]
    nodes = []
    for entry in entries:
        inbound_nodes = entry.get("inbound_nodes") or []
        first = _first_node_index(entry, inbound_nodes)
        for index, inbound in enumerate(inbound_nodes, first):
            refs: list[Ref] = []
            if isinstance(inbound, dict):  # Keras 3
                # Tensors in the keyword arguments (a recurrent layer's
                # ``initial_state``) are inputs too, after the positional ones.
                kwargs = dict(inbound.get("kwargs") or {})
                mask_refs: list[Ref] = []
                _flatten_args(kwargs.pop("mask", None), mask_refs)
                args = _flatten_args(inbound.get("args", []), refs)
                kwargs = _flatten_args(kwargs, refs)
                nodes.append(_Node(entry, index, refs, args, kwargs, mask_refs))
            else:  # Keras 2: a list of [layer, node, tensor, kwargs]
                refs = [(str(r[0]), int(r[1]), int(r[2])) for r in inbound]
                args = list(refs)
                kwargs = {}
                for r in inbound:
                    if len(r) > 3 and isinstance(r[3], dict):
                        kwargs.update(_keras2_kwargs(r[3], refs))
                nodes.append(_Node(entry, index, refs, args, kwargs))
    return (
        nodes,
        tensor_refs(body.get("input_layers", [])),
        _keras3_output_refs(entries, tensor_refs(body.get("output_layers", []))),
    )


def _input_spec(entry: dict[str, Any]) -> tuple[tuple, str]:
    """Return the shape and the TF.js dtype of an input layer (or a first layer) config.

    A string input's dtype is ``string``: only a preprocessing layer of
    :data:`STRING_LAYERS` may take it (see :meth:`_Walker.front`).
    """
    config = entry.get("config", {})
    shape = config.get("batch_shape") or config.get("batch_input_shape")
    if shape is None and entry.get("build_config"):
        shape = entry["build_config"].get("input_shape")
    if shape is None:
        raise ConversionError("the model does not record its input shape")
    dtype = config.get("dtype", "float32")
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name", "float32")
    dtype = (
        "int32"
        if dtype in _INT_DTYPES
        else "bool"
        if dtype == "bool"
        else "string"
        if dtype == "string"
        else "float32"
    )
    return tuple(None if d is None else int(d) for d in shape), dtype


class _Walker:
    def __init__(self, keras: KerasFile, label: str) -> None:
        self.keras = keras
        self.label = label
        self.graph = Graph()
        self.params = 0
        #: Tensor name → its Keras mask (see ``Call.masks``).
        self.masks: dict[str, Tensor] = {}
        #: The preprocessing layers taken out of the graph, by the names of the layers;
        #: their settings, by model input (``preprocess.json``).
        self.passthrough: set[str] = set()
        self.fronts: dict[int, dict[str, Any]] = {}

    # The model's own inputs become Placeholders; a nested model's are bound
    # to the tensors it is called with. A string preprocessing layer on an
    # input is taken out of the graph: the Placeholder takes what it gives.
    def model_inputs(self, config: dict[str, Any]) -> list[Tensor]:
        body = config.get("config", {})
        entries = {layer_name(e): e for e in body.get("layers", [])}
        if config.get("class_name") == "Sequential":
            layers = body.get("layers", [])
            first = layers[0] if layers else {}
            if first.get("class_name") != "InputLayer" and body.get("build_input_shape"):
                first = {"config": {"batch_shape": body["build_input_shape"]}}
            after = [e for e in layers if e.get("class_name") != "InputLayer"][:1]
            return [self.placeholder(0, layer_name(first) or "input", first, after)]
        nodes = _graph_nodes(config)[0]
        out = []
        for index, (name, _, _) in enumerate(tensor_refs(body.get("input_layers", []))):
            consumers = [n.entry for n in nodes if any(r[0] == name for r in n.refs)]
            out.append(self.placeholder(index, name, entries[name], consumers))
        return out

    def placeholder(
        self, index: int, name: str, entry: dict[str, Any], consumers: list[dict[str, Any]]
    ) -> Tensor:
        """Return the Placeholder of model input ``index``, after its preprocessing layer if any."""
        shape, dtype = _input_spec(entry)
        front = self.front(name, shape, dtype, consumers)
        if front is None:
            return self.graph.placeholder(name, shape, dtype)
        self.fronts[index] = {**front.settings, "inputShape": list(shape), "inputDtype": dtype}
        return self.graph.placeholder(name, front.shape, front.dtype)

    def front(
        self, name: str, shape: tuple, dtype: str, consumers: list[dict[str, Any]]
    ) -> Front | None:
        """Return the preprocessing layer that alone takes the input ``name``, read, if any."""
        keys = [layer_key(e) for e in consumers]
        if not any(k in STRING_LAYERS for k in keys):
            if dtype == "string":
                raise UnsupportedLayer(
                    self.label,
                    [
                        (
                            "InputLayer",
                            name,
                            "a string input that no TextVectorization, StringLookup or "
                            "Hashing layer takes first",
                        )
                    ],
                )
            return None
        entry = consumers[0]
        if len(consumers) != 1:
            raise UnsupportedLayer(
                self.label,
                [(keys[0], layer_name(entry), "its input also feeds other layers")],
            )
        scope = (layer_name(entry),)
        files = LayerFiles(
            asset=lambda file: self.keras.asset(scope, file),
            variable=lambda key: self.keras.variable(scope, key),
        )
        try:
            front = STRING_LAYERS[keys[0]](entry.get("config", {}), shape, files)
        except Unsupported as exc:
            raise UnsupportedLayer(self.label, [(keys[0], layer_name(entry), str(exc))]) from exc
        self.passthrough.add(layer_name(entry))
        return front

    def lower_model(
        self, config: dict[str, Any], inputs: list[Tensor], scope: tuple[str, ...]
    ) -> list[Tensor]:
        nodes, input_refs, output_refs = _graph_nodes(config)
        values: dict[Ref, Tensor] = dict(zip(input_refs, inputs, strict=True))
        folds = _batchnorm_folds(nodes, output_refs)
        folded: set[str] = set()
        pending = list(nodes)
        while pending:
            waiting = []
            for node in pending:
                if node.entry.get("class_name") == "InputLayer" and (node.name, 0, 0) in values:
                    continue
                if not all(r in values for r in (*node.refs, *node.mask_refs)):
                    waiting.append(node)
                    continue
                for ref, input_ in zip(node.mask_refs, node.refs, strict=False):
                    self.masks[values[input_].name] = self.as_mask(values[ref])
                outs = self.lower_node(node, [values[r] for r in node.refs], scope, folds, folded)
                for i, tensor in enumerate(outs):
                    values[(node.name, node.index, i)] = tensor
            if len(waiting) == len(pending):
                missing = sorted({r[0] for n in waiting for r in n.refs if r not in values})
                raise ConversionError(
                    f"{self.label}: the model graph has unreachable layers ({', '.join(missing)})"
                )
            pending = waiting
        return [values[r] for r in output_refs]

    def lower_node(
        self,
        node: _Node,
        inputs: list[Tensor],
        scope: tuple[str, ...],
        folds: dict[str, _Node],
        folded: set[str],
    ) -> list[Tensor]:
        key = layer_key(node.entry)
        path = (*scope, node.name)
        if key in MODEL_CLASSES:
            return self.lower_model(node.entry, inputs, path)
        if node.name in folded or (not scope and node.name in self.passthrough):
            return inputs
        masks = [self.masks.get(t.name) for t in inputs]
        lower = LAYERS.get(key)
        if lower is None:
            raise UnsupportedLayer(self.label, [(key, node.name, "")])
        config = dict(node.entry.get("config", {}))
        load = lambda: self.load(path)  # noqa: E731
        bn = folds.get(node.name)
        if bn is not None and _over_channels(bn.entry.get("config", {}), inputs[0]):
            config["use_bias"] = True
            load = self._folding_loader(key, node.entry.get("config", {}), path, scope, bn)
            folded.add(bn.name)
        call = Call(
            self.graph,
            "/".join(path),
            config,
            inputs,
            node.args,
            node.kwargs,
            load,
            self.keras.legacy,
            masks=masks,
            load_parts=lambda: self.keras.weight_parts(path),
        )
        try:
            out = lower(call)
            out = out if isinstance(out, list) else [out]
            out_masks = _output_masks(key, call, len(out))
        except Unsupported as exc:
            raise UnsupportedLayer(self.label, [(key, node.name, str(exc))]) from exc
        except (IndexError, KeyError, ValueError, TypeError) as exc:
            raise ConversionError(
                f"{self.label}: cannot read the layer `{node.name}` ({key}): "
                f"{type(exc).__name__}: {exc}; save the model again with model.save('name.keras')"
            ) from exc
        for tensor, mask in zip(out, out_masks, strict=True):
            if mask is not None:
                self.masks[tensor.name] = mask
        return out

    def as_mask(self, recorded: Tensor) -> Tensor:
        """Return a Keras mask a model records (bool [batch, steps]) as ``Call.masks`` holds it."""
        key = f"mask:{recorded.name}"
        if key not in self.masks:
            g = self.graph
            as_float = g.op(
                "Cast",
                [recorded],
                recorded.shape,
                f"{recorded.name}/as_float",
                {"DstT": DType("float32"), "SrcT": DType(recorded.dtype)},
            )
            self.masks[key] = g.op(
                "ExpandDims",
                [as_float, ints(g, -1, "axis")],
                (*recorded.shape, 1),
                f"{recorded.name}/as_mask",
            )
        return self.masks[key]

    def load(self, path: tuple[str, ...]) -> list[np.ndarray]:
        weights = self.keras.weights(path)
        self.params += sum(int(w.size) for w in weights)
        return weights

    def _folding_loader(
        self,
        key: str,
        config: dict[str, Any],
        path: tuple[str, ...],
        scope: tuple[str, ...],
        bn: _Node,
    ):
        """Return a loader of the layer's weights with the BatchNormalization ``bn`` folded in."""
        bn_path = (*scope, bn.name)

        def load() -> list[np.ndarray]:
            weights = [np.asarray(w, np.float32) for w in self.load(path)]
            bn_call = Call(
                self.graph,
                "/".join(bn_path),
                bn.entry.get("config", {}),
                [],
                load_weights=lambda: self.load(bn_path),
            )
            scale, offset, _ = batchnorm_affine(bn_call)
            return FOLDS[key].apply(weights, scale, offset, bool(config.get("use_bias", True)))

        return load


#: Layers that pass their input's Keras mask on unchanged (Keras's ``supports_masking``
#: with its default ``compute_mask``), and the merges, which combine their inputs' masks.
_MASK_PASSING = {
    "InputLayer", "Identity", "Dense", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU",
    "Softmax", "BatchNormalization", "LayerNormalization", "GroupNormalization",
    "UnitNormalization", "Rescaling", "Normalization", "Dropout", "AlphaDropout",
    "GaussianDropout", "GaussianNoise", "ActivityRegularization", "TimeDistributed",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
}  # fmt: skip

#: Merges: Keras 3's keep a mask only where every input has one (Concatenate's then keeps
#: every step), and keep a step that any input keeps; tf_keras's combine the masks there
#: are, and keep a step that every one keeps (Concatenate's over the last axis).
_MERGES = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"}


def _output_masks(key: str, call: Call, count: int) -> list[Tensor | None]:
    """Return the Keras mask of each of a layer call's ``count`` outputs.

    The lowering sets them where it makes masks; a layer in
    :data:`_MASK_PASSING` passes its inputs' mask on (a merge combines
    them); any other layer drops it, as Keras 3 does (with a warning) for
    layers without masking.
    """
    if call.out_masks is not None:
        return call.out_masks
    distinct = list({m.name: m for m in call.masks if m is not None}.values())
    if key not in _MASK_PASSING or not distinct:
        return [None] * count
    if key in _MERGES and not call.legacy and None in call.masks:
        return [None] * count
    joins_steps = (
        key == "Concatenate" and int(call.get("axis", -1)) % call.x.rank != call.x.rank - 1
    )
    if joins_steps:
        # Keras joins the masks along the steps as well: one input's mask passed on would
        # be too short for the joined steps, and the page would fail where the build did not.
        raise Unsupported("a Keras mask through a Concatenate along the steps axis")
    if len(distinct) > 1 and key not in _MERGES:
        raise Unsupported("inputs with different Keras masks")
    mask = distinct[0]
    for other in distinct[1:]:
        # Masks are 0 or 1: the largest is a logical or, the smallest a logical and.
        op = "Minimum" if call.legacy else "Maximum"
        mask = binary(call.graph, op, mask, other, call.hint("mask"))
    return [mask] * count


def _over_channels(bn_config: dict[str, Any], x: Tensor) -> bool:
    """Tell whether a BatchNormalization normalises the last axis (the channels) of ``x``.

    Only those fold into a convolution's or dense layer's output channels.
    """
    axis = bn_config.get("axis", -1)
    axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
    return isinstance(axis, int) and axis in (-1, x.rank - 1)


def _batchnorm_folds(nodes: list[_Node], outputs: list[Ref]) -> dict[str, _Node]:
    """Return {layer: the BatchNormalization that can be folded into it}.

    A fold needs a layer with a linear activation, called once, whose only
    consumer is a BatchNormalization that is itself called once.
    """
    consumers: dict[Ref, int] = {ref: 1 for ref in outputs}
    calls: dict[str, int] = {}
    for node in nodes:
        calls[node.name] = calls.get(node.name, 0) + 1
        for ref in node.refs:
            consumers[ref] = consumers.get(ref, 0) + 1
    by_name = {node.name: node for node in nodes}
    folds = {}
    for node in nodes:
        if node.entry.get("class_name") != "BatchNormalization" or len(node.refs) != 1:
            continue
        producer_name, index, tensor = node.refs[0]
        producer = by_name.get(producer_name)
        if (
            producer is None
            or producer.entry.get("class_name") not in FOLDS
            or producer.entry.get("module", "keras.layers").startswith("keras.src.ops")
            or calls.get(producer_name) != 1
            or calls.get(node.name) != 1
            or consumers.get((producer_name, index, tensor)) != 1
            or producer.entry.get("config", {}).get("activation", "linear") not in ("linear", None)
            or int(producer.entry.get("config", {}).get("groups", 1) or 1) != 1
        ):
            continue
        folds[producer_name] = node
    return folds


def _raw_input(front: dict[str, Any]) -> dict[str, Any]:
    """Return what the build knows of a preprocessed input: ``{layer, dtype, shape}``.

    A ``StringLookup`` or ``IntegerLookup`` adds its ``vocabulary`` (the
    tokens after the mask and OOV ones), which the sliders widget offers as
    the choices of a string feature; a text layer's vocabulary is no list of
    choices, and a ``Hashing`` layer has none.
    """
    raw = {"layer": front["layer"], "dtype": front["inputDtype"], "shape": front["inputShape"]}
    if front["layer"] in ("StringLookup", "IntegerLookup"):
        raw["vocabulary"] = list(front["tokens"])
    return raw


def convert_native(
    source: Path, out_dir: Path, quantize: str, label: str, version: str
) -> dict[str, Any]:
    """Convert the Keras file ``source`` into a graph model in ``out_dir`` (created here).

    Returns ``{"params": int, "output_activation": str | None, "quantization_cost": dict,
    "preprocess": [...]}`` (see ``measure.py``): for a model whose inputs pass through a text
    or lookup layer that the page runs, one ``{layer, dtype, shape}`` (of the raw input) or
    None per input.
    """
    # Refuse an unsupported layer from the architecture alone, before reading any weights.
    missing = unsupported_layers(read_config(source, label)[0])
    if missing:
        raise UnsupportedLayer(label, missing)
    keras = read_keras_file(source, label)
    walker = _Walker(keras, label)
    inputs = walker.model_inputs(keras.config)
    outputs = walker.lower_model(keras.config, inputs, ())
    # Measured before writing: write_graph_model adds the Identity nodes that name the outputs.
    cost = quantization_cost(walker.graph, outputs)
    write_graph_model(
        walker.graph,
        outputs,
        out_dir,
        quantize,
        {
            "generatedBy": f"keras {keras.keras_version}",
            "convertedBy": f"mkdocs-tfjs {version} (native)",
        },
    )
    if walker.fronts:
        # One entry per model input, in the signature's order; null where the graph
        # takes the input as it is.
        preprocess = {
            "format": FORMAT,
            "inputs": [walker.fronts.get(i) for i in range(len(inputs))],
        }
        (out_dir / PREPROCESS_FILE).write_text(
            json.dumps(preprocess, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
            encoding="utf-8",
        )
    return {
        "params": walker.params,
        "output_activation": output_activation(keras.config),
        "quantization_cost": cost,
        "preprocess": [
            None if i not in walker.fronts else _raw_input(walker.fronts[i])
            for i in range(len(inputs))
        ]
        if walker.fronts
        else [],
    }
