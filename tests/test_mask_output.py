"""The `mask` output part with the `image` input: build-time checks at the keys' lines, and
the classes the page draws (read back from its canvas) against Keras's argmax on the same input.

Also the "Pictures out" demo page: each of its widgets draws what its Keras model returns."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from .conftest import (
    Project,
    assert_build_fails_at_key,
    inferences,
    project_with_models,
    saved,
    seeded_keras,
    tfjs_block,
    wait_idle_after,
)

HEIGHT, WIDTH, CLASSES = 12, 10, 4
LABELS = ["sky", "grass", "road", "<b>car</b>"]
# Tableau 10, as the mask part colours classes 0-3.
COLOURS = [(0x4E, 0x79, 0xA7), (0xF2, 0x8E, 0x2B), (0xE1, 0x57, 0x59), (0x76, 0xB7, 0xB2)]
# The page's scores against Keras's: 4.5e-8 measured (float32, CPU backend).
SCORE_TOLERANCE = 1e-7
# Pixels whose two best Keras scores are closer than this are ties: TF.js may order them either
# way (twice the score tolerance would do; the closest pair measured is 1.8e-4 apart).
TIE = 1e-6
# The demo models ship as float16. The segmenter's page scores differ from Keras's by up to
# 1.6e-3 (measured on the three samples), so a top-two pair closer than twice that is a tie;
# none of the pixels flipped. The decoder's digit is within 1 grey level of Keras's (measured 1).
DEMO_TIE = 4e-3
DEMO_GREY_LEVELS = 1


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A softmax segmenter of 12 x 10 RGB pictures into 4 classes, and misfits for the errors."""
    keras = seeded_keras(18)
    built = {
        "segmenter": keras.Sequential([
            keras.Input((HEIGHT, WIDTH, 3)),
            keras.layers.Conv2D(6, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(CLASSES, 3, padding="same", activation="softmax")]),
        # The mask is smaller than the picture (no padding).
        "shrinks": keras.Sequential([keras.Input((HEIGHT, WIDTH, 3)),
                                     keras.layers.Conv2D(CLASSES, 3, activation="softmax")]),
        "noise": keras.Sequential([keras.Input((4,)), keras.layers.Dense(HEIGHT * WIDTH * CLASSES),
                                   keras.layers.Reshape((HEIGHT, WIDTH, CLASSES))]),
    }
    return saved(tmp_path_factory.mktemp("masks"), built)


def _project(root, models, shared_cache=None) -> Project:
    return project_with_models(root, models["dir"], ("segmenter", "shrinks", "noise"), shared_cache)


BAD = [
    ({"model": "models/segmenter.keras", "widget": "image", "show": "mask",
      "labels": ["a", "b", "c"]}, "labels",
     "`labels` has 3 labels but `models/segmenter.keras`'s mask has 4 classes"),
    ({"model": "models/shrinks.keras", "widget": "image", "show": "mask"}, "show",
     "`models/shrinks.keras` does not fit `show: mask`: it takes [batch, 12, 10, 3] and returns "
     "[batch, 10, 8, 4]"),
    ({"model": "models/noise.keras", "widget": "generator", "show": "mask"}, "show",
     "`models/noise.keras` does not fit `show: mask`: it takes [batch, 4] and returns "
     "[batch, 12, 10, 4]"),
    ({"model": "models/segmenter.keras", "widget": "image", "show": "mask", "opacity": 1.5},
     "opacity", "`opacity`: 1.5 is above the maximum 1"),
    # Noise is no picture to draw the classes over.
    ({"model": "models/noise.keras", "widget": "palette", "show": "mask"}, "show",
     "`models/noise.keras` does not fit `show: mask`: it takes [batch, 4]"),
    ({"model": "models/segmenter.keras", "widget": "image", "show": "mask", "topk": 2}, "topk",
     "`topk` applies to `show: classes`, and this block has `show: mask`; remove `topk`"),
    ({"model": "models/segmenter.keras", "widget": "image", "show": "mask",
      "outputs": "probabilities"}, "outputs",
     "`outputs` applies to `show: classes`, and this block has `show: mask`; remove `outputs`"),
]


@pytest.mark.parametrize(("keys", "key", "message"), BAD, ids=[m[:40] for _, _, m in BAD])
def test_mask_mistakes_fail_the_build_at_the_key(tmp_path, shared_cache, models, keys, key,
                                                 message):
    # Bugs caught: a wrong label count or a misfit shape that builds and draws garbage, or an
    # error that points at the block's first line instead of the key to fix.
    assert_build_fails_at_key(_project(tmp_path / "proj", models, shared_cache), keys, key, message)


@pytest.fixture(scope="module")
def site(tmp_path_factory, models):
    project = _project(tmp_path_factory.mktemp("mask") / "proj", models)
    rng = np.random.default_rng(18)
    pictures = []
    for name, size in (("same.png", (HEIGHT, WIDTH)), ("bigger.png", (37, 29))):
        path = project.root / "docs" / "img" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, size=(*size, 3), dtype="uint8")).save(path)
        pictures.append(path)
    project.page("index.md", "# Masks\n\n" + tfjs_block(
        model="models/segmenter.keras", widget="image", show="mask", id="seg", preprocess="scale",
        labels=LABELS, opacity=0.3))
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    return project.site, pictures


