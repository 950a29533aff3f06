"""The image widget: Keras-exact preprocessing in the page, uploads, drops, samples, size."""

from __future__ import annotations

import base64
import json
import shutil

import numpy as np
import pytest

from mkdocs_tfjs.preprocess import (
    PREPROCESS_MODES,
    apply_preprocess,
    composite_on_white,
    load_image,
    preprocess_image,
    resize_image,
)

from .conftest import ROOT, Project, place, training_script
from .test_build import widget_config

emoji_training = training_script("emoji")

EMOJI_MODEL = ROOT / "models" / "emoji" / "classifier.keras"
CLASSES = ROOT / "models" / "emoji" / "classes.json"


# -- the Python reference is Keras's own preprocessing ----------------------


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_reference_modes_equal_keras_preprocess_input(mode):
    from keras.applications import imagenet_utils

    x = np.random.default_rng(0).uniform(0, 255, size=(2, 7, 5, 3)).astype("float32")
    expected = imagenet_utils.preprocess_input(x.copy(), mode=mode)
    assert np.abs(apply_preprocess(x, mode) - expected).max() < 1e-4


def test_named_aliases_match_their_keras_applications():
    from keras.applications import mobilenet_v2, vgg16

    x = np.random.default_rng(1).uniform(0, 255, size=(3, 4, 3)).astype("float32")
    assert np.abs(apply_preprocess(x, "mobilenet") - mobilenet_v2.preprocess_input(x.copy())).max() < 1e-5
    assert np.abs(apply_preprocess(x, "vgg16") - vgg16.preprocess_input(x.copy())).max() < 1e-3


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
    """Widgets on a tiny 24 x 20 RGB model, in several preprocess and resize modes."""
    import keras

    root = tmp_path_factory.mktemp("image") / "proj"
    project = Project(root)
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((24, 20, 3)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3, activation="softmax")])
    (root / "models").mkdir(parents=True)
    model.save(root / "models" / "tiny.keras")
    images = make_images(root / "docs" / "img")
    labels = '["cat", "<img src=x onerror=window.__xss=1>", "dog"]'
    blocks = []
    for widget_id, mode, resize in [("w-mobilenet", "mobilenet", "stretch"), ("w-caffe", "caffe", "center-crop"),
                                    ("w-torch", "torch", "center-crop"), ("w-none", "none", "stretch")]:
        blocks.append(f"```tfjs\nmodel: models/tiny.keras\nwidget: image\nid: {widget_id}\n"
                      f"preprocess: {mode}\nresize: {resize}\nlabels: {labels}\nquantize: none\n"
                      f"samples: [docs/img/rgb_37x29.png]\n```\n")
    project.page("index.md", "\n".join(blocks))
    project.config()
    result = project.build()
    assert result.returncode == 0, result.output
    return project, images, model


MODES = {"w-mobilenet": ("mobilenet", "stretch", 2.0), "w-caffe": ("caffe", "center-crop", 255.0),
         "w-torch": ("torch", "center-crop", 1 / 0.225), "w-none": ("none", "stretch", 255.0)}


def upload(page, widget_id: str, path) -> dict:
    page.locator(f"#{widget_id} .tfjs-file").set_input_files(str(path))
    page.wait_for_function(f"(() => {{ const s = window.tfjsWidgets.inspect('{widget_id}'); "
                           f"return s && s.name === {json.dumps(path.name)}; }})()")
    return page.evaluate(f"window.tfjsWidgets.inspect('{widget_id}')")


@pytest.mark.browser
@pytest.mark.parametrize("widget_id", list(MODES))
def test_the_page_feeds_the_model_what_python_and_keras_compute(image_site, serve, open_page, widget_id):
    project, images, _ = image_site
    mode, resize, value_range = MODES[widget_id]
    page, log = open_page(serve(project.site), wait_ready=widget_id)
    for path in images:
        seen = upload(page, widget_id, path)
        pixels = load_image(path)
        rgb = resize_image(composite_on_white(pixels), 24, 20, resize)
        browser_rgb = np.asarray(seen["rgb"]).reshape(24, 20, 3)
        assert np.abs(browser_rgb / 255 - rgb / 255).max() <= 1e-3, path.name
        expected = preprocess_image(pixels, 24, 20, resize, mode)
        browser_input = np.asarray(seen["input"]).reshape(24, 20, 3)
        # "Within 1e-3 after scaling": differences measured on the [0, 1] pixel scale.
        assert np.abs(browser_input - expected).max() / value_range <= 1e-3, path.name
    assert not log.page_errors


