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
#: BatchNormalization scale (gamma) range where the default, 0.8 to 1.2, is too
#: much. With random weights, EfficientNetV2M and L (their 7th stage) amplify
#: activations layer after layer until float32 rounding decides the output:
#: with gammas around 1, EfficientNetV2M's logits reach 2400 and Keras
#: disagrees with itself (``model(x)`` vs ``model.predict(x)``) by 1300, so no
#: converter can be checked against it. Gammas around 0.6 keep the logits near
#: 1 and that disagreement at 1e-6.
GAMMA = {"EfficientNetV2M": (0.5, 0.7), "EfficientNetV2L": (0.5, 0.7)}


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
    return realistic_batchnorm(model, np.random.default_rng(seed), GAMMA.get(name, (0.8, 1.2)))


def realistic_batchnorm(model, rng: np.random.Generator, gamma: tuple[float, float] = (0.8, 1.2)):
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
                values.append(rng.uniform(*gamma, shape))
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
