"""The image widget: Keras-exact preprocessing in the page, uploads, drops, samples, size."""

from __future__ import annotations

import base64
import json
import re
import shutil

import numpy as np
import pytest

from mkdocs_tfjs.preprocess import (
    PREPROCESS_MODES,
    apply_preprocess,
    composite_on_white,
    preprocess_image,
    resize_image,
)

from .conftest import Project, ROOT, inferences, place, training_script, wait_idle_after
from .test_build import widget_config

emoji_training = training_script("emoji")
load_image = emoji_training.load_image  # Pillow's decoding: the reference for the page's

EMOJI_MODEL = ROOT / "models" / "emoji" / "classifier.keras"
CLASSES = ROOT / "models" / "emoji" / "classes.json"


# -- the Python reference is Keras's own preprocessing ----------------------


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_reference_modes_equal_keras_preprocess_input(mode):
    from keras.applications import imagenet_utils

    x = np.random.default_rng(0).uniform(0, 255, size=(2, 7, 5, 3))
    expected = imagenet_utils.preprocess_input(x.copy(), mode=mode)
    # Keras computes in float64 here too: measured difference 0 (caffe) to 1e-15.
    assert np.abs(apply_preprocess(x, mode) - expected).max() <= 1e-12


def test_named_modes_equal_their_keras_applications_and_layers():
    import keras
    from keras.applications import mobilenet_v2, vgg16

    x = np.random.default_rng(1).uniform(0, 255, size=(3, 4, 3))
    assert np.abs(apply_preprocess(x, "mobilenet") - mobilenet_v2.preprocess_input(x.copy())).max() <= 1e-12
    assert np.abs(apply_preprocess(x, "vgg16") - vgg16.preprocess_input(x.copy())).max() <= 1e-12
    # `scale` is what a Rescaling(1/255) layer does (float32 in Keras: 6e-8 measured).
    scaled = keras.ops.convert_to_numpy(keras.layers.Rescaling(1 / 255)(x.astype("float32")))
    assert np.abs(apply_preprocess(x, "scale") - scaled).max() <= 1e-6
    assert np.array_equal(apply_preprocess(x, "none"), x)


@pytest.mark.parametrize(("source", "target"), [((53, 41), (24, 20)), ((29, 37), (24, 20)), ((9, 17), (24, 20)),
                                                ((200, 300), (64, 64)), ((112, 112), (20, 20))])
def test_reference_area_resize_equals_tensorflows(source, target):
    import tensorflow as tf

    rgb = np.random.default_rng(3).uniform(0, 255, size=(*source, 3))
    expected = tf.image.resize(rgb[None], target, method="area").numpy()[0]
    # TensorFlow's area resize computes in float32 whatever it is given: measured up to
    # 5.0e-4 on the 0-255 scale (2e-6 of it). A weight off by one source pixel is units.
    assert np.abs(resize_image(rgb, *target) - expected).max() <= 1e-3


# -- test images ----------------------------------------------------------------


def make_images(folder):
    """RGB, RGBA with soft alpha, grey, grey+alpha, palette, odd sizes; PNG files."""
    from PIL import Image

    rng = np.random.default_rng(7)
    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:53, 0:41]
    rgba = np.stack([xx * 6, yy * 4, (xx + yy) * 3, np.clip(yy * 5, 0, 255)], axis=-1).astype("uint8")
    images = {
        "rgb_37x29.png": Image.fromarray(rng.integers(0, 256, size=(29, 37, 3), dtype="uint8")),
        "rgba_41x53.png": Image.fromarray(rgba, "RGBA"),
        "grey_31x45.png": Image.fromarray(rng.integers(0, 256, size=(45, 31), dtype="uint8"), "L"),
        "greyalpha_20x20.png": Image.fromarray(np.stack([rng.integers(0, 256, (20, 20)),
                                                         rng.integers(0, 256, (20, 20))], -1).astype("uint8"), "LA"),
        "palette_17x9.png": Image.fromarray(rng.integers(0, 256, size=(9, 17, 3), dtype="uint8")).convert("P"),
        "big_300x200.png": Image.fromarray(rng.integers(0, 256, size=(200, 300, 3), dtype="uint8")),
    }
    for name, image in images.items():
        image.save(folder / name)
    return [folder / name for name in images]


