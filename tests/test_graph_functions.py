"""The graph writer's function library (``Graph.body``, ``argument``, ``function``), alone.

A hand-built ``While`` loop, no Keras layer: it doubles its input once per
column the input has, a count known only when the model runs, and returns
the count of turns beside. TF.js runs it in Node.js (``executeAsync``) and
numpy gives the reference. A body whose outputs are wired to the wrong
arguments (seen failing with the ``ret`` map reversed), an argument returned
as it came that loses its value, or a function the ``While`` cannot find
fails here, apart from any recurrent layer's own arithmetic.
"""

from __future__ import annotations

import json

import numpy as np
from mkdocs_tfjs.convert.graph import DType, Func, Graph, write_graph_model

from .tfjs_node import run_models


def doubling_loop(out_dir):
    """Write a model: x [batch, n] → (x * 2**n, n as float)."""
    g = Graph()
    x = g.placeholder("x", (None, None))
    shape = g.op("Shape", [x], (2,), "shape", {"out_type": DType("int32")}, "int32")
    index = [g.const(name, [k], "int32") for name, k in (("begin", 1), ("end", 2), ("stride", 1))]
    count = g.op("StridedSlice", [shape, *index], (), "count", {"shrink_axis_mask": 1}, "int32")
    start = g.const("start", 0, "int32")
    loop = [start, count, x]

    def arguments(body):
        return [body.argument(f"loop/{name}", t.shape, t.dtype) for name, t in zip(("i", "n", "x"), loop, strict=True)]

    body = g.body()
    i, n, value = arguments(body)
    doubled = body.op("Mul", [value, body.const("loop/two", 2.0)], value.shape, "loop/doubled")
    step = body.op("AddV2", [i, body.const("loop/one", 1, "int32")], (), "loop/next", dtype="int32")
    # `n` goes back as it came (an argument as an output of the body).
    body_name = g.function("loop/body", body, [step, n, doubled])
    cond = g.body()
    ci, cn, _ = arguments(cond)
    cond_name = g.function("loop/cond", cond, [cond.op("Less", [ci, cn], (), "loop/more", dtype="bool")])
    node = g.op("While", loop, (), "loop", {"T": [DType(t.dtype) for t in loop], "body": Func(body_name),
                                          "cond": Func(cond_name)})
    turns = g.op("Cast", [type(x)(f"{node.name}:0", (), "int32")], (), "turns",
                 {"SrcT": DType("int32"), "DstT": DType("float32")})
    result = type(x)(f"{node.name}:2", x.shape)
    return write_graph_model(g, [result, turns], out_dir, "none", {})


def test_a_hand_built_while_loop_runs_in_tfjs_as_numpy_says(tmp_path):
    model = doubling_loop(tmp_path / "loop")
    functions = model["modelTopology"]["library"]["function"]
    assert [f["signature"]["name"] for f in functions] == ["loop/body", "loop/cond"]
    # The body's constants are weights of the model, named once, beside the main graph's.
    names = [w["name"] for w in model["weightsManifest"][0]["weights"]]
    assert {"loop/two", "loop/one"} <= set(names) and len(names) == len(set(names))
    x3 = np.arange(6, dtype="float32").reshape(2, 3)
    x5 = np.ones((1, 5), "float32")
    got = run_models([(tmp_path / "loop", [x3]), (tmp_path / "loop", [x5])])
    assert not isinstance(got[0], str), got[0]
    np.testing.assert_array_equal(got[0][0], x3 * 8)
    np.testing.assert_array_equal(got[0][1], 3)
    np.testing.assert_array_equal(got[1][0], x5 * 32)
    np.testing.assert_array_equal(got[1][1], 5)


def test_a_graph_without_functions_writes_an_empty_library(tmp_path):
    """The fixed-length models' bytes (pinned) keep ``"library": {}``."""
    g = Graph()
    x = g.placeholder("x", (None, 2))
    write_graph_model(g, [g.op("Relu", [x], x.shape, "relu")], tmp_path / "plain", "none", {})
    assert json.loads((tmp_path / "plain" / "model.json").read_text())["modelTopology"]["library"] == {}