def _upload(page, path) -> dict:
    before = inferences(page, "seg")
    page.locator("#seg .tfjs-file").set_input_files(str(path))
    wait_idle_after(page, "seg", before)
    return page.evaluate("window.tfjsWidgets.inspect('seg')")


def _canvas(page, selector):
    return np.asarray(page.evaluate(
        """sel => { const c = document.querySelector(sel);
             return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }""",
        selector), np.float64).reshape(HEIGHT, WIDTH, 4)


@pytest.mark.browser
def test_the_class_drawn_at_every_pixel_is_keras_argmax(site, serve, open_page, models):
    # Bugs caught: rows and columns swapped, a class off by one, the last channel read as
    # the first, the colour of one class given to another, a picture under the mask that is
    # not what the model saw.
    site_dir, pictures = site
    page, log = open_page(serve(site_dir), wait_ready="seg")
    for path in pictures:
        last = _upload(page, path)
        model_input = np.asarray(last["input"], np.float32).reshape(1, HEIGHT, WIDTH, 3)
        want = np.asarray(models["segmenter"].predict(model_input, verbose=0))[0]
        assert np.abs(np.asarray(last["output"]) - want).max() < SCORE_TOLERANCE
        drawn = _canvas(page, "#seg .tfjs-mask-classes")
        assert np.all(drawn[..., 3] == 255)
        colours = np.asarray(COLOURS, np.float64)
        # Every pixel is one of the classes' colours, exactly.
        matches = np.all(drawn[..., None, :3] == colours[None, None], axis=-1)
        assert np.all(matches.sum(-1) == 1), path.name
        classes = matches.argmax(-1)
        top2 = np.sort(want, axis=-1)[..., -2:]
        clear = (top2[..., 1] - top2[..., 0]) > TIE
        assert clear.all() or clear.mean() > 0.95
        assert np.array_equal(classes[clear], want.argmax(-1)[clear]), path.name
        assert len(np.unique(classes)) >= 2, "a model that paints one class tests little"
        under = _canvas(page, "#seg .tfjs-mask-picture")
        rgb = np.asarray(last["rgb"]).reshape(HEIGHT, WIDTH, 3)
        assert np.abs(under[..., :3] - np.rint(rgb)).max() == 0
    # The legend: each label as text (not HTML) beside its colour, and each class's share.
    legend = page.locator("#seg .tfjs-mask-legend li").evaluate_all(
        "items => items.map(i => [i.querySelector('.tfjs-mask-label').textContent, "
        "getComputedStyle(i.querySelector('.tfjs-mask-swatch')).backgroundColor, "
        "i.querySelector('.tfjs-mask-share').textContent])")
    assert [label for label, _, _ in legend] == LABELS
    assert [swatch for _, swatch, _ in legend] == [f"rgb({r}, {g}, {b})" for r, g, b in COLOURS]
    shares = np.bincount(classes.ravel(), minlength=CLASSES) * 100 / classes.size
    # JavaScript's toFixed(0) rounds halves up (2.5% is 3%), Python's format to even.
    assert [share for _, _, share in legend] == [f"{int(np.floor(s + 0.5))}%" for s in shares]
    assert not log.errors, log.errors


