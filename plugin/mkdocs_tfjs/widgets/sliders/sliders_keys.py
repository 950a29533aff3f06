"""The inputs of the sliders widget: one slider per feature, checked.

Reads the ``inputs`` key (a YAML list or a JSON file holding the same list),
the ``outputs`` names and the ``normalize`` statistics, and says exactly what
is wrong with them. Nothing here imports MkDocs or TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ...errors import DirectiveError
from ...labels import read_json_file

Fail = Callable[[str], DirectiveError]
Resolve = Callable[[str], Path]

SLIDER_KEYS = ("name", "min", "max", "step", "value")
#: Without ``step`` a slider has this many steps from ``min`` to ``max``.
DEFAULT_STEPS = 100
# A value counts as on the step grid when it is this close to it, in steps:
# 0.1 steps from 32.1 are not exact in binary floating point.
_GRID_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Slider:
    """One input feature as the page shows it: a range from ``min`` to ``max``."""

    name: str
    min: float
    max: float
    step: float
    value: float

    @property
    def decimals(self) -> int:
        """Return how many decimals the values on this slider's grid need (at most 6)."""
        places = max(_decimals(self.step), _decimals(self.min))
        return min(places, 6)

    def to_json(self) -> dict[str, Any]:
        """Return the slider for the page's configuration."""
        return {**asdict(self), "decimals": self.decimals}


def _decimals(number: float) -> int:
    exponent = Decimal(repr(float(number))).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _is_number(value: Any) -> bool:
    # YAML reads `yes` as true, and a bool is an int in Python.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _list_or_json_file(
    value: Any, key: str, entry: str, resolve: Resolve, fail: Fail
) -> tuple[str, Any]:
    """Return how errors name ``key``, and its value or the content of the .json file it names."""
    if not isinstance(value, str):
        return f"`{key}`", value
    if not value.lower().endswith(".json"):
        raise fail(
            f"`{key}: {value}` is neither a YAML list nor a .json file; list {entry} of the model"
        )
    return f"`{key}` ({value})", read_json_file(value, key, resolve, fail)


def load_sliders(value: Any, resolve: Resolve, fail: Fail) -> list[Slider]:
    """Return the sliders that ``inputs`` describes (a list, or a .json file holding one)."""
    where, value = _list_or_json_file(
        value, "inputs", "one `{name, min, max, step, value}` mapping per input", resolve, fail
    )
    if not isinstance(value, list) or not value:
        raise fail(
            f"{where} must be a non-empty list with one `{{name, min, max, step, value}}` "
            "mapping per input of the model"
        )
    sliders = [_slider(item, number, where, fail) for number, item in enumerate(value, start=1)]
    names = [s.name for s in sliders]
    for name in names:
        if names.count(name) > 1:
            raise fail(f"{where} names `{name}` twice; give every slider its own name")
    return sliders


def _slider(item: Any, number: int, where: str, fail: Fail) -> Slider:
    if not isinstance(item, dict):
        raise fail(
            f"{where} item {number} is {item!r}, not a mapping; write it as "
            "`{name: ..., min: ..., max: ...}` (step and value are optional)"
        )
    name = item.get("name")
    label = f"{where} item {number}" + (f" (`{name}`)" if isinstance(name, str) else "")
    unknown = sorted(set(map(str, item)) - set(SLIDER_KEYS))
    if unknown:
        raise fail(f"{label} has the unknown key `{unknown[0]}`; use {', '.join(SLIDER_KEYS)}")
    if not isinstance(name, str) or not name.strip():
        raise fail(f"{label} needs a `name`: the text shown beside the slider")
    for key in ("min", "max"):
        if key not in item:
            raise fail(f"{label} needs `{key}`, the {key}imum value of the slider")
    for key in SLIDER_KEYS[1:]:
        if key in item and not _is_number(item[key]):
            raise fail(f"{label}: `{key}` must be a number, found {item[key]!r}")
    low, high = float(item["min"]), float(item["max"])
    if not low < high:
        raise fail(f"{label} has min {item['min']} and max {item['max']}; min must be below max")
    step = float(item.get("step", (high - low) / DEFAULT_STEPS))
    if step <= 0:
        raise fail(f"{label} has step {item['step']}; the step must be above 0")
    if step > high - low:
        raise fail(
            f"{label} has step {item['step']}, more than max - min ({high - low:g}); "
            "use a smaller step"
        )
    if "value" in item:
        value = float(item["value"])
        if not low <= value <= high:
            raise fail(
                f"{label} has value {item['value']} outside its range {item['min']} to "
                f"{item['max']}; pick a starting value inside the range"
            )
        steps = (value - low) / step
        if abs(steps - round(steps)) > _GRID_TOLERANCE:
            near = low + round(steps) * step
            raise fail(
                f"{label} has value {item['value']}, which is not min + a whole number of "
                f"steps ({step:g}), so the browser would move it; use for example "
                f"{near:.{max(_decimals(step), _decimals(low))}f}"
            )
    else:
        places = max(_decimals(step), _decimals(low))
        value = round(low + round((high - low) / 2 / step) * step, places)
    return Slider(name.strip(), low, high, step, value)


def load_names(value: Any, resolve: Resolve, fail: Fail) -> list[str]:
    """Return the output names that ``outputs`` gives (a list, or a .json file holding one)."""
    where, value = _list_or_json_file(value, "outputs", "one name per output", resolve, fail)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value)
    ):
        raise fail(f"{where} must be a non-empty list with one name per output of the model")
    return [str(v) for v in value]


def load_normalize(value: Any, count: int, fail: Fail) -> dict[str, list[float]]:
    """Return ``{mean, std}`` after checking one number per input, and every std above 0."""
    if not isinstance(value, dict) or set(map(str, value)) != {"mean", "std"}:
        raise fail(
            "`normalize` must be a mapping with exactly two keys, `mean` and `std`, each a "
            "list with one number per input (the training set's statistics)"
        )
    stats: dict[str, list[float]] = {}
    for key in ("mean", "std"):
        numbers = value[key]
        if not isinstance(numbers, list) or not all(_is_number(v) for v in numbers):
            raise fail(f"`normalize`: `{key}` must be a list of numbers, found {numbers!r}")
        if len(numbers) != count:
            raise fail(
                f"`normalize`: `{key}` has {len(numbers)} numbers but `inputs` has {count} "
                "sliders; give one per input, in the same order"
            )
        stats[key] = [float(v) for v in numbers]
    for index, std in enumerate(stats["std"], start=1):
        if std <= 0:
            raise fail(
                f"`normalize`: std number {index} is {std:g}; a standard deviation must be "
                "above 0 (a constant feature cannot be normalised: drop it)"
            )
    return stats
