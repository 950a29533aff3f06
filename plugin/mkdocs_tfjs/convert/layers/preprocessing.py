"""Preprocessing layers saved inside a model: Rescaling, Normalization, Resizing, CenterCrop.

Text and lookup layers (TextVectorization, StringLookup, IntegerLookup,
Hashing) are not lowered: at a model input they leave the graph for the page
(``convert/strings.py``), anywhere else they are refused here.
"""

from __future__ import annotations

import numpy as np

from ..graph import Tensor
from ._common import (
    axes_list,
    binary,
    ints,
    param_shape,
    require_channels_last,
    resize,
)
from .registry import Call, Unsupported, layer


@layer("Resizing")
def resizing(call: Call) -> Tensor:
    """``Resizing(height, width)``, bilinear or nearest, optionally cropping to the aspect ratio."""
    require_channels_last(call)
    height, width = int(call.config["height"]), int(call.config["width"])
    x = call.x
    if call.get("pad_to_aspect_ratio", False):
        raise Unsupported("Resizing with pad_to_aspect_ratio")
    if call.get("crop_to_aspect_ratio", False):
        x = center_crop_to(call, x, *_aspect_crop(x.shape[1], x.shape[2], height, width), "crop")
    return resize(call, x, height, width, str(call.get("interpolation", "bilinear")), call.hint())


def _aspect_crop(h: int, w: int, th: int, tw: int) -> tuple[int, int]:
    crop_h = min(h, int(w * th / tw))
    crop_w = min(w, int(h * tw / th))
    return crop_h, crop_w


def center_crop_to(call: Call, x: Tensor, height: int, width: int, suffix: str) -> Tensor:
    """Take the centred ``height`` x ``width`` region of [batch, h, w, c]."""
    g = call.graph
    top, left = (x.shape[1] - height) // 2, (x.shape[2] - width) // 2
    return g.op(
        "Slice",
        [x, ints(g, [0, top, left, 0], "begin"), ints(g, [-1, height, width, -1], "size")],
        (x.shape[0], height, width, x.shape[3]),
        call.hint(suffix),
    )


@layer("CenterCrop")
def center_crop(call: Call) -> Tensor:
    """``CenterCrop(height, width)``; a smaller input is first resized as Keras does."""
    require_channels_last(call)
    height, width = int(call.config["height"]), int(call.config["width"])
    h, w = call.x.shape[1], call.x.shape[2]
    if h is None or w is None:
        raise Unsupported("CenterCrop on an input whose height or width is not fixed")
    if h >= height and w >= width:
        return center_crop_to(call, call.x, height, width, "")
    crop_h, crop_w = _aspect_crop(h, w, height, width)
    cropped = center_crop_to(call, call.x, crop_h, crop_w, "crop")
    return resize(call, cropped, height, width, "bilinear", call.hint())


@layer("Rescaling")
def rescaling(call: Call) -> Tensor:
    """``Rescaling(scale, offset)``: ``x * scale + offset``."""
    g = call.graph
    scale, offset = call.config.get("scale", 1.0), call.config.get("offset", 0.0)
    out = binary(
        g, "Mul", call.x, call.const("scale", np.asarray(scale, np.float32)), call.hint("scale")
    )
    if np.any(np.asarray(offset) != 0):
        out = binary(
            g, "AddV2", out, call.const("offset", np.asarray(offset, np.float32)), call.hint()
        )
    return out


@layer("Normalization")
def normalization(call: Call) -> Tensor:
    """Lower ``Normalization``: ``(x - mean) / max(sqrt(variance), 1e-7)``, or its inverse."""
    g, x = call.graph, call.x
    axes = axes_list(call.get("axis", -1))
    if call.config.get("mean") is not None:
        mean = np.asarray(call.config["mean"], np.float32)
        variance = np.asarray(call.config["variance"], np.float32)
    else:
        weights = call.weights()
        mean, variance = weights[0], weights[1]
    std = np.maximum(np.sqrt(variance), np.float32(1e-7)).astype(np.float32)
    shape = param_shape(x, axes)
    mean, std = mean.reshape(shape), std.reshape(shape)
    if call.get("invert", False):
        return binary(
            g,
            "AddV2",
            binary(g, "Mul", x, call.const("std", std), call.hint("scaled")),
            call.const("mean", mean),
            call.hint(),
        )
    return binary(
        g,
        "RealDiv",
        binary(g, "Sub", x, call.const("mean", mean), call.hint("centered")),
        call.const("std", std),
        call.hint(),
    )


@layer("TextVectorization", "StringLookup", "IntegerLookup", "Hashing")
def string_layer_inside(call: Call) -> Tensor:
    """Refuse a string or lookup layer that does not take a model input: no op can run it.

    Where it takes a model input, the walker takes it out of the graph and
    the page runs it (``convert/strings.py``); it never gets here.
    """
    raise Unsupported(
        "a text or lookup preprocessing layer is converted only where it takes a model input "
        "directly (the page then runs it in JavaScript)"
    )


#: The random augmentation layers: each returns its input as it is at inference
#: (read in Keras 3's and tf_keras's sources, and checked numerically). AutoContrast
#: acts at inference too and is not among them; RandomCrop has its own function.
AUGMENTATIONS = (
    "AugMix",
    "CutMix",
    "MaxNumBoundingBoxes",
    "MixUp",
    "RandAugment",
    "RandomBrightness",
    "RandomColorDegeneration",
    "RandomColorJitter",
    "RandomContrast",
    "RandomElasticTransform",
    "RandomErasing",
    "RandomFlip",
    "RandomGaussianBlur",
    "RandomGrayscale",
    "RandomHeight",
    "RandomHue",
    "RandomInvert",
    "RandomPerspective",
    "RandomPosterization",
    "RandomRotation",
    "RandomSaturation",
    "RandomSharpness",
    "RandomShear",
    "RandomTranslation",
    "RandomWidth",
    "RandomZoom",
    "Solarization",
)


@layer(*AUGMENTATIONS)
def augmentation_at_inference(call: Call) -> Tensor:
    """Pass the images on as they are, as a random augmentation layer does at inference."""
    return call.x


@layer("RandomCrop")
def random_crop(call: Call) -> Tensor:
    """``RandomCrop(height, width)`` at inference, as each Keras runs it.

    tf_keras takes the largest centred crop of the target's aspect ratio and
    resizes it (bilinear) to the target size. Keras 3 (3.15) returns the image
    as it is, whatever its own documentation and static shape say.
    """
    if not call.legacy:
        return call.x
    require_channels_last(call)
    height, width = int(call.config["height"]), int(call.config["width"])
    h, w = call.x.shape[1], call.x.shape[2]
    if h is None or w is None:
        raise Unsupported("RandomCrop on an input whose height or width is not fixed")
    cropped = center_crop_to(call, call.x, *_aspect_crop(h, w, height, width), "crop")
    return resize(call, cropped, height, width, "bilinear", call.hint())
