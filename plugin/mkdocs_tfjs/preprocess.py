"""Python references of what the widgets do to an input before the model sees it.

The browser code (``assets/handwriting.js``) implements the same steps, and
the tests check that both give the same numbers; the example models are
trained on data passed through these very functions, so training and page
cannot drift apart. Only numpy is needed: the functions take pixels already
decoded (with Pillow, imageio or anything else), never files.
"""

from __future__ import annotations

import functools

import numpy as np

from .options import PREPROCESS_MODES

#: Ink below this (on a 0-1 scale) is anti-aliasing noise, not part of the drawing.
INK_THRESHOLD = 0.05


def ink_from_rgba(rgba: np.ndarray) -> np.ndarray:
    """Return ink in [0, 1] (1 = black pen) from an RGBA canvas on a white background."""
    rgba = rgba.astype(np.float64)
    grey = 0.299 * rgba[..., 0] + 0.587 * rgba[..., 1] + 0.114 * rgba[..., 2]
    alpha = rgba[..., 3] / 255.0
    # Transparent pixels count as the white background.
    grey = grey * alpha + 255.0 * (1.0 - alpha)
    return (255.0 - grey) / 255.0


@functools.lru_cache(maxsize=256)
def area_weights(source: int, target: int) -> np.ndarray:
    """Return the (target, source) matrix of an exact area-average resize."""
    scale = source / target
    weights = np.zeros((target, source))
    for out in range(target):
        start, end = out * scale, (out + 1) * scale
        for pixel in range(int(np.floor(start)), min(source, int(np.ceil(end)))):
            weights[out, pixel] = max(0.0, min(pixel + 1, end) - max(pixel, start))
    weights /= scale
    weights.flags.writeable = False
    return weights


def resize_area(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a 2-D array by averaging the source area under each output pixel."""
    return area_weights(image.shape[0], height) @ image @ area_weights(image.shape[1], width).T


def preprocess_drawing(
    ink: np.ndarray, size: int = 28, border: int = 2, invert: bool = True
) -> np.ndarray:
    """Turn a drawing (ink in [0, 1], 1 = pen) into the model's ``size`` x ``size`` input.

    The steps, as seed 001 describes them: take the bounding box of what was
    drawn, pad it to a square (centred), scale it into the inner
    ``size - 2 * border`` pixels, add the empty border, and give light strokes
    on a dark background (``invert``, as MNIST and EMNIST are) or dark strokes
    on a light one. Values are in [0, 1].
    """
    out = np.zeros((size, size))
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    if rows.size:
        crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        side = max(crop.shape)
        square = np.zeros((side, side))
        top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
        square[top : top + crop.shape[0], left : left + crop.shape[1]] = crop
        inner = size - 2 * border
        out[border : border + inner, border : border + inner] = resize_area(square, inner, inner)
    out = np.clip(out, 0.0, 1.0)
    return out if invert else 1.0 - out


# -- images (the image widget) ---------------------------------------------

_CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68])
_TORCH_MEAN = np.array([0.485, 0.456, 0.406])
_TORCH_STD = np.array([0.229, 0.224, 0.225])


def composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """Return RGB in [0, 255] (float) from RGBA, grey or RGB pixels; alpha over white."""
    pixels = np.asarray(rgba, dtype=np.float64)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    channels = pixels.shape[-1]
    if channels in (1, 2):  # grey, grey + alpha
        grey = np.repeat(pixels[..., :1], 3, axis=-1)
        pixels = np.concatenate([grey, pixels[..., 1:]], axis=-1)
    if pixels.shape[-1] == 4:
        alpha = pixels[..., 3:] / 255.0
        return pixels[..., :3] * alpha + 255.0 * (1.0 - alpha)
    return pixels[..., :3]


def crop_box(
    height: int, width: int, target_h: int, target_w: int, resize: str
) -> tuple[int, int, int, int]:
    """Return (top, left, crop height, crop width) of the region that is resized.

    ``stretch`` takes the whole image; ``center-crop`` the largest centred
    region with the target's aspect ratio.
    """
    if resize == "stretch":
        return 0, 0, height, width
    if width * target_h > height * target_w:  # too wide
        crop_w = max(1, round(height * target_w / target_h))
        return 0, (width - crop_w) // 2, height, crop_w
    crop_h = max(1, round(width * target_h / target_w))
    return (height - crop_h) // 2, 0, crop_h, width


def resize_image(rgb: np.ndarray, height: int, width: int, resize: str = "stretch") -> np.ndarray:
    """Crop (for ``center-crop``) and area-resize an (h, w, 3) image to (height, width, 3)."""
    top, left, crop_h, crop_w = crop_box(rgb.shape[0], rgb.shape[1], height, width, resize)
    region = rgb[top : top + crop_h, left : left + crop_w]
    rows, cols = area_weights(crop_h, height), area_weights(crop_w, width)
    return np.stack([rows @ region[..., c] @ cols.T for c in range(3)], axis=-1)


def apply_preprocess(rgb: np.ndarray, mode: str) -> np.ndarray:
    """Apply a keras.applications ``preprocess_input`` mode to RGB in [0, 255]."""
    x = np.asarray(rgb, dtype=np.float64)
    if mode in ("tf", "mobilenet"):
        return x / 127.5 - 1.0
    if mode in ("caffe", "vgg16"):
        return x[..., ::-1] - _CAFFE_MEAN_BGR
    if mode == "torch":
        return (x / 255.0 - _TORCH_MEAN) / _TORCH_STD
    if mode == "scale":
        return x / 255.0
    if mode == "none":
        return x
    raise ValueError(
        f"unknown preprocess mode {mode!r}; choose one of {', '.join(PREPROCESS_MODES)}"
    )


def preprocess_image(
    pixels: np.ndarray, height: int, width: int, resize: str, mode: str
) -> np.ndarray:
    """Run the image widget's whole pipeline: composite, crop, resize, ``preprocess``."""
    return apply_preprocess(resize_image(composite_on_white(pixels), height, width, resize), mode)
