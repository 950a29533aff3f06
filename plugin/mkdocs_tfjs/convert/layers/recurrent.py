"""Recurrent layers: LSTM, GRU, SimpleRNN, Bidirectional, TimeDistributed.

A sequence of fixed length is unrolled into the graph, one step after the
other, with ops every backend runs and the lean runtime has (``MatMul``,
``Split``, ``Sigmoid``, ``Tanh``, ``Mul``, ``AddV2``, ``StridedSlice``,
``Pack``): the input's projection by the kernel is one ``BatchMatMulV2``
over all steps, then each step adds the recurrent projection of the state
and applies the gates, in Keras's own order of operations (so float32
rounding matches). A state Keras starts at
zeros is left out of the first step's arithmetic rather than multiplied out.

A Keras mask (from ``Embedding(mask_zero=True)`` or ``Masking``) is applied
as Keras's ``rnn`` does: at a masked step the states keep their values and
the output repeats the previous one, or is zeros where
``zero_output_for_mask`` is set (a Bidirectional's sequences).

A sequence whose length is known only when the model runs
(``keras.Input((None, 3))``) cannot be unrolled: it becomes a ``While``
loop whose body is one step, the same :func:`_step` (see :func:`_loop`).
TF.js runs such a graph only under ``executeAsync``, which the page's
runtime then uses (the model's ``dynamic`` flag, from the kernel table).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..graph import DType, Func, Graph, Tensor
from ._common import binary, ints, reshape, reshape_tail, scalar
from .activations import activation
from .registry import LAYERS, Call, Unsupported, layer

_GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


@dataclass
class _Cell:
    """One recurrent layer's configuration and weights, as its cell computes a step."""

    kind: str  # LSTM, GRU or SimpleRNN
    units: int
    kernel: np.ndarray
    recurrent: np.ndarray
    bias: np.ndarray | None
    config: dict[str, Any]
    legacy: bool

    @property
    def reset_after(self) -> bool:
        # tf_keras 2.x and Keras 3 both default to True; Keras < 2.3 wrote no key.
        return self.kind == "GRU" and bool(self.config.get("reset_after", True))


def _cell(kind: str, config: dict[str, Any], weights: list[np.ndarray], legacy: bool) -> _Cell:
    """Read a recurrent layer's config and its weights (kernel, recurrent kernel, bias)."""
    for key, refused in (("stateful", True), ("time_major", True)):
        if config.get(key) is refused:
            raise Unsupported(f"{key}: True")
    units = int(config["units"])
    use_bias = config.get("use_bias", True) is not False
    kernel, recurrent = weights[0], weights[1]
    bias = weights[2] if use_bias else None
    if kernel.shape[-1] != _GATES[kind] * units or recurrent.shape != (units, _GATES[kind] * units):
        raise Unsupported(f"weights of shapes {kernel.shape} and {recurrent.shape}")
    return _Cell(kind, units, kernel, recurrent, bias, config, legacy)


def _act(g: Graph, cell: _Cell, key: str, default: str, x: Tensor, hint: str) -> Tensor:
    return activation(g, x, cell.config.get(key) or default, hint, cell.legacy)


def _split(g: Graph, x: Tensor, parts: int, hint: str) -> list[Tensor]:
    """Split the last axis of a [batch, parts * units] tensor into ``parts`` tensors."""
    size = x.shape[-1] // parts
    node = g.op(
        "Split", [ints(g, -1, "split_axis"), x], (x.shape[0], size), hint, {"num_split": parts}
    )
    return [Tensor(node.name if i == 0 else f"{node.name}:{i}", node.shape) for i in range(parts)]


