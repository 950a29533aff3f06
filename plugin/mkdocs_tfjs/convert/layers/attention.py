"""Attention layers: MultiHeadAttention, Attention (dot product) and AdditiveAttention.

Lowered to batched matrix products, transposes, reshapes and softmax, never
to ``Einsum``: TF.js's WebAssembly backend has no Einsum kernel, and these
ops run on every backend. Masks given to the call as tensors
(``attention_mask``, ``query_mask``...), the Keras masks of the inputs (from
``Embedding(mask_zero=True)`` or ``Masking``) and the causal and
sliding-window masks are applied as Keras applies them, Keras 3 and tf_keras
each their own way, and the output keeps the query's Keras mask; dropout does
nothing at inference.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..graph import Tensor
from ._common import (
    binary,
    broadcast,
    cast,
    ints,
    matmul,
    reduce,
    reshape_tail,
    scalar,
    transpose,
    unary,
)
from .core import dense_like
from .registry import Call, Unsupported, layer

#: MultiHeadAttention.call's parameters, in order: its positional arguments map onto them.
_MHA_ARGS = (
    "query",
    "value",
    "key",
    "query_mask",
    "value_mask",
    "key_mask",
    "attention_mask",
    "return_attention_scores",
    "training",
    "use_causal_mask",
)

#: What masked scores become: -1e9 in Keras's Softmax (3 and 2); Keras 3's fused
#: dot-product attention (TensorFlow backend) uses -0.7 times float32's largest.
_SOFTMAX_NEGATIVE = -1e9
_FUSED_NEGATIVE = -0.7 * 3.38953e38


def bound_args(call: Call, names: tuple[str, ...]) -> dict[str, Any]:
    """Return the call's arguments by parameter name, positional ones included."""
    out = dict(zip(names, call.args, strict=False))
    out.update(call.kwargs)
    return out


def _bool(call: Call, t: Tensor, hint: str) -> Tensor:
    return t if t.dtype == "bool" else cast(call.graph, t, "bool", hint)


def _and(call: Call, a: Tensor | None, b: Tensor | None, hint: str) -> Tensor | None:
    if a is None or b is None:
        return a if b is None else b
    return call.graph.op("LogicalAnd", [a, b], _broadcast_shape(a, b), hint, dtype="bool")


def _broadcast_shape(a: Tensor, b: Tensor) -> tuple:
    return broadcast(a.shape, b.shape)


def _expand(call: Call, t: Tensor, axis: int, hint: str) -> Tensor:
    """Insert a size-1 axis at ``axis`` (negative counts from the end, as Keras's expand_dims)."""
    position = axis if axis >= 0 else t.rank + 1 + axis
    shape = (*t.shape[:position], 1, *t.shape[position:])
    return call.graph.op("ExpandDims", [t, ints(call.graph, axis, f"axis{axis}")], shape, hint)


def _band(call: Call, t_len: Any, s_len: Any, option: str, keep: Any, hint: str) -> Tensor:
    """Return a constant boolean [1, T, S] mask (``keep(row, col)``) for fixed lengths."""
    if t_len is None or s_len is None:
        raise Unsupported(f"{option} on sequences whose length is not fixed")
    rows, cols = np.indices((int(t_len), int(s_len)))
    return call.const(hint, keep(rows, cols)[None], "bool")


def masked_softmax(
    call: Call, scores: Tensor, mask: Tensor | None, fused: bool, hint: str
) -> Tensor:
    """Softmax over the last axis of ``scores`` with a boolean ``mask`` as Keras applies it.

    Keras 3's Softmax puts -1e9 where the mask is False and zeroes those
    probabilities after (a fully masked row gives zeros); its fused attention
    puts -0.7·float32.max and keeps the softmax (a uniform row); tf_keras's
    Softmax adds ``(1 - mask)·-1e9`` and keeps the softmax.
    """
    g = call.graph
    if mask is None:
        return unary(g, "Softmax", scores, hint)
    if call.legacy:
        keep = cast(g, mask, "float32", hint + "/keep")
        adder = binary(
            g,
            "Mul",
            binary(g, "Sub", scalar(g, 1.0, "one"), keep, hint + "/masked"),
            scalar(g, _SOFTMAX_NEGATIVE, "large_negative"),
            hint + "/adder",
        )
        return unary(g, "Softmax", binary(g, "AddV2", scores, adder, hint + "/add"), hint)
    negative = scalar(g, _FUSED_NEGATIVE if fused else _SOFTMAX_NEGATIVE, "large_negative")
    padded = g.op("SelectV2", [mask, scores, negative], scores.shape, hint + "/padded")
    probs = unary(g, "Softmax", padded, hint + ("" if fused else "/softmax"))
    if fused:
        return probs
    return g.op("SelectV2", [mask, probs, scalar(g, 0.0, "zero")], scores.shape, hint)


