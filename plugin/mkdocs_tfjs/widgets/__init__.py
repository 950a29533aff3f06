"""The widget parts, found by looking: one folder per part under ``widgets/``.

Each folder holds a part's Python (``part.py``, whose ``PART`` is the part),
its ES module, its template and its styles; nothing else lists them. The
registry imports every folder's ``part.py`` and sorts the parts by their
``order``. ``WIDGETS`` are the inputs a block names in ``widget:``; ``PARTS``
are all of them, outputs and the author's frame included, whose files the
build ships. Nothing here imports MkDocs or TensorFlow.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from .custom.part import CustomWidget
from .part import PART_FILES, Fail, Widget, WidgetSpec

FOLDER = Path(__file__).parent

__all__ = [
    "FOLDER",
    "OUTPUTS",
    "PARTS",
    "SHOWS",
    "PART_FILES",
    "WIDGETS",
    "CustomWidget",
    "Fail",
    "Widget",
    "WidgetSpec",
    "part_files",
]


def _discover() -> list[Widget]:
    parts = []
    for folder in sorted(p for p in FOLDER.iterdir() if (p / "part.py").is_file()):
        part: Widget = importlib.import_module(f"{__name__}.{folder.name}.part").PART
        part.folder = folder
        parts.append(part)
    return sorted(parts, key=lambda p: (p.order, p.name))


PARTS: list[Widget] = _discover()
WIDGETS: dict[str, Widget] = {p.name: p for p in PARTS if p.kind == "input"}
#: The output parts with a module of their own, which a composing input (``generator``) hands to.
OUTPUTS: dict[str, Widget] = {p.name: p for p in PARTS if p.kind == "output" and p.script}
#: Every name ``show:`` may take: the output parts, and what the inputs' own modules draw.
SHOWS: tuple[str, ...] = tuple(
    dict.fromkeys([s for w in WIDGETS.values() for s in w.shows] + list(OUTPUTS))
)


def part_files() -> list[Path]:
    """Return the files every part ships (modules, templates, styles), in part order."""
    return [path for part in PARTS for path in part.files()]
