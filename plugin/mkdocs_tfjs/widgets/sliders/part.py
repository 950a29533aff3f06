"""The ``sliders`` widget: one control per input feature in, classes or named values out.

A numeric feature gets a slider; a string (or integer) feature that the
model's own ``StringLookup``, ``IntegerLookup`` or ``Hashing`` layer takes
gets a choice of its vocabulary, which the page encodes as Keras does
(``assets/preprocess.js``).

The sliders draw the classes themselves; the ``values`` output part draws
named values, and ``show:`` may name any other output part (``image``: a
decoder's latent space explored by hand). ``kind`` is the older name of
``show: classes | values``. The sliders' own keys are read and checked in
``sliders_keys.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ...modelinfo import ModelInfo
from ...options import Option
from ...paths import resolve_project_path
from ..classes.part import check_topk, scores_kind
from ..part import Fail, Widget, WidgetSpec
from ..values.part import DECIMALS, UNIT
from .sliders_keys import (
    Choice,
    ModelInput,
    load_controls,
    load_names,
    load_normalize,
    read_inputs,
)

#: The lookup layers whose input the sliders widget offers as a choice.
CHOICE_LAYERS = ("StringLookup", "IntegerLookup", "Hashing")


class SlidersWidget(Widget):
    """One control per feature of a tabular model (slider or choice); see its classes or values."""

    name = "sliders"
    order = 40
    shows = ("classes",)
    default_show = "classes"
    composes = True
    options = (
        Option(
            "inputs",
            (list, dict, str),
            "One slider per input feature, in the model's order: a YAML list of "
            "`{name, min, max, step, value}` mappings (`step` defaults to a hundredth of the "
            "range, `value` to the middle), or a JSON file holding the same list. Their count "
            "must equal the model's n. For a model of several inputs, or with string features: "
            "a mapping from each input's name to its sliders (a list), or, for a string "
            "feature the model's own `StringLookup`, `IntegerLookup` or `Hashing` takes, to a "
            "choice `{name, choices, value}` (all optional: the choices default to the "
            "vocabulary, the value to the first).",
        ),
        Option(
            "outputs",
            (list, str),
            "Names of the model's outputs, in order: a YAML list or a JSON file holding one. "
            "Their count must equal the model's m. Without it the outputs are numbered.",
        ),
        Option(
            "kind",
            (str,),
            "What the outputs are: `classes` (scores, shown as top-k bars like the other "
            "classifiers; logits get a softmax) or `values` (numbers, shown with their names): "
            "the same as `show: classes` or `show: values`.",
            choices=("classes", "values"),
            default="classes",
        ),
        Option(
            "topk",
            (int,),
            "`kind: classes` only: how many classes to show (at most the model's); default all.",
            minimum=1,
        ),
        DECIMALS,
        UNIT,
        Option(
            "normalize",
            (dict,),
            "`{mean: [...], std: [...]}`, one number per slider: the page feeds the model "
            "(value - mean) / std. For models trained on standardised features that do not "
            "normalise inside; leave it out when the model has a Normalization layer.",
        ),
    )
    needs = (
        "feature vectors [batch, n] (numbers, or strings through a StringLookup, "
        "IntegerLookup or Hashing layer) and one output [batch, m]"
    )

    def default_show_for(self, values: dict[str, Any]) -> str | None:
        """``kind: values`` (from before ``show:``) shows values."""
        return "values" if values.get("kind") == "values" else self.default_show

    def check_options(self, spec: WidgetSpec, project_dir: Path, fail: Fail) -> None:
        """Read the sliders, the output names and the normalisation statistics."""

        def resolver(key: str):
            return lambda value: resolve_project_path(
                value, project_dir, lambda m: fail(m, key), key
            )

        options = spec.options
        if spec.show not in ("classes", "values"):
            # Another output part draws the model's output: the keys about classes and
            # values would be silently ignored.
            for key in ("kind", "outputs", "topk", "decimals", "unit"):
                if key in spec.key_lines:
                    raise fail(
                        f"`{key}` applies to `show: classes` or `show: values`, and this block "
                        f"has `show: {spec.show}`; remove `{key}`",
                        key,
                    )
        elif "show" in spec.key_lines and "kind" in spec.key_lines and options["kind"] != spec.show:
            raise fail(
                f"`show: {spec.show}` and `kind: {options['kind']}` say different things; "
                "keep `show` alone",
                "show",
            )
        else:
            options["kind"] = spec.show
        if options["inputs"] is None:
            raise fail(
                "the sliders widget needs `inputs`: one `{name, min, max}` mapping per input "
                "of the model, for example\n    inputs:\n      - {name: bill length (mm), "
                "min: 30, max: 60}"
            )
        # Which items are sliders and which choices depends on the model: check_model reads them.
        options["inputs"] = read_inputs(
            options["inputs"], resolver("inputs"), lambda m: fail(m, "inputs")
        )
        if options["outputs"] is not None:
            options["outputs"] = load_names(
                options["outputs"], resolver("outputs"), lambda m: fail(m, "outputs")
            )
        if spec.show == "values":
            if "labels" in spec.key_lines and "outputs" in spec.key_lines:
                raise fail("`labels` and `outputs` both name the values; keep `outputs`", "labels")
            # The values part names its rows with `labels`; the sliders have said `outputs`.
            options.setdefault("labels", None)
            options["labels"] = options["labels"] or options["outputs"]
        other = "values" if spec.show == "classes" else "classes"
        only = ("decimals", "unit") if other == "values" else ("topk",)
        for key in only:
            if key in spec.key_lines:
                raise fail(
                    f"`{key}` applies to `kind: {other}` only, and this block has "
                    f"`kind: {spec.show}`; remove `{key}` or change `kind`",
                    key,
                )

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Require [batch, n] inputs and one control per feature, and m names for [batch, m] out.

        The output part (``values``, ``image``...) checks the output when there is one.
        """
        if not info.inputs or len(info.outputs) != 1:
            raise self._misfit(spec, info)
        out = info.outputs[0].shape
        inputs = [self._model_input(spec, info, i) for i in range(len(info.inputs))]
        options = spec.options
        where, items = options["inputs"]
        controls, feeds = load_controls(
            items, where, inputs, spec.model, lambda m: spec.error(m, "inputs")
        )
        options["inputs"] = controls
        # A model of one numeric [batch, n] input is fed as before; others say how (browser_config).
        options["feeds"] = (
            None
            if len(inputs) == 1 and inputs[0].layer is None and inputs[0].rank == 2
            else [{"controls": f, "rank": m.rank} for f, m in zip(feeds, inputs, strict=True)]
        )
        sliders = sum(1 for c in controls if not isinstance(c, Choice))
        if options["normalize"] is not None:
            options["normalize"] = load_normalize(
                options["normalize"], sliders, lambda m: spec.error(m, "normalize")
            )
        names = spec.options["outputs"]
        if names is not None and len(out) == 2 and len(names) != out[1]:
            raise spec.error(
                f"`outputs` has {len(names)} names but `{spec.model}` returns {out[1]} "
                f"values ({info.outputs[0].describe()}); give one name per output, in order",
                "outputs",
            )
        if spec.output is not None:
            spec.output.check_model(spec, info)
            return
        if len(out) != 2 or out[1] is None:
            raise self._misfit(spec, info)
        check_topk(spec, info, out[1])

    def _model_input(self, spec: WidgetSpec, info: ModelInfo, index: int) -> ModelInput:
        """Return what input ``index`` takes: numbers for sliders, or strings for choices."""
        tensor, raw = info.inputs[index], info.raw_input(index)
        # The signature names a tensor (`island:0`); an author names the Keras input (`island`).
        name = re.sub(r":\d+$", "", tensor.name)
        shape = tuple(raw["shape"]) if raw is not None else tensor.shape
        if raw is not None and raw["layer"] not in CHOICE_LAYERS:
            raise spec.error(
                f"`{spec.model}` takes {info.describe_input(index)} as its input "
                f"`{name}`: text for the text widget, not a choice; the sliders widget "
                f"offers choices for inputs through a {', '.join(CHOICE_LAYERS)} layer",
                "widget",
            )
        if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] is None):
            raise self._misfit(spec, info)
        count = 1 if len(shape) == 1 else int(shape[1])
        if raw is None:
            return ModelInput(name, tensor.describe(), count, len(shape))
        vocabulary = raw.get("vocabulary")
        return ModelInput(
            name,
            info.describe_input(index),
            count,
            len(shape),
            raw["layer"],
            None if vocabulary is None else tuple(vocabulary),
            raw["dtype"] != "string",
        )

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Tell the page the sliders, and the classes' labels or the output part's configuration."""
        options = spec.options
        sliders: dict[str, Any] = {
            "sliders": [s.to_json() for s in options["inputs"]],
            "normalize": options["normalize"],
        }
        if options.get("feeds"):
            sliders["feeds"] = options["feeds"]
        if spec.output is not None:
            return {**sliders, "output": spec.output.browser_config(spec, info)}
        count = info.outputs[0].shape[1] or 0
        return {
            **sliders,
            "labels": options["outputs"] or [str(i) for i in range(count)],
            "scores": scores_kind(
                spec,
                info,
                "show its outputs as numbers with `kind: values`, or end the model in a "
                "softmax (or linear) layer",
            ),
            "topk": min(options["topk"] or count, count),
        }


PART = SlidersWidget()
