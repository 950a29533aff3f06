"""TensorFlow's converter: for SavedModel folders and layers the native converter lacks.

The path is: load with Keras, ``export()`` a SavedModel into a temporary
folder, and convert that with the tensorflowjs package in this same process
(the ``tensorflowjs_converter`` command would spend about 3 s per model
importing TensorFlow again). It needs the ``[tensorflow]`` extra. TensorFlow
is imported here, inside the functions, and in no other module of the
package.

Nothing is ever written next to the author's model.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..errors import LAMBDA_ADVICE, ConversionError

#: The packages whose absence means the converter is not installed (rather than broken).
_CONVERTER_PACKAGES = ("tensorflow", "tensorflowjs", "keras")


@functools.cache
def _import_converter() -> tuple[Any, Any, Any]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # tensorflow-decision-forests (imported by tensorflowjs) prints a banner,
    # and when sys.stdout is not a real file (a build run from a notebook, a
    # test runner, any tool that captures output) it imports IPython for it,
    # which fails where IPython is not installed.
    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
    try:
        with _quiet():
            import keras
            import tensorflow as tf
            from tensorflowjs.converters import tf_saved_model_conversion_v2 as tfjs_saved_model
    except ImportError as exc:
        raise ConversionError(_import_failure(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - a broken install raises anything on import.
        raise ConversionError(_broken_install(f"{type(exc).__name__}: {_first_line(exc)}")) from exc
    tf.get_logger().setLevel("ERROR")
    return tf, keras, tfjs_saved_model


def _import_failure(exc: ImportError) -> str:
    """Tell a converter that is not installed apart from one that is installed but broken."""
    from . import EXTRA_HINT

    missing = (exc.name or "").split(".")[0]
    if missing in _CONVERTER_PACKAGES and importlib.util.find_spec(missing) is None:
        return (
            f"TensorFlow's converter is not installed ({missing} is missing); install it with "
            f"{EXTRA_HINT}, or use `converter: native`"
        )
    if missing == "pkg_resources":
        # setuptools 81 removed pkg_resources; tensorflow_hub, which tensorflowjs
        # imports, still needs it. The extra pins setuptools<81 for this.
        return _broken_install(
            f"{_first_line(exc)}: setuptools 81 and later no longer ship pkg_resources, which "
            "tensorflow_hub (imported by tensorflowjs) needs",
            'pip install "setuptools<81"',
        )
    return _broken_install(_first_line(exc))


def _broken_install(cause: str, fix: str = "") -> str:
    from . import EXTRA_HINT

    fix = fix or (
        f"reinstall it in a fresh virtual environment with {EXTRA_HINT}, which pins a set "
        "that imports"
    )
    return (
        f"TensorFlow's converter is installed but fails on import ({cause}); {fix}, or use "
        "`converter: native`"
    )


def _quantization_map(quantize: str) -> dict[str, bool] | None:
    if quantize == "none":
        return None
    return {quantize: True}


def convert_model(source: Path, out_dir: Path, quantize: str, label: str) -> dict[str, Any]:
    """Convert ``source`` into ``out_dir`` (which must not exist yet).

    ``label`` names the model in messages (the path as the author wrote it).
    Returns ``{"params": int | None}``; the signature is read from the
    written ``model.json`` by the caller.
    """
    tf, keras, tfjs_saved_model = _import_converter()
    params = None
    input_names: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mkdocs-tfjs-") as tmp:
        if source.is_dir():
            saved_model = source
        else:
            model = _load_keras_model(keras, source, label)
            params = int(model.count_params())
            input_names = [tensor.name for tensor in model.inputs]
            saved_model = Path(tmp) / "saved_model"
            try:
                with _quiet():
                    model.export(str(saved_model), format="tf_saved_model", verbose=False)
            except Exception as exc:  # noqa: BLE001 - Keras raises many kinds here.
                raise ConversionError(
                    f"{label}: Keras could not export the model as a SavedModel "
                    f"({_first_line(exc)}); check that model(x) runs on a sample input"
                ) from exc
        try:
            with _quiet(), _repairing(tf, tfjs_saved_model, label):
                tfjs_saved_model.convert_tf_saved_model(
                    str(saved_model),
                    str(out_dir),
                    signature_def="serving_default",
                    saved_model_tags="serve",
                    quantization_dtype_map=_quantization_map(quantize),
                )
        except ConversionError:
            raise
        except ValueError as exc:
            error = ConversionError(_explain_converter_error(label, exc))
            # The graph's nodes (name and op), so that the build can name the layer of an
            # op TF.js lacks (node names carry the layer's scope: model/dense_1/Gelu/Erfc).
            with contextlib.suppress(Exception):
                from tensorflow.core.protobuf import saved_model_pb2

                pb = (saved_model / "saved_model.pb").read_bytes()
                graph = saved_model_pb2.SavedModel.FromString(pb).meta_graphs[0].graph_def
                functions = [n for f in graph.library.function for n in f.node_def]
                error.nodes = [{"name": n.name, "op": n.op} for n in [*graph.node, *functions]]
            raise error from exc
        except Exception as exc:  # noqa: BLE001
            raise ConversionError(f"{label}: {_converter_failure(exc)}") from exc
    repair_graph(out_dir / "model.json", label, input_names)
    return {"params": params}


@contextlib.contextmanager
def _repairing(tf: Any, tfjs_saved_model: Any, label: str) -> Any:
    """Rewrite the frozen graph where TF.js lacks an op, around tensorflowjs's optimisation.

    tensorflowjs freezes the SavedModel, then ``optimize_graph`` refuses ops
    TF.js does not know (``Erfc``, function calls) before running grappler,
    and the graph it returns is written as it is. It offers no step between,
    so its ``optimize_graph`` is wrapped for the duration of one conversion:
    the frozen graph is repaired before it, the optimised one after
    (``tensorflow_graph.py`` says what each rewrite does).
    """
    from tensorflow.python.framework.function_def_to_graph import function_def_to_graph_def

    from .tensorflow_graph import repair_frozen_graph, repair_optimized_graph

    original = tfjs_saved_model.optimize_graph

    def optimize_graph(graph: Any, signature_def: Any, *args: Any, **kwargs: Any) -> Any:
        repaired = repair_frozen_graph(tf, function_def_to_graph_def, graph.as_graph_def(), label)
        if repaired is not None:
            graph = tf.Graph()
            with graph.as_default():
                tf.graph_util.import_graph_def(repaired, name="")
        return repair_optimized_graph(tf, original(graph, signature_def, *args, **kwargs))

    tfjs_saved_model.optimize_graph = optimize_graph
    try:
        yield
    finally:
        tfjs_saved_model.optimize_graph = original


def _converter_failure(exc: BaseException) -> str:
    """Say what failed in tensorflowjs: its first exception, not one raised while handling it.

    tensorflowjs catches a failure of its SavedModel v2 path and retries the
    v1 path, whose own failure ("Identity is not in graph") then hides the
    real cause: the first exception of the chain is the one to show, with
    the tensorflowjs function that raised it (a bare ``KeyError: 908`` says
    little on its own).
    """
    chain = [exc]
    while chain[-1].__context__ is not None and chain[-1].__context__ not in chain:
        chain.append(chain[-1].__context__)
    first = chain[-1]
    where = _raised_in(first)
    message = f"the TensorFlow.js converter failed ({type(first).__name__}: {_first_line(first)}"
    message += f", in {where})" if where else ")"
    if first is not exc:
        message += f"; then, handling that, {type(exc).__name__}: {_first_line(exc)}"
    if where and where.endswith("_get_resource_ids_maps"):
        message += (
            "; tensorflowjs could not map the model's lookup tables (TextVectorization, "
            "StringLookup, IntegerLookup keep their vocabulary in one): take the text "
            "preprocessing out of the model and give the plugin the model after it"
        )
    return message


def _raised_in(exc: BaseException) -> str:
    """Return ``module.function`` of the innermost tensorflowjs frame that raised ``exc``."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "tensorflowjs" in f.filename]
    if not frames:
        return ""
    module = Path(frames[-1].filename).stem
    return f"tensorflowjs's {module}.{frames[-1].name}"


