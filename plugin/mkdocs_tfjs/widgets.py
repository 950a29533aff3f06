"""The widgets: their own keys, what models they accept, what the page gets.

A widget here is a description, not code that runs in the browser: its keys
(beyond the common ones), the check that a converted model fits it, and the
JSON configuration handed to its ES module (``assets/<name>.js``). Nothing
here imports MkDocs or TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .errors import DirectiveError
from .modelinfo import ModelInfo
from .options import PREPROCESS_MODES, Option

if TYPE_CHECKING:
    from .spec import WidgetSpec

Fail = Callable[..., DirectiveError]


class Widget:
    """Base class of a widget description."""

    name: str = ""
    #: Keys this widget accepts besides the common ones.
    options: tuple[Option, ...] = ()
    #: Runtime pieces (see ``runtime.py``) the widget needs beyond TF.js.
    extra_runtime: tuple[str, ...] = ()
    #: What the widget needs of a model, for error messages.
    needs: str = ""
    #: Whether keys beyond the common ones pass through to the widget's module.
    extra_keys: bool = False
    #: The author's ES module of a widget of their own (built-in widgets live in assets/).
    module: Path | None = None

    def check_options(self, spec: WidgetSpec, project_dir: Path, fail: Fail) -> None:
        """Check keys whose validity depends on other keys or on files."""

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Raise a :class:`DirectiveError` when the model does not fit the widget."""

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Return the widget-specific part of the configuration the page gets."""
        return {}

    def site_files(self, spec: WidgetSpec) -> dict[str, Path]:
        """Return files to copy into the site: ``{path in the site: source}``."""
        return {}

    def _misfit(self, spec: WidgetSpec, info: ModelInfo) -> DirectiveError:
        return spec.error(
            f"`{spec.model}` does not fit the {self.name} widget: it {info.describe_io()}, "
            f"but the {self.name} widget needs {self.needs}"
        )


class PaletteWidget(Widget):
    """A generator of colour palettes: noise in, 3·k values in [0, 1] out."""

    name = "palette"
    options = (
        Option(
            "noise",
            (str,),
            "Distribution of the generator's input: `uniform` in [0, 1) or standard `normal`.",
            choices=("uniform", "normal"),
            default="uniform",
        ),
        Option(
            "sort",
            (str,),
            "Order of the swatches: as the model returns them (`none`) "
            "or from dark to light (`lightness`).",
            choices=("none", "lightness"),
            default="none",
        ),
    )
    needs = "a model that takes one noise vector [batch, n] and returns 3·k values [batch, 3·k]"

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Require one rank-2 input and a rank-2 output of 3·k values."""
        if len(info.inputs) != 1 or len(info.outputs) != 1:
            raise self._misfit(spec, info)
        noise, out = info.inputs[0].shape, info.outputs[0].shape
        if len(noise) != 2 or noise[1] is None or len(out) != 2 or out[1] is None:
            raise self._misfit(spec, info)
        if out[1] % 3 != 0:
            raise self._misfit(spec, info)

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Tell the page the noise size, the number of colours and the options."""
        return {
            "noiseSize": info.inputs[0].shape[1],
            "colours": (info.outputs[0].shape[1] or 0) // 3,
            "noise": spec.options["noise"],
            "sort": spec.options["sort"],
        }


_OUTPUTS_OPTION = Option(
    "outputs",
    (str,),
    "What the model returns: `probabilities` (shown as they are) or `logits` (shown through "
    "a softmax). Read from the output layer's activation of a Keras model (softmax and "
    "sigmoid: probabilities, linear: logits), and from a SavedModel's last op (Softmax, "
    "Sigmoid); required otherwise.",
    choices=("probabilities", "logits"),
)


def _labels_option(doc_extra: str = "") -> Option:
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

    def check_options(self, spec: WidgetSpec, project_dir: Path, fail: Fail) -> None:
        """Load the labels (a name, a list or a JSON file)."""
        from .labels import load_labels
        from .spec import resolve_project_path

        value = spec.options.get("labels")
        if value is not None:
            spec.options["labels"] = load_labels(
                value,
                lambda v: resolve_project_path(
                    v, project_dir, lambda m: fail(m, "labels"), "labels"
                ),
                lambda m: fail(m, "labels"),
            )

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


class HandwritingWidget(ClassifierWidget):
    """Draw a character on a canvas; see the model's top-k guesses."""

    name = "handwriting"
    extra_runtime = ("fabric",)
    options = (
        _labels_option(" Without `labels` the classes are shown as their numbers."),
        _OUTPUTS_OPTION,
        Option(
            "topk",
            (int,),
            "How many candidates to show; at most the model's classes.",
            default=3,
            minimum=1,
        ),
        Option(
            "delay",
            (int,),
            "Milliseconds of stillness before recognising; default 800, and 400 on touch devices.",
            minimum=0,
            maximum=10000,
        ),
        Option(
            "stroke",
            (int, float),
            "Pen width in canvas pixels.",
            default=14,
            minimum=1,
            maximum=100,
        ),
        Option(
            "invert",
            (bool,),
            "`true`: the model was trained on light strokes on a dark "
            "background (MNIST, EMNIST); `false`: dark on light.",
            default=True,
        ),
        Option(
            "border",
            (int,),
            "Empty pixels around the character in the model's input; "
            "default 2 for a 28 x 28 input, scaled for other sizes.",
            minimum=0,
        ),
    )
    needs = "one single-channel square image [batch, N, N, 1] and a [batch, classes] output"

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Require an N x N x 1 input, and labels that match the outputs."""
        if len(info.inputs) != 1:
            raise self._misfit(spec, info)
        shape = info.inputs[0].shape
        if len(shape) != 4 or shape[1] is None or shape[1] != shape[2] or shape[3] != 1:
            raise self._misfit(spec, info)
        self.check_classes(spec, info)
        self.outputs_kind(spec, info)
        border = spec.options.get("border")
        if border is not None and 2 * border >= shape[1]:
            raise spec.error(
                f"`border: {border}` leaves no room for the character in a "
                f"{shape[1]} x {shape[1]} input; use at most {(shape[1] - 1) // 2}",
                "border",
            )

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Tell the page the input size, labels and drawing options."""
        size = info.inputs[0].shape[1] or 0
        classes = self.check_classes(spec, info)
        border = spec.options.get("border")
        return {
            "size": size,
            "labels": self.class_labels(spec, classes),
            "outputs": self.outputs_kind(spec, info),
            "topk": min(spec.options["topk"], classes),
            "delay": spec.options.get("delay"),
            "stroke": spec.options["stroke"],
            "invert": spec.options["invert"],
            "border": border if border is not None else round(2 * size / 28),
        }


