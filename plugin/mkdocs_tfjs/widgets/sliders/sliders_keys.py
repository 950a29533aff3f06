"""The inputs of the sliders widget: one slider per numeric feature, one choice per string.

Reads the ``inputs`` key (a YAML list, a mapping from the model's input names,
or a JSON file holding either), the ``outputs`` names and the ``normalize``
statistics, and says exactly what is wrong with them. A numeric feature gets
a slider; a string (or integer) feature that the model's own ``StringLookup``,
``IntegerLookup`` or ``Hashing`` layer takes gets a choice of the layer's
vocabulary. Nothing here imports MkDocs or TensorFlow.
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
CHOICE_KEYS = ("name", "choices", "value")
#: Without ``choices``, a vocabulary longer than this is no list for a reader to pick from.
MAX_CHOICES = 100
#: At most this many of a vocabulary's entries are quoted in an error.
_QUOTED = 12
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


@dataclass(frozen=True)
class Choice:
    """One string (or integer) feature as the page shows it: a choice of vocabulary entries."""

    name: str
    choices: tuple[Any, ...]
    value: Any

    def to_json(self) -> dict[str, Any]:
        """Return the choice for the page's configuration."""
        return {"name": self.name, "choices": list(self.choices), "value": self.value}


@dataclass(frozen=True)
class ModelInput:
    """What one input of the model takes, as the sliders widget sees it.

    ``count`` controls feed it: sliders for numbers, choices where the page
    runs the model's own lookup layer (``layer``, with its ``vocabulary``, or
    None for a ``Hashing`` layer). ``rank`` is the raw input's rank: 1 for
    ``[batch]`` (each control's value itself), 2 for ``[batch, count]``.
    """

    name: str
    describe: str
    count: int
    rank: int
    layer: str | None = None
    vocabulary: tuple[Any, ...] | None = None
    integer: bool = False

    @property
    def takes(self) -> str:
        """Return what the input takes in an author's words."""
        if self.layer is None:
            return f"numbers {self.describe}"
        kind = "integers" if self.integer else "strings"
        return f"{kind} through its {self.layer}"


Control = Slider | Choice


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


def read_inputs(value: Any, resolve: Resolve, fail: Fail) -> tuple[str, list | dict]:
    """Return how errors name ``inputs``, and its list or mapping (from a .json file or not).

    The items are checked against the model (:func:`load_controls`): which
    of them are sliders and which choices depends on what its inputs take.
    """
    if isinstance(value, str) and value.lower().endswith(".json"):
        where, value = f"`inputs` ({value})", read_json_file(value, "inputs", resolve, fail)
    elif isinstance(value, str):
        raise fail(
            f"`inputs: {value}` is neither a YAML list or mapping nor a .json file; list one "
            "`{name, min, max}` mapping per input of the model"
        )
    else:
        where = "`inputs`"
    if isinstance(value, dict) and value:
        return where, value
    if not isinstance(value, list) or not value:
        raise fail(
            f"{where} must be a non-empty list with one `{{name, min, max, step, value}}` "
            "mapping per input of the model (or, for a model of several inputs, a mapping from "
            "each input's name to its sliders or its choice)"
        )
    return where, value


def load_controls(
    value: list | dict, where: str, inputs: list[ModelInput], model: str, fail: Fail
) -> tuple[list[Control], list[list[int]]]:
    """Return the controls ``inputs`` describes, in its order, and which feed each model input.

    A list holds the controls of a model's only input; a mapping names each
    input of the model and gives its sliders (a list) or its choice (a
    mapping, or nothing: every entry of the vocabulary).
    """
    if isinstance(value, list):
        if len(inputs) != 1:
            raise fail(
                f"{where} is a list, but `{model}` takes {len(inputs)} inputs "
                f"({_input_names(inputs)}); give `inputs` as a mapping from each input's name "
                "to its sliders (a list of `{name, min, max}`) or its choice (`{name}`), "
                f"for example\n    inputs:\n      {inputs[0].name}: ..."
            )
        groups = [(inputs[0], value, where, True)]
    else:
        by_name = {m.name: m for m in inputs}
        for key in value:
            if str(key) not in by_name:
                raise fail(
                    f"{where} names `{key}`, which is no input of `{model}`; its inputs are "
                    f"{_input_names(inputs)}"
                )
        for m in inputs:
            if m.name not in value:
                what = "a choice: `{name: ...}`" if m.layer else "its sliders"
                raise fail(
                    f"{where} says nothing of the input `{m.name}` of `{model}`, which takes "
                    f"{m.takes}; add `{m.name}:` with {what}"
                )
        groups = [(by_name[str(k)], v, f"{where} `{k}`", False) for k, v in value.items()]
    controls: list[Control] = []
    feeds: dict[str, list[int]] = {}
    for m, items, label, whole in groups:
        if isinstance(items, list) and items:
            made = [
                _control(item, f"{label} item {number}", m, fail)
                for number, item in enumerate(items, start=1)
            ]
        elif items is None or isinstance(items, dict):
            made = [_control(items, label, m, fail)]
        else:
            raise fail(
                f"{label} is {items!r}; give a list of sliders (`{{name, min, max}}`) or one "
                "mapping"
            )
        if len(made) != m.count:
            raise fail(_count_message("`inputs`" if whole else label, len(made), m, model, whole))
        feeds[m.name] = list(range(len(controls), len(controls) + len(made)))
        controls.extend(made)
    names = [c.name for c in controls]
    for name in names:
        if names.count(name) > 1:
            raise fail(f"{where} names `{name}` twice; give every slider its own name")
    return controls, [feeds[m.name] for m in inputs]


