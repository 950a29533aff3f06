"""Issue 19's "done when": a transformer text classifier and a model with augmentation layers.

Each is saved by Keras 3 (``.keras``) and by tf_keras (``.h5``), converted
natively (``quantize: none``) by a real ``mkdocs build``, and run in headless
Chromium on the CPU and the WebAssembly backends (``backend:`` forced; the
transformers on a page with a widget that only holds the model, so the full
TF.js; the augmentation models in the image widget, on a page that gets the
lean runtime) through ``window.tfjsWidgets.predict``; the reference is the saved
file's own Keras (or tf_keras) output. Random weights: what is checked is the
lowering, not training. The transformer is token and position embeddings,
MultiHeadAttention, LayerNormalization, a GELU feed-forward block, pooling and
a softmax Dense; tf_keras's has no position embedding (tf_keras writes
``cumsum`` as a TFOpLambda, which no converter lowers). Its masked variant
(``mask_zero``, without position embedding: Keras 3's Add would drop the mask)
reads sentences of 12, 9, 4 and 1 tokens padded to the same length: the mask
reaches the attention, the residual merges and the average. The augmentation
models carry every augmentation layer their Keras has that takes an image.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.browser

LENGTH, VOCAB, WIDTH = 12, 40, 16
# A widget that only holds the model: the test drives it through tfjsWidgets.predict.
PROBE = 'import { registerWidget } from "./runtime.js";\nregisterWidget("probe", class { constructor() {} });\n'


def transformer(k, positions: bool, mask_zero: bool = False):
    """A one-block transformer encoder classifier over ``LENGTH`` token ids.

    ``mask_zero``: token 0 is padding; Keras's mask skips it in the attention (as a key, and
    as a query, whose output the average leaves out) and in the average.
    """
    layers = k.layers
    ids = k.Input((LENGTH,), dtype="int32")
    x = layers.Embedding(VOCAB, WIDTH, mask_zero=mask_zero)(ids)
    if positions:
        # Positions 1..LENGTH from the ids themselves: a position embedding without a custom layer.
        where = k.ops.cumsum(k.ops.ones_like(ids), axis=1)
        x = layers.Add()([x, layers.Embedding(LENGTH + 1, WIDTH)(where)])
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=8, dropout=0.1)(x, x)
    x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, attended]))
    ffn = layers.Dense(WIDTH)(layers.Dense(32, activation="gelu")(x))
    x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, layers.Dropout(0.1)(ffn)]))
    out = layers.Dense(3, activation="softmax")(layers.GlobalAveragePooling1D()(x))
    return k.Model(ids, out)


def augmented(k):
    """Augmentation layers, then a small convolutional classifier, on 16x16 RGB."""
    layers = k.layers
    steps = [layers.Rescaling(1 / 255), layers.RandomFlip(), layers.RandomRotation(0.1), layers.RandomZoom(0.1),
             layers.RandomTranslation(0.1, 0.1), layers.RandomContrast(0.2), layers.RandomBrightness(0.2)]
    if k.__name__ == "keras":
        steps += [layers.RandomHue(0.1), layers.RandomSaturation(0.2), layers.RandomGrayscale(0.2),
                  layers.RandomColorJitter(brightness_factor=0.1), layers.RandomSharpness(0.2),
                  layers.RandomShear(0.1), layers.RandomPerspective(), layers.RandomErasing(),
                  layers.RandomGaussianBlur(), layers.RandomInvert(), layers.RandomPosterization(4),
                  layers.Solarization(0.5), layers.RandomColorDegeneration(0.2), layers.RandomElasticTransform()]
    else:  # tf_keras's RandomCrop crops and resizes at inference
        steps += [layers.RandomCrop(12, 14)]
    model = k.Sequential([k.Input((16, 16, 3)), *steps, layers.Conv2D(4, 3, activation="relu"),
                          layers.GlobalAveragePooling2D(), layers.Dense(3, activation="softmax")])
    return model


def randomized(model, scale=0.5):
    rng = np.random.default_rng(11)
    model.set_weights([scale * rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """{name: (saved file, inputs, Keras's output)} for the six models."""
    import keras
    import tf_keras

    root = tmp_path_factory.mktemp("attention-models")
    rng = np.random.default_rng(5)
    ids = rng.integers(0, VOCAB, size=(4, LENGTH)).astype("int32")
    images = rng.uniform(0, 255, size=(4, 16, 16, 3)).astype("float32")
    # Sentences of 12, 9, 4 and 1 tokens, padded with 0 to LENGTH.
    padded = rng.integers(1, VOCAB, size=(4, LENGTH)).astype("int32")
    for row, length in enumerate((12, 9, 4, 1)):
        padded[row, length:] = 0
    out = {}
    for name, k, build, x in [
        ("transformer-keras3", keras, lambda: transformer(keras, True), ids),
        ("transformer-tf-keras", tf_keras, lambda: transformer(tf_keras, False), ids),
        # Without the position embedding: Keras 3's Add drops the mask of one input of two.
        ("transformer-masked-keras3", keras, lambda: transformer(keras, False, mask_zero=True), padded),
        ("transformer-masked-tf-keras", tf_keras, lambda: transformer(tf_keras, False, mask_zero=True), padded),
        ("augmented-keras3", keras, lambda: augmented(keras), images),
        ("augmented-tf-keras", tf_keras, lambda: augmented(tf_keras), images),
    ]:
        model = randomized(build())
        source = root / f"{name}.{'keras' if k is keras else 'h5'}"
        if k is keras:
            model.save(source)
        else:
            model.save(source, save_format="h5")
        out[name] = (source, x, np.asarray(model(x, training=False)))
    return out


@pytest.fixture(scope="module")
def site(models, tmp_path_factory):
    from .conftest import Project

    project = Project(tmp_path_factory.mktemp("attention-site") / "proj")
    project.root.mkdir(parents=True, exist_ok=True)
    (project.root / "probe.js").write_text(PROBE)
    for name, (source, _, _) in models.items():
        target = project.root / "models" / source.name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(source.read_bytes())
    for backend in ("cpu", "wasm"):
        # The transformers in a widget that only holds the model (the page gets the full
        # runtime, as for any author's widget); the augmentation models in the image widget,
        # on a page of their own, which gets the lean runtime.
        for page, widget, kind in (("text", "probe", "transformer"), ("images", "image\nlabels: [a, b, c]", "augmented")):
            blocks = [f"```tfjs\nmodel: models/{source.name}\nwidget: {widget}\nbackend: {backend}\nquantize: none\n"
                      f"converter: native\n```\n" for name, (source, _, _) in models.items() if name.startswith(kind)]
            project.page(f"{backend}-{page}.md", f"# {backend}\n\n" + "\n".join(blocks))
    project.config({"widgets": {"probe": "probe.js"}})
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    return project.site


# Measured worst |Chromium - Keras| over the four models' softmax outputs: 1.2e-7 (cpu and wasm).
TOL = 3e-7


@pytest.mark.parametrize("backend", ["cpu", "wasm"])
@pytest.mark.parametrize(("page_name", "widget", "runtime"), [("text", "probe", "full"), ("images", "image", "lean")])
def test_models_match_keras_in_chromium(site, models, serve, open_page, backend, page_name, widget, runtime):
    page, log = open_page(serve(site) + f"{backend}-{page_name}/", wait_ready=f"tfjs-{widget}-2")
    assert page.evaluate("window.tfjsWidgets.backend().name") == backend
    assert page.evaluate("window.tfjsWidgets.backend().runtime") == runtime
    kind = "transformer" if page_name == "text" else "augmented"
    chosen = [(name, entry) for name, entry in models.items() if name.startswith(kind)]
    for i, (name, (_, x, expected)) in enumerate(chosen, 1):
        page.evaluate("(id) => window.tfjsWidgets.ready(id)", f"tfjs-{widget}-{i}")
        got = np.asarray(page.evaluate("([id, x]) => window.tfjsWidgets.predict(id, x)", [f"tfjs-{widget}-{i}", x.tolist()]))
        assert got.shape == expected.shape, name
        error = float(np.abs(got - expected).max())
        assert error <= TOL, (name, error)
    assert not log.page_errors


def test_what_the_converter_wrote_runs_everywhere_without_einsum(site):
    """No Einsum (nor Erfc) in the transformer: every backend runs it."""
    from mkdocs_tfjs.convert import kernels

    for model_json in site.rglob("model.json"):
        ops = kernels.graph_ops(json.loads(model_json.read_text()))
        assert not ops & {"Einsum", "Erfc"}, model_json
        assert kernels.runnable_backends(ops) == list(kernels.backends()), (model_json, ops)