def _unstack(g: Graph, x: Tensor, hint: str) -> list[Tensor]:
    """Split [batch, steps, n] into ``steps`` tensors [batch, n], one ``StridedSlice`` each."""
    steps = x.shape[1]
    shape = (x.shape[0], x.shape[2])
    strides = ints(g, [1, 1, 1], "strides")
    attrs = {"begin_mask": 5, "end_mask": 5, "ellipsis_mask": 0, "new_axis_mask": 0}
    return [
        g.op(
            "StridedSlice",
            [x, ints(g, [0, t, 0], "begin"), ints(g, [0, t + 1, 0], "end"), strides],
            shape,
            f"{hint}/{t}",
            {**attrs, "shrink_axis_mask": 2},
        )
        for t in range(steps)
    ]


def _matmul(call: Call, a: Tensor, b: Tensor, hint: str) -> Tensor:
    attrs = {"transpose_a": False, "transpose_b": False}
    return call.graph.op("MatMul", [a, b], (a.shape[0], b.shape[-1]), hint, attrs)


def _add(g: Graph, a: Tensor | None, b: Tensor, hint: str) -> Tensor:
    return b if a is None else binary(g, "AddV2", a, b, hint)


def _step(
    call: Call,
    cell: _Cell,
    consts: dict[str, Tensor],
    x: Tensor,
    states: list[Tensor | None],
    t: int | str,
) -> tuple[Tensor, list[Tensor]]:
    """Return one step's output and new states, from ``x`` (the input's projection) and the states.

    A state of None is Keras's zero initial state: the terms it multiplies are left out.
    """
    g = call.graph
    h = states[0]
    hint = call.hint(f"step{t}")
    if cell.kind == "SimpleRNN":
        # Keras: act(x @ kernel + bias + h @ recurrent)
        z = (
            x
            if h is None
            else binary(
                g, "AddV2", x, _matmul(call, h, consts["recurrent"], hint + "/rec"), hint + "/z"
            )
        )
        out = _act(g, cell, "activation", "tanh", z, hint + "/h")
        return out, [out]
    if cell.kind == "LSTM":
        # Keras: z = x @ kernel + h @ recurrent + bias; i, f, c, o = split(z)
        z = (
            x
            if h is None
            else binary(
                g, "AddV2", x, _matmul(call, h, consts["recurrent"], hint + "/rec"), hint + "/zr"
            )
        )
        if "bias" in consts:
            z = binary(g, "AddV2", z, consts["bias"], hint + "/z")
        zi, zf, zc, zo = _split(g, z, 4, hint + "/gates")
        i = _act(g, cell, "recurrent_activation", "sigmoid", zi, hint + "/i")
        f = _act(g, cell, "recurrent_activation", "sigmoid", zf, hint + "/f")
        candidate = binary(
            g, "Mul", i, _act(g, cell, "activation", "tanh", zc, hint + "/g"), hint + "/ig"
        )
        c_prev = states[1]
        c = (
            candidate
            if c_prev is None
            else binary(
                g, "AddV2", binary(g, "Mul", f, c_prev, hint + "/fc"), candidate, hint + "/c"
            )
        )
        o = _act(g, cell, "recurrent_activation", "sigmoid", zo, hint + "/o")
        out = binary(
            g, "Mul", o, _act(g, cell, "activation", "tanh", c, hint + "/tanh_c"), hint + "/h"
        )
        return out, [out, c]
    # GRU: x is x @ kernel + input bias, split into z, r, h parts.
    xz, xr, xh = _split(g, x, 3, hint + "/x_parts")
    rz = rr = rh = None
    if cell.reset_after and h is not None:
        inner = _matmul(call, h, consts["recurrent"], hint + "/rec")
        if "recurrent_bias" in consts:
            inner = binary(g, "AddV2", inner, consts["recurrent_bias"], hint + "/rec_biased")
        rz, rr, rh = _split(g, inner, 3, hint + "/rec_parts")
    elif cell.reset_after and "recurrent_bias" in consts:
        # A zero state: the recurrent part is the recurrent bias alone.
        rz, rr, rh = (consts[f"recurrent_bias_{k}"] for k in "zrh")
    elif h is not None:
        inner = _matmul(call, h, consts["recurrent_zr"], hint + "/rec")
        rz, rr = _split(g, inner, 2, hint + "/rec_parts")
    z = _act(
        g, cell, "recurrent_activation", "sigmoid", _add(g, rz, xz, hint + "/z_in"), hint + "/z"
    )
    r = _act(
        g, cell, "recurrent_activation", "sigmoid", _add(g, rr, xr, hint + "/r_in"), hint + "/r"
    )
    if cell.reset_after:
        rec_h = None if rh is None else binary(g, "Mul", r, rh, hint + "/r_rec")
    else:
        rec_h = (
            None
            if h is None
            else _matmul(
                call, binary(g, "Mul", r, h, hint + "/r_h"), consts["recurrent_h"], hint + "/rec_h"
            )
        )
    candidate = _act(
        g, cell, "activation", "tanh", _add(g, rec_h, xh, hint + "/hh_in"), hint + "/hh"
    )
    # Keras: h = z * h_prev + (1 - z) * hh
    one_minus_z = binary(g, "Sub", scalar(g, 1.0, "one"), z, hint + "/one_minus_z")
    new = binary(g, "Mul", one_minus_z, candidate, hint + "/new")
    out = (
        new
        if h is None
        else binary(g, "AddV2", binary(g, "Mul", z, h, hint + "/keep"), new, hint + "/h")
    )
    return out, [out]