def _project(
    call: Call, x: Tensor, name: str, weights: list[np.ndarray], act: Any = None
) -> Tensor:
    """Project the last axis as EinsumDense does: x [..., D] · kernel [D, *out] (+ bias [*out]).

    Returns [..., prod(out)]: the caller reshapes where it needs the axes apart.
    """
    kernel = weights[0]
    sub = Call(call.graph, f"{call.name}/{name}", {}, [x], legacy=call.legacy)
    inner = int(np.prod(kernel.shape[: kernel.ndim - _out_rank(name, kernel)]))
    bias = weights[1].reshape(-1) if len(weights) > 1 else None
    return dense_like(sub, x, kernel.reshape(inner, -1), bias, act)


def _out_rank(name: str, kernel: np.ndarray) -> int:
    # query/key/value/gate: [D, heads, size]; attention_output: [heads, size, *output_shape].
    return 2 if name != "attention_output" else kernel.ndim - 2


@layer("MultiHeadAttention")
def multi_head_attention(call: Call) -> Tensor | list[Tensor]:
    """``MultiHeadAttention``: every option; masks given to the call or Keras's, causal, window."""
    g = call.graph
    bound = bound_args(call, _MHA_ARGS)
    query = call.tensor(bound.get("query"))
    value = call.tensor(bound.get("value"))
    key_given = call.tensor(bound.get("key"))
    key = key_given or value
    if query is None or value is None:
        raise Unsupported("MultiHeadAttention called without query and value tensors")
    heads, key_dim = int(call.config["num_heads"]), int(call.config["key_dim"])
    value_dim = int(call.get("value_dim") or key_dim)
    parts = call.parts()
    missing = {"query", "key", "value", "attention_output"} - set(parts)
    if missing:
        raise Unsupported(f"the weights of its {', '.join(sorted(missing))} projection")
    rank = query.rank + 1  # of the projected [batch, ..., heads, size] tensors
    axes = call.get("attention_axes") or list(range(1, rank - 2))
    axes = [int(a) if int(a) >= 0 else rank - 1 + int(a) for a in _as_list(axes)]
    batch_axes = [i for i in range(rank) if i not in axes and i != rank - 1]
    returns_scores = bool(bound.get("return_attention_scores", False))
    # Keras 3 runs its fused dot-product attention where it can; tf_keras never does.
    fused = not (call.legacy or float(call.get("dropout", 0.0)) > 0 or returns_scores or rank != 4)
    scale = 1.0 / math.sqrt(float(key_dim))

    def heads_last(x: Tensor, name: str, size: int) -> Tensor:
        """Project, split the heads, and move to [batch axes..., attention axes (one), size]."""
        projected = _project(call, x, name, parts[name])
        split = reshape_tail(g, projected, x.rank - 1, [heads, size], call.hint(f"{name}/heads"))
        moved = transpose(g, split, [*batch_axes, *axes, rank - 1], call.hint(f"{name}/moved"))
        if len(axes) == 1:
            return moved
        lengths = moved.shape[len(batch_axes) : -1]
        if any(d is None for d in lengths):
            raise Unsupported("attention over several axes whose sizes are not fixed")
        flat = int(np.prod(lengths))
        return reshape_tail(g, moved, len(batch_axes), [flat, size], call.hint(f"{name}/flat"))

    q = heads_last(query, "query", key_dim)
    if not fused:
        q = binary(g, "Mul", q, scalar(g, scale, f"scale_{key_dim}"), call.hint("query/scaled"))
    k = heads_last(key, "key", key_dim)
    v = heads_last(value, "value", value_dim)
    scores = matmul(g, q, k, call.hint("scores"), adj_y=True)
    if fused:
        scores = binary(g, "Mul", scores, scalar(g, scale, f"scale_{key_dim}"), call.hint("scaled"))
    # Scores in Keras's layout: [batch axes..., query attention axes..., key attention axes...].
    q_lengths = [query.shape[a] for a in axes]
    k_lengths = [key.shape[a] for a in axes]
    full = (*scores.shape[: len(batch_axes)], *q_lengths, *k_lengths)
    if len(axes) > 1:
        scores = reshape_tail(
            g, scores, len(batch_axes), list(full[len(batch_axes) :]), call.hint("scores/full")
        )
    mask = _attention_mask(call, bound, (query, value, key_given), len(axes), scores.rank)
    flat_scores = scores
    if len(axes) > 1:
        # Softmax over the key attention axes together: flatten them into one.
        flat_scores = reshape_tail(
            g, scores, scores.rank - len(axes), [int(np.prod(k_lengths))], call.hint("scores/keys")
        )
        if mask is not None:
            mask = _broadcast_to(call, mask, scores)
            mask = reshape_tail(
                g, mask, scores.rank - len(axes), [int(np.prod(k_lengths))], call.hint("mask/keys")
            )
    probs = masked_softmax(call, flat_scores, mask, fused, call.hint("softmax"))
    if len(axes) > 1:
        probs = reshape_tail(
            g,
            probs,
            len(batch_axes),
            [int(np.prod(q_lengths)), int(np.prod(k_lengths))],
            call.hint("probs/flat"),
        )
    out = matmul(g, probs, v, call.hint("context"))
    if len(axes) > 1:
        out = reshape_tail(
            g, out, len(batch_axes), [*q_lengths, value_dim], call.hint("context/full")
        )
    inverse = list(np.argsort([*batch_axes, *axes, rank - 1]))
    out = transpose(g, out, [int(i) for i in inverse], call.hint("context/back"))
    merged = reshape_tail(g, out, rank - 2, [heads * value_dim], call.hint("context/merged"))
    if call.get("use_gate", False):
        gate = _project(call, query, "gate", parts["gate"], "sigmoid")
        merged = binary(g, "Mul", merged, gate, call.hint("gated"))
    result = _project(call, merged, "attention_output", parts["attention_output"])
    out_shape = _as_list(call.get("output_shape") or [query.shape[-1]])
    if len(out_shape) > 1:
        result = reshape_tail(g, result, rank - 2, [int(d) for d in out_shape], call.hint("output"))
    # Keras gives the output the query's Keras mask (none where the query has none).
    query_mask = call.mask_of(query)
    if query_mask is not None:
        call.out_masks = [query_mask, None] if returns_scores else [query_mask]
    if not returns_scores:
        return result
    scores_out = probs
    if len(axes) > 1:
        scores_out = reshape_tail(
            g, probs, len(batch_axes), list(full[len(batch_axes) :]), call.hint("scores_out")
        )
    return [result, scores_out]


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _broadcast_to(call: Call, mask: Tensor, like: Tensor) -> Tensor:
    """Broadcast a mask to the static shape of ``like`` (its batch from ``like`` itself)."""
    g = call.graph
    shape = g.op("Shape", [like], (like.rank,), call.hint("mask/shape"), dtype="int32")
    return g.op("BroadcastTo", [mask, shape], like.shape, call.hint("mask/broadcast"), dtype="bool")