_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"}


class ImageWidget(ClassifierWidget):
    """Pick, drop or paste a picture; see the model's top-k classes."""

    name = "image"
    options = (
        _labels_option(" Without `labels` the classes are shown as their numbers."),
        _OUTPUTS_OPTION,
        Option(
            "preprocess",
            (str,),
            "What the page does to the pixels before the model, as "
            "keras.applications' preprocess_input: `mobilenet`/`tf` ([-1, 1]), `caffe`/`vgg16` "
            "(BGR, ImageNet means subtracted), `torch` ([0, 1], ImageNet mean and std), `scale` "
            "([0, 1]) or `none` (0-255).",
            choices=PREPROCESS_MODES,
            default="none",
        ),
        Option(
            "resize",
            (str,),
            "`stretch` the whole picture to the model's input size, or "
            "`center-crop` the largest centred region of the input's aspect ratio first.",
            choices=("stretch", "center-crop"),
            default="stretch",
        ),
        Option(
            "topk",
            (int,),
            "How many classes to show; at most the model's classes.",
            default=5,
            minimum=1,
        ),
        Option(
            "samples",
            (list,),
            "Images (paths relative to mkdocs.yml) copied into the site "
            "and offered as one-click examples.",
        ),
        Option(
            "camera",
            (bool,),
            "`true` adds a **Use camera** button: the widget classifies the live picture "
            "of the reader's camera, with the same preprocessing as files, until the button "
            "is pressed again, the widget leaves the screen or the page is hidden.",
            default=False,
        ),
    )
    needs = "one colour image [batch, H, W, 3] and a [batch, classes] output"

    def check_options(self, spec: WidgetSpec, project_dir: Path, fail: Fail) -> None:
        """Load the labels and resolve the sample images."""
        from .spec import resolve_project_path

        super().check_options(spec, project_dir, fail)
        samples = []
        for value in spec.options.get("samples") or []:
            if not isinstance(value, str):
                raise fail(f"`samples` must list image paths, found {value!r}", "samples")
            path = resolve_project_path(value, project_dir, lambda m: fail(m, "samples"), "samples")
            if path.suffix.lower() not in _IMAGE_SUFFIXES:
                raise fail(
                    f"`samples`: {value} is not an image the browser can show; use "
                    f"{', '.join(sorted(_IMAGE_SUFFIXES))}",
                    "samples",
                )
            samples.append((path, self._sample_path(path)))
        # (source, path in the site): the content hash is taken once, here.
        spec.options["samples"] = samples

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Require an H x W x 3 input, and labels that match the outputs."""
        if len(info.inputs) != 1:
            raise self._misfit(spec, info)
        shape = info.inputs[0].shape
        if len(shape) != 4 or shape[1] is None or shape[2] is None or shape[3] != 3:
            raise self._misfit(spec, info)
        self.check_classes(spec, info)
        self.outputs_kind(spec, info)

    def site_files(self, spec: WidgetSpec) -> dict[str, Path]:
        """Ship the samples under content-hashed names."""
        return {site_path: source for source, site_path in spec.options["samples"]}

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Tell the page the input size, labels, preprocessing, samples and camera."""
        classes = self.check_classes(spec, info)
        return {
            "height": info.inputs[0].shape[1],
            "width": info.inputs[0].shape[2],
            "labels": self.class_labels(spec, classes),
            "outputs": self.outputs_kind(spec, info),
            "topk": min(spec.options["topk"], classes),
            "preprocess": spec.options["preprocess"],
            "resize": spec.options["resize"],
            "camera": spec.options["camera"],
            # `url`: the path as a URL (a name like `cat #1.png` must not end at the `#`).
            "samples": [
                {"url": quote(site_path), "name": source.name}
                for source, site_path in spec.options["samples"]
            ],
        }

    @staticmethod
    def _sample_path(path: Path) -> str:
        from .cache import sha256_file

        return f"assets/tfjs/samples/{sha256_file(path)[:8]}-{path.name}"