@pytest.fixture(scope="module")
def image_site(tmp_path_factory):
    """Widgets on tiny 24 x 20 RGB models: every preprocess mode, both resizes, three output kinds."""
    import keras

    root = tmp_path_factory.mktemp("image") / "proj"
    project = Project(root)
    keras.utils.set_random_seed(2)
    (root / "models").mkdir(parents=True)
    models = {}
    for name, activation in (("tiny", "softmax"), ("sigmoid", "sigmoid"), ("logits", None)):
        model = keras.Sequential([keras.Input((24, 20, 3)), keras.layers.Conv2D(4, 3, activation="relu"),
                                  keras.layers.GlobalAveragePooling2D(),
                                  keras.layers.Dense(3, activation=activation)])
        model.save(root / "models" / f"{name}.keras")
        models[name] = model
    images = make_images(root / "docs" / "img")
    shutil.copy(images[0], root / "docs" / "img" / "cat #1.png")
    labels = '["cat", "<img src=x onerror=window.__xss=1>", "dog"]'
    blocks = []
    for widget_id, (mode, resize, _, model) in WIDGETS.items():
        blocks.append(f"```tfjs\nmodel: models/{model}.keras\nwidget: image\nid: {widget_id}\n"
                      f"preprocess: {mode}\nresize: {resize}\nlabels: {labels}\nquantize: none\n"
                      f"samples: [docs/img/rgb_37x29.png, 'docs/img/cat #1.png']\n```\n")
    project.page("index.md", "\n".join(blocks))
    project.config()
    result = project.build()
    assert result.returncode == 0, result.output
    return project, images, models


# id: (preprocess, resize, value range of the model input, model)
WIDGETS = {"w-mobilenet": ("mobilenet", "stretch", 2.0, "tiny"), "w-tf": ("tf", "center-crop", 2.0, "tiny"),
           "w-caffe": ("caffe", "center-crop", 255.0, "tiny"), "w-vgg16": ("vgg16", "stretch", 255.0, "tiny"),
           "w-torch": ("torch", "center-crop", 1 / 0.225, "tiny"), "w-scale": ("scale", "stretch", 1.0, "tiny"),
           "w-none": ("none", "stretch", 255.0, "tiny"),
           "w-sigmoid": ("scale", "stretch", 1.0, "sigmoid"), "w-logits": ("scale", "stretch", 1.0, "logits")}


def upload(page, widget_id: str, *paths) -> dict:
    """Choose each file in turn (without waiting between them); return what the widget last saw."""
    before = inferences(page, widget_id)
    for path in paths:
        page.locator(f"#{widget_id} .tfjs-file").set_input_files(str(path))
    wait_idle_after(page, widget_id, before)
    return page.evaluate(f"window.tfjsWidgets.inspect('{widget_id}')")


def shown(page, widget_id: str) -> list[tuple[str, float]]:
    return [(item["label"], float(item["p"])) for item in page.locator(f"#{widget_id} .tfjs-topk-item").evaluate_all(
        "items => items.map(i => ({label: i.querySelector('.tfjs-topk-label').textContent, "
        "p: i.dataset.probability}))")]


@pytest.fixture(scope="module")
def image_page(image_site, browser):
    """One page with every image widget, all loaded (a page per test would load eight models again)."""
    from .conftest import StaticServer

    project, _, _ = image_site
    server = StaticServer(project.site)
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server.url)
    for widget_id in WIDGETS:
        page.evaluate("id => window.tfjsWidgets.ready(id)", widget_id)
    yield page, errors
    context.close()
    server.close()