@pytest.mark.browser
def test_the_opacity_slider_fades_the_classes_over_the_picture(site, serve, open_page):
    # Bug caught: a slider that moves but leaves the mask as opaque as the block's `opacity`.
    site_dir, pictures = site
    page, log = open_page(serve(site_dir), wait_ready="seg")
    opacity = "() => getComputedStyle(document.querySelector('#seg .tfjs-mask-classes')).opacity"
    assert page.evaluate(opacity) == "0.3"
    page.locator("#seg .tfjs-mask-opacity").fill("80")
    assert page.evaluate(opacity) == "0.8"
    assert not log.errors, log.errors


@pytest.mark.browser
def test_two_hundred_masks_leave_the_tensor_count_flat(site, serve, open_page):
    # Bug caught: a tensor of each inference (the input, the scores) left undisposed.
    site_dir, pictures = site
    page, log = open_page(serve(site_dir), wait_ready="seg")
    _upload(page, pictures[0])
    baseline = page.evaluate("window.tfjsWidgets.memory().numTensors")
    for i in range(200):
        # Alternate: choosing the file the input already holds fires no change event.
        _upload(page, pictures[(i + 1) % 2])
    assert inferences(page, "seg") == 201
    assert page.evaluate("window.tfjsWidgets.memory().numTensors") == baseline
    assert not log.errors, log.errors


def _sample_click(page, widget_id: str, index: int) -> dict:
    before = inferences(page, widget_id)
    page.locator(f"#{widget_id} .tfjs-sample[data-index='{index}']").click()
    wait_idle_after(page, widget_id, before)
    return page.evaluate(f"window.tfjsWidgets.inspect('{widget_id}')")


@pytest.mark.browser
def test_the_demo_segments_held_out_digits_as_keras_does(demo_url, open_page):
    # Bugs caught: a demo model that converts or quantizes into another segmentation than the
    # Keras model's, samples that no longer load, a mask drawn off the picture the model saw.
    import keras

    from .conftest import ROOT

    model = keras.saving.load_model(ROOT / "models/digit-segmenter/segmenter.keras")
    page, log = open_page(demo_url + "demos/pictures/", wait_ready="tfjs-image-1")
    colours = np.asarray([(0x4E, 0x79, 0xA7), (0xF2, 0x8E, 0x2B), (0xE1, 0x57, 0x59)], np.float64)
    for index in range(3):
        last = _sample_click(page, "tfjs-image-1", index)
        model_input = np.asarray(last["input"], np.float32).reshape(1, 28, 28, 3)
        want = np.asarray(model.predict(model_input, verbose=0))[0]
        shown = np.asarray(page.evaluate(
            """() => { const c = document.querySelector('#tfjs-image-1 .tfjs-mask-classes');
                 return Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data); }"""),
            np.float64).reshape(28, 28, 4)
        classes = np.all(shown[..., None, :3] == colours[None, None], axis=-1).argmax(-1)
        top2 = np.sort(want, axis=-1)[..., -2:]
        clear = (top2[..., 1] - top2[..., 0]) > DEMO_TIE
        assert np.array_equal(classes[clear], want.argmax(-1)[clear]), index
        assert clear.mean() > 0.97, index
        assert set(np.unique(classes)) >= {0, 1}, "a held-out digit's strokes were found"
    assert not log.errors, log.errors