def _input_bias(cell: _Cell) -> np.ndarray | None:
    """Return the bias Keras adds to the input's projection (None where the step adds it)."""
    if cell.kind == "LSTM" or cell.bias is None:
        return None
    return cell.bias.reshape(2, -1)[0] if cell.reset_after else cell.bias


def _constants(call: Call, cell: _Cell, prefix: str, zero_state: bool = True) -> dict[str, Tensor]:
    """Return the step's constant tensors.

    ``zero_state``: also the parts a step from Keras's zero state reads alone
    (the unrolled first step; a loop's steps all start from a state tensor).
    """
    u = cell.units
    consts = {"recurrent": call.const(prefix + "recurrent_kernel", cell.recurrent)}
    if cell.kind == "LSTM":
        if cell.bias is not None:
            consts["bias"] = call.const(prefix + "bias", cell.bias.reshape(-1))
    elif cell.kind == "SimpleRNN":
        pass
    elif cell.reset_after:
        if cell.bias is not None:
            bias = cell.bias.reshape(2, -1)
            consts["recurrent_bias"] = call.const(prefix + "recurrent_bias", bias[1])
            for k, part in zip("zrh", np.split(bias[1], 3), strict=True):
                if zero_state:
                    consts[f"recurrent_bias_{k}"] = call.const(prefix + f"recurrent_bias_{k}", part)
    else:
        consts["recurrent_zr"] = call.const(
            prefix + "recurrent_kernel_zr", cell.recurrent[:, : 2 * u]
        )
        consts["recurrent_h"] = call.const(
            prefix + "recurrent_kernel_h", cell.recurrent[:, 2 * u :]
        )
    return consts


def _masked(
    g: Graph, keep: Tensor, drop: Tensor, new: Tensor, old: Tensor | None, hint: str
) -> Tensor:
    """Return ``new`` where the step is kept, else ``old`` (zeros for None), exactly."""
    kept = binary(g, "Mul", keep, new, hint + "/kept")
    return (
        kept
        if old is None
        else binary(g, "AddV2", kept, binary(g, "Mul", drop, old, hint + "/held"), hint)
    )


def _projection(call: Call, cell: _Cell, x: Tensor, prefix: str) -> Tensor:
    """Return the input's projection by the kernel (and its bias), all steps at once."""
    g = call.graph
    input_bias = _input_bias(cell)
    width = cell.kernel.shape[-1]
    projected = g.op(
        "BatchMatMulV2",
        [x, call.const(prefix + "kernel", cell.kernel)],
        (x.shape[0], x.shape[1], width),
        call.hint(prefix + "projection"),
        {"adj_x": False, "adj_y": False},
    )
    if input_bias is not None:
        projected = binary(
            g,
            "AddV2",
            projected,
            call.const(prefix + "input_bias", input_bias),
            call.hint(prefix + "projection_biased"),
        )
    return projected