@pytest.mark.browser
@pytest.mark.parametrize("widget_id", list(WIDGETS))
def test_the_page_feeds_the_model_what_pillow_python_and_keras_compute(image_site, image_page, widget_id):
    project, images, models = image_site
    mode, resize, value_range, model = WIDGETS[widget_id]
    page, errors = image_page
    worst_rgb = worst_input = 0.0
    for path in images:
        seen = upload(page, widget_id, path)
        pixels = load_image(path)
        # Decoding: the page's pixels are Pillow's, exactly (PNG is lossless).
        from PIL import Image

        with Image.open(path) as image:
            rgba = np.asarray(image.convert("RGBA"))
        assert np.array_equal(np.asarray(seen["decoded"], dtype=np.uint8).reshape(rgba.shape), rgba), path.name
        rgb = resize_image(composite_on_white(pixels), 24, 20, resize)
        worst_rgb = max(worst_rgb, np.abs(np.asarray(seen["rgb"]).reshape(24, 20, 3) - rgb).max())
        expected = preprocess_image(pixels, 24, 20, resize, mode)
        browser_input = np.asarray(seen["input"]).reshape(24, 20, 3)
        worst_input = max(worst_input, np.abs(browser_input - expected).max() / value_range)
        # The probabilities shown are Keras's on that input (float32 weights): softmax and
        # sigmoid outputs as they are, logits through a softmax.
        keras_out = models[model].predict(expected[None].astype("float32"), verbose=0)[0].astype(float)
        if model == "logits":
            keras_out = np.exp(keras_out - keras_out.max()) / np.exp(keras_out - keras_out.max()).sum()
        assert np.abs(np.asarray(seen["probabilities"]) - keras_out).max() <= 1e-5, path.name
    # Measured: 8.5e-14 on the resized pixels (float64 in both), 3.0e-8 of the value range on
    # the model input (the page hands the model float32).
    assert worst_rgb <= 1e-6, worst_rgb
    assert worst_input <= 1e-6, worst_input
    assert not errors


@pytest.mark.browser
def test_sigmoid_outputs_are_shown_as_they_are_not_renormalised(image_site, image_page):
    project, images, models = image_site
    page, _ = image_page
    seen = upload(page, "w-sigmoid", images[0])
    expected = models["sigmoid"].predict(preprocess_image(load_image(images[0]), 24, 20, "stretch", "scale")[None]
                                         .astype("float32"), verbose=0)[0]
    bars = dict(shown(page, "w-sigmoid"))
    labels = ["cat", "<img src=x onerror=window.__xss=1>", "dog"]
    assert sorted(bars) == sorted(labels)
    assert all(abs(bars[labels[i]] - expected[i]) <= 1e-5 for i in range(3))
    assert abs(sum(seen["probabilities"]) - 1) > 1e-3, "independent probabilities, not a softmax"


@pytest.mark.browser
def test_pictures_chosen_in_a_burst_end_on_the_last_one_with_one_extra_inference(image_site, image_page):
    _, images, _ = image_site
    page, errors = image_page
    before = inferences(page, "w-none")
    # Three pictures while the first is classified: the first runs, then only the newest.
    page.evaluate("""async ([names]) => {
        const input = document.querySelector('#w-none .tfjs-file');
        const files = await Promise.all(names.map(async (name) => new File(
            [await (await fetch('img/' + name)).arrayBuffer()], name, {type: 'image/png'})));
        for (const file of files) {  // one after another, in one task
            const transfer = new DataTransfer();
            transfer.items.add(file);
            input.files = transfer.files;
            input.dispatchEvent(new Event('change'));
        }
    }""", [[p.name for p in images[:4]]])
    stats = wait_idle_after(page, "w-none", before)
    assert stats["inferences"] == before + 2
    seen = page.evaluate("window.tfjsWidgets.inspect('w-none')")
    assert seen["name"] == images[3].name
    assert page.locator("#w-none .tfjs-status").text_content().startswith(images[3].name + ":")
    assert not errors


# Instrumentation: every ImageBitmap the page creates (a closed one has width 0), and a
# preview canvas that fails once, as a canvas over the browser's size limits does.
BITMAP_PROBE = """
window.__bitmaps = [];
const create = window.createImageBitmap;
window.createImageBitmap = (...args) => create(...args).then(b => { window.__bitmaps.push(b); return b; });
const getContext = HTMLCanvasElement.prototype.getContext;
let failed = false;
HTMLCanvasElement.prototype.getContext = function (...args) {
    if (!failed && this.classList.contains('tfjs-img-preview')) { failed = true; throw new Error('canvas lost'); }
    return getContext.apply(this, args);
};
"""


