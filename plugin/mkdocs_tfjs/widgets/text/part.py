"""The ``text`` widget: text typed (or an example picked) in, classes or named values out.

The model takes text through its own TextVectorization (or StringLookup, or
Hashing) layer, which the build took out of the graph and the page runs in
JavaScript (``assets/preprocess.js``); the widget shows the tokens the model
sees on demand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...modelinfo import ModelInfo
from ...options import Option
from ..classes.part import OUTPUTS_OPTION, ClassifierWidget, labels_option
from ..part import Fail, WidgetSpec

#: At most this many example buttons: more would bury the text area.
MAX_SAMPLES = 12
#: The layers that turn text into what the graph takes.
TEXT_LAYERS = ("TextVectorization", "StringLookup", "Hashing")


class TextWidget(ClassifierWidget):
    """A text area: the model answers as the reader types; the tokens on demand."""

    name = "text"
    order = 45
    # Classes are drawn here; `show: values` (or another output part) draws the rest.
    composes = True
    options = (
        labels_option(" Without `labels` the classes are numbered."),
        OUTPUTS_OPTION,
        Option(
            "topk",
            (int,),
            "`show: classes` only: how many classes to show; at most the model's classes.",
            default=5,
            minimum=1,
        ),
        Option(
            "samples",
            (list,),
            f"Example texts (a YAML list of strings, at most {MAX_SAMPLES}), each offered as "
            "a button that puts it in the text area.",
        ),
        Option(
            "prompt",
            (str,),
            "The text area's label.",
            default="Text",
        ),
        Option("value", (str,), "The text the text area starts with (default: the first sample)."),
    )
    needs = (
        "text: one string input [batch, 1] or [batch] that a TextVectorization, StringLookup "
        "or Hashing layer takes first, and one output [batch, m]"
    )

    def check_options(self, spec: WidgetSpec, project_dir: Path, fail: Fail) -> None:
        """Refuse samples that are not texts (and, as every classifier, keys of another `show`)."""
        super().check_options(spec, project_dir, fail)
        samples = spec.options.get("samples") or []
        if len(samples) > MAX_SAMPLES:
            raise fail(
                f"`samples` lists {len(samples)} texts; keep at most {MAX_SAMPLES}", "samples"
            )
        for number, sample in enumerate(samples, start=1):
            if not isinstance(sample, str) or not sample.strip():
                raise fail(
                    f"`samples` item {number} is {sample!r}; each example must be a text "
                    '(quote it in YAML when it looks like a number or a mapping: "1984")',
                    "samples",
                )
        spec.options["samples"] = [str(s) for s in samples]

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Require one text input, read by the model's own layer, and one [batch, m] output."""
        raw = info.raw_input(0) if len(info.inputs) == 1 else None
        if (
            raw is None
            or raw["dtype"] != "string"
            or raw["layer"] not in TEXT_LAYERS
            or len(raw["shape"]) not in (1, 2)
            or (len(raw["shape"]) == 2 and raw["shape"][1] != 1)
        ):
            raise self._misfit(spec, info)
        self.check_output(spec, info)

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Tell the page the classes or the output part, the examples, and how rows are shaped."""
        options = spec.options
        raw = info.raw_input(0) or {"shape": [None, 1]}
        samples = options["samples"]
        value = (
            options["value"] if options["value"] is not None else (samples[0] if samples else "")
        )
        shown: dict[str, Any] = {
            "samples": samples,
            "prompt": options["prompt"],
            "value": value,
            # [batch, 1] text: each row is [text]; [batch]: each row is the text.
            "rowRank": len(raw["shape"]) - 1,
        }
        return {**shown, **self.output_config(spec, info)}

PART = TextWidget()
