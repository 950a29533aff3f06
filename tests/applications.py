"""keras.applications models as the application tests and benchmark build them.

Each architecture is built with ``weights=None`` (nothing is downloaded), a
small input, ``classes=10`` and no classifier activation, then given
realistic BatchNormalization statistics: Keras initialises the moving mean
and variance to 0 and 1 and gamma and beta to 1 and 0, which makes every
BatchNormalization an identity (up to epsilon), so a converter that drops,
misplaces or mis-folds one would still match.
"""

from __future__ import annotations

import inspect

import numpy as np

#: Architecture → smallest input side Keras accepts for it (``obtain_input_shape``).
MIN_SIZE = {"InceptionV3": 75, "InceptionResNetV2": 75, "Xception": 71}
#: Architectures whose preprocessing (Rescaling, Normalization) is in the graph.
PREPROCESSING = ("EfficientNet", "MobileNetV3", "ConvNeXt")


def build(name: str, size: int | None = None, seed: int = 0):
    """Return ``keras.applications.<name>`` at ``size`` px, 10 raw logits, realistic BN."""
    import keras

    keras.utils.set_random_seed(seed)
    size = size or max(32, MIN_SIZE.get(name, 32))
    kwargs = {"weights": None, "input_shape": (size, size, 3), "classes": 10,
              "classifier_activation": None}
    builder = getattr(keras.applications, name)
    if "include_preprocessing" in inspect.signature(builder).parameters:
        # The built-in preprocessing (Rescaling, Normalization) is part of the graph: keep it.
        kwargs["include_preprocessing"] = True
    model = builder(**kwargs)
    return realistic_batchnorm(model, np.random.default_rng(seed))


def realistic_batchnorm(model, rng: np.random.Generator):
    """Give every BatchNormalization random, trained-looking gamma, beta, mean and variance."""
    import keras

    for layer in _all_layers(model):
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        values = []
        for var in layer.weights:
            shape = var.shape
            if "moving_variance" in var.path:
                values.append(rng.uniform(0.5, 1.5, shape))
            elif "moving_mean" in var.path:
                values.append(rng.normal(0.0, 0.1, shape))
            elif "gamma" in var.path:
                values.append(rng.uniform(0.8, 1.2, shape))
            else:
                values.append(rng.normal(0.0, 0.1, shape))
        layer.set_weights([v.astype("float32") for v in values])
    return model


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def image(name: str, size: int, seed: int = 1, batch: int = 2) -> np.ndarray:
    """Return a seeded batch of images in the range the model expects.

    [0, 255] for models that preprocess inside the graph, [-1, 1] (what
    ``preprocess_input`` gives) for the others.
    """
    high = 255.0 if name.startswith(PREPROCESSING) else 1.0
    low = 0.0 if high == 255.0 else -1.0
    return np.random.default_rng(seed).uniform(low, high, (batch, size, size, 3)).astype("float32")