@pytest.mark.browser
def test_the_demo_generator_draws_the_vae_decoders_digit(demo_url, open_page):
    # Bug caught: a generator demo whose picture is not the decoder's digit for the noise given.
    import keras

    from .conftest import ROOT

    decoder = keras.saving.load_model(ROOT / "models/digit-vae/decoder.keras")
    page, log = open_page(demo_url + "demos/pictures/", wait_ready="tfjs-generator-1")
    last = page.evaluate("window.tfjsWidgets.inspect('tfjs-generator-1')")
    want = np.asarray(decoder.predict(np.asarray([last["noise"]], np.float32), verbose=0))[0]
    shown = np.asarray(page.evaluate(
        """() => { const c = document.querySelector('#tfjs-generator-1 .tfjs-picture-canvas');
             return Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data); }"""),
        np.float64).reshape(28, 28, 4)
    assert np.abs(shown[..., 0] - np.rint(want[..., 0] * 255)).max() <= DEMO_GREY_LEVELS
    assert not log.errors, log.errors


@pytest.mark.browser
def test_the_demo_denoiser_draws_keras_clean_digit_for_each_sample(demo_url, open_page):
    # Bugs caught: the image input not handing its output to `show: image` (image + image),
    # a picture drawn from the previous sample's output, or off by more than a grey level.
    import keras

    from .conftest import ROOT

    model = keras.saving.load_model(ROOT / "models/digit-denoiser/denoiser.keras")
    page, log = open_page(demo_url + "demos/pictures/", wait_ready="tfjs-image-2")
    for index in range(3):
        last = _sample_click(page, "tfjs-image-2", index)
        model_input = np.asarray(last["input"], np.float32).reshape(1, 28, 28, 3)
        want = np.asarray(model.predict(model_input, verbose=0))[0, ..., 0]
        shown = np.asarray(page.evaluate(
            """() => { const c = document.querySelector('#tfjs-image-2 .tfjs-picture-canvas');
                 return Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data); }"""),
            np.float64).reshape(28, 28, 4)
        assert np.abs(shown[..., 0] - np.rint(want * 255)).max() <= DEMO_GREY_LEVELS, index
        assert last["name"].startswith(f"held-out-{(120, 450, 900)[index]}-")
    assert not log.errors, log.errors


@pytest.mark.browser
def test_the_demo_latent_sliders_draw_the_decoders_digit(demo_url, open_page):
    # Bug caught: a latent-space demo whose picture does not follow the sliders.
    import keras

    from .conftest import ROOT

    decoder = keras.saving.load_model(ROOT / "models/digit-vae/decoder.keras")
    page, log = open_page(demo_url + "demos/pictures/", wait_ready="tfjs-sliders-1")
    for first, second in (("0", "0"), ("-1.5", "2")):
        before = inferences(page, "tfjs-sliders-1")
        page.locator("#tfjs-sliders-1 .tfjs-slider-input").nth(1).fill(second)
        page.locator("#tfjs-sliders-1 .tfjs-slider-input").nth(0).fill(first)
        wait_idle_after(page, "tfjs-sliders-1", before)
        last = page.evaluate("window.tfjsWidgets.inspect('tfjs-sliders-1')")
        assert last["values"] == [float(first), float(second)]
        want = np.asarray(decoder.predict(np.asarray([last["values"]], np.float32), verbose=0))
        shown = np.asarray(page.evaluate(
            """() => { const c = document.querySelector('#tfjs-sliders-1 .tfjs-picture-canvas');
                 return Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data); }"""),
            np.float64).reshape(28, 28, 4)
        assert np.abs(shown[..., 0] - np.rint(want[0, ..., 0] * 255)).max() <= DEMO_GREY_LEVELS
    assert not log.errors, log.errors