def run_rnn(
    call: Call,
    cell: _Cell,
    x: Tensor,
    initial: list[Tensor],
    mask: Tensor | None,
    *,
    go_backwards: bool,
    return_sequences: bool,
    zero_output_for_mask: bool,
    prefix: str = "",
    flip: bool = False,
) -> tuple[Tensor, list[Tensor]]:
    """Run ``cell`` over ``x`` [batch, steps, features]: unrolled, or a loop for a free length.

    Returns the output (the sequence in the order of processing, reversed
    with ``flip``, or the last step's output) and the final states.
    """
    g = call.graph
    steps = x.shape[1]
    if x.rank != 3:
        raise Unsupported(
            f"an input of rank {x.rank} (a recurrent layer takes [batch, steps, features])"
        )
    if steps is None:
        return _loop(
            call,
            cell,
            x,
            initial,
            mask,
            go_backwards=go_backwards,
            return_sequences=return_sequences,
            zero_output_for_mask=zero_output_for_mask,
            prefix=prefix,
            flip=flip,
        )
    consts = _constants(call, cell, prefix)
    projected = _projection(call, cell, x, prefix)
    xs = _unstack(g, projected, call.hint(prefix + "steps"))
    if mask is not None:
        keeps = _unstack(g, mask, call.hint(prefix + "mask_steps"))
        drop = binary(g, "Sub", scalar(g, 1.0, "one"), mask, call.hint(prefix + "mask_dropped"))
        drops = _unstack(g, drop, call.hint(prefix + "mask_dropped_steps"))
    states: list[Tensor | None] = list(initial) or [None] * (2 if cell.kind == "LSTM" else 1)
    outputs: list[Tensor] = []
    previous: Tensor | None = None
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    for n, t in enumerate(order):
        out, new_states = _step(call, cell, consts, xs[t], states, n)
        if mask is not None:
            hint = call.hint(f"{prefix}step{n}/masked")
            states = [
                _masked(g, keeps[t], drops[t], s, old, f"{hint}_state{k}")
                for k, (s, old) in enumerate(zip(new_states, states, strict=True))
            ]
            held = None if zero_output_for_mask else previous
            out = _masked(g, keeps[t], drops[t], out, held, f"{hint}_output")
        else:
            states = new_states
        outputs.append(out)
        previous = out
    final = [s for s in states if s is not None]
    if not return_sequences:
        return outputs[-1], final
    sequence = g.op(
        "Pack",
        outputs[::-1] if flip else outputs,
        (x.shape[0], steps, cell.units),
        call.hint(prefix + "sequence"),
        {"N": steps, "axis": 1},
    )
    return sequence, final


def _dim(g: Graph, shape: Tensor, axis: int, hint: str) -> Tensor:
    """Return one size of a ``Shape`` as an int32 scalar."""
    return g.op(
        "StridedSlice",
        [
            shape,
            ints(g, [axis], f"begin{axis}"),
            ints(g, [axis + 1], f"end{axis + 1}"),
            ints(g, [1], "stride1"),
        ],
        (),
        hint,
        {
            "begin_mask": 0,
            "end_mask": 0,
            "ellipsis_mask": 0,
            "new_axis_mask": 0,
            "shrink_axis_mask": 1,
        },
        dtype="int32",
    )


def _time_list(g: Graph, x: Tensor, backwards: bool, hint: str) -> Tensor:
    """Return [batch, steps, n] as a TensorList of [batch, n] steps (last first: ``backwards``)."""
    steps = g.op(
        "Transpose",
        [x, ints(g, [1, 0, 2], "time_major")],
        (x.shape[1], x.shape[0], x.shape[2]),
        hint + "/time_major",
    )
    if backwards:
        steps = g.op("ReverseV2", [steps, ints(g, [0], "axis0")], steps.shape, hint + "/reversed")
    return g.op(
        "TensorListFromTensor",
        [steps, ints(g, [-1, x.shape[2]], f"element_shape_{x.shape[2]}")],
        (),
        hint,
        {"element_dtype": DType("float32"), "shape_type": DType("int32")},
        dtype="variant",
    )