def _attention_mask(
    call: Call,
    bound: dict[str, Any],
    tensors: tuple[Tensor, Tensor, Tensor | None],
    n_axes: int,
    scores_rank: int,
) -> Tensor | None:
    """Return the boolean mask of MultiHeadAttention's scores, expanded as Keras expands it.

    ``tensors`` are the query, the value and the key given to the call (None if none was).
    """
    query, value, _ = tensors
    mask = None
    for name, part in _keras_masks(call, bound, tensors):
        mask = _and(call, mask, part, call.hint(f"{name}/and"))
    t_len, s_len = query.shape[1], value.shape[1]
    if bound.get("use_causal_mask", False):
        causal = _band(call, t_len, s_len, "use_causal_mask", lambda r, c: r >= c, "causal_mask")
        mask = _and(call, mask, causal, call.hint("causal/and"))
    window = call.get("sliding_window")
    if window:
        band = _band(
            call,
            t_len,
            s_len,
            "sliding_window",
            lambda r, c: np.abs(r - c) < int(window),
            "window_mask",
        )
        mask = _and(call, mask, band, call.hint("window/and"))
    given = call.tensor(bound.get("attention_mask"))
    if given is not None:
        mask = _and(call, _bool(call, given, call.hint("attention_mask")), mask, call.hint("mask"))
    if mask is None:
        return None
    while mask.rank < scores_rank:
        mask = _expand(call, mask, -2 * n_axes - 1, call.hint("mask/expanded"))
    return mask


