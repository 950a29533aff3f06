"""Check that a model file is what its name says, before TensorFlow is loaded.

Keras reports a truncated ``.keras`` archive as "File not found" and a text
file renamed to ``.h5`` as a missing HDF5 signature; these checks say what
is really wrong, in words a docs author can act on, and cost no TensorFlow
import. Nothing here imports MkDocs or TensorFlow.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from .errors import LAMBDA_ADVICE, ConversionError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
LFS_POINTER = b"version https://git-lfs"
RESAVE = "save the model again with model.save('name.keras')"


def check_model_file(path: Path, label: str) -> None:
    """Raise :class:`ConversionError` when ``path`` cannot be the model it claims to be."""
    if path.is_dir():
        return
    size = path.stat().st_size
    if size == 0:
        raise ConversionError(f"{label}: the file is empty (0 bytes); {RESAVE}")
    with path.open("rb") as handle:
        head = handle.read(64)
    if head.startswith(LFS_POINTER):
        raise ConversionError(
            f"{label}: the file is a Git LFS pointer, not the model; run `git lfs pull` "
            "(in CI, check the repository out with LFS files)"
        )
    suffix = path.suffix.lower()
    if suffix == ".keras":
        _check_keras_archive(path, label, head)
    elif suffix in (".h5", ".hdf5") and not head.startswith(HDF5_SIGNATURE):
        kind = (
            "a zip archive (a .keras file renamed?)"
            if head.startswith(b"PK")
            else (f"it starts with {head[:16]!r}")
        )
        raise ConversionError(f"{label}: the file is not an HDF5 file ({kind}); {RESAVE}")


def _check_keras_archive(path: Path, label: str, head: bytes) -> None:
    if head.startswith(HDF5_SIGNATURE):
        raise ConversionError(
            f"{label}: the file is an HDF5 (.h5) model with a .keras name; rename it to .h5"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
            names = archive.namelist()
            config_text = archive.read("config.json") if "config.json" in names else None
    except zipfile.BadZipFile as exc:
        raise ConversionError(
            f"{label}: the file is not a complete .keras archive ({exc}; it may be truncated "
            f"or another kind of file); {RESAVE}"
        ) from exc
    if damaged is not None:
        raise ConversionError(
            f"{label}: the .keras archive is damaged ({damaged} fails its CRC); {RESAVE}"
        )
    if config_text is None:
        raise ConversionError(f"{label}: the .keras archive has no config.json; {RESAVE}")
    try:
        config = json.loads(config_text)
    except ValueError as exc:
        raise ConversionError(
            f"{label}: the model's config.json is not valid JSON ({exc}); {RESAVE}"
        ) from exc
    lambdas = layers_of_class(config, "Lambda")
    if lambdas:
        raise ConversionError(
            f"{label}: the model has Lambda layer{'s' if len(lambdas) > 1 else ''} "
            f"{', '.join(f'`{n}`' for n in lambdas)}, whose Python code Keras will not load "
            f"safely and TF.js cannot run; {LAMBDA_ADVICE}"
        )


def layers_of_class(config: Any, class_name: str) -> list[str]:
    """Return the names of the layers of ``class_name`` anywhere in a Keras config."""
    found: list[str] = []
    if isinstance(config, dict):
        if config.get("class_name") == class_name and isinstance(config.get("config"), dict):
            found.append(str(config["config"].get("name", class_name)))
        for value in config.values():
            found += layers_of_class(value, class_name)
    elif isinstance(config, list):
        for value in config:
            found += layers_of_class(value, class_name)
    return found
