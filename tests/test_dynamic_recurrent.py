"""Recurrence over a sequence whose length is known only when the model runs, against Keras.

Each case is a tiny Keras model whose ``Input`` leaves the number of steps
free (``keras.Input((None, 3))``, or token ids of any length into an
``Embedding``). It is converted once by the native converter, which lowers
the recurrence to a TF.js ``While`` loop over TensorLists, and the SAME
converted model is fed two lengths, 4 and 11 steps, on TF.js's CPU and
WebAssembly backends in Node.js (``executeAsync``), against Keras's own
output for the same inputs. A loop that runs a fixed number of steps, reads
the steps in the wrong order, drops the mask or an initial state, or keeps
the wrong output at a masked step fails its case at one length or both.

Measured worst |TF.js - Keras| over every case, both lengths and both
backends: 3.6e-7 (float32 rounding); the tolerance, TOL, sits just above.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import pytest
from mkdocs_tfjs.convert import Choice, convert_model

from .test_native_layers import masked_tokens, rnn_randomized, signature_shapes
from .tfjs_node import run_models

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

LENGTHS = (4, 11)
#: Just above the worst error measured (3.6e-7, see the module's docstring).
TOL = 6e-7
FEATURES = 3


@dataclass
class Case:
    id: str
    build: object  # () -> keras.Model
    tokens: bool = False  # int32 token ids (0 masked) instead of float steps
    masking: bool = False  # float steps, some set to the Masking layer's value 0.5
    h5: bool = False  # a tf_keras model saved as .h5 (Keras 2's weight names and defaults)


def _float_model(make, states=0, merge=False):
    """``make()``'s layer over ``Input((None, 3))``; ``states`` initial states from the input's mean."""
    import keras

    x = keras.Input((None, FEATURES))
    layer = make()
    if states:
        pooled = keras.layers.GlobalAveragePooling1D()(x)
        units = getattr(layer, "units", None) or layer.forward_layer.units
        initial = [keras.layers.Dense(units, activation="tanh")(pooled) for _ in range(states)]
        y = layer(x, initial_state=initial)
    else:
        y = layer(x)
    return rnn_randomized(keras.Model(x, _merged(y) if merge else y))


def _merged(outputs):
    import keras

    flat = [keras.layers.Flatten()(t) if len(t.shape) > 2 else t for t in outputs]
    if any(t.shape[-1] is None for t in flat):
        raise ValueError("a sequence of free length is compared alone")
    return keras.layers.Concatenate()(flat)


def _token_model(make, between=()):
    """Embedding(mask_zero=True) over token ids of any length → (``between``) → ``make()``."""
    import keras

    x = keras.Input((None,), dtype="int32")
    y = keras.layers.Embedding(12, FEATURES, mask_zero=True)(x)
    for layer in between:
        y = layer(y)
    return rnn_randomized(keras.Model(x, make()(y)))


def _masking_model(make):
    import keras

    x = keras.Input((None, FEATURES))
    return rnn_randomized(keras.Model(x, make()(keras.layers.Masking(0.5)(x))))


def _tf_keras_model():
    """Keras 2 (tf_keras) layers over any length: its GRU's bias is [2, 3 * units]."""
    import tf_keras

    model = tf_keras.Sequential([
        tf_keras.layers.InputLayer((None, FEATURES)),
        tf_keras.layers.Masking(0.5),
        tf_keras.layers.Bidirectional(tf_keras.layers.LSTM(3, return_sequences=True)),
        tf_keras.layers.GRU(4),
    ])
    return rnn_randomized(model)