@pytest.mark.browser
def test_every_decoded_bitmap_is_closed_even_when_showing_it_fails(image_site, serve, open_page):
    project, images, _ = image_site
    page, log = open_page(serve(project.site), wait_ready="w-none", init_script=BITMAP_PROBE)
    page.locator("#w-none .tfjs-file").set_input_files(str(images[1]))  # the preview fails
    page.wait_for_function("document.querySelector('#w-none .tfjs-status').textContent.includes('canvas lost') "
                           "&& !window.tfjsWidgets.stats('w-none').busy")
    assert page.locator("#w-none .tfjs-status").text_content() == (
        f"Could not read {images[1].name} as a picture (canvas lost).")
    upload(page, "w-none", images[2])  # and the next picture works
    assert page.evaluate("window.tfjsWidgets.inspect('w-none').name") == images[2].name
    assert page.evaluate("window.__bitmaps.map(b => b.width)") == [0, 0]
    assert not log.page_errors


@pytest.mark.browser
def test_a_picture_that_cannot_be_decoded_clears_the_previous_one_and_its_bars(
        image_site, image_page, tmp_path):
    # Bug caught: a file that is no picture left the previous picture and its classes on
    # screen beside the error, as if they were the answer for the new file.
    _, images, _ = image_site
    page, _ = image_page
    upload(page, "w-scale", images[0])
    assert page.locator("#w-scale .tfjs-img-preview").is_visible()
    assert page.locator("#w-scale .tfjs-topk-item").count() == 3
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"these are notes, not a PNG")
    page.locator("#w-scale .tfjs-file").set_input_files(str(bad))
    page.wait_for_function("document.querySelector('#w-scale .tfjs-status').textContent"
                           ".startsWith('Could not read notes.png') "
                           "&& !window.tfjsWidgets.stats('w-scale').busy")
    # Chromium's words for an undecodable file follow; the rest is the widget's.
    assert page.locator("#w-scale .tfjs-status").text_content().startswith(
        "Could not read notes.png as a picture (")
    assert page.locator("#w-scale .tfjs-img-preview").is_hidden()
    assert page.locator("#w-scale .tfjs-img-hint").is_visible()
    assert page.locator("#w-scale .tfjs-topk-item").count() == 0
    assert page.locator("#w-scale .tfjs-img-time").text_content() == ""
    assert page.evaluate("window.tfjsWidgets.inspect('w-scale')") is None
    # And the next picture shows as before.
    upload(page, "w-scale", images[2])
    assert page.locator("#w-scale .tfjs-img-preview").is_visible()
    assert page.locator("#w-scale .tfjs-topk-item").count() == 3


@pytest.mark.browser
def test_exif_orientation_is_honoured(image_site, image_page, tmp_path):
    from PIL import Image

    page, _ = image_page
    # A landscape picture, red on the left, stored with EXIF "rotate 90° clockwise".
    pixels = np.zeros((20, 40, 3), dtype="uint8")
    pixels[:, :20] = (255, 0, 0)
    pixels[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=95)
    assert load_image(path).shape[:2] == (40, 20), "Pillow applies the orientation"
    seen = upload(page, "w-none", path)
    assert (seen["width"], seen["height"]) == (20, 40)
    rgb = np.asarray(seen["rgb"]).reshape(24, 20, 3)
    # Rotated clockwise, the red half is on top.
    assert rgb[:8, :, 0].mean() > 200 and rgb[-8:, :, 2].mean() > 200


@pytest.mark.browser
def test_a_label_with_html_is_text(image_site, image_page):
    _, images, _ = image_site
    page, _ = image_page
    upload(page, "w-caffe", images[0])
    assert [label for label, _ in shown(page, "w-caffe")] != []
    assert "<img src=x onerror=window.__xss=1>" in page.locator("#w-caffe .tfjs-topk").text_content()
    assert page.locator("#w-caffe .tfjs-topk img").count() == 0
    assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0
    assert page.evaluate("window.__xss") is None
    assert re.fullmatch(r"Inference: \d+\.\d ms", page.locator("#w-caffe .tfjs-img-time").text_content())


