"""Train the sunspot forecaster: the last 11 yearly sunspot numbers → next year's (a GRU).

The data are the yearly mean sunspot numbers 1700-2008 shipped by statsmodels
(``statsmodels.datasets.sunspots``; public domain, statsmodels is BSD-3):
nothing is downloaded. Seeded; writes ``forecast.keras`` beside this script
and prints the held-out error (the README records it).
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

HERE = Path(__file__).resolve().parent
WINDOW = 11  # about one solar cycle
HELD_OUT = 40  # the last 40 years (1969-2008) are never trained on


def windows(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.stack([series[i : i + WINDOW] for i in range(len(series) - WINDOW)])
    return x.astype("float32"), series[WINDOW:].astype("float32")[:, None]


def main() -> None:
    import keras
    from statsmodels.datasets import sunspots

    keras.utils.set_random_seed(19)
    data = sunspots.load_pandas().data
    series = data["SUNACTIVITY"].to_numpy()
    x, y = windows(series)
    x_train, y_train, x_test, y_test = x[:-HELD_OUT], y[:-HELD_OUT], x[-HELD_OUT:], y[-HELD_OUT:]

    layers = keras.layers
    model = keras.Sequential([
        keras.Input((WINDOW,), name="years"),
        layers.Rescaling(1 / 100),
        layers.Reshape((WINDOW, 1)),
        layers.GRU(16),
        layers.Dense(1),
        layers.Rescaling(100),
    ], name="sunspots")
    model.compile(keras.optimizers.Adam(0.005), loss="mae")
    model.fit(x_train, y_train, epochs=400, batch_size=32, verbose=0)
    predicted = model.predict(x_test, verbose=0)
    mae = float(np.abs(predicted - y_test).mean())
    persistence = float(np.abs(x_test[:, -1:] - y_test).mean())
    print(f"held-out years {int(data['YEAR'].iloc[-HELD_OUT])}-{int(data['YEAR'].iloc[-1])}: "
          f"mean absolute error {mae:.1f}; 'same as last year' {persistence:.1f}; "
          f"{model.count_params()} parameters")
    model.save(HERE / "forecast.keras")


if __name__ == "__main__":
    main()