#: Activations TF.js has as ops of their own, so a fused op can be split back into them.
_FUSED_ACTIVATIONS = {"Relu", "Relu6", "Elu", "Sigmoid", "Tanh", "LeakyRelu"}
#: Activations TF.js's fused kernels run (tfjs-core's fused_util).
_TFJS_FUSED = {"Relu", "Relu6", "Elu", "Sigmoid", "LeakyRelu", "Prelu"}
_UNFUSED_OP = {
    "_FusedMatMul": "MatMul",
    "_FusedConv2D": "Conv2D",
    "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative",
}


def repair_graph(model_json: Path, label: str, input_names: list[str] | None = None) -> None:
    """Rewrite what tensorflowjs writes but TF.js cannot run, keeping the same values.

    - Fused ops whose bias is not a rank-1 constant are split back into the
      op, an add and the activation. TensorFlow's optimiser fuses a bias of
      any shape (an LSTM cell's second matmul, a [1, 1, 1, c] after a
      bias-free convolution and BatchNormalization), but TF.js's fused
      kernels refuse anything but rank 1 at load ("FusedConv2D only supports
      rank-1 bias but got rank 4"), and so are those whose activation TF.js's
      fused kernels lack but which it has as an op (Tanh). An activation it
      has in neither form is a conversion error: the graph would build and
      then fail for every reader. (Hard-swish, which grappler fuses in
      MobileNetV3, is split back into ops before this, in the graph
      tensorflowjs writes: ``tensorflow_graph.repair_optimized_graph``.)
    - Control inputs (``^node``) are dropped. TF.js takes them for data
      inputs, and then never computes the output of a graph whose loop exits
      are control inputs of it (an LSTM: "Cannot compute the outputs
      [Identity]"); an inference graph has no side effects to order.
    - The signature's inputs are put in Keras's order (``input_names``, the
      model's inputs). A SavedModel's signature keeps them sorted by name, and
      TF.js feeds a list of inputs in the signature's order: a model whose
      inputs `zeta` and `alpha` came in that order would get them swapped.
    """
    data = json.loads(model_json.read_text())
    signature = data.get("signature") or data.get("userDefinedMetadata", {}).get("signature", {})
    # Keyed `zeta` or `zeta:0` as Keras exported it; the placeholder is named after the input.
    by_input = {key.split(":")[0]: key for key in signature.get("inputs") or {}}
    if input_names and sorted(by_input) == sorted(input_names):
        given = signature["inputs"]
        signature["inputs"] = {by_input[name]: given[by_input[name]] for name in input_names}
    ranks = {
        w["name"]: len(w["shape"])
        for group in data.get("weightsManifest", [])
        for w in group["weights"]
    }
    topology = data["modelTopology"]
    graphs = [topology.get("node", [])]
    graphs += [f.get("nodeDef", []) for f in topology.get("library", {}).get("function", [])]
    for nodes in graphs:
        for node in nodes:
            if "input" in node:
                node["input"] = [name for name in node["input"] if not name.startswith("^")]
        for index in range(len(nodes) - 1, -1, -1):
            node = nodes[index]
            fused = _fused_ops(node)
            if node.get("op") not in _UNFUSED_OP or not fused or fused[0] != "BiasAdd":
                continue
            activation = fused[1] if len(fused) > 1 else None
            bias = node["input"][2].split(":")[0]
            if ranks.get(bias) == 1 and activation in (None, *_TFJS_FUSED) and len(fused) <= 2:
                continue
            if len(fused) > 2 or (activation is not None and activation not in _FUSED_ACTIVATIONS):
                raise ConversionError(
                    f"{label}: TensorFlow's converter fused {' + '.join(fused)} into the "
                    f"{node['op']} node `{node['name']}`, which TF.js cannot run; convert the "
                    "model with `converter: native` (or `auto`), which lowers that activation "
                    "to ops TF.js has"
                )
            nodes[index : index + 1] = _unfused(node, fused)
    model_json.write_text(json.dumps(data))