def _loop(
    call: Call,
    cell: _Cell,
    x: Tensor,
    initial: list[Tensor],
    mask: Tensor | None,
    *,
    go_backwards: bool,
    return_sequences: bool,
    zero_output_for_mask: bool,
    prefix: str,
    flip: bool,
) -> tuple[Tensor, list[Tensor]]:
    """Run ``cell`` over a sequence whose length is known only when the model runs.

    The input's projection is made for all steps at once, as unrolled, and
    handed to a ``While`` loop as a TensorList of steps (reversed before the
    loop for ``go_backwards``, as Keras reverses its input); the body is one
    step of :func:`_step` from a state tensor (Keras's zero state is a
    ``Fill``), the mask applied as unrolled, and the outputs go in a
    TensorList stacked after the loop. TF.js runs it under ``executeAsync``.
    """
    g = call.graph
    units, width = cell.units, cell.kernel.shape[-1]
    hint = call.hint(prefix + "loop")
    projected = _projection(call, cell, x, prefix)
    shape = g.op("Shape", [x], (3,), hint + "/shape", {"out_type": DType("int32")}, "int32")
    batch, steps = _dim(g, shape, 0, hint + "/batch"), _dim(g, shape, 1, hint + "/steps")

    made: list[Tensor] = []

    def zeros() -> Tensor:
        """Keras's zero state, and the output held before the first kept step: [batch, units]."""
        if not made:
            size = g.op(
                "Pack",
                [batch, ints(g, units, f"units{units}")],
                (2,),
                hint + "/state_shape",
                {"N": 2, "axis": 0},
                "int32",
            )
            made.append(
                g.op("Fill", [size, scalar(g, 0.0, "zero")], (x.shape[0], units), hint + "/zeros")
            )
        return made[0]

    count = 2 if cell.kind == "LSTM" else 1
    loop: list[tuple[str, Tensor]] = [
        ("step", ints(g, 0, "step0")),
        ("steps", steps),
        ("inputs", _time_list(g, projected, go_backwards, hint + "/inputs")),
    ]
    if mask is not None:
        loop.append(("mask", _time_list(g, mask, go_backwards, hint + "/mask")))
    states = list(initial) or [zeros()] * count
    loop += [(f"state{k}", s) for k, s in enumerate(states)]
    if mask is not None:
        # Keras holds the previous output at a masked step (zeros before the first).
        loop.append(("output", zeros()))
    if return_sequences:
        reserved = g.op(
            "TensorListReserve",
            [ints(g, [-1, units], f"element_shape_{units}"), steps],
            (),
            hint + "/outputs",
            {"element_dtype": DType("float32"), "shape_type": DType("int32")},
            "variant",
        )
        loop.append(("outputs", reserved))
    names = [name for name, _ in loop]

    def arguments(body: Graph) -> dict[str, Tensor]:
        return {name: body.argument(f"{hint}/{name}", t.shape, t.dtype) for name, t in loop}

    body = g.body()
    args = arguments(body)
    bcall = dataclasses.replace(call, graph=body)
    consts = _constants(bcall, cell, prefix, zero_state=False)
    got = body.op(
        "TensorListGetItem",
        [args["inputs"], args["step"], ints(body, [-1, width], f"element_shape_{width}")],
        (x.shape[0], width),
        hint + "/x",
        {"element_dtype": DType("float32")},
    )
    old = [args[f"state{k}"] for k in range(count)]
    out, new = _step(bcall, cell, consts, got, list(old), "_loop")
    results = dict(args)
    if mask is not None:
        keep = body.op(
            "TensorListGetItem",
            [args["mask"], args["step"], ints(body, [-1, 1], "element_shape_1")],
            (x.shape[0], 1),
            hint + "/keep",
            {"element_dtype": DType("float32")},
        )
        drop = binary(body, "Sub", scalar(body, 1.0, "one"), keep, hint + "/drop")
        new = [
            _masked(body, keep, drop, s, o, f"{hint}/masked_state{k}")
            for k, (s, o) in enumerate(zip(new, old, strict=True))
        ]
        held = None if zero_output_for_mask else args["output"]
        out = _masked(body, keep, drop, out, held, f"{hint}/masked_output")
        results["output"] = out
    results.update({f"state{k}": s for k, s in enumerate(new)})
    if return_sequences:
        results["outputs"] = body.op(
            "TensorListSetItem",
            [args["outputs"], args["step"], out],
            (),
            hint + "/write",
            {"element_dtype": DType("float32")},
            "variant",
        )
    results["step"] = body.op(
        "AddV2", [args["step"], ints(body, 1, "one_step")], (), hint + "/next", dtype="int32"
    )
    body_name = g.function(hint + "/body", body, [results[name] for name in names])
    cond = g.body()
    cargs = arguments(cond)
    more = cond.op("Less", [cargs["step"], cargs["steps"]], (), hint + "/more", dtype="bool")
    cond_name = g.function(hint + "/cond", cond, [more])
    node = g.op(
        "While",
        [t for _, t in loop],
        (),
        hint,
        {
            "T": [DType(t.dtype) for _, t in loop],
            "body": Func(body_name),
            "cond": Func(cond_name),
            "parallel_iterations": 1,
        },
    )
    final = {name: Tensor(f"{node.name}:{k}", t.shape, t.dtype) for k, (name, t) in enumerate(loop)}
    states_out = [final[f"state{k}"] for k in range(count)]
    if not return_sequences:
        return (final["output"] if mask is not None else states_out[0]), states_out
    stacked = g.op(
        "TensorListStack",
        [final["outputs"], ints(g, [-1, units], f"element_shape_{units}")],
        (None, x.shape[0], units),
        hint + "/stacked",
        {"element_dtype": DType("float32")},
    )
    if flip:
        # Keras flips the backward layer's sequence back into time order.
        stacked = g.op(
            "ReverseV2", [stacked, ints(g, [0], "axis0")], stacked.shape, hint + "/in_time_order"
        )
    sequence = g.op(
        "Transpose",
        [stacked, ints(g, [1, 0, 2], "time_major")],
        (x.shape[0], None, units),
        call.hint(prefix + "sequence"),
    )
    return sequence, states_out


