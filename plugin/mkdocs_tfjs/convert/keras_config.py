"""Read a Keras model's architecture: the config saved with it, and facts from it.

``read_config`` reads only the config (``config.json`` of a ``.keras`` zip,
the ``model_config`` attribute of an ``.h5`` file), never the weights, so
the build can decide which converter runs and the converter can describe
the model cheaply. Standard library and h5py only: this module is imported
with the plugin, so it must stay light (no numpy, no TensorFlow, no MkDocs).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from ..errors import ConversionError

#: Containers (models) that hold other layers in their config.
MODEL_CLASSES = ("Sequential", "Functional", "Model")

Ref = tuple[str, int, int]


def read_config(path: Path, label: str) -> tuple[dict[str, Any], str]:
    """Return the architecture of the Keras file ``path`` and the Keras version that wrote it."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                config = json.loads(archive.read("config.json"))
                meta = json.loads(archive.read("metadata.json")) if "metadata.json" in names else {}
            return config, str(meta.get("keras_version", "3"))
        import h5py

        with h5py.File(path, "r") as handle:
            raw = handle.attrs.get("model_config")
            version = handle.attrs.get("keras_version", b"2")
    except (OSError, ValueError, KeyError) as exc:
        raise ConversionError(
            f"{label}: cannot read the model file ({exc}); save it again with "
            "model.save('name.keras')"
        ) from exc
    if raw is None:
        raise ConversionError(
            f"{label}: the HDF5 file holds weights but no model architecture (saved with "
            "save_weights?); save the whole model with model.save('name.keras')"
        )
    config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    return config, version.decode() if isinstance(version, bytes) else str(version)


def layer_name(entry: dict[str, Any]) -> str:
    """Return the name of a layer entry of a model config."""
    return str(entry.get("name") or entry.get("config", {}).get("name", ""))


def tensor_refs(value: Any) -> list[Ref]:
    """Return ``input_layers`` / ``output_layers`` as ``(layer, node, tensor)`` triples.

    Keras 3 writes one triple for a single tensor and a list (or a dict) of
    them for several; Keras 2 always a list.
    """
    if isinstance(value, dict):
        value = list(value.values())
    if len(value) == 3 and isinstance(value[0], str):
        return [(value[0], int(value[1]), int(value[2]))]
    return [(str(v[0]), int(v[1]), int(v[2])) for v in value]


def all_layer_names(config: dict[str, Any]) -> set[str]:
    """Return the names of every layer of a model config, nested models' included."""
    names: set[str] = set()
    for entry in config.get("config", {}).get("layers", []):
        names.add(layer_name(entry))
        if entry.get("class_name") in MODEL_CLASSES:
            names |= all_layer_names(entry)
    return names


def output_activation(config: dict[str, Any]) -> str | None:
    """Return the activation that ends a model with one output, or None when unknown.

    A ``Softmax`` layer counts as ``softmax``; a nested model is followed to
    its own output layer.
    """
    class_name, body = config.get("class_name"), config.get("config")
    if not isinstance(body, dict):
        return None
    if class_name == "Softmax":
        return "softmax"
    layers = body.get("layers")
    if isinstance(layers, list):
        if class_name != "Sequential":  # a functional model: follow its one output
            outputs = tensor_refs(body.get("output_layers") or [])
            if len(outputs) != 1:
                return None
            layers = [entry for entry in layers if layer_name(entry) == outputs[0][0]]
        return output_activation(layers[-1]) if layers else None
    activation = body.get("activation")
    if isinstance(activation, dict):  # serialised: a function by name, or an object by class
        inner = activation.get("config")
        activation = inner if isinstance(inner, str) else activation.get("class_name")
    return activation.lower() if isinstance(activation, str) else None
