"""Train a penguin species classifier and save it as ``penguins.keras``.

Data: ``penguins.csv`` of the PyPI package ``palmerpenguins`` 0.1.6 (package
MIT; data CC0, Palmer Station LTER; Gorman, Williams & Fraser 2014,
https://doi.org/10.1371/journal.pone.0090081), read from the installed
package. Nothing is fetched at run time.

Four numeric features (bill length and depth in mm, flipper length in mm,
body mass in g) predict the species (Adelie, Chinstrap, Gentoo). Rows with a
missing value are dropped (342 remain). A fixed, stratified 20 % of the rows
is held out. The model normalises its own input: a ``Normalization`` layer
adapted on the training rows, so the page feeds it raw millimetres and grams.

Run from the repository root:  .venv/bin/python models/penguins/train.py
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parent / "penguins.keras"
FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
SPECIES = ("Adelie", "Chinstrap", "Gentoo")
SEED = 13
HELD_OUT = 0.2


def load_rows() -> tuple[np.ndarray, np.ndarray]:
    """Return the features (n, 4) float32 and the species indices (n,) of the complete rows."""
    try:
        from palmerpenguins import load_penguins
    except ImportError as exc:
        raise SystemExit("install the test extra first: pip install palmerpenguins==0.1.6") from exc
    frame = load_penguins()[["species", *FEATURES]].dropna()
    x = frame[list(FEATURES)].to_numpy(dtype=np.float32)
    y = frame["species"].map(SPECIES.index).to_numpy(dtype=np.int64)
    return x, y


def split(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return ``x_train, y_train, x_test, y_test``: a fixed stratified split."""
    rng = np.random.default_rng(SEED)
    test = np.zeros(len(y), dtype=bool)
    for species in range(len(SPECIES)):
        rows = np.flatnonzero(y == species)
        test[rng.choice(rows, size=round(HELD_OUT * len(rows)), replace=False)] = True
    return x[~test], y[~test], x[test], y[test]


def build_model(x_train: np.ndarray):
    """Return the classifier: Normalization -> 16 -> 16 -> 3 softmax."""
    import keras
    from keras import layers

    normalize = layers.Normalization(name="normalize")
    normalize.adapt(x_train)
    return keras.Sequential(
        [
            keras.Input(shape=(len(FEATURES),), name="measurements"),
            normalize,
            layers.Dense(16, activation="relu"),
            layers.Dense(16, activation="relu"),
            layers.Dense(len(SPECIES), activation="softmax"),
        ],
        name="penguins",
    )


def main() -> None:
    """Train, print the held-out accuracy and save the model."""
    import keras

    keras.utils.set_random_seed(SEED)
    x, y = load_rows()
    x_train, y_train, x_test, y_test = split(x, y)
    model = build_model(x_train)
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=60, batch_size=32, verbose=0)
    _, train_accuracy = model.evaluate(x_train, y_train, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(
        f"{len(y)} complete rows, {len(y_train)} for training, {len(y_test)} held out; "
        f"accuracy {train_accuracy:.3f} on training rows, {accuracy:.3f} held out "
        f"({round(accuracy * len(y_test))} of {len(y_test)})"
    )
    model.save(OUT)
    print(f"saved {OUT} ({OUT.stat().st_size:,} bytes, {model.count_params():,} parameters)")


if __name__ == "__main__":
    main()