@pytest.mark.browser
def test_exif_orientation_is_honoured(image_site, serve, open_page, tmp_path):
    from PIL import Image

    project, _, _ = image_site
    # A landscape picture, red on the left, stored with EXIF "rotate 90° clockwise".
    pixels = np.zeros((20, 40, 3), dtype="uint8")
    pixels[:, :20] = (255, 0, 0)
    pixels[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=95)
    assert load_image(path).shape[:2] == (40, 20), "Pillow applies the orientation"
    page, _ = open_page(serve(project.site), wait_ready="w-none")
    seen = upload(page, "w-none", path)
    assert (seen["width"], seen["height"]) == (20, 40)
    rgb = np.asarray(seen["rgb"]).reshape(24, 20, 3)
    # Rotated clockwise, the red half is on top.
    assert rgb[:8, :, 0].mean() > 200 and rgb[-8:, :, 2].mean() > 200


@pytest.mark.browser
def test_a_label_with_html_is_text_and_results_are_sorted(image_site, serve, open_page):
    project, images, _ = image_site
    page, _ = open_page(serve(project.site), wait_ready="w-none")
    upload(page, "w-none", images[0])
    items = page.locator("#w-none .tfjs-topk-item")
    probabilities = [float(items.nth(i).get_attribute("data-probability")) for i in range(items.count())]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1 + 1e-6
    assert "<img src=x onerror=window.__xss=1>" in page.locator("#w-none .tfjs-topk").text_content()
    assert page.locator("#w-none .tfjs-topk img").count() == 0
    assert page.evaluate("window.__xss") is None
    assert "Inference:" in page.locator("#w-none .tfjs-img-time").text_content()


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
        predicted = names[str(int(model.predict(x, verbose=0).argmax()))]
        if predicted == entry["category"]:
            return path, predicted
    pytest.fail("Keras gets none of the candidate held-out emoji right")


@pytest.mark.browser
def test_demo_classifies_a_held_out_emoji_by_file_input_drop_paste_and_sample(demo_url, open_page):
    path, category = held_out_pick()
    page, log = open_page(demo_url + "demos/image/", wait_ready="tfjs-image-1")

    def top1() -> str:
        return page.locator("#tfjs-image-1 .tfjs-topk-label").first.text_content()

    page.locator("#tfjs-image-1 .tfjs-file").set_input_files(str(path))
    page.wait_for_function("document.querySelectorAll('#tfjs-image-1 .tfjs-topk-item').length === 5")
    assert top1() == category
    probabilities = [float(x) for x in page.locator("#tfjs-image-1 .tfjs-topk-item").evaluate_all(
        "items => items.map(i => i.dataset.probability)")]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1 + 1e-6

    data = base64.b64encode(path.read_bytes()).decode()
    for event in ("drop", "paste"):
        page.evaluate("window.tfjsWidgets.inspect('tfjs-image-1').name = 'reset'")
        page.evaluate("""([data, event]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], 'dropped.png', {type: 'image/png'}));
            const target = document.querySelector('#tfjs-image-1 .tfjs-img-drop');
            target.dispatchEvent(event === 'drop'
                ? new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true})
                : new ClipboardEvent('paste', {clipboardData: transfer, bubbles: true, cancelable: true}));
        }""", [data, event])
        page.wait_for_function("window.tfjsWidgets.inspect('tfjs-image-1').name !== 'reset'")
        assert top1() == category, event

    page.locator("#tfjs-image-1 .tfjs-sample").first.click()
    page.wait_for_function("window.tfjsWidgets.inspect('tfjs-image-1').name.endsWith('.png') && "
                           "!window.tfjsWidgets.inspect('tfjs-image-1').name.startsWith('dropped')")
    assert page.locator("#tfjs-image-1 .tfjs-topk-item").count() == 5
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
    assert (emoji_project.site / config["samples"][0]["path"]).read_bytes() == (
        emoji_project.root / "docs" / "cat.png").read_bytes()
    emoji_project.page("index.md", "```tfjs\nmodel: models/emoji/classifier.keras\nwidget: image\n"
                       "samples: [docs/dog.png]\n```\n")
    result = emoji_project.build()
    assert result.returncode != 0 and "`samples: docs/dog.png` does not exist" in result.output


def test_every_preprocess_mode_is_accepted():
    assert set(PREPROCESS_MODES) == {"none", "scale", "tf", "mobilenet", "caffe", "vgg16", "torch"}