def _input_names(inputs: list[ModelInput]) -> str:
    return ", ".join(f"`{m.name}` ({m.takes})" for m in inputs)


def _count_message(label: str, count: int, m: ModelInput, model: str, whole: bool) -> str:
    kind = "choices" if m.layer else "sliders"
    if whole:
        # The words of the sliders widget before models of several inputs, kept.
        if not m.layer:
            return (
                f"{label} has {count} sliders but `{model}` takes {m.count} features "
                f"({m.describe}); give one slider per feature, in the order the model was "
                "trained on"
            )
        return (
            f"{label} has {count} {kind} but `{model}` takes {m.count} ({m.describe}); give "
            "one per feature, in the order the model was trained on"
        )
    return (
        f"{label} has {count} {kind} but the input `{m.name}` of `{model}` takes {m.count} "
        f"({m.describe}); give one per feature, in the order the model was trained on"
    )


def _control(item: Any, label: str, m: ModelInput, fail: Fail) -> Control:
    """Return a slider for a numeric input's item, a choice for a lookup input's."""
    if m.layer is None:
        if isinstance(item, dict) and "choices" in item:
            raise fail(
                f"{label} has `choices`, but the input `{m.name}` takes {m.takes}: it gets "
                "sliders; give this item `min` and `max` instead"
            )
        return _slider(item, label, fail)
    return _choice(item, label, m, fail)


def _choice(item: Any, label: str, m: ModelInput, fail: Fail) -> Choice:
    item = {} if item is None else item
    if not isinstance(item, dict):
        raise fail(
            f"{label} is {item!r}, not a mapping; write it as `{{name: ...}}` (`choices` and "
            "`value` are optional)"
        )
    name = item.get("name", m.name)
    if isinstance(name, str):
        label = label if label.endswith(f"`{name}`") else f"{label} (`{name}`)"
    for key in ("min", "max", "step"):
        if key in item:
            raise fail(
                f"{label} has `{key}`, but the input `{m.name}` takes {m.takes}: it gets a "
                "choice of the vocabulary's entries, not a slider; remove `min`, `max` and "
                "`step` (`choices` picks and orders the entries)"
            )
    unknown = sorted(set(map(str, item)) - set(CHOICE_KEYS))
    if unknown:
        raise fail(f"{label} has the unknown key `{unknown[0]}`; use {', '.join(CHOICE_KEYS)}")
    if not isinstance(name, str) or not name.strip():
        raise fail(f"{label} needs a `name`: the text shown beside the choice")
    vocabulary = m.vocabulary
    if "choices" in item:
        choices = item["choices"]
        if not isinstance(choices, list) or not choices:
            raise fail(f"{label}: `choices` must be a non-empty list of the entries to offer")
        for choice in choices:
            _check_entry(choice, f"{label}: the choice", m, fail)
            if choices.count(choice) > 1:
                raise fail(f"{label} lists the choice `{choice}` twice")
    elif vocabulary is None:
        raise fail(
            f"{label} needs `choices`: the input `{m.name}` goes through a {m.layer} layer, "
            "which has no vocabulary to offer; list the values to offer"
        )
    elif len(vocabulary) > MAX_CHOICES:
        raise fail(
            f"{label}: the vocabulary of the model's {m.layer} (`{m.name}`) has "
            f"{len(vocabulary)} entries, too many to offer in one list; give `choices`, the "
            f"entries to offer (at most {MAX_CHOICES} without it)"
        )
    else:
        choices = list(vocabulary)
    if not choices:
        raise fail(f"{label}: the vocabulary of the model's {m.layer} (`{m.name}`) is empty")
    value = item.get("value", choices[0])
    if value not in choices:
        _check_entry(value, f"{label}: the value", m, fail)
        raise fail(
            f"{label} has value `{value}`, which is not among its choices ({_quote(choices)}); "
            "pick one of them"
        )
    return Choice(name.strip(), tuple(choices), value)


def _check_entry(entry: Any, what: str, m: ModelInput, fail: Fail) -> None:
    """Refuse an entry of the wrong type, or one the model's vocabulary does not hold."""
    kind = int if m.integer else str
    if not isinstance(entry, kind) or isinstance(entry, bool):
        hint = "; quote it in YAML" if kind is str and isinstance(entry, (int, float, bool)) else ""
        raise fail(
            f"{what} {entry!r} is not {'an integer' if m.integer else 'a string'}, and the "
            f"input `{m.name}` takes {m.takes}{hint}"
        )
    if m.vocabulary is not None and entry not in m.vocabulary:
        raise fail(
            f"{what} `{entry}` is not in the vocabulary of the model's {m.layer} "
            f"(`{m.name}`): {_quote(m.vocabulary)}; pick from these"
        )


def _quote(entries: Any) -> str:
    shown = ", ".join(f"`{e}`" for e in list(entries)[:_QUOTED])
    more = len(entries) - _QUOTED
    return shown + (f" and {more} more" if more > 0 else "")


def _slider(item: Any, label: str, fail: Fail) -> Slider:
    if not isinstance(item, dict):
        raise fail(
            f"{label} is {item!r}, not a mapping; write it as "
            "`{name: ..., min: ..., max: ...}` (step and value are optional)"
        )
    name = item.get("name")
    label = label + (f" (`{name}`)" if isinstance(name, str) else "")
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