def _rnn_flags(config: dict[str, Any]) -> tuple[bool, bool, bool]:
    return (
        bool(config.get("go_backwards", False)),
        bool(config.get("return_sequences", False)),
        bool(config.get("return_state", False)),
    )


def _initial_states(call: Call, count: int) -> list[Tensor]:
    states = call.inputs[1:]
    if states and len(states) != count:
        raise Unsupported(f"{len(states)} initial states (the layer has {count})")
    return states


def _recurrent(kind: str):
    def lower(call: Call) -> list[Tensor]:
        cell = _cell(kind, call.config, call.weights(), call.legacy)
        go_backwards, return_sequences, return_state = _rnn_flags(call.config)
        initial = _initial_states(call, 2 if kind == "LSTM" else 1)
        out, states = run_rnn(
            call,
            cell,
            call.x,
            initial,
            call.mask,
            go_backwards=go_backwards,
            return_sequences=return_sequences,
            zero_output_for_mask=bool(call.config.get("zero_output_for_mask", False)),
        )
        out_mask = call.mask if return_sequences else None
        call.out_masks = [out_mask] + [None] * (len(states) if return_state else 0)
        return [out, *states] if return_state else [out]

    lower.__doc__ = f"``{kind}``, unrolled over the steps (see the module's docstring)."
    return lower


for _kind in _GATES:
    LAYERS[_kind] = _recurrent(_kind)


