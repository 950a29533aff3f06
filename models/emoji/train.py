"""Train the emoji category classifier and save it as ``classifier.keras``.

Data: the emoji images of the npm packages ``emoji-datasource-google`` and
``emoji-datasource-twitter`` 16.0.0 (the packages are MIT; the Google/Noto
images are Apache 2.0, the Twitter/Twemoji images CC-BY 4.0), 64 x 64 PNGs
with a category each in ``emoji.json``. The model learns from the Google
style only and is tested on the Twitter style, which it never saw: a fair
measure of whether it learned categories rather than pixels.

Every image goes through ``mkdocs_tfjs.preprocess.preprocess_image``, the
pipeline the image widget runs in the browser (alpha over white, resize,
``preprocess: mobilenet``). The network is a MobileNetV2 (alpha 0.35) trained
from scratch; about 0.8 MB as float16.

Run from the repository root:  .venv/bin/python models/emoji/train.py
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
from mkdocs_tfjs.preprocess import preprocess_image  # noqa: E402

HERE = Path(__file__).resolve().parent
PACKAGES = ROOT / "node_modules"
SIZE = 64
TRAIN_STYLE, TEST_STYLE = "google", "twitter"


def emoji_list() -> list[dict]:
    """Base emoji (no skin-tone variants) drawn in both styles, without the Component group."""
    path = PACKAGES / "emoji-datasource-google" / "emoji.json"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `npm ci` in {ROOT} first")
    emoji = json.loads(path.read_text())
    return [e for e in emoji if e["category"] != "Component"
            and e.get(f"has_img_{TRAIN_STYLE}") and e.get(f"has_img_{TEST_STYLE}")]


def categories(emoji: list[dict]) -> list[str]:
    return sorted({e["category"] for e in emoji})


def image_path(style: str, name: str) -> Path:
    return PACKAGES / f"emoji-datasource-{style}" / "img" / style / "64" / name


def load_image(path) -> np.ndarray:
    """Decode an image as the browser does: EXIF orientation applied, 8-bit pixels (Pillow)."""
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        if image.mode not in ("L", "LA", "RGB", "RGBA"):
            image = image.convert("RGBA")
        return np.asarray(image)


def load_style(style: str, emoji: list[dict]) -> np.ndarray:
    """The emoji of one style as model inputs (mobilenet preprocessing)."""
    return np.stack([preprocess_image(load_image(image_path(style, e["image"])), SIZE, SIZE,
                                      "stretch", "mobilenet") for e in emoji]).astype(np.float32)


def distort(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Zoom, shift, rotate and re-light an input in [-1, 1] (white, 1.0, fills the edges)."""
    angle = np.deg2rad(rng.uniform(-12, 12))
    scale = rng.uniform(0.75, 1.1)
    matrix = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) / scale
    centre = np.array([SIZE / 2, SIZE / 2])
    offset = centre - matrix @ centre + rng.uniform(-6, 6, size=2)
    out = np.stack([ndimage.affine_transform(x[..., c], matrix, offset=offset, order=1, cval=1.0)
                    for c in range(3)], axis=-1)
    out = out * rng.uniform(0.85, 1.1) + rng.uniform(-0.1, 0.1)
    if rng.uniform() < 0.5:
        out = out[:, ::-1]
    return np.clip(out, -1.0, 1.0)


def build_model(classes: int):
    import keras

    base = keras.applications.MobileNetV2(input_shape=(SIZE, SIZE, 3), alpha=0.35,
                                          include_top=False, weights=None)
    # MobileNetV2's BatchNormalization momentum (0.999) suits long ImageNet runs;
    # in a few thousand steps from scratch its moving statistics lag far behind
    # the weights, and the model scored 42% on its own training images in
    # inference mode while reaching 91% in training mode.
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    return keras.Sequential([
        keras.Input((SIZE, SIZE, 3), name="image"),
        base,
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(classes, activation="softmax", name="probabilities"),
    ], name="emoji_categories")


def train(epochs: int, copies: int, seed: int) -> None:
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    emoji = emoji_list()
    names = categories(emoji)
    y = np.array([names.index(e["category"]) for e in emoji])
    started = time.perf_counter()
    x_train = load_style(TRAIN_STYLE, emoji)
    x_test = load_style(TEST_STYLE, emoji)
    xs = [x_train] + [np.stack([distort(x, rng) for x in x_train]) for _ in range(copies)]
    x_all, y_all = np.concatenate(xs), np.tile(y, copies + 1)
    print(f"data: {len(emoji)} emoji in {len(names)} categories; training on the {TRAIN_STYLE} style "
          f"({len(x_all)} inputs with {copies} distorted copies), testing on the {TEST_STYLE} style "
          f"(prepared in {time.perf_counter() - started:.0f} s)")

    model = build_model(len(names))
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    started = time.perf_counter()
    model.fit(x_all, y_all, batch_size=64, epochs=epochs, shuffle=True, verbose=2,
              callbacks=[keras.callbacks.ReduceLROnPlateau(
                  "loss", factor=0.5, patience=2)])
    print(f"trained {epochs} epochs in {time.perf_counter() - started:.0f} s")
    _, train_acc = model.evaluate(x_train, y, verbose=0)
    _, test_acc = model.evaluate(x_test, y, verbose=0)
    chance = np.bincount(y).max() / len(y)
    print(f"accuracy: {train_acc:.3f} on the {TRAIN_STYLE} images, {test_acc:.3f} on the held-out "
          f"{TEST_STYLE} style (most frequent class: {chance:.3f}); {model.count_params():,} parameters")
    shipped = build_model(len(names))
    shipped.set_weights(model.get_weights())
    shipped.save(HERE / "classifier.keras")
    (HERE / "classes.json").write_text(json.dumps({str(i): n for i, n in enumerate(names)}, indent=1) + "\n")
    print(f"saved {HERE / 'classifier.keras'} and classes.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    train(args.epochs, args.copies, args.seed)


if __name__ == "__main__":
    main()
