"""Class labels for classifier widgets: named sets, YAML lists or JSON files.

Nothing here imports MkDocs or TensorFlow.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import DirectiveError

_DIGITS = list(string.digits)
_UPPER = list(string.ascii_uppercase)
_LOWER = list(string.ascii_lowercase)

#: Named label sets, in the order of the datasets' class indices.
NAMED_SETS: dict[str, list[str]] = {
    "digits": _DIGITS,
    # EMNIST ByClass: 62 classes, digits then upper then lower case.
    "emnist-byclass": _DIGITS + _UPPER + _LOWER,
    # EMNIST Balanced: 47 classes; the lower-case letters that look unlike
    # their capitals keep their own class.
    "emnist-balanced": _DIGITS + _UPPER + list("abdefghnqrt"),
    "emnist-letters": _LOWER,
}


def load_labels(
    value: Any,
    resolve: Callable[[str], Path],
    fail: Callable[[str], DirectiveError],
) -> list[str]:
    """Return the labels that ``value`` (a name, a list or a JSON path) stands for."""
    if isinstance(value, list):
        if not value:
            raise fail("`labels` is an empty list; give one text label per class, in order")
        for index, item in enumerate(value):
            # YAML reads an unquoted yes/no/on/off as true/false: never a label meant as such.
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                raise fail(
                    f"`labels` item {index + 1} (index {index}) is {_shown(item)}, not a text "
                    "label; write each item as text, in quotes where YAML would read it as "
                    'something else (`- "a: b"`, `- "no"`), one label per class'
                )
        return [str(v) for v in value]
    if value in NAMED_SETS:
        return list(NAMED_SETS[value])
    if not isinstance(value, str) or not value.lower().endswith(".json"):
        raise fail(
            f"`labels: {value}` is neither a named set ({', '.join(NAMED_SETS)}), "
            "a YAML list, nor a .json file"
        )
    return _labels_from_json(read_json_file(value, "labels", resolve, fail), value, fail)


def _shown(item: Any) -> str:
    """Return a YAML value as the author wrote it, roughly (``{cat: 1}``, ``null``)."""
    if item is None:
        return "empty (null)"
    if isinstance(item, bool):
        return f"{str(item).lower()} (YAML reads an unquoted yes, no, on or off as true/false)"
    text = json.dumps(item, default=str, ensure_ascii=False)
    kind = {dict: "a mapping", list: "a list"}.get(type(item), type(item).__name__)
    return f"{kind} {text[:60]}"


def read_json_file(
    value: str,
    key: str,
    resolve: Callable[[str], Path],
    fail: Callable[[str], DirectiveError],
) -> Any:
    """Return the content of the JSON file that ``key: value`` names (relative to mkdocs.yml)."""
    path = resolve(value)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise fail(f"`{key}: {value}` is not a readable JSON file ({exc})") from exc


def _labels_from_json(data: Any, name: str, fail: Callable[[str], DirectiveError]) -> list[str]:
    if isinstance(data, list) and data and all(isinstance(v, (str, int, float)) for v in data):
        return [str(v) for v in data]
    if isinstance(data, dict) and data:
        try:
            indexed = {int(k): v for k, v in data.items()}
        except ValueError:
            indexed = {}
        if indexed and sorted(indexed) == list(range(len(indexed))):
            labels = [indexed[i] for i in range(len(indexed))]
            # Some files (seed 004's classes.json) map to [id, name] pairs.
            return [str(v[-1]) if isinstance(v, list) and v else str(v) for v in labels]
    raise fail(
        f"`labels: {name}` must hold a JSON list of labels or a mapping "
        '{"0": "label", "1": "label", ...} with keys 0 to n-1'
    )