class SlidersWidget(Widget):
    """One slider per input feature of a tabular model; see its classes or values."""

    name = "sliders"
    options = (
        Option(
            "inputs",
            (list, str),
            "One slider per input feature, in the model's order: a YAML list of "
            "`{name, min, max, step, value}` mappings (`step` defaults to a hundredth of the "
            "range, `value` to the middle), or a JSON file holding the same list. Their count "
            "must equal the model's n.",
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
            "classifiers; logits get a softmax) or `values` (numbers, shown with their names).",
            choices=("classes", "values"),
            default="classes",
        ),
        Option(
            "topk",
            (int,),
            "`kind: classes` only: how many classes to show (at most the model's); default all.",
            minimum=1,
        ),
        Option(
            "decimals",
            (int,),
            "`kind: values` only: decimals shown for each value.",
            default=2,
            minimum=0,
            maximum=10,
        ),
        Option(
            "unit",
            (str,),
            "`kind: values` only: text shown after each value, after a space (`g`, `%`, `°C`).",
        ),
        Option(
            "normalize",
            (dict,),
            "`{mean: [...], std: [...]}`, one number per input: the page feeds the model "
            "(value - mean) / std. For models trained on standardised features that do not "
            "normalise inside; leave it out when the model has a Normalization layer.",
        ),
    )
    needs = "one feature vector [batch, n] and one output [batch, m]"

    def check_options(self, spec: WidgetSpec, project_dir: Path, fail: Fail) -> None:
        """Read the sliders, the output names and the normalisation statistics."""
        from .sliders import load_names, load_normalize, load_sliders
        from .spec import resolve_project_path

        def resolver(key: str):
            return lambda value: resolve_project_path(
                value, project_dir, lambda m: fail(m, key), key
            )

        options = spec.options
        if options["inputs"] is None:
            raise fail(
                "the sliders widget needs `inputs`: one `{name, min, max}` mapping per input "
                "of the model, for example\n    inputs:\n      - {name: bill length (mm), "
                "min: 30, max: 60}"
            )
        options["inputs"] = load_sliders(
            options["inputs"], resolver("inputs"), lambda m: fail(m, "inputs")
        )
        if options["outputs"] is not None:
            options["outputs"] = load_names(
                options["outputs"], resolver("outputs"), lambda m: fail(m, "outputs")
            )
        if options["normalize"] is not None:
            options["normalize"] = load_normalize(
                options["normalize"], len(options["inputs"]), lambda m: fail(m, "normalize")
            )
        other = "values" if options["kind"] == "classes" else "classes"
        only = ("decimals", "unit") if other == "values" else ("topk",)
        for key in only:
            if key in spec.key_lines:
                raise fail(
                    f"`{key}` applies to `kind: {other}` only, and this block has "
                    f"`kind: {options['kind']}`; remove `{key}` or change `kind`",
                    key,
                )

    def check_model(self, spec: WidgetSpec, info: ModelInfo) -> None:
        """Require [batch, n] -> [batch, m], with n sliders and m output names."""
        if len(info.inputs) != 1 or len(info.outputs) != 1:
            raise self._misfit(spec, info)
        features, out = info.inputs[0].shape, info.outputs[0].shape
        if len(features) != 2 or features[1] is None or len(out) != 2 or out[1] is None:
            raise self._misfit(spec, info)
        sliders = spec.options["inputs"]
        if len(sliders) != features[1]:
            raise spec.error(
                f"`inputs` has {len(sliders)} sliders but `{spec.model}` takes "
                f"{features[1]} features ({info.inputs[0].describe()}); give one slider per "
                "feature, in the order the model was trained on",
                "inputs",
            )
        names = spec.options["outputs"]
        if names is not None and len(names) != out[1]:
            raise spec.error(
                f"`outputs` has {len(names)} names but `{spec.model}` returns {out[1]} "
                f"values ({info.outputs[0].describe()}); give one name per output, in order",
                "outputs",
            )
        if spec.options["kind"] == "classes":
            check_topk(spec, info, out[1])

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Tell the page the sliders, the output names and how to show them."""
        count = info.outputs[0].shape[1] or 0
        options = spec.options
        names = options["outputs"] or [str(i) for i in range(count)]
        return {
            "sliders": [s.to_json() for s in options["inputs"]],
            "labels": names,
            "kind": options["kind"],
            "scores": scores_kind(
                spec,
                info,
                "show its outputs as numbers with `kind: values`, or end the model in a "
                "softmax (or linear) layer",
            )
            if options["kind"] == "classes"
            else None,
            "topk": min(options["topk"] or count, count),
            "decimals": options["decimals"],
            "unit": options["unit"] or "",
            "normalize": options["normalize"],
        }


class CustomWidget(Widget):
    """A widget of the author's own: an ES module named under ``widgets:`` in mkdocs.yml.

    The build checks the keys every widget takes; the block's other keys
    reach the module unchanged as ``ctx.options``.
    """

    extra_keys = True
    needs = "what its module expects"

    def __init__(self, name: str, module: Path) -> None:
        self.name = name
        self.module = module

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Hand the module the block's own keys."""
        return {"options": spec.options}


WIDGETS: dict[str, Widget] = {
    w.name: w for w in (PaletteWidget(), HandwritingWidget(), ImageWidget(), SlidersWidget())
}
