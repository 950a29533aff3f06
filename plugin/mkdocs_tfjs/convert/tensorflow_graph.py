"""Rewrites of TensorFlow's frozen graph into ops every TF.js backend runs, with the same values.

tensorflowjs freezes the SavedModel into one ``GraphDef``, checks its ops
against the ops TF.js knows, optimises it with grappler and writes it.
``tensorflow.py`` runs :func:`repair_frozen_graph` on the frozen graph
before that check and :func:`repair_optimized_graph` on the optimised one
before it is written. Before the check:

- function calls left in the graph (``StatefulPartitionedCall``,
  ``PartitionedCall``: Keras compiles a grouped convolution with XLA, and
  freezing inlines every call but those) are inlined from the graph's
  function library;
- a grouped ``Conv2D`` (more input channels than its filter takes; TF.js
  has no groups) becomes a depthwise convolution where it is one, else one
  convolution per group between a ``Split`` and a ``ConcatV2``;
- ``Erfc`` (TensorFlow's exact GELU is ``0.5·x·erfc(-x/√2)``), which TF.js
  lacks, becomes ``1 - Erf``;
- ``Einsum``, which TF.js's WebAssembly backend lacks (and which TF.js runs
  as elementwise products and sums on the others), becomes transposes,
  reshapes and one ``BatchMatMulV2``. An equation that is no product of
  two tensors (three operands, a label repeated in one operand) is refused:
  TF.js's own Einsum kernel refuses those too.

After grappler, a convolution or matmul it fused with hard-swish
(MobileNetV3), an activation TF.js's fused kernels lack, is split into the
op, its bias and hard-swish as separate ops.

TensorFlow is handed in by ``tensorflow.py`` (the one module that imports
it); this module works on the ``GraphDef`` protos and knows nothing of
Keras, tensorflowjs or the plugin.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import ConversionError

#: Ops that call a function of the graph's library, which TF.js cannot run.
CALL_OPS = ("StatefulPartitionedCall", "PartitionedCall")
#: Nested function calls inlined before giving up (a call that calls itself never ends).
_MAX_INLINING_ROUNDS = 32


def repair_frozen_graph(
    tf: Any, function_body: Callable[[Any], tuple[Any, dict[str, str]]], graph_def: Any, label: str
) -> Any | None:
    """Return ``graph_def`` in ops every TF.js backend runs, or None where it already is.

    ``function_body`` is TensorFlow's ``function_def_to_graph_def``: a
    library function's body as a ``GraphDef``, and its tensor names.
    """
    if not any(node.op in (*CALL_OPS, "Erfc", "Einsum", "Conv2D") for node in graph_def.node):
        return None
    inlined = any(node.op in CALL_OPS for node in graph_def.node)
    graph_def = _inline_calls(tf, function_body, graph_def, label)
    shapes = _Shapes(tf, graph_def)
    rewriters: dict[str, Callable[..., list[Any] | None]] = {
        "Erfc": _erfc,
        "Einsum": _einsum,
        "Conv2D": _grouped_conv2d,
    }
    changed = False
    nodes = []
    for node in graph_def.node:
        rewrite = rewriters.get(node.op)
        replacement = rewrite(_Builder(tf, node), node, shapes, label) if rewrite else None
        if replacement is None:
            nodes.append(node)
        else:
            nodes.extend(replacement)
            changed = True
    if not changed and not inlined:
        return None
    out = tf.compat.v1.GraphDef()
    out.CopyFrom(graph_def)
    del out.node[:]
    out.node.extend(nodes)
    _drop_unused_functions(out)
    return out


def repair_optimized_graph(tf: Any, graph_def: Any) -> Any:
    """Split the convolutions and matmuls grappler fused with hard-swish; return the graph."""
    nodes = []
    changed = False
    for node in graph_def.node:
        fused = (
            [op.decode() for op in node.attr["fused_ops"].list.s]
            if "fused_ops" in node.attr
            else []
        )
        if fused[-1:] == ["_FusedHardSwish"] and fused[:-1] in (["BiasAdd"], []):
            nodes.extend(_unfused_hard_swish(_Builder(tf, node), node, fused))
            changed = True
        else:
            nodes.append(node)
    if changed:
        del graph_def.node[:]
        graph_def.node.extend(nodes)
    return graph_def


# -- the rewrites -------------------------------------------------------------


def _erfc(b: _Builder, node: Any, shapes: _Shapes, label: str) -> list[Any]:
    """``erfc(x) = 1 - erf(x)``: TF.js has Erf (GELU's absolute error stays at float32 rounding)."""
    dtype = node.attr["T"].type
    one = b.const("one", b.tf.as_dtype(dtype).as_numpy_dtype(1.0))
    erf = b.op("erf", "Erf", [node.input[0]], T=dtype)
    b.op(None, "Sub", [one, erf], T=dtype, control=node.input[1:])
    return b.nodes


def _einsum(b: _Builder, node: Any, shapes: _Shapes, label: str) -> list[Any]:
    """Rewrite a one- or two-operand Einsum into Sum, Transpose, Reshape and BatchMatMulV2."""
    equation = node.attr["equation"].s.decode()
    data = [name for name in node.input if not name.startswith("^")]
    terms, out = _parse_equation(equation, [shapes.rank(name) for name in data], node, label)
    dtype = node.attr["T"].type
    operands = [
        _Operand(name, term, shapes.dims(name)) for name, term in zip(data, terms, strict=True)
    ]
    # A label in one operand only and not in the output is summed away first.
    for i, operand in enumerate(operands):
        others = "".join(o.term for j, o in enumerate(operands) if j != i)
        lone = [label_ for label_ in operand.term if label_ not in out and label_ not in others]
        if lone:
            operands[i] = _sum_over(b, operand, lone, dtype, f"sum{i}")
    if len(operands) == 1:
        result = operands[0]
    else:
        result = _matmul(b, *operands, out, dtype)
    final = _transpose(b, result, out, dtype, "transpose")
    controls = [name for name in node.input if name.startswith("^")]
    b.op(None, "Identity", [final.name], T=dtype, control=controls)
    return b.nodes


def _grouped_conv2d(b: _Builder, node: Any, shapes: _Shapes, label: str) -> list[Any] | None:
    """Rewrite a Conv2D whose input has ``groups`` times the channels its filter takes."""
    x, w = node.input[0], node.input[1]
    x_dims, w_dims = shapes.dims(x), shapes.dims(w)
    channels = x_dims[-1:] if x_dims else []
    if not channels or channels[0] is None or w_dims is None or channels[0] == w_dims[2]:
        return None
    if node.attr["data_format"].s not in (b"NHWC", b""):
        raise ConversionError(
            f"{label}: the grouped convolution `{node.name}` is channels_first, which TF.js "
            "cannot run; build the model with data_format='channels_last'"
        )
    kh, kw, per_group, filters = w_dims
    groups = channels[0] // per_group
    strides = list(node.attr["strides"].list.i)
    dilations = list(node.attr["dilations"].list.i) or [1, 1, 1, 1]
    dtype = node.attr["T"].type
    common = {"padding": node.attr["padding"].s, "data_format": b"NHWC", "T": dtype}
    if "explicit_paddings" in node.attr:
        common["explicit_paddings"] = list(node.attr["explicit_paddings"].list.i)
    if (
        groups == channels[0]
        and strides[1] == strides[2]
        and (strides[1:3] == [1, 1] or dilations[1:3] == [1, 1])
    ):
        # One group per input channel is a depthwise convolution: output channel c·m + k
        # reads input channel c in both layouts (the native converter does the same).
        depthwise = b.op(
            "depthwise_filter",
            "Reshape",
            [w, b.ints("depthwise_shape", [kh, kw, groups, filters // groups])],
            T=dtype,
            Tshape=b.int32,
        )
        b.op(
            None,
            "DepthwiseConv2dNative",
            [x, depthwise],
            strides=strides,
            dilations=dilations,
            **common,
        )
        return b.nodes
    axis = b.ints("channel_axis", 3, scalar=True)
    parts = b.op("split_input", "Split", [axis, x], num_split=groups, T=dtype)
    kernels = b.op("split_filter", "Split", [axis, w], num_split=groups, T=dtype)
    outs = [
        b.op(
            f"group{i}",
            "Conv2D",
            [_output(parts, i), _output(kernels, i)],
            strides=strides,
            dilations=dilations,
            use_cudnn_on_gpu=True,
            **common,
        )
        for i in range(groups)
    ]
    b.op(None, "ConcatV2", [*outs, axis], N=groups, T=dtype, Tidx=b.int32)
    return b.nodes


def _unfused_hard_swish(b: _Builder, node: Any, fused: list[str]) -> list[Any]:
    """``op + bias`` then ``x·relu6(x + 3)·(1/6)``, the formula of TensorFlow's fused kernel."""
    base_op = {"_FusedConv2D": "Conv2D", "_FusedMatMul": "MatMul"}.get(
        node.op, "DepthwiseConv2dNative"
    )
    attr = {
        key: value
        for key, value in node.attr.items()
        if key
        not in ("fused_ops", "num_args", "epsilon", "leakyrelu_alpha", "num_host_args", "TArgs")
    }
    dtype = node.attr["T"].type
    x = b.op("unfused", base_op, list(node.input[:2]), _attr=attr)
    if fused[:1] == ["BiasAdd"]:
        x = b.op("bias", "BiasAdd", [x, node.input[2]], T=dtype)
    numpy_dtype = b.tf.as_dtype(dtype).as_numpy_dtype
    shifted = b.op("plus3", "AddV2", [x, b.const("three", numpy_dtype(3.0))], T=dtype)
    gate = b.op("relu6", "Relu6", [shifted], T=dtype)
    product = b.op("times", "Mul", [x, gate], T=dtype)
    b.op(None, "Mul", [product, b.const("sixth", numpy_dtype(1.0 / 6.0))], T=dtype)
    return b.nodes


# -- Einsum -------------------------------------------------------------------


class _Operand:
    """A tensor in an Einsum: its name, one label per axis, and its static sizes (None: unknown)."""

    def __init__(self, name: str, term: str, dims: list[int | None] | None) -> None:
        self.name, self.term = name, term
        self.dims: list[int | None] = list(dims) if dims is not None else [None] * len(term)

    def size(self, label: str) -> int | None:
        return self.dims[self.term.index(label)]


def _parse_equation(
    equation: str, ranks: list[int | None], node: Any, label: str
) -> tuple[list[str], str]:
    """Return the operands' labels and the output's, with ``...`` spelled out in capitals."""

    def refuse(why: str) -> ConversionError:
        return ConversionError(
            f"{label}: TensorFlow's converter wrote the Einsum `{node.name}` with the equation "
            f"`{equation}`, which {why}; TF.js's own Einsum kernel refuses it too, so no backend "
            "could run it. Write that product with keras.ops.matmul, transpose and reshape"
        )

    spec = equation.replace(" ", "")
    if "->" not in spec:
        raise refuse("has no explicit output")
    inputs, out = spec.split("->")
    terms = inputs.split(",")
    if len(terms) not in (1, 2):
        raise refuse(f"takes {len(terms)} operands (the rewrite takes one or two)")
    ellipsis_rank = 0
    for term, rank in zip(terms, ranks, strict=True):
        if "..." in term:
            if rank is None:
                raise refuse("has `...` over an operand of unknown rank")
            ellipsis_rank = max(ellipsis_rank, rank - len(term) + 3)
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in spec][:ellipsis_rank]

    def spell(term: str, rank: int | None) -> str:
        if "..." not in term:
            return term
        n = (rank if rank is not None else ellipsis_rank + len(term) - 3) - len(term) + 3
        # Ellipsis axes broadcast from the right, as numpy's.
        return term.replace("...", "".join(spare[ellipsis_rank - n :]))

    terms = [spell(term, rank) for term, rank in zip(terms, ranks, strict=True)]
    out = spell(out, ellipsis_rank + len(out) - 3 if "..." in out else None)
    for term in [*terms, out]:
        if len(set(term)) != len(term):
            raise refuse(f"repeats a label in `{term}` (a diagonal or trace)")
    for term, rank in zip(terms, ranks, strict=True):
        if rank is not None and rank != len(term):
            raise refuse(f"gives `{term}` {len(term)} axes for a tensor of rank {rank}")
    if set(out) - set("".join(terms)):
        raise refuse("has output labels that no operand has")
    return terms, out


def _sum_over(b: _Builder, x: _Operand, labels: list[str], dtype: int, name: str) -> _Operand:
    axes = [x.term.index(label) for label in labels]
    summed = b.op(
        name, "Sum", [x.name, b.ints(f"{name}_axes", axes)], T=dtype, Tidx=b.int32, keep_dims=False
    )
    keep = [i for i in range(len(x.term)) if i not in axes]
    return _Operand(summed, "".join(x.term[i] for i in keep), [x.dims[i] for i in keep])


def _transpose(b: _Builder, x: _Operand, order: str, dtype: int, name: str) -> _Operand:
    """``x`` with its axes in the order of the labels ``order`` (no node where it is already)."""
    if x.term == order:
        return x
    perm = [x.term.index(label) for label in order]
    out = b.op(name, "Transpose", [x.name, b.ints(f"{name}_perm", perm)], T=dtype, Tperm=b.int32)
    return _Operand(out, order, [x.dims[i] for i in perm])


def _matmul(b: _Builder, lhs: _Operand, rhs: _Operand, out: str, dtype: int) -> _Operand:
    """Contract two operands with one BatchMatMulV2; the result's labels are batch, lhs, rhs."""
    batch = [label for label in out if label in lhs.term and label in rhs.term]
    contract = [label for label in lhs.term if label in rhs.term and label not in out]
    left = [label for label in lhs.term if label not in rhs.term]
    right = [label for label in rhs.term if label not in lhs.term]
    nb = len(batch)
    lhs = _transpose(b, lhs, "".join(batch + left + contract), dtype, "lhs_transpose")
    rhs = _transpose(b, rhs, "".join(batch + contract + right), dtype, "rhs_transpose")
    # Batch axes stay as they are (BatchMatMulV2 broadcasts them); the others become one each.
    lhs_groups = [[(lhs, i)] for i in range(nb)]
    lhs_groups += [
        [(lhs, nb + i) for i in range(len(left))],
        [(lhs, nb + len(left) + i) for i in range(len(contract))],
    ]
    rhs_groups = [[(rhs, i)] for i in range(nb)]
    rhs_groups += [
        [(rhs, nb + i) for i in range(len(contract))],
        [(rhs, nb + len(contract) + i) for i in range(len(right))],
    ]
    a = _reshape(b, lhs, lhs_groups, dtype, "lhs_reshape")
    c = _reshape(b, rhs, rhs_groups, dtype, "rhs_reshape")
    product = b.op("matmul", "BatchMatMulV2", [a, c], T=dtype, adj_x=False, adj_y=False)
    batch_dims = [_broadcast(lhs.size(label), rhs.size(label)) for label in batch]
    flat = _Operand(product, "", batch_dims + [None, None])
    # The product's own batch sizes (broadcast), then the free axes' sizes of each operand.
    groups = [[(flat, i)] for i in range(nb)]
    groups += [[(lhs, nb + i)] for i in range(len(left))]
    groups += [[(rhs, nb + len(contract) + i)] for i in range(len(right))]
    labels = "".join(batch + left + right)
    if len(left) == 1 and len(right) == 1:
        return _Operand(product, labels, [*batch_dims, lhs.size(left[0]), rhs.size(right[0])])
    shaped = _reshape(b, flat, groups, dtype, "result_reshape")
    return _Operand(shaped, labels, [_group_size(g) for g in groups])


def _broadcast(a: int | None, b: int | None) -> int | None:
    if a is None or b is None:
        return None
    return max(a, b)


def _group_size(group: list[tuple[_Operand, int]]) -> int | None:
    sizes = [operand.dims[axis] for operand, axis in group]
    return None if None in sizes else math.prod(sizes)  # type: ignore[arg-type]


def _reshape(
    b: _Builder, x: _Operand, groups: list[list[tuple[_Operand, int]]], dtype: int, name: str
) -> str:
    """Reshape ``x`` so that each group of axes (of ``x`` or another operand) is one axis."""
    sizes = [_group_size(group) for group in groups]
    if len(groups) == len(x.term) and all(len(g) == 1 and g[0][0] is x for g in groups):
        return x.name
    unknown = [i for i, size in enumerate(sizes) if size is None]
    if len(unknown) <= 1:
        target = b.ints(f"{name}_shape", [-1 if size is None else size for size in sizes])
    else:
        # Several unknown sizes: the target is read from the tensors' shapes at run time.
        pieces = []
        for i, (group, size) in enumerate(zip(groups, sizes, strict=True)):
            if size is not None:
                pieces.append(b.ints(f"{name}_dim{i}", [size]))
                continue
            factors = []
            for j, (operand, axis) in enumerate(group):
                shape = b.op(
                    f"{name}_shape{i}_{j}", "Shape", [operand.name], T=dtype, out_type=b.int32
                )
                factors.append(
                    b.op(
                        f"{name}_size{i}_{j}",
                        "StridedSlice",
                        [
                            shape,
                            b.ints(f"{name}_begin{i}_{j}", [axis]),
                            b.ints(f"{name}_end{i}_{j}", [axis + 1]),
                            b.ints(f"{name}_stride{i}_{j}", [1]),
                        ],
                        T=b.int32,
                        Index=b.int32,
                        begin_mask=0,
                        end_mask=0,
                        ellipsis_mask=0,
                        new_axis_mask=0,
                        shrink_axis_mask=0,
                    )
                )
            size_ = factors[0]
            for j, factor in enumerate(factors[1:], 1):
                size_ = b.op(f"{name}_prod{i}_{j}", "Mul", [size_, factor], T=b.int32)
            pieces.append(size_)
        target = b.op(
            f"{name}_target",
            "ConcatV2",
            [*pieces, b.ints(f"{name}_axis", 0, scalar=True)],
            N=len(pieces),
            T=b.int32,
            Tidx=b.int32,
        )
    return b.op(name, "Reshape", [x.name, target], T=dtype, Tshape=b.int32)


# -- function calls -----------------------------------------------------------


def _inline_calls(tf: Any, function_body: Callable[..., Any], graph_def: Any, label: str) -> Any:
    """Replace every call of a library function by the function's body (calls in it too)."""
    functions = {f.signature.name: f for f in graph_def.library.function}
    for _ in range(_MAX_INLINING_ROUNDS):
        calls = [n for n in graph_def.node if n.op in CALL_OPS]
        if not calls:
            return graph_def
        renamed: dict[str, str] = {}
        nodes = []
        for node in graph_def.node:
            if node.op not in CALL_OPS:
                nodes.append(node)
                continue
            function = functions.get(node.attr["f"].func.name)
            if function is None:
                raise ConversionError(
                    f"{label}: the graph calls the function `{node.attr['f'].func.name}`, which "
                    "its library lacks; export the model again with model.export()"
                )
            body, flat = function_body(function)
            nodes.extend(_inlined(tf, node, function, body, flat, renamed))
        out = tf.compat.v1.GraphDef()
        out.CopyFrom(graph_def)
        del out.node[:]
        out.node.extend(nodes)
        for node in out.node:
            node.input[:] = [_rename(name, renamed) for name in node.input]
        graph_def = out
    raise ConversionError(f"{label}: the graph's function calls nest too deep to inline")


def _inlined(
    tf: Any, call: Any, function: Any, body: Any, flat: dict[str, str], renamed: dict[str, str]
) -> Iterator[Any]:
    """Yield ``function``'s body in place of ``call``; record its outputs' new names."""
    prefix = call.name + "/"
    args = [a.name for a in function.signature.input_arg]
    data = [name for name in call.input if not name.startswith("^")]
    controls = [name for name in call.input if name.startswith("^")]
    bound = dict(zip(args, data, strict=True))

    def inner(name: str) -> str:
        control = name.startswith("^")
        base = name[1:] if control else name
        node_name, _, index = base.partition(":")
        new = prefix + node_name + (f":{index}" if index and index != "0" else "")
        return ("^" if control else "") + new

    for node in body.node:
        copy = tf.compat.v1.NodeDef()
        copy.CopyFrom(node)
        copy.name = prefix + node.name
        if node.name in bound and node.op == "Placeholder":
            # An argument: the value the call passes in.
            copy.op = "Identity"
            copy.ClearField("attr")
            copy.attr["T"].type = node.attr["dtype"].type
            copy.input[:] = [bound[node.name], *controls]
        else:
            copy.input[:] = [inner(name) for name in node.input]
        yield copy
    for i, arg in enumerate(function.signature.output_arg):
        result = inner(flat.get(function.ret[arg.name], function.ret[arg.name]))
        if i == 0:
            # The call's own name stays, as an Identity of its first output.
            identity = tf.compat.v1.NodeDef(name=call.name, op="Identity", input=[result])
            identity.attr["T"].type = arg.type
            yield identity
        else:
            renamed[f"{call.name}:{i}"] = result


def _rename(name: str, renamed: dict[str, str]) -> str:
    return renamed.get(name, name)


def _drop_unused_functions(graph_def: Any) -> None:
    """Keep only the library functions the graph still calls (the bodies of While, If...)."""
    functions = {f.signature.name: f for f in graph_def.library.function}
    used: set[str] = set()
    pending = [graph_def.node]
    while pending:
        for node in pending.pop():
            for value in node.attr.values():
                names = [value.func.name] + [f.name for f in value.list.func]
                for name in names:
                    if name in functions and name not in used:
                        used.add(name)
                        pending.append(functions[name].node_def)
    kept = [functions[name] for name in sorted(used)]
    del graph_def.library.function[:]
    graph_def.library.function.extend(kept)


# -- helpers ------------------------------------------------------------------


class _Shapes:
    """Static shapes of a GraphDef's tensors, by TensorFlow's shape inference (run when asked)."""

    def __init__(self, tf: Any, graph_def: Any) -> None:
        self._tf, self._graph_def = tf, graph_def
        self._graph: Any = None

    def _shape(self, name: str) -> Any:
        if self._graph is None:
            self._graph = self._tf.Graph()
            with self._graph.as_default():
                self._tf.graph_util.import_graph_def(self._graph_def, name="")
        return self._graph.get_tensor_by_name(_tensor_name(name)).shape

    def dims(self, name: str) -> list[int | None] | None:
        shape = self._shape(name)
        return None if shape.rank is None else list(shape.as_list())

    def rank(self, name: str) -> int | None:
        return self._shape(name).rank


def _tensor_name(name: str) -> str:
    return name if ":" in name else f"{name}:0"


def _output(name: str, index: int) -> str:
    return name if index == 0 else f"{name}:{index}"


class _Builder:
    """Writes the nodes that replace ``node``, named under it; the last one takes its name."""

    def __init__(self, tf: Any, node: Any) -> None:
        self.tf, self.base = tf, node.name
        self.device = node.device
        self.nodes: list[Any] = []
        self.int32 = tf.int32.as_datatype_enum

    def op(
        self,
        name: str | None,
        op: str,
        inputs: list[str],
        _attr: Any = None,
        control: Any = (),
        **attr: Any,
    ) -> str:
        """Add a node; ``name=None`` gives it the replaced node's own name."""
        node = self.tf.compat.v1.NodeDef(
            name=self.base if name is None else f"{self.base}/{name}",
            op=op,
            input=[*inputs, *control],
        )
        if self.device:
            node.device = self.device
        if _attr is not None:
            for key, value in _attr.items():
                node.attr[key].CopyFrom(value)
        for key, value in attr.items():
            _set_attr(node.attr[key], key, value)
        self.nodes.append(node)
        return node.name

    def const(self, name: str, value: Any) -> str:
        node = self.tf.compat.v1.NodeDef(name=f"{self.base}/{name}", op="Const")
        proto = self.tf.make_tensor_proto(value)
        node.attr["value"].tensor.CopyFrom(proto)
        node.attr["dtype"].type = proto.dtype
        self.nodes.append(node)
        return node.name

    def ints(self, name: str, values: Any, scalar: bool = False) -> str:
        import numpy as np

        return self.const(
            name, np.array(values, dtype=np.int32) if not scalar else np.int32(values)
        )


def _set_attr(attr: Any, key: str, value: Any) -> None:
    if isinstance(value, bool):
        attr.b = value
    elif isinstance(value, bytes):
        attr.s = value
    elif isinstance(value, list):
        attr.list.SetInParent()
        attr.list.i.extend(value)
    elif key in ("T", "Tidx", "Tshape", "Tperm", "out_type", "Index", "dtype"):
        attr.type = value
    else:
        attr.i = value
