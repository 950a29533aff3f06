"""Train the palette GAN and save its generator as ``generator.keras``.

Data: the 992 distinct five-colour palettes in ``1000.json`` of the npm package ``nice-color-palettes``
4.0.0 (MIT licence, palettes collected from COLOURlovers), read from
``node_modules/nice-color-palettes/1000.json`` after ``npm ci``. Nothing is
fetched at run time.

Architecture (seed 000): generator 5 -> 100 -> BN -> 200 -> BN -> 15 with a
sigmoid output (plus a first layer that centres the noise on zero), so the 15 values are five RGB colours in [0, 1]; discriminator
15 -> 100 -> BN -> 200 -> BN -> 1. The noise is uniform in [0, 1), which is the
palette widget's default ``noise``. Training data is augmented with brightness
and contrast changes (three extra palettes per palette, as in seed 000).

Run from the repository root:  .venv/bin/python models/palette/train.py
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "node_modules" / "nice-color-palettes" / "1000.json"
OUT = Path(__file__).resolve().parent / "generator.keras"
NOISE_DIM = 5


def load_palettes(path: Path = DATA) -> np.ndarray:
    """Return the palettes as an (n, 15) float32 array of RGB values in [0, 1]."""
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `npm ci` in {ROOT} first")
    palettes = json.loads(path.read_text())
    rows = []
    for palette in palettes:
        rgb = []
        for colour in palette:
            colour = colour.lstrip("#")
            rgb += [int(colour[i : i + 2], 16) / 255.0 for i in (0, 2, 4)]
        rows.append(rgb)
    return np.asarray(rows, dtype=np.float32)


def augment(palettes: np.ndarray, rng: np.random.Generator, copies: int = 3) -> np.ndarray:
    """Add ``copies`` brightness/contrast variants of every palette."""
    out = [palettes]
    for _ in range(copies):
        brightness = rng.uniform(-0.12, 0.12, size=(len(palettes), 1))
        contrast = rng.uniform(0.75, 1.25, size=(len(palettes), 1))
        mean = palettes.mean(axis=1, keepdims=True)
        out.append(np.clip((palettes - mean) * contrast + mean + brightness, 0.0, 1.0))
    return np.concatenate(out).astype(np.float32)


def build_models():
    """Build the generator and discriminator of seed 000."""
    import keras
    from keras import layers

    generator = keras.Sequential(
        [
            keras.Input(shape=(NOISE_DIM,), name="noise"),
            # Centre the uniform [0, 1) noise on zero. Without this the first
            # Dense output is mostly a constant that BatchNormalization then
            # subtracts and scales up about 30-fold: float16 weights would lose
            # to that cancellation (measured: 2e-3 output error instead of 3e-4).
            layers.Rescaling(2.0, offset=-1.0, name="centre_noise"),
            # BatchNormalization straight after each Dense, then the activation:
            # normalising a LeakyReLU output (whose mean is far from zero) would
            # again cancel large numbers. The Dense layers have no bias because
            # BatchNormalization subtracts it again (the same cancellation).
            layers.Dense(100, use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(0.2),
            layers.Dense(200, use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(0.2),
            layers.Dense(15, activation="sigmoid", name="palette"),
        ],
        name="palette_generator",
    )
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(15,), name="palette"),
            layers.Dense(100),
            layers.LeakyReLU(0.2),
            layers.BatchNormalization(),
            layers.Dense(200),
            layers.LeakyReLU(0.2),
            layers.BatchNormalization(),
            layers.Dense(1, name="real_logit"),
        ],
        name="palette_discriminator",
    )
    return generator, discriminator


def nearest_distance(samples: np.ndarray, reference: np.ndarray) -> float:
    """Mean RMS distance from each sample to its nearest reference palette."""
    d = ((samples[:, None, :] - reference[None, :, :]) ** 2).mean(axis=2)
    return float(np.sqrt(d.min(axis=1)).mean())


def _spread(samples: np.ndarray) -> float:
    a, b = samples[: len(samples) // 2], samples[len(samples) // 2 :]
    return float(np.sqrt(((a - b) ** 2).mean(axis=1)).mean())


def train(steps: int, seed: int, out: Path) -> None:
    """Train the GAN and save the generator to ``out``."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    real = load_palettes()
    rng.shuffle(real)
    held_out, train_set = real[:100], augment(real[100:], rng)
    print(f"data: {len(real)} palettes from {DATA.relative_to(ROOT)}; "
          f"{len(train_set)} for training after augmentation, {len(held_out)} held out")

    generator, discriminator = build_models()
    g_opt = keras.optimizers.Adam(1e-4, beta_1=0.5)
    # The discriminator learns slightly faster, as in seed 000.
    d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    batch = 64

    @tf.function
    def step(real_batch):
        n = tf.shape(real_batch)[0]
        noise = tf.random.uniform((n, NOISE_DIM))
        # Real and generated palettes go through the discriminator as one batch,
        # so its BatchNormalization sees one set of statistics for both.
        with tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            logits = discriminator(tf.concat([real_batch, fake], axis=0), training=True)
            # One-sided label smoothing keeps the discriminator from saturating.
            labels = tf.concat([tf.fill((n, 1), 0.9), tf.zeros((n, 1))], axis=0)
            d_loss = bce(labels, logits)
        grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        d_opt.apply_gradients(zip(grads, discriminator.trainable_variables))

        noise = tf.random.uniform((n, NOISE_DIM))
        with tf.GradientTape() as g_tape:
            # In inference mode the discriminator's BatchNormalization uses its
            # moving statistics; normalising an all-generated batch would wipe
            # out the very differences the generator must learn from.
            fake_logit = discriminator(generator(noise, training=True), training=False)
            g_loss = bce(tf.ones_like(fake_logit), fake_logit)
        grads = g_tape.gradient(g_loss, generator.trainable_variables)
        g_opt.apply_gradients(zip(grads, generator.trainable_variables))
        return d_loss, g_loss

    started = time.perf_counter()
    for i in range(1, steps + 1):
        idx = rng.integers(0, len(train_set), size=batch)
        d_loss, g_loss = step(tf.constant(train_set[idx]))
        if i % 1000 == 0 or i == steps:
            print(f"step {i:5d}  d_loss {float(d_loss):.3f}  g_loss {float(g_loss):.3f}")
    print(f"trained {steps} steps in {time.perf_counter() - started:.1f} s")

    samples = generator.predict(rng.uniform(size=(500, NOISE_DIM)).astype("float32"), verbose=0)
    noise_baseline = rng.uniform(size=(500, 15)).astype("float32")
    real_sample = real[100:][rng.integers(0, len(real) - 100, size=500)]
    print(
        "held-out check, mean RMS distance to the nearest of 100 held-out palettes: "
        f"generated {nearest_distance(samples, held_out):.3f}, "
        f"real training palettes {nearest_distance(real_sample, held_out):.3f}, "
        f"uniform random colours {nearest_distance(noise_baseline, held_out):.3f}"
    )
    print(
        "diversity, mean RMS distance between two palettes: "
        f"generated {_spread(samples):.3f}, real {_spread(real_sample):.3f}"
    )
    print(f"output range: [{samples.min():.3f}, {samples.max():.3f}], "
          f"per-sample std across colours {samples.std(axis=1).mean():.3f}")
    generator.save(out)
    print(f"saved {out} ({out.stat().st_size / 1024:.1f} KB)")


def main() -> None:
    """Parse arguments and train."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    train(args.steps, args.seed, args.out)


if __name__ == "__main__":
    main()
