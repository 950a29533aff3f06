"""Train the example model of the "Write your own widget" page: a penguin's body mass.

Two inputs (flipper length and bill length, in mm) → body mass (g), a small
MLP with the feature normalisation inside the model. Data: the Palmer
Penguins measurements shipped by the `palmerpenguins` PyPI package (data
CC0, package MIT); rows with a missing measurement are dropped, and every
fifth penguin (by row order) is held out.

    .venv/bin/python models/penguin-mass/train.py
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FEATURES = ["flipper_length_mm", "bill_length_mm"]


def load() -> tuple[np.ndarray, np.ndarray]:
    from palmerpenguins import load_penguins

    frame = load_penguins().dropna(subset=[*FEATURES, "body_mass_g"])
    return frame[FEATURES].to_numpy("float32"), frame[["body_mass_g"]].to_numpy("float32")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "body_mass.keras")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    keras.utils.set_random_seed(7)
    x, y = load()
    held_out = np.arange(len(x)) % 5 == 0
    norm = keras.layers.Normalization(name="features")
    norm.adapt(x[~held_out])
    model = keras.Sequential([
        keras.Input((2,), name="measurements"),
        norm,
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(1),
        keras.layers.Rescaling(1000.0, name="grams"),  # the Dense layers work in kilograms
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit(x[~held_out], y[~held_out], epochs=300, batch_size=32, verbose=0)
    error = np.abs(model.predict(x[held_out], verbose=0) - y[held_out])
    baseline = np.abs(y[~held_out].mean() - y[held_out])
    print(f"{held_out.sum()} held-out penguins: mean absolute error {error.mean():.0f} g "
          f"(predicting the mean mass: {baseline.mean():.0f} g)")
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