def _inner(config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    inner = config.get("layer") or {}
    return str(inner.get("class_name")), dict(inner.get("config") or {})


@layer("Bidirectional")
def bidirectional(call: Call) -> list[Tensor]:
    """``Bidirectional(layer, merge_mode)``: the layer forwards and backwards, merged.

    The backward layer's sequence is put back in time order before the merge,
    as Keras does; ``merge_mode=None`` gives the two outputs.
    """
    g = call.graph
    kind, forward = _inner(call.config)
    if kind not in _GATES:
        raise Unsupported(f"a Bidirectional around {kind}")
    backward_entry = call.config.get("backward_layer")
    if backward_entry:
        back_kind, backward = (
            str(backward_entry.get("class_name")),
            dict(backward_entry.get("config") or {}),
        )
        if back_kind != kind:
            raise Unsupported(f"a backward layer of class {back_kind} beside a {kind}")
    else:
        backward = {**forward, "go_backwards": not forward.get("go_backwards", False)}
    weights = call.weights()
    half = len(weights) // 2
    _, return_sequences, return_state = _rnn_flags(forward)
    count = 2 if kind == "LSTM" else 1
    initial = _initial_states(call, 2 * count)
    outs, states = [], []
    for name, config, part, init in (
        ("forward", forward, weights[:half], initial[:count]),
        ("backward", backward, weights[half:], initial[count:]),
    ):
        cell = _cell(kind, config, part, call.legacy)
        out, final = run_rnn(
            call,
            cell,
            call.x,
            init,
            call.mask,
            go_backwards=bool(config.get("go_backwards", False)),
            return_sequences=return_sequences,
            # Bidirectional sets it on both layers: zeros at masked steps of a sequence.
            zero_output_for_mask=return_sequences,
            prefix=f"{name}/",
            # Keras flips the backward layer's sequence back into time order.
            flip=name == "backward",
        )
        outs.append(out)
        states += final
    mode = call.config.get("merge_mode", "concat")
    if mode is None:
        merged = outs
    elif mode == "concat":
        a, b = outs
        merged = [
            g.op(
                "ConcatV2",
                [a, b, ints(g, -1, "axis")],
                (*a.shape[:-1], a.shape[-1] + b.shape[-1]),
                call.hint(),
                {"N": 2},
            )
        ]
    elif mode in ("sum", "ave"):
        total = binary(g, "AddV2", outs[0], outs[1], call.hint("sum" if mode == "ave" else ""))
        merged = [
            total
            if mode == "sum"
            else binary(g, "RealDiv", total, scalar(g, 2.0, "two"), call.hint())
        ]
    elif mode == "mul":
        merged = [binary(g, "Mul", outs[0], outs[1], call.hint())]
    else:
        raise Unsupported(f"merge_mode: {mode}")
    out_mask = call.mask if return_sequences else None
    call.out_masks = [out_mask] * len(merged) + [None] * (len(states) if return_state else 0)
    return [*merged, *states] if return_state else merged


@layer("TimeDistributed")
def time_distributed(call: Call) -> Tensor:
    """``TimeDistributed(layer)``: the inner layer on [batch * steps, ...], reshaped back."""
    kind, config = _inner(call.config)
    lower = LAYERS.get(kind)
    if lower is None or kind in ("Bidirectional", "TimeDistributed", *_GATES):
        raise Unsupported(f"a TimeDistributed around {kind}")
    x = call.x
    if any(d is None for d in x.shape[2:]):
        raise Unsupported(
            f"a TimeDistributed over steps of shape {list(x.shape[2:])} (each step's own sizes "
            "must be fixed by the model's Input)"
        )
    g = call.graph
    flat = reshape(g, x, (None, *x.shape[2:]), call.hint("flat"))
    inner = Call(g, call.name, config, [flat], load_weights=call.load_weights, legacy=call.legacy)
    out = lower(inner)
    if isinstance(out, list):
        if len(out) != 1:
            raise Unsupported(f"a TimeDistributed around {kind} with several outputs")
        out = out[0]
    return reshape_tail(g, out, 2, list(out.shape[1:]), call.hint("steps"), like=x)
