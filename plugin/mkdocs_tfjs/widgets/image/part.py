"""The ``image`` widget: a picture (file, drop, paste, camera) in, the top-k classes out.

``show:`` may name another output part (``mask``, ``image``), which then
draws what the model returns; the widget hands it the picture the model saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from ...cache import sha256_file
from ...modelinfo import ModelInfo
from ...options import PREPROCESS_MODES, Option
from ...paths import resolve_project_path
from ..classes.part import OUTPUTS_OPTION, ClassifierWidget, labels_option
from ..part import Fail, WidgetSpec

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"}


class ImageWidget(ClassifierWidget):
    """Pick, drop or paste a picture; see the model's top-k classes."""

    name = "image"
    order = 30
    options = (
        labels_option(" Without `labels` the classes are shown as their numbers."),
        OUTPUTS_OPTION,
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
        self.check_output(spec, info)

    def site_files(self, spec: WidgetSpec) -> dict[str, Path]:
        """Ship the samples under content-hashed names."""
        return {site_path: source for source, site_path in spec.options["samples"]}

    def browser_config(self, spec: WidgetSpec, info: ModelInfo) -> dict[str, Any]:
        """Tell the page the input size, preprocessing, samples, camera, and what shows the output.

        The top-k classes' labels, score kind and count, or the output part's configuration.
        """
        shown = self.output_config(spec, info)
        return {
            "height": info.inputs[0].shape[1],
            "width": info.inputs[0].shape[2],
            **shown,
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
        return f"assets/tfjs/samples/{sha256_file(path)[:8]}-{path.name}"


PART = ImageWidget()