def cases() -> list[Case]:
    import keras

    layers = keras.layers
    out: list[Case] = []
    kinds = {
        "lstm": layers.LSTM,
        "gru": layers.GRU,
        "gru-reset-before": lambda *a, **k: layers.GRU(*a, reset_after=False, **k),
        "simple-rnn": layers.SimpleRNN,
    }
    for name, cls in kinds.items():
        count = 2 if name == "lstm" else 1
        out += [
            Case(f"{name}-last", lambda cls=cls: _float_model(lambda: cls(4))),
            Case(f"{name}-sequences", lambda cls=cls: _float_model(lambda: cls(4, return_sequences=True))),
            Case(f"{name}-go-backwards", lambda cls=cls: _float_model(lambda: cls(4, go_backwards=True, return_sequences=True))),
            Case(f"{name}-go-backwards-last", lambda cls=cls: _float_model(lambda: cls(3, go_backwards=True))),
            Case(f"{name}-nobias", lambda cls=cls: _float_model(lambda: cls(4, use_bias=False))),
            Case(f"{name}-state", lambda cls=cls: _float_model(lambda: cls(3, return_state=True), merge=True)),
            Case(f"{name}-initial-state", lambda cls=cls, count=count: _float_model(lambda: cls(4), states=count)),
            Case(f"{name}-masked-embedding", lambda cls=cls: _token_model(lambda: cls(4)), tokens=True),
            Case(f"{name}-masked-embedding-sequences-backwards",
                 lambda cls=cls: _token_model(lambda: cls(4, return_sequences=True, go_backwards=True)), tokens=True),
            Case(f"{name}-masking-layer", lambda cls=cls: _masking_model(lambda: cls(4, return_sequences=True)), masking=True),
        ]
    out += [
        Case("lstm-zero-output-for-mask",
             lambda: _token_model(lambda: layers.LSTM(4, return_sequences=True, zero_output_for_mask=True)), tokens=True),
        Case("lstm-stacked-masked",
             lambda: _token_model(lambda: layers.LSTM(3), between=[layers.LSTM(4, return_sequences=True)]), tokens=True),
        Case("gru-then-time-distributed",
             lambda: _token_model(lambda: layers.TimeDistributed(layers.Dense(2)), between=[layers.GRU(4, return_sequences=True)]),
             tokens=True),
        Case("bidirectional-lstm-concat",
             lambda: _float_model(lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True)))),
        Case("bidirectional-gru-ave", lambda: _float_model(lambda: layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode="ave"))),
        Case("bidirectional-simple-rnn-last", lambda: _float_model(lambda: layers.Bidirectional(layers.SimpleRNN(4)))),
        Case("bidirectional-lstm-state", lambda: _float_model(lambda: layers.Bidirectional(layers.LSTM(3, return_state=True)), merge=True)),
        Case("bidirectional-initial-state", lambda: _float_model(lambda: layers.Bidirectional(layers.LSTM(3)), states=4)),
        Case("bidirectional-masked-sequences",
             lambda: _token_model(lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True))), tokens=True),
        Case("bidirectional-masked-last-sum",
             lambda: _token_model(lambda: layers.Bidirectional(layers.GRU(3), merge_mode="sum")), tokens=True),
        Case("tf-keras-h5", _tf_keras_model, masking=True, h5=True),
    ]
    return out


CASES = cases()