def _keras_masks(
    call: Call, bound: dict[str, Any], tensors: tuple[Tensor, Tensor, Tensor | None]
) -> list[tuple[str, Tensor]]:
    """Return the query's [B, T, 1] and the value's and key's [B, 1, S] boolean masks, by name.

    As Keras 3's ``_compute_attention_mask`` and tf_keras's take them: the
    query's is always its Keras mask (from ``Embedding(mask_zero=True)`` or
    ``Masking``), even where the call gives ``query_mask``. Keras 3 takes
    ``value_mask`` and ``key_mask`` given to the call, or else the Keras masks
    of the value and of the key (only where the call gives a key); tf_keras
    the Keras masks of the value and of the key (the value where no key is
    given: the same mask twice changes nothing).
    """
    query, value, key_given = tensors
    implicit = {
        "query_mask": call.mask_of(query),
        "value_mask": call.mask_of(value),
        "key_mask": call.mask_of(key_given if key_given is not None or not call.legacy else value),
    }
    out = []
    for name, tensor in (("query_mask", query), ("value_mask", value), ("key_mask", key_given)):
        given = None if name == "query_mask" else call.tensor(bound.get(name))
        if given is not None:  # [B, S], given to the call
            given = _bool(call, given, call.hint(name))
            part = _expand(call, given, -2, call.hint(f"{name}/expanded"))
        elif implicit[name] is not None:  # a Keras mask, [B, steps, 1] (see Call.masks)
            if (tensor or value).rank != 3:
                raise Unsupported(f"a Keras mask on a {name[:-5]} of rank {(tensor or value).rank}")
            part = _bool(call, implicit[name], call.hint(name))
            if name != "query_mask":
                part = transpose(call.graph, part, [0, 2, 1], call.hint(f"{name}/across"))
        else:
            continue
        out.append((name, part))
    return out