@pytest.mark.browser
def test_a_sample_whose_name_needs_encoding_shows_and_classifies(image_site, serve, open_page):
    project, images, _ = image_site
    page, log = open_page(serve(project.site), wait_ready="w-scale")
    thumbnail = page.locator("#w-scale .tfjs-sample img").nth(1)
    assert thumbnail.get_attribute("alt") == "Sample: cat #1.png"
    thumbnail.evaluate("img => img.complete || new Promise(r => img.addEventListener('load', r))")
    assert thumbnail.evaluate("img => img.naturalWidth") == 37
    before = inferences(page, "w-scale")
    page.locator("#w-scale .tfjs-sample").nth(1).click()
    wait_idle_after(page, "w-scale", before)
    seen = page.evaluate("window.tfjsWidgets.inspect('w-scale')")
    assert seen["name"] == "cat #1.png" and (seen["width"], seen["height"]) == (37, 29)
    assert [r for r in log.requests if "cat" in r and "%20%231.png" not in r] == []
    assert not log.console_errors and not log.page_errors


# -- the example model, in the demo page -----------------------------------------


def held_out_pick():
    """A Twitter-style emoji (never trained on) that Keras classifies right, and its category."""
    import keras

    names = json.loads(CLASSES.read_text())
    model = keras.models.load_model(EMOJI_MODEL, compile=False)
    for codepoint in ("1f431.png", "1f355.png", "1f697.png", "1f3c0.png", "1f60a.png"):
        entry = next(e for e in emoji_training.emoji_list() if e["image"] == codepoint)
        path = emoji_training.image_path("twitter", codepoint)
        x = preprocess_image(load_image(path), 64, 64, "stretch", "mobilenet")[None].astype("float32")
        probabilities = model.predict(x, verbose=0)[0]
        predicted = names[str(int(probabilities.argmax()))]
        if predicted == entry["category"]:
            return path, predicted, [(names[str(i)], probabilities[i]) for i in np.argsort(-probabilities)[:5]]
    pytest.fail("Keras gets none of the candidate held-out emoji right")


@pytest.mark.browser
def test_demo_classifies_a_held_out_emoji_by_file_input_drop_paste_and_sample(demo_url, open_page):
    path, category, keras_top5 = held_out_pick()
    page, log = open_page(demo_url + "demos/image/", wait_ready="tfjs-image-1")

    def check(source: str) -> None:
        top = shown(page, "tfjs-image-1")
        assert top[0][0] == category, source
        # Keras's top five on the same picture, with its probabilities (float16 weights:
        # measured worst difference 1.5e-5).
        assert [label for label, _ in top] == [label for label, _ in keras_top5], source
        assert max(abs(p - q) for (_, p), (_, q) in zip(top, keras_top5)) <= 2e-4, source

    upload(page, "tfjs-image-1", path)
    check("file input")
    data = base64.b64encode(path.read_bytes()).decode()
    for event in ("drop", "paste"):
        page.locator("#tfjs-image-1 .tfjs-topk").evaluate("list => list.replaceChildren()")
        before = inferences(page, "tfjs-image-1")
        page.evaluate("""([data, event]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], 'dropped.png', {type: 'image/png'}));
            const target = document.querySelector('#tfjs-image-1 .tfjs-img-drop');
            target.dispatchEvent(event === 'drop'
                ? new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true})
                : new ClipboardEvent('paste', {clipboardData: transfer, bubbles: true, cancelable: true}));
        }""", [data, event])
        wait_idle_after(page, "tfjs-image-1", before)
        check(event)

    before = inferences(page, "tfjs-image-1")
    page.locator("#tfjs-image-1 .tfjs-sample").first.click()
    wait_idle_after(page, "tfjs-image-1", before)
    assert page.evaluate("window.tfjsWidgets.inspect('tfjs-image-1').name") == "twemoji-1f436.png"
    assert shown(page, "tfjs-image-1")[0][0] == "Animals & Nature"
    assert not log.page_errors and not log.console_errors


# -- build checks -----------------------------------------------------------------


