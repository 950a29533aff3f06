"""Read a Keras model file's weights, beside its architecture (see ``keras_config``).

Three layouts are read, with h5py and numpy only:

- Keras 3 ``.keras``: a zip of ``config.json`` and ``model.weights.h5`` (or
  ``model.weights.npz``). Weights live under paths built from snake-cased
  *class* names in layer order (``layers/conv2d_3/vars/0``), not from layer
  names; newer files also tag each ``vars`` group with the layer's name, and
  that tag is preferred where it exists.
- Keras 3 ``.h5`` and legacy Keras 2 / tf_keras ``.h5``: the config in the
  ``model_config`` attribute and the weights by layer name under
  ``model_weights/<layer>/`` in the order of the group's ``weight_names``.

Nothing here knows any layer's meaning: a layer's weights come back as a list
in Keras's own variable order, and the lowering decides what each one is.
Nothing here imports TensorFlow or MkDocs.
"""

from __future__ import annotations

import io
import pickle
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConversionError
from .keras_config import layer_name, read_config


def snake_case(name: str) -> str:
    """Return Keras's snake-cased form of a class name (``Conv2D`` → ``conv2d``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


@dataclass
class KerasFile:
    """A model's config and a way to fetch each layer's weights.

    ``scope`` names a layer by the names of the models that contain it, then
    its own: ``("inner", "dense")`` is the layer ``dense`` of the nested model
    ``inner``; a top-level layer is ``("dense",)``.
    """

    config: dict[str, Any]
    keras_version: str
    _weights: _WeightStore
    #: The ``assets/`` members of a ``.keras`` archive (a lookup layer's vocabulary.txt).
    _assets: dict[str, bytes] = field(default_factory=dict)

    def weights(self, scope: tuple[str, ...]) -> list[np.ndarray]:
        """Return the weights of the layer at ``scope``, in Keras's variable order."""
        return self._weights.layer(scope)

    def variable(self, scope: tuple[str, ...], key: str) -> np.ndarray | None:
        """Return the variable a layer saved under its own name (``idf_weights``), if any."""
        return self._weights.named(scope, key)

    def asset(self, scope: tuple[str, ...], name: str) -> str | None:
        """Return the text of an asset the layer at ``scope`` saved (``vocabulary.txt``)."""
        path = self._weights.path(scope)
        data = self._assets.get(f"assets/{path}/{name}") if path else None
        return None if data is None else data.decode("utf-8")

    def weight_parts(self, scope: tuple[str, ...]) -> dict[str, list[np.ndarray]]:
        """Return the weights of the sublayers of the layer at ``scope``, by sublayer name.

        MultiHeadAttention keeps its weights in its own EinsumDense layers
        (``query``, ``key``, ``value``, ``attention_output``), not in its own variables.
        """
        return self._weights.parts(scope)

    @property
    def legacy(self) -> bool:
        """True for files written by Keras 2 (tf_keras), whose defaults differ."""
        return self.keras_version.startswith("2.")


def read_keras_file(path: Path, label: str) -> KerasFile:
    """Open ``path`` (``.keras``, ``.h5`` or ``.hdf5``) and return its contents."""
    import h5py

    config, version = read_config(path, label)
    if not zipfile.is_zipfile(path):
        handle = h5py.File(path, "r")
        group = handle["model_weights"] if "model_weights" in handle else handle
        return KerasFile(config, version, _LegacyH5Store(group))
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if "model.weights.h5" in names:
            data = io.BytesIO(archive.read("model.weights.h5"))
            store: _WeightStore = _KerasH5Store(h5py.File(data, "r"), config)
        elif "model.weights.npz" in names:
            store = _KerasNpzStore(archive.read("model.weights.npz"), config, label)
        else:
            sharded = sorted(n for n in names if n.startswith("model.weights"))
            raise ConversionError(
                f"{label}: the .keras archive holds no model.weights.h5 or .npz "
                f"(found {', '.join(sharded) or 'no weights'}); save it again with "
                "model.save('name.keras') without sharding"
            )
        assets = {n: archive.read(n) for n in names if n.startswith("assets/")}
    return KerasFile(config, version, store, assets)


class _WeightStore:
    def layer(self, scope: tuple[str, ...]) -> list[np.ndarray]:
        raise NotImplementedError

    def named(self, scope: tuple[str, ...], key: str) -> np.ndarray | None:
        return None

    def path(self, scope: tuple[str, ...]) -> str | None:
        """Return the layer's path in a .keras archive (``layers/text_vectorization``)."""
        return None

    def parts(self, scope: tuple[str, ...]) -> dict[str, list[np.ndarray]]:
        return {}


