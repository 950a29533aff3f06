"""The ``classes`` output: a model's scores shown as top-k bars, with their labels.

Holds the keys and checks every input that shows classes shares (``labels``,
``outputs``, ``topk``) and :class:`ClassifierWidget`, the base of those inputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...labels import load_labels
from ...modelinfo import ModelInfo
from ...options import Option
from ...paths import resolve_project_path
from ..part import Fail, Widget, WidgetSpec

OUTPUTS_OPTION = Option(
    "outputs",
    (str,),
    "What the model returns: `probabilities` (shown as they are) or `logits` (shown through "
    "a softmax). Read from the output layer's activation of a Keras model (softmax and "
    "sigmoid: probabilities, linear: logits), and from a SavedModel's last op (Softmax, "
    "Sigmoid); required otherwise.",
    choices=("probabilities", "logits"),
)


def labels_option(doc_extra: str = "") -> Option:
    """Return the `labels` key, its description ending in ``doc_extra``."""
    return Option(
        "labels",
        (str, list),
        "Class names: a named set (`digits`, `emnist-byclass`, `emnist-balanced`, "
        "`emnist-letters`), a YAML list, or a JSON file holding a list or a "
        '`{"0": "label", ...}` mapping. Their count must equal the model\'s outputs.' + doc_extra,
    )


def scores_kind(spec: WidgetSpec, info: ModelInfo, fix: str) -> str:
    """Return ``probabilities`` or ``logits`` from the model's output activation.

    A softmax or sigmoid output layer gives probabilities (shown as they
    are), a linear one logits (shown through a softmax); a SavedModel's graph
    counts when it ends in a Softmax or Sigmoid op. Anything else is an error
    ending in ``fix``.
    """
    activation = info.output_activation
    if activation in ("softmax", "sigmoid"):
        return "probabilities"
    if activation == "linear":
        return "logits"
    if activation:
        found = f"its output layer has a `{activation}` activation"
    elif spec.model_path.is_dir():
        found = "it is a SavedModel whose graph does not end in a Softmax or Sigmoid op"
    else:
        found = "its output layer has no activation to read"
    raise spec.error(
        f"cannot tell whether `{spec.model}` returns probabilities or logits: {found}; {fix}"
    )


def read_labels(spec: WidgetSpec, project_dir: Path, fail: Fail) -> None:
    """Load the block's `labels` (a named set, a list or a JSON file) in place, if it has any."""
    value = spec.options.get("labels")
    if value is not None:
        spec.options["labels"] = load_labels(
            value,
            lambda v: resolve_project_path(v, project_dir, lambda m: fail(m, "labels"), "labels"),
            lambda m: fail(m, "labels"),
        )


def check_topk(spec: WidgetSpec, info: ModelInfo, classes: int) -> None:
    """Refuse a ``topk`` the block sets above the model's number of classes."""
    topk = spec.options.get("topk")
    if "topk" in spec.key_lines and topk is not None and topk > classes:
        raise spec.error(
            f"`topk: {topk}` asks for more classes than `{spec.model}` has: it returns "
            f"{classes} ({info.outputs[0].describe()}); use at most `topk: {classes}`, or leave "
            "`topk` out",
            "topk",
        )


class ClassifierWidget(Widget):
    """Shared by the widgets that show the top-k classes of a softmax output."""

    shows = ("classes",)
    default_show = "classes"
    # Or they hand their output to the part `show:` names (mask, image, an author's).
    composes = True

    def check_options(self, spec: WidgetSpec, project_dir: Path, fail: Fail) -> None:
        """Load the labels (a name, a list or a JSON file); refuse keys another part ignores."""
        if spec.output is not None:
            # Another output part (`show: mask`, `show: image`) draws the model's output:
            # the keys about classes would be silently ignored.
            for key in ("topk", "outputs"):
                if key in spec.key_lines:
                    raise fail(
                        f"`{key}` applies to `show: classes`, and this block has "
                        f"`show: {spec.show}`; remove `{key}`",
                        key,
                    )
        read_labels(spec, project_dir, fail)

    def check_output(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Check the output against the part ``show:`` names, or as classes to show."""
        if spec.output is not None:
            spec.output.check_model(spec, info)
            return
        self.check_classes(spec, info)
        self.outputs_kind(spec, info)

    def output_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Return what the page needs to show the output: the part's settings, or the classes'."""
        if spec.output is not None:
            return {"output": spec.output.browser_config(spec, info)}
        classes = self.check_classes(spec, info)
        return {
            "labels": self.class_labels(spec, classes),
            "outputs": self.outputs_kind(spec, info),
            "topk": min(spec.options["topk"], classes),
        }

    def check_classes(self, spec: WidgetSpec, info: ModelInfo) -> int:
        """Return the number of classes; refuse a label count that differs."""
        out = info.outputs[0].shape if len(info.outputs) == 1 else ()
        if len(out) != 2 or out[1] is None:
            raise self._misfit(spec, info)
        labels = spec.options.get("labels")
        if labels is not None and len(labels) != out[1]:
            raise spec.error(
                f"`labels` has {len(labels)} labels but `{spec.model}` has {out[1]} outputs; "
                "give one label per output, in the order of the model's classes",
                "labels",
            )
        check_topk(spec, info, out[1])
        return out[1]

    def outputs_kind(self, spec: WidgetSpec, info: ModelInfo) -> str:
        """Return ``probabilities`` or ``logits``: declared in the block, or read from the model."""
        declared = spec.options.get("outputs")
        if declared is not None:
            return declared
        return scores_kind(
            spec,
            info,
            "add `outputs: probabilities` (scores in [0, 1], shown as they are) or "
            "`outputs: logits` (raw scores, shown through a softmax) to the block",
        )

    def class_labels(self, spec: WidgetSpec, classes: int) -> list[str]:
        """Return the labels, or the class numbers when the block gives none."""
        return spec.options.get("labels") or [str(i) for i in range(classes)]


class ClassesOutput(Widget):
    """The top-k bars: label, bar and percentage of the most probable classes.

    Its module (``topk.js``) is imported by the inputs that show classes; its
    keys (``labels``, ``outputs``, ``topk``) are on those inputs.
    """

    name = "classes"
    kind = "output"
    order = 50


PART = ClassesOutput()