@pytest.fixture
def emoji_project(project, shared_cache):
    place(project, EMOJI_MODEL, "models/emoji/classifier.keras")
    place(project, CLASSES, "models/emoji/classes.json")
    project.config({"cache_dir": str(shared_cache)})
    return project


def test_example_model_ships_under_two_megabytes_with_its_labels(emoji_project):
    emoji_project.page("index.md", "```tfjs\nmodel: models/emoji/classifier.keras\nwidget: image\n"
                       "labels: models/emoji/classes.json\npreprocess: mobilenet\n```\n")
    result = emoji_project.build()
    assert result.returncode == 0, result.output
    config = widget_config((emoji_project.site / "index.html").read_text(), "tfjs-image-1")
    assert config["shippedBytes"] <= 2_000_000
    assert config["labels"] == [json.loads(CLASSES.read_text())[str(i)] for i in range(len(config["labels"]))]
    assert (config["height"], config["width"], config["topk"], config["preprocess"]) == (64, 64, 5, "mobilenet")


def test_image_label_count_mismatch_gives_both_numbers(emoji_project):
    emoji_project.page("index.md", "```tfjs\nmodel: models/emoji/classifier.keras\nwidget: image\n"
                       "labels: [a, b]\n```\n")
    result = emoji_project.build()
    assert result.returncode != 0
    assert "`labels` has 2 labels but `models/emoji/classifier.keras` has 9 outputs" in result.output


def test_a_model_without_an_rgb_image_input_is_refused(project, shared_cache):
    project.config({"cache_dir": str(shared_cache)})
    place(project, ROOT / "models" / "digits" / "digits.keras", "models/digits.keras")
    project.page("index.md", "```tfjs\nmodel: models/digits.keras\nwidget: image\n```\n")
    result = project.build()
    assert result.returncode != 0
    assert ("does not fit the image widget: it takes [batch, 28, 28, 1] and returns [batch, 10], but the "
            "image widget needs one colour image [batch, H, W, 3]") in result.output


def test_size_budget_names_the_model_and_the_ways_down_and_strict_fails(emoji_project):
    emoji_project.config({"size_budget": "500 KB", "cache_dir": str(emoji_project.root / "cache")})
    emoji_project.page("index.md", "# Emoji\n\n```tfjs\nmodel: models/emoji/classifier.keras\nwidget: image\n"
                       "labels: models/emoji/classes.json\n```\n")
    relaxed = emoji_project.build()
    assert relaxed.returncode == 0
    assert "docs/index.md:3: models/emoji/classifier.keras converts to" in relaxed.output
    assert "over the size_budget of 500.0 KB" in relaxed.output
    assert "`quantize: uint8`" in relaxed.output and "a smaller architecture" in relaxed.output
    assert emoji_project.build("--strict").returncode != 0
    html = (emoji_project.site / "index.html").read_text()
    assert "original" in html  # the model card shows shipped and original bytes


def test_samples_are_copied_into_the_site_and_missing_ones_are_errors(emoji_project):
    (emoji_project.root / "docs").mkdir(exist_ok=True)
    shutil.copy(emoji_training.image_path("twitter", "1f431.png"), emoji_project.root / "docs" / "cat.png")
    emoji_project.page("index.md", "```tfjs\nmodel: models/emoji/classifier.keras\nwidget: image\n"
                       "samples: [docs/cat.png]\n```\n")
    assert emoji_project.build().returncode == 0
    config = widget_config((emoji_project.site / "index.html").read_text(), "tfjs-image-1")
    assert (emoji_project.site / config["samples"][0]["url"]).read_bytes() == (
        emoji_project.root / "docs" / "cat.png").read_bytes()
    emoji_project.page("index.md", "```tfjs\nmodel: models/emoji/classifier.keras\nwidget: image\n"
                       "samples: [docs/dog.png]\n```\n")
    result = emoji_project.build()
    assert result.returncode != 0 and "`samples: docs/dog.png` does not exist" in result.output


def test_every_preprocess_mode_runs_in_the_browser():
    # The parity test above runs one widget per mode: a new mode needs a widget there.
    assert {mode for mode, *_ in WIDGETS.values()} == set(PREPROCESS_MODES)
