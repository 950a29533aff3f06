"""A small schema for the keys of a ``tfjs`` block.

Each :class:`Option` documents itself, so the option reference in the docs and
the error messages come from the same place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: The image widget's ``preprocess`` modes, named as in keras.applications.
PREPROCESS_MODES = ("none", "scale", "tf", "mobilenet", "caffe", "vgg16", "torch")

_TYPE_NAMES = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a mapping",
}


@dataclass(frozen=True)
class Option:
    """One key of a ``tfjs`` block."""

    name: str
    types: tuple[type, ...]
    doc: str
    required: bool = False
    choices: tuple[Any, ...] | None = None
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: re.Pattern[str] | None = None
    pattern_hint: str = ""


def check_value(option: Option, value: Any) -> str | None:
    """Return what is wrong with ``value`` for ``option``, or None."""
    # YAML reads `yes`/`true` as bool, which is also an int in Python.
    if isinstance(value, bool) and bool not in option.types:
        return f"expected {_describe(option)}, found {value!r}"
    if not isinstance(value, option.types):
        if float in option.types and isinstance(value, int):
            value = float(value)
        else:
            return f"expected {_describe(option)}, found {type(value).__name__} {value!r}"
    if option.choices is not None and value not in option.choices:
        return f"{value!r} is not one of: {', '.join(map(str, option.choices))}"
    if option.minimum is not None and value < option.minimum:
        return f"{value!r} is below the minimum {option.minimum}"
    if option.maximum is not None and value > option.maximum:
        return f"{value!r} is above the maximum {option.maximum}"
    if option.pattern is not None and not option.pattern.match(value):
        return f"{value!r} is not valid; use {option.pattern_hint}"
    return None


def _describe(option: Option) -> str:
    if option.choices is not None:
        return "one of: " + ", ".join(map(str, option.choices))
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in option.types)
