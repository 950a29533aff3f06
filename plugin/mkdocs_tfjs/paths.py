"""Paths an author writes in a block or in mkdocs.yml, resolved inside the project folder.

A path is relative to the folder of mkdocs.yml, stays inside it and exists;
a misspelt one gets a suggestion. Nothing here imports MkDocs, the widgets or
the spec.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

# Folders never searched when suggesting a model path for a misspelt one.
_SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "site", ".cache", "__pycache__"}
_MODEL_SUFFIXES = {".keras", ".h5", ".hdf5"}


def resolve_project_path(value: str, project_dir: Path, fail, key: str = "model") -> Path:
    """Resolve ``value`` against ``project_dir``; refuse paths that leave it or do not exist."""
    if os.path.isabs(value) or value.startswith("~"):
        raise fail(
            f"`{key}: {value}` is an absolute path; write it relative to the folder that "
            f"holds mkdocs.yml ({project_dir}) so the site builds on any machine"
        )
    root = project_dir.resolve()
    path = (root / value).resolve()
    if not path.is_relative_to(root):
        raise fail(
            f"`{key}: {value}` points outside the project folder ({root}); "
            "copy the file into the project and name it relative to mkdocs.yml"
        )
    if not path.exists():
        raise fail(f"`{key}: {value}` does not exist{_suggest_file(value, root, key)}")
    return path


def resolve_model_path(value: str, project_dir: Path, fail) -> Path:
    """Resolve a ``model`` value and check that it names a model."""
    path = resolve_project_path(value, project_dir, fail)
    if path.is_dir() and not (path / "saved_model.pb").exists():
        raise fail(
            f"`model: {value}` is a folder without saved_model.pb, so not a SavedModel; "
            "name a .keras or .h5 file, or a folder written by model.export()"
        )
    if path.is_file() and path.suffix.lower() not in _MODEL_SUFFIXES:
        raise fail(
            f"`model: {value}` is not a model file; use a Keras .keras or .h5 file "
            "or a SavedModel folder"
        )
    return path


def _suggest_file(value: str, root: Path, key: str) -> str:
    suffixes = _MODEL_SUFFIXES if key == "model" else {os.path.splitext(value)[1].lower()}
    candidates: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        if key == "model" and "saved_model.pb" in files:
            candidates.append(os.path.relpath(folder, root))
        candidates += [
            os.path.relpath(os.path.join(folder, f), root)
            for f in files
            if os.path.splitext(f)[1].lower() in suffixes
        ]
        if len(candidates) > 5000:
            break
    close = difflib.get_close_matches(value, candidates, n=1, cutoff=0.5)
    return (
        f"; did you mean `{close[0]}`?"
        if close
        else ("; check the path, relative to the folder that holds mkdocs.yml")
    )