def _layer_list(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the layers of a model config as Keras lists them in ``model.layers``."""
    layers = config.get("config", {}).get("layers", [])
    if config.get("class_name") == "Sequential":
        # Sequential.layers leaves out its InputLayer; Functional keeps it.
        return [layer for layer in layers if layer.get("class_name") != "InputLayer"]
    return layers


def _is_layer(entry: dict[str, Any]) -> bool:
    # keras.ops applied to symbolic tensors (``x + 3.0``) appear in the config
    # as operations, not layers, and have no place in the weights file.
    return not str(entry.get("module", "")).startswith("keras.src.ops")


class _KerasH5Store(_WeightStore):
    """``model.weights.h5`` of a ``.keras`` archive."""

    def __init__(self, handle: Any, config: dict[str, Any]) -> None:
        self.handle = handle
        self.config = config
        self._tags: dict[str, dict[str, str] | None] = {}

    def layer(self, scope: tuple[str, ...]) -> list[np.ndarray]:
        group = self._group(scope)
        if group is None:
            return []
        own = _own_vars(group)
        return own if own else _inner_vars(group)

    def named(self, scope: tuple[str, ...], key: str) -> np.ndarray | None:
        group = self._group(scope)
        vars_ = None if group is None else group.get("vars")
        return None if vars_ is None or key not in vars_ else np.asarray(vars_[key])

    def path(self, scope: tuple[str, ...]) -> str | None:
        return self._path(scope)

    def parts(self, scope: tuple[str, ...]) -> dict[str, list[np.ndarray]]:
        group = self._group(scope)
        out: dict[str, list[np.ndarray]] = {}
        for child in group if group is not None else []:
            vars_ = group[child].get("vars") if hasattr(group[child], "get") else None
            tag = vars_.attrs.get("name") if vars_ is not None else None
            tag = tag.decode() if isinstance(tag, bytes) else tag
            if child != "vars" and isinstance(tag, str) and len(vars_):
                out[tag] = [np.asarray(vars_[key]) for key in sorted(vars_, key=int)]
        return out

    def _group(self, scope: tuple[str, ...]) -> Any:
        path = self._path(scope)
        return None if path is None else self.handle.get(path)

    def _path(self, scope: tuple[str, ...]) -> str | None:
        path = ""
        config = self.config
        for depth, name in enumerate(scope):
            entries = _layer_list(config)
            child = self._child_path(path, name, entries)
            if child is None:
                return None
            path = child
            if depth < len(scope) - 1:
                config = next(e for e in entries if layer_name(e) == name)
        return path

    def _child_path(self, parent: str, name: str, entries: list[dict[str, Any]]) -> str | None:
        container = f"{parent}/layers" if parent else "layers"
        tagged = self._tagged(container)
        if tagged is None:
            return None
        # Newer files tag each layer's vars group with the layer name: trust it.
        if name in tagged:
            return f"{container}/{tagged[name]}"
        # Older files: the path is the snake-cased class name, numbered in layer order.
        return f"{container}/{_positional_names(entries).get(name, '?')}"

    def _tagged(self, container: str) -> dict[str, str] | None:
        """Return {layer name tag: child group} of ``container``, read once per container.

        Scanning the children for every layer made reading the weights
        quadratic in the number of layers (15 s for NASNetMobile's 770).
        """
        if container not in self._tags:
            group = self.handle.get(container)
            if group is None:
                self._tags[container] = None
            else:
                tags: dict[str, str] = {}
                for child in group:
                    vars_ = group[child].get("vars")
                    tag = vars_.attrs.get("name") if vars_ is not None else None
                    if isinstance(tag, bytes):
                        tag = tag.decode()
                    if isinstance(tag, str):
                        tags.setdefault(tag, child)
                self._tags[container] = tags
        return self._tags[container]


def _own_vars(group: Any) -> list[np.ndarray]:
    vars_ = group.get("vars")
    if vars_ is None:
        return []
    return [np.asarray(vars_[key]) for key in sorted(vars_, key=int)]


def _inner_vars(group: Any) -> list[np.ndarray]:
    """Return the float weights of the layers inside a layer, in ``layer.weights`` order.

    Those are a recurrent layer's ``cell`` and a wrapper's ``layer``, depth first.

    The archive orders the groups by name, but a Bidirectional lists its
    forward layer's weights before its backward layer's (as ``.h5`` files'
    ``weight_names`` do). Integer variables (a SeedGenerator's state) are
    not weights.
    """
    out = []
    for child in sorted((c for c in group if c != "vars"), key=lambda c: (c != "forward_layer", c)):
        if hasattr(group[child], "keys"):
            own = [w for w in _own_vars(group[child]) if w.dtype.kind == "f"]
            out += own + _inner_vars(group[child])
    return out


def _positional_names(entries: list[dict[str, Any]]) -> dict[str, str]:
    used: dict[str, int] = {}
    names = {}
    for entry in entries:
        if not _is_layer(entry):
            continue
        base = snake_case(str(entry.get("class_name", "")))
        if base in used:
            used[base] += 1
            names[layer_name(entry)] = f"{base}_{used[base]}"
        else:
            used[base] = 0
            names[layer_name(entry)] = base
    return names


class _KerasNpzStore(_WeightStore):
    """``model.weights.npz``: one pickled dict of variables per layer path.

    Keras pickles its backend's variable objects there (TensorFlow's, JAX's
    ...). They are read without that backend and without running any code
    from the file: every class the pickle names, except numpy's array
    machinery, becomes an inert :class:`_Stub`, and each variable's value is
    the first float array found in its stub's state.
    """

    def __init__(self, data: bytes, config: dict[str, Any], label: str) -> None:
        self.config = config
        self.label = label
        self.archive = zipfile.ZipFile(io.BytesIO(data))

    def layer(self, scope: tuple[str, ...]) -> list[np.ndarray]:
        path = ""
        config = self.config
        for depth, name in enumerate(scope):
            entries = _layer_list(config)
            prefix = f"{path}/layers" if path else "layers"
            path = f"{prefix}/{_positional_names(entries).get(name, '?')}"
            if depth < len(scope) - 1:
                config = next(e for e in entries if layer_name(e) == name)
        member = f"{path}.npy"
        if member not in self.archive.namelist():
            return []
        contents = _load_npy_dict(self.archive.read(member), self.label)
        return [_array_in(contents[key]) for key in sorted(contents, key=int)]


class _Stub:
    """Stands in for any class or function a pickle names; keeps what it is given."""

    args: tuple[Any, ...] = ()
    state: Any = None

    def __new__(cls, *args: Any, **kwargs: Any) -> _Stub:
        stub = super().__new__(cls)
        stub.args = args
        return stub

    def __call__(self, *args: Any, **kwargs: Any) -> _Stub:
        # A called stub (functools.partial(...)() in Keras's pickles) keeps its caller.
        return _Stub(self, *args)

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _SafeUnpickler(pickle.Unpickler):
    _NUMPY = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._NUMPY:
            return super().find_class(module, name)
        return _Stub

    def persistent_load(self, pid: Any) -> Any:
        return None


def _array_in(value: Any) -> np.ndarray:
    """Return the first float array inside an unpickled variable (or the array itself)."""
    stack, seen = [value], set()
    while stack:
        item = stack.pop(0)
        if isinstance(item, np.ndarray) and item.dtype.kind == "f":
            return item
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, _Stub):
            stack += [*item.args, item.state]
        elif isinstance(item, dict):
            stack += list(item.values())
        elif isinstance(item, (list, tuple)):
            stack += list(item)
    raise ConversionError("a variable in model.weights.npz holds no array")


def _load_npy_dict(data: bytes, label: str) -> dict[str, Any]:
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    np.lib.format._read_array_header(stream, version)  # noqa: SLF001 - skips the header
    try:
        value = _SafeUnpickler(stream).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, TypeError) as exc:
        raise ConversionError(f"{label}: model.weights.npz cannot be read ({exc})") from exc
    if isinstance(value, np.ndarray) and value.dtype == object:
        value = value.item()
    if not isinstance(value, dict):
        raise ConversionError(f"{label}: model.weights.npz does not hold Keras variables")
    return value


class _LegacyH5Store(_WeightStore):
    """``model_weights`` of an ``.h5`` file: weights named ``layer/.../var``."""

    def __init__(self, group: Any) -> None:
        self.group = group

    def layer(self, scope: tuple[str, ...]) -> list[np.ndarray]:
        top = self.group.get(scope[0])
        if top is None:
            return []
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in top.attrs["weight_names"]]
        if len(scope) > 1:
            # A nested model's group holds all its layers' weights; a weight of
            # layer L is named ``.../L/variable``.
            names = [n for n in names if n.split("/")[:-1][-1:] == [scope[-1]]]
        return [np.asarray(top[name]) for name in names]

    def parts(self, scope: tuple[str, ...]) -> dict[str, list[np.ndarray]]:
        # A sublayer's weight is named ``.../layer/sublayer/variable``.
        top = self.group.get(scope[0])
        if top is None:
            return {}
        out: dict[str, list[np.ndarray]] = {}
        for raw in top.attrs["weight_names"]:
            name = raw.decode() if isinstance(raw, bytes) else str(raw)
            path = name.split("/")
            if len(path) >= 3 and path[-3] == scope[-1]:
                out.setdefault(path[-2], []).append(np.asarray(top[name]))
        return out