#: Graph ops that end a model in probabilities, as Keras names those activations.
_PROBABILITY_OPS = {"Softmax": "softmax", "Sigmoid": "sigmoid"}


def graph_output_activation(model_json: Path) -> str | None:
    """Return ``softmax`` or ``sigmoid`` when a one-output graph model ends in that op.

    For SavedModel folders, which carry no Keras architecture: the op that
    computes the signature's output, past any ``Identity``, says whether it
    returns probabilities. Anything else is None (the author says what it is).
    """
    data = json.loads(model_json.read_text())
    signature = data.get("signature") or data.get("userDefinedMetadata", {}).get("signature", {})
    outputs = signature.get("outputs") or {}
    if len(outputs) != 1:
        return None
    nodes = {node["name"]: node for node in data["modelTopology"].get("node", [])}
    name = str(next(iter(outputs.values())).get("name", "")).split(":")[0]
    seen = set()
    while name in nodes and name not in seen and nodes[name].get("op") == "Identity":
        seen.add(name)
        name = nodes[name]["input"][0].split(":")[0]
    last = nodes.get(name, {})
    # A Dense layer's sigmoid may be fused into its matmul (``fused_ops: [BiasAdd, Sigmoid]``).
    ops = _fused_ops(last) if last.get("op") in _UNFUSED_OP else []
    return _PROBABILITY_OPS.get(ops[-1] if ops else last.get("op", ""))


def _fused_ops(node: dict[str, Any]) -> list[str]:
    """Return the ops a fused node applies after its own (``["BiasAdd", "Relu"]``)."""
    import base64

    encoded = node.get("attr", {}).get("fused_ops", {}).get("list", {}).get("s", [])
    return [base64.b64decode(v).decode() for v in encoded]


