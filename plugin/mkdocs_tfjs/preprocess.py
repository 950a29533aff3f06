"""Python references of what the widgets do to an input before the model sees it.

The browser code (``assets/handwriting.js``) implements the same steps, and
the tests check that both give the same numbers; the example models are
trained on data passed through these very functions, so training and page
cannot drift apart. Only numpy is needed.
"""

from __future__ import annotations

import functools

import numpy as np

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