def _dense_attention(call: Call, scores_of: Any) -> Tensor | list[Tensor]:
    """Attention and AdditiveAttention: scores, the value mask and causal mask, softmax, values.

    Masked scores lose 1e9 (Keras 3 and tf_keras alike); a masked query step's output is 0.
    """
    g = call.graph
    if call.legacy:
        # A Keras 2 node lists the tensors [query, value(, key)] as its arguments, one by one,
        # and keeps what else the call got (``mask=``) as keywords.
        bound = {**call.kwargs, "inputs": list(call.args)}
    else:  # Keras 3 saves the list [query, value(, key)] as one argument
        bound = bound_args(call, ("inputs", "mask", "training", "return_attention_scores"))
    given = bound.get("inputs")
    tensors = [call.tensor(t) for t in given] if isinstance(given, list) else []
    if len(tensors) < 2 or any(t is None for t in tensors):
        raise Unsupported("attention called without [query, value] tensors")
    query, value = tensors[0], tensors[1]
    key = tensors[2] if len(tensors) > 2 else value
    scores = scores_of(query, key)
    masks = [call.tensor(m) for m in _as_list(bound.get("mask"))] if bound.get("mask") else []
    if not masks:
        # The walker hands Keras's masks (`mask=`, and those of Embedding(mask_zero=True) or
        # Masking) per input, as float [batch, steps, 1]: the query's, then the value's.
        masks = list(call.masks[:2])
    q_mask = masks[0] if masks else None
    v_mask = masks[1] if len(masks) > 1 else None
    mask = None
    if v_mask is not None:
        mask = _bool(call, v_mask, call.hint("value_mask"))
        if mask.rank == 2:
            mask = _expand(call, mask, -2, call.hint("value_mask/expanded"))
        elif mask.rank == 3 and mask.shape[-1] == 1:
            mask = transpose(g, mask, [0, 2, 1], call.hint("value_mask/across"))
    if bound.get("use_causal_mask", False) or call.get("causal", False):
        causal = _band(
            call,
            scores.shape[-2],
            scores.shape[-1],
            "use_causal_mask",
            lambda r, c: r >= c,
            "causal",
        )
        mask = _and(call, mask, causal, call.hint("causal/and"))
    if mask is not None:
        lowered = binary(g, "Sub", scores, scalar(g, 1e9, "c1e9"), call.hint("scores/masked"))
        scores = g.op("SelectV2", [mask, scores, lowered], scores.shape, call.hint("scores/padded"))
    weights = unary(g, "Softmax", scores, call.hint("softmax"))
    out = matmul(g, weights, value, call.hint())
    returns_scores = bool(bound.get("return_attention_scores", False))
    if q_mask is not None:
        keep = _bool(call, q_mask, call.hint("query_mask"))
        if keep.rank == 2:
            keep = _expand(call, keep, -1, call.hint("q_keep"))
        out = g.op("SelectV2", [keep, out, scalar(g, 0.0, "zero")], out.shape, call.hint("masked"))
        # Keras gives the output the query's mask (compute_mask): float [B, T, 1] in Call.masks.
        implicit = q_mask.rank == 3 and q_mask.dtype == "float32"
        as_mask = q_mask if implicit else cast(g, keep, "float32", call.hint("output_mask"))
        call.out_masks = [as_mask, None] if returns_scores else [as_mask]
    return [out, weights] if returns_scores else out


@layer("Attention")
def dot_attention(call: Call) -> Tensor | list[Tensor]:
    """``Attention``: dot-product (``score_mode: dot``) or ``concat`` scores, ``use_scale``."""
    g = call.graph
    weights = call.weights()
    scale = weights.pop(0) if call.get("use_scale", False) else None
    concat = str(call.get("score_mode", "dot")) == "concat"
    if not concat and str(call.get("score_mode", "dot")) != "dot":
        raise Unsupported(f"score_mode: {call.get('score_mode')}")

    def scores_of(query: Tensor, key: Tensor) -> Tensor:
        if not concat:
            scores = matmul(g, query, key, call.hint("scores"), adj_y=True)
            if scale is not None:
                scores = binary(g, "Mul", scores, call.const("scale", scale), call.hint("scaled"))
            return scores
        total = _pairwise_sum(call, query, key)
        if scale is not None:
            total = binary(g, "Mul", call.const("scale", scale), total, call.hint("sum/scaled"))
        summed = _reduce_last(call, unary(g, "Tanh", total, call.hint("tanh")))
        return binary(
            g, "Mul", call.const("concat_score_weight", weights[0]), summed, call.hint("scores")
        )

    return _dense_attention(call, scores_of)


@layer("AdditiveAttention")
def additive_attention(call: Call) -> Tensor | list[Tensor]:
    """``AdditiveAttention``: ``sum(scale · tanh(query + key))`` scores (``use_scale``)."""
    g = call.graph
    weights = call.weights()
    scale = weights[0] if call.get("use_scale", True) else None

    def scores_of(query: Tensor, key: Tensor) -> Tensor:
        tanh = unary(g, "Tanh", _pairwise_sum(call, query, key), call.hint("tanh"))
        if scale is not None:
            tanh = binary(g, "Mul", call.const("scale", scale), tanh, call.hint("scaled"))
        return _reduce_last(call, tanh)

    return _dense_attention(call, scores_of)


def _pairwise_sum(call: Call, query: Tensor, key: Tensor) -> Tensor:
    """[batch, Tq, 1, dim] + [batch, 1, Tv, dim]."""
    q = _expand(call, query, -2, call.hint("query/expanded"))
    k = _expand(call, key, -3, call.hint("key/expanded"))
    return binary(call.graph, "AddV2", q, k, call.hint("sum"))


def _reduce_last(call: Call, x: Tensor) -> Tensor:
    return reduce(call.graph, "Sum", x, [-1], False, call.hint("scores/sum"))