def _unfused(node: dict[str, Any], fused: list[str]) -> list[dict[str, Any]]:
    name, attr = node["name"], dict(node.get("attr", {}))
    alpha = attr.get("leakyrelu_alpha")
    for key in ("fused_ops", "num_args", "epsilon", "leakyrelu_alpha"):
        attr.pop(key, None)
    base = {
        "name": f"{name}/unfused",
        "op": _UNFUSED_OP[node["op"]],
        "input": node["input"][:2],
        "attr": attr,
    }
    dtype = {key: attr[key] for key in ("T",) if key in attr}
    last = name if len(fused) == 1 else f"{name}/bias"
    add = {"name": last, "op": "AddV2", "input": [base["name"], node["input"][2]], "attr": dtype}
    out = [base, add]
    if len(fused) == 2:
        act_attr = dict(dtype)
        if fused[1] == "LeakyRelu" and alpha is not None:
            act_attr["alpha"] = alpha
        out.append({"name": name, "op": fused[1], "input": [last], "attr": act_attr})
    return out


def _load_keras_model(keras: Any, source: Path, label: str) -> Any:
    try:
        with _quiet():
            return keras.models.load_model(str(source), compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises many kinds for bad files.
        raise ConversionError(_explain_load_error(label, source, exc)) from exc


def _explain_load_error(label: str, source: Path, exc: Exception) -> str:
    text = str(exc)
    if "Lambda" in text:
        return (
            f"{label}: the model has a Lambda layer, whose Python code cannot be loaded "
            f"safely or run in the browser; {LAMBDA_ADVICE}"
        )
    unknown = re.search(r"(?:Could not locate|Unknown) (?:class|layer)[: ]+'?(\w+)'?", text)
    if unknown:
        return _unregistered(label, unknown.group(1))
    # Keras 3 wraps the failure of a class it found in one TypeError per enclosing
    # object ("<class 'Sequential'> could not be deserialized ... Exception encountered:
    # ..."), down to the class whose constructor raised and its own message.
    rebuilt = re.findall(
        r"Error when deserializing class '(\w+)'|<class '[\w.]*?(\w+)'> could "
        r"not be deserialized",
        text,
    )
    if rebuilt:
        layer = next(a or b for a, b in reversed(rebuilt))
        cause = (text.rsplit("Exception encountered:", 1)[-1].strip().splitlines() or [""])[0]
        cause = cause[:300] or type(exc).__name__
        return (
            f"{label}: Keras finds the layer class `{layer}` but cannot rebuild it from the "
            f"config saved in the file ({cause}); make the class accept what its get_config() "
            "returned, as JSON gives it back (lists for tuples), in its __init__ or a "
            "from_config, then build again"
        )
    return (
        f"{label}: Keras cannot load this file as a model ({type(exc).__name__}: "
        f"{_first_line(exc)}); save it again with model.save('model.keras')"
    )


def _unregistered(label: str, layer: str) -> str:
    return (
        f"{label}: the model uses the layer class `{layer}`, which Keras cannot find; "
        "register it with @keras.saving.register_keras_serializable() in a Python file that "
        "mkdocs.yml lists under `hooks:` (so it is imported before the build), or give the "
        "plugin a SavedModel folder written by model.export()"
    )


def _explain_converter_error(label: str, exc: Exception) -> str:
    text = str(exc)
    ops = re.search(r"Unsupported Ops in the model before optimization\s*(.*)", text)
    if ops:
        return (
            f"{label}: TensorFlow.js has no kernel for these ops: {ops.group(1).strip()}; "
            "rewrite the layers that use them with ops TF.js supports"
        )
    return f"{label}: the TensorFlow.js converter refused the model ({_first_line(exc)})"


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0][:300] if lines else type(exc).__name__


@contextlib.contextmanager
def _quiet():
    """Keep TensorFlow's and the converter's chatter out of the build log.

    TensorFlow's C++ core writes to file descriptors 1 and 2 directly, and
    tensorflow-decision-forests prints a banner on import, so the descriptors
    themselves point at a temporary file while the converter runs. (Swapping
    ``sys.stdout`` for a StringIO instead makes ydf believe it runs in a
    notebook and fail to import IPython.)
    """
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile() as sink:
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def load_converter() -> float:
    """Import TensorFlow and the converter once; return the seconds it took (0 if done)."""
    if _import_converter.cache_info().currsize:
        return 0.0
    started = time.perf_counter()
    _import_converter()
    return time.perf_counter() - started