def case_input(case: Case, steps: int, rng: np.random.Generator) -> np.ndarray:
    """Three sequences of ``steps`` steps: tokens with zeros (masked), or floats."""
    if case.tokens:
        return masked_tokens(rng.integers(1, 12, size=(3, steps)).astype("int32"))
    x = rng.uniform(-2.0, 2.0, size=(3, steps, FEATURES)).astype("float32")
    if case.masking:
        x[:, 1, :] = 0.5
        x[0, 3, :] = 0.5
    return x


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Convert every case once; run each on both lengths and both backends: {(id, steps, backend): error}."""
    import keras

    keras.utils.set_random_seed(3)
    root = tmp_path_factory.mktemp("dynamic")
    rng = np.random.default_rng(0)
    runs, expected, found = [], [], {}
    for case in CASES:
        model = case.build()
        shapes = tuple([tuple(t.shape) for t in ts] for ts in (model.inputs, model.outputs))
        source = root / f"{case.id}.{'h5' if case.h5 else 'keras'}"
        model.save(source, **({"save_format": "h5"} if case.h5 else {}))
        folder = root / case.id
        convert_model(source, folder, "none", case.id, Choice("native"))
        signature = json.loads((folder / "model.json").read_text())["signature"]
        found[case.id, "signature"] = shapes, tuple(
            signature_shapes(signature[side]) for side in ("inputs", "outputs"))
        for steps in LENGTHS:
            x = case_input(case, steps, rng)
            runs.append((folder, [x]))
            expected.append((case.id, steps, np.asarray(model(x, training=False))))
    for backend in ("cpu", "wasm"):
        for (cid, steps, want), got in zip(expected, run_models(runs, backend), strict=True):
            if isinstance(got, str):
                found[cid, steps, backend] = got
            elif got[0].shape != want.shape:
                found[cid, steps, backend] = f"shape {got[0].shape}, Keras {want.shape}"
            else:
                found[cid, steps, backend] = float(np.abs(got[0] - want).max())
    return root, found


@pytest.mark.parametrize("backend", ["cpu", "wasm"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_any_length_recurrence_matches_keras_at_two_lengths(outcomes, case, backend):
    _, found = outcomes
    for steps in LENGTHS:
        error = found[case.id, steps, backend]
        assert not isinstance(error, str), f"{steps} steps: {error}"
        assert error <= TOL, f"{steps} steps: max abs error {error:.3g} > {TOL}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_signature_keeps_the_free_length(outcomes, case):
    """The signature's static shapes are Keras's, the free number of steps a -1 (None) in the
    input and in a returned sequence: a widget sizes its input from it."""
    _, found = outcomes
    keras_shapes, converted = found[case.id, "signature"]
    assert converted == keras_shapes


@pytest.mark.parametrize("case", CASES[:3], ids=[c.id for c in CASES[:3]])
def test_loop_ops_run_on_every_backend_and_ask_for_execute_async(outcomes, case):
    """The loop's ops (the function bodies' included) are in the kernel table for every backend
    the runtime offers, and the graph is marked as needing ``executeAsync`` (the page's
    ``dynamic`` flag): ``execute`` would refuse a ``While``."""
    from mkdocs_tfjs.convert import kernels

    root, _ = outcomes
    model = json.loads((root / case.id / "model.json").read_text())
    ops = kernels.graph_ops(model)
    body_ops = {n["op"] for f in model["modelTopology"]["library"]["function"] for n in f["nodeDef"]}
    assert {"While", "TensorListGetItem"} <= ops and {"MatMul", "TensorListGetItem"} <= body_ops
    assert kernels.runnable_backends(ops) == list(kernels.backends()), kernels.missing_kernels(ops, "wasm")
    assert kernels.needs_async(ops)


def test_fixed_length_recurrence_stays_unrolled(tmp_path):
    """A fixed number of steps is still unrolled (no loop, no function library): ``execute`` runs it."""
    import keras

    keras.Sequential([keras.Input((5, 3)), keras.layers.GRU(4)]).save(tmp_path / "fixed.keras")
    convert_model(tmp_path / "fixed.keras", tmp_path / "tfjs", "none", "fixed", Choice("native"))
    model = json.loads((tmp_path / "tfjs" / "model.json").read_text())
    assert model["modelTopology"]["library"] == {}
    assert "While" not in {n["op"] for n in model["modelTopology"]["node"]}


def test_time_distributed_over_steps_of_free_size_is_refused_naming_the_fix(tmp_path):
    """What the loop cannot take (steps whose own sizes are free) names the layer and the fix."""
    import keras
    from mkdocs_tfjs.errors import ConversionError

    model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.TimeDistributed(keras.layers.Dense(2), name="per_step")])
    model.save(tmp_path / "free.keras")
    with pytest.raises(ConversionError) as error:
        convert_model(tmp_path / "free.keras", tmp_path / "tfjs", "none", "free", Choice("native"))
    assert "the layer `per_step` of class TimeDistributed" in str(error.value)
    assert "must be fixed by the model's Input" in str(error.value)


def test_converted_model_folder_is_deterministic(tmp_path, outcomes):
    """Converting the same any-length model twice gives the same bytes (stable function names)."""
    root, _ = outcomes
    convert_model(root / f"{CASES[0].id}.keras", tmp_path / "again", "none", CASES[0].id, Choice("native"))
    assert (tmp_path / "again" / "model.json").read_bytes() == (root / CASES[0].id / "model.json").read_bytes()

