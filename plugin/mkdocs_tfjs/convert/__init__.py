"""Convert a Keras model (or a SavedModel folder) to a TensorFlow.js graph model.

Two converters sit behind :func:`convert_model`:

- ``native`` (``native.py`` and the modules it uses): reads ``.keras`` and
  ``.h5`` files with numpy and h5py and writes the graph model itself. It is
  the default: no TensorFlow, no tensorflowjs, milliseconds per model.
- ``tensorflow`` (``tensorflow.py``): Keras ``export()`` then tensorflowjs, for
  SavedModel folders and layers the native converter does not lower. It needs
  the ``[tensorflow]`` extra, and is the only module that imports TensorFlow.

``auto`` takes the native converter when it supports every layer of the
model, else TensorFlow's when it is installed, else fails with both ways out.
Nothing here imports MkDocs.
"""

from __future__ import annotations

import functools
import importlib.util
import shutil
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from ..errors import LAYERS_DOCS, ConversionError
from .keras_config import output_activation, read_config

# The native converter (numpy, h5py) is imported where a model is converted, not
# with the plugin: a build whose models are all cached never needs it.

CONVERTERS = ("auto", "native", "tensorflow")
#: Bump when the native converter's output changes for the same model (part of the cache key).
NATIVE_VERSION = "4"
#: Bumped when what convert/measure.py records changes (it is kept with each cached model).
MEASURE_VERSION = "1"
#: Bump when what the plugin adds to TensorFlow's converter (the graph repairs, what is read
#: from the graph) changes for the same model (part of the cache key).
TENSORFLOW_PATH_VERSION = "4"
#: The page's text and lookup preprocessing of a model's inputs, beside model.json (``strings.py``).
PREPROCESS_FILE = "preprocess.json"
#: The Pythons the ``[tensorflow]`` extra installs on: tensorflowjs has no release for 3.13.
EXTRA_PYTHONS = ((3, 11), (3, 12))


def _extra_hint() -> str:
    install = 'pip install "mkdocs-tfjs[tensorflow]"'
    if sys.version_info[:2] in EXTRA_PYTHONS:
        return f"{install}, on Python 3.11 or 3.12"
    # On other Pythons the extra's markers install nothing, so saying only "install the
    # extra" would send the author round in a circle.
    return (
        f"{install} in a Python 3.11 or 3.12 environment (not this Python "
        f"{sys.version_info[0]}.{sys.version_info[1]}, for which tensorflowjs has no release)"
    )


EXTRA_HINT = _extra_hint()


@dataclass(frozen=True)
class Choice:
    """Which converter runs for a model, and why (for the build log)."""

    converter: str
    reason: str = ""
    #: Chosen by ``auto``: TensorFlow's converter may still take over (see :func:`convert_model`).
    auto: bool = False


def tensorflow_available() -> bool:
    """Return whether the TensorFlow converter is installed, without importing it."""
    return all(
        importlib.util.find_spec(name) is not None for name in ("tensorflow", "tensorflowjs")
    )


@functools.cache
def _package_versions(names: tuple[str, ...]) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def converter_versions(converter: str) -> dict[str, str]:
    """Return what, besides the model and options, shapes the output of ``converter``.

    For ``auto`` that is both converters' versions: which one runs depends on
    the model and on whether TensorFlow is installed.
    """
    native = {
        "native": NATIVE_VERSION,
        # The cached info holds the measured quantization cost (convert/measure.py).
        "measure": MEASURE_VERSION,
        **_package_versions(("numpy", "h5py")),
    }
    if converter == "native":
        return native
    tensorflow = {
        "tensorflow-path": TENSORFLOW_PATH_VERSION,
        **_package_versions(("tensorflow", "tensorflowjs", "keras")),
    }
    if converter == "tensorflow":
        return tensorflow
    return {**native, **(tensorflow if tensorflow_available() else {"tensorflow": "missing"})}


