"""Train the choice-control example of the sliders page: a penguin's body mass from mixed features.

Four inputs: three measurements (bill length, bill depth, flipper length, in
mm) as one vector through a ``Normalization`` layer, and three strings, each
through the model's own ``StringLookup``: the species (one-hot), the island
(an index into a 2-wide ``Embedding``) and the sex (one-hot). The page runs
the lookups in JavaScript and the sliders widget offers each string feature
as a choice read from the vocabulary. Data: the Palmer Penguins rows shipped
by the `palmerpenguins` PyPI package (data CC0, package MIT); rows with a
missing value dropped, every fifth penguin (by row order) held out.

    .venv/bin/python models/penguin-profile/train.py
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MEASURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]
STRINGS = ["species", "island", "sex"]


def load() -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Return the measurements, each string column (as ``[n, 1]``) and the body mass (g)."""
    from palmerpenguins import load_penguins

    frame = load_penguins().dropna(subset=[*MEASURES, *STRINGS, "body_mass_g"])
    strings = {name: frame[[name]].to_numpy(str) for name in STRINGS}
    return (frame[MEASURES].to_numpy("float32"), strings,
            frame[["body_mass_g"]].to_numpy("float32"))


def held_out(count: int) -> np.ndarray:
    """Every fifth penguin, by row order."""
    return np.arange(count) % 5 == 0


def rows(measures: np.ndarray, strings: dict[str, np.ndarray], keep: np.ndarray,
         mass: np.ndarray | None = None):
    """Return the ``keep`` rows as a tf.data pipeline of batches (Keras takes strings so)."""
    import tensorflow as tf

    inputs = (measures[keep], *(tf.constant(strings[n][keep]) for n in STRINGS))
    data = tf.data.Dataset.from_tensor_slices((inputs,) if mass is None else (inputs, mass[keep]))
    if mass is not None:
        data = data.shuffle(len(measures), seed=11)
    return data.batch(32)


def build(keras, measures: np.ndarray, strings: dict[str, np.ndarray]):
    """Return the model, its Normalization adapted and its vocabularies read from ``strings``."""
    layers = keras.layers
    vocab = {name: sorted(set(strings[name].ravel())) for name in STRINGS}
    inputs = {
        "measures": keras.Input((3,), name="measures"),
        **{name: keras.Input((1,), dtype="string", name=name) for name in STRINGS},
    }
    norm = layers.Normalization(name="measure_scale")
    norm.adapt(measures)
    species = layers.StringLookup(vocabulary=vocab["species"], output_mode="one_hot",
                                  name="species_lookup")(inputs["species"])
    island = layers.StringLookup(vocabulary=vocab["island"], name="island_lookup")(inputs["island"])
    island = layers.Embedding(len(vocab["island"]) + 1, 2, name="island_vector")(island)
    island = layers.Flatten()(island)
    sex = layers.StringLookup(vocabulary=vocab["sex"], output_mode="one_hot",
                              name="sex_lookup")(inputs["sex"])
    x = layers.Concatenate()([norm(inputs["measures"]), species, island, sex])
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dense(1)(x)
    out = layers.Rescaling(1000.0, name="grams")(x)  # the Dense layers work in kilograms
    # The order of the model's inputs: measures, species, island, sex.
    return keras.Model([inputs["measures"], *(inputs[n] for n in STRINGS)], out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "body_mass.keras")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    keras.utils.set_random_seed(11)
    x, strings, y = load()
    test = held_out(len(x))
    model = build(keras, x[~test], {k: v[~test] for k, v in strings.items()})
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit(rows(x, strings, ~test, y), epochs=300, verbose=0)
    error = np.abs(model.predict(rows(x, strings, test), verbose=0) - y[test])
    baseline = np.abs(y[~test].mean() - y[test])
    print(f"{test.sum()} held-out penguins: mean absolute error {error.mean():.0f} g "
          f"(predicting the mean mass: {baseline.mean():.0f} g)")
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