def choose_converter(source: Path, requested: str, label: str) -> Choice:
    """Decide which converter handles ``source``; raise when it cannot be had.

    Reads nothing of the model: under ``auto`` the native converter starts
    and :func:`convert_model` falls back on the first layer it lacks.
    """
    if source.is_dir():
        if not tensorflow_available():
            raise ConversionError(
                f"{label}: a SavedModel folder is converted by TensorFlow's converter, which is "
                f"not installed; install it with {EXTRA_HINT}, or give the plugin the Keras "
                "file (.keras or .h5) the folder was exported from"
            )
        return Choice("tensorflow", "a SavedModel folder")
    if requested == "tensorflow":
        if not tensorflow_available():
            raise ConversionError(
                f"{label}: `converter: tensorflow` needs TensorFlow and tensorflowjs; install "
                f"them with {EXTRA_HINT}, or use `converter: native`"
            )
        return Choice("tensorflow", "converter: tensorflow")
    # auto: native first; convert_model hands a layer it lacks to TensorFlow's converter.
    return Choice("native", auto=requested == "auto")


def unsupported_error(label: str, layers: list[tuple[str, str, str]]) -> ConversionError:
    """Return the error for a model with layers the native converter does not lower."""
    from .native import not_supported

    supported = f"build the model from supported layers (the list is on {LAYERS_DOCS})"
    if tensorflow_available():
        way = "set `converter: auto` or `converter: tensorflow` to use TensorFlow's converter"
    else:
        way = f"install TensorFlow's converter, which `converter: auto` then uses: {EXTRA_HINT}"
    return ConversionError(f"{label}: {not_supported(layers)}; either {way}, or {supported}")


def convert_model(
    source: Path, out_dir: Path, quantize: str, label: str, choice: Choice
) -> dict[str, Any]:
    """Convert ``source`` into ``out_dir`` (which must not exist yet) with the chosen converter.

    Returns ``{"params": int | None, "seconds": float, "converter": str, "reason": str,
    "output_activation": str | None}`` (the activation that ends the model, where it
    has a Keras architecture to read it from).
    In ``auto`` mode a layer (or a layer option) the native converter lacks
    hands the model to TensorFlow's converter when it is installed.
    """
    from .native import UnsupportedLayer, convert_native, not_supported

    started = time.perf_counter()
    if choice.converter == "native":
        try:
            result = convert_native(source, out_dir, quantize, label, NATIVE_VERSION)
        except UnsupportedLayer as exc:
            if not (choice.auto and tensorflow_available()):
                raise unsupported_error(label, exc.layers) from exc
            choice = Choice("tensorflow", not_supported(exc.layers))
            shutil.rmtree(out_dir, ignore_errors=True)
            result = _convert_tensorflow(source, out_dir, quantize, label)
    else:
        result = _convert_tensorflow(source, out_dir, quantize, label)
    return {
        "params": result.get("params"),
        "seconds": time.perf_counter() - started,
        "converter": choice.converter,
        "reason": choice.reason,
        "output_activation": result.get("output_activation"),
        # What float16 and uint8 weights cost in outputs; the native converter measures it.
        "quantization_cost": result.get("quantization_cost"),
        "preprocess": result.get("preprocess") or [],
    }


def _convert_tensorflow(source: Path, out_dir: Path, quantize: str, label: str) -> dict[str, Any]:
    from . import tensorflow

    result = tensorflow.convert_model(source, out_dir, quantize, label)
    if source.is_file():
        result["output_activation"] = output_activation(read_config(source, label)[0])
    else:
        # A SavedModel has no Keras architecture; its graph's last op says as much.
        result["output_activation"] = tensorflow.graph_output_activation(out_dir / "model.json")
    return result


def load_tensorflow() -> float:
    """Import TensorFlow and its converter once; return the seconds it took (0 if done)."""
    from . import tensorflow

    return tensorflow.load_converter()
