"""Any input with any output whose shapes fit: the pairings no other file covers.

`image` + `values` (a picture scored on named scales), `generator` + `palette` (the swatches as
an output part of their own), `handwriting` + `mask`, and an author's output part behind the
`handwriting` and `sliders` inputs. Each page shows what Keras returns for the input the page
fed; mistakes fail the build at the key to fix.
"""

from __future__ import annotations

import json

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
    tensors_after_presses,
    tfjs_block,
    wait_idle_after,
)
from .test_browser import luminance
from .test_custom_output import WRITER
from .test_mask_output import COLOURS
from .test_sketch_to_picture import _stroke

NAMES = ["contrast", "warmth", "noise"]
SLIDERS = [{"name": "a", "min": -1, "max": 1, "value": 0.5}, {"name": "b", "min": 0, "max": 2}]
# The page's float32 outputs against Keras's on the same input: at most 8.9e-8 measured.
TOLERANCE = 2e-7


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    keras = seeded_keras(21)
    built = {
        # A picture in, three named numbers out (linear: any value).
        "scorer": keras.Sequential([
            keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)]),
        # Noise in, five colours out.
        "colours": keras.Sequential([keras.Input((4,)),
                                     keras.layers.Dense(15, activation="sigmoid")]),
        # A drawing in, three classes per pixel out (random biases: blank paper is no tie).
        "strokes": keras.Sequential([
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu",
                                bias_initializer="random_normal"),
            keras.layers.Conv2D(3, 3, padding="same", activation="softmax",
                                bias_initializer="random_normal")]),
        # A drawing in, and two features in: three numbers out.
        "drawing": keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                     keras.layers.Dense(3)]),
        "tabular": keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]),
        # Fourteen values: not 3·k colours.
        "fourteen": keras.Sequential([keras.Input((4,)), keras.layers.Dense(14)]),
    }
    return saved(tmp_path_factory.mktemp("pairings"), built)


def _project(root, models, shared_cache=None) -> Project:
    names = [name for name in models if name != "dir"]
    project = project_with_models(root, models["dir"], names, shared_cache,
                                  widgets={"writer": "writer.js"})
    (project.root / "writer.js").write_text(WRITER)
    return project


BAD = [
    # Bug caught: names that do not match the model's values, shown against the wrong numbers.
    ({"model": "models/scorer.keras", "widget": "image", "show": "values", "labels": ["a", "b"]},
     "labels", "`labels` has 2 names but `models/scorer.keras` returns 3 values"),
    # Bug caught: a picture shown as numbers (the build passed, the page listed 192 values).
    ({"model": "models/strokes.keras", "widget": "handwriting", "show": "values"}, "show",
     "`models/strokes.keras` does not fit `show: values`: it takes [batch, 28, 28, 1] and "
     "returns [batch, 28, 28, 3]"),
    ({"model": "models/fourteen.keras", "widget": "generator", "show": "palette"}, "show",
     "`models/fourteen.keras` does not fit `show: palette`: it takes [batch, 4] and returns "
     "[batch, 14]"),
    # Bug caught: a key of another output part silently ignored.
    ({"model": "models/scorer.keras", "widget": "image", "decimals": 3}, "decimals",
     "`decimals` applies to `show: values`, and this block shows `classes`; remove `decimals`, "
     "or show values"),
    ({"model": "models/colours.keras", "widget": "generator", "show": "image"}, "show",
     "`models/colours.keras` does not fit `show: image`"),
    ({"model": "models/tabular.keras", "widget": "sliders", "inputs": SLIDERS, "show": "values",
      "outputs": ["x", "y", "z"], "labels": ["x", "y", "z"]}, "labels",
     "`labels` and `outputs` both name the values; keep `outputs`"),
]


@pytest.mark.parametrize(("keys", "key", "message"), BAD, ids=[m[:40] for _, _, m in BAD])
def test_pairing_mistakes_fail_at_the_key(tmp_path, shared_cache, models, keys, key, message):
    assert_build_fails_at_key(_project(tmp_path / "proj", models, shared_cache), keys, key, message)


@pytest.fixture(scope="module")
def site(tmp_path_factory, models):
    project = _project(tmp_path_factory.mktemp("pairings-site") / "proj", models)
    picture = project.root / "docs" / "img" / "p.png"
    picture.parent.mkdir(parents=True)
    rng = np.random.default_rng(21)
    Image.fromarray(rng.integers(0, 256, size=(19, 23, 3), dtype="uint8")).save(picture)
    blocks = [
        tfjs_block(model="models/scorer.keras", widget="image", show="values", id="scored",
                   preprocess="scale", labels=NAMES, decimals=4, unit="pt"),
        tfjs_block(model="models/colours.keras", widget="generator", show="palette", id="colours",
                   sort="lightness"),
        tfjs_block(model="models/strokes.keras", widget="handwriting", show="mask", id="strokes",
                   labels=["ink", "edge", "paper"]),
        tfjs_block(model="models/drawing.keras", widget="handwriting", show="writer", id="drawn"),
        tfjs_block(model="models/tabular.keras", widget="sliders", show="writer", id="slid",
                   inputs=SLIDERS),
    ]
    project.page("index.md", "# Pairings\n\n" + "\n".join(blocks))
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    return project.site, picture


def _inspect(page, widget_id):
    return page.evaluate("id => window.tfjsWidgets.inspect(id)", widget_id)


@pytest.mark.browser
def test_a_picture_scored_as_named_values(site, serve, open_page, models):
    # Bugs caught: the image input handing the values part nothing (or top-k bars of a
    # regression), names in another order than the values, decimals or unit ignored.
    site_dir, picture = site
    page, log = open_page(serve(site_dir), wait_ready="scored")
    before = inferences(page, "scored")
    page.locator("#scored .tfjs-file").set_input_files(str(picture))
    wait_idle_after(page, "scored", before)
    last = _inspect(page, "scored")
    fed = np.asarray(last["input"], np.float32).reshape(1, 8, 8, 3)
    want = models["scorer"].predict(fed, verbose=0)[0]
    rows = page.locator("#scored .tfjs-value").evaluate_all(
        "rows => rows.map(r => [r.querySelector('dt').textContent, "
        "r.querySelector('dd').textContent, Number(r.dataset.value)])")
    assert [name for name, _, _ in rows] == NAMES
    shown = np.asarray([value for _, _, value in rows])
    assert np.abs(shown - want).max() <= TOLERANCE
    assert [text for _, text, _ in rows] == [f"{v:.4f} pt" for v in shown]
    assert page.locator("#scored .tfjs-topk").count() == 0
    assert not log.errors, log.errors


@pytest.mark.browser
def test_generated_colours_drawn_as_a_palette(site, serve, open_page, models):
    # Bugs caught: the generator handing the palette part nothing, `sort` ignored once it
    # moved to the output part, the swatches of the previous press.
    site_dir, _ = site
    page, log = open_page(serve(site_dir), wait_ready="colours")
    for _ in range(2):
        last = _inspect(page, "colours")
        want = models["colours"].predict(np.asarray([last["noise"]], np.float32), verbose=0)[0]
        keras_bytes = np.rint(want.reshape(5, 3) * 255)
        hexes = page.locator("#colours .tfjs-swatch-hex").all_text_contents()
        assert len(hexes) == 5
        shown = np.asarray([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in hexes])
        # Each swatch is one of Keras's colours, each channel rounded to a byte (within 1).
        unused = list(range(5))
        for colour in shown:
            match = next(i for i in unused if np.abs(keras_bytes[i] - colour).max() <= 1)
            unused.remove(match)
        # In lightness order (the standard sRGB luminance), up to the swap that rounding to
        # hex codes allows between two near-equal colours (see test_browser).
        values = [luminance(h) for h in hexes]
        slack = 2 * 2.4 / 1.055 * 0.5 / 255
        assert all(a <= b + slack for a, b in zip(values, values[1:], strict=False)), hexes
        before = inferences(page, "colours")
        page.get_by_role("button", name="Generate").click()
        wait_idle_after(page, "colours", before)
    assert not log.errors, log.errors


@pytest.mark.browser
def test_a_drawing_segmented_into_kerass_classes(site, serve, open_page, models):
    # Bugs caught: the drawing pad handing the mask part nothing or the wrong picture to draw
    # under, and a class at a pixel other than Keras's argmax.
    site_dir, _ = site
    page, log = open_page(serve(site_dir), wait_ready="strokes")
    before = inferences(page, "strokes")
    _stroke(page, [(40, 40), (140, 120)], widget="strokes")
    wait_idle_after(page, "strokes", before)
    last = _inspect(page, "strokes")
    fed = np.asarray(last["input"], np.float32).reshape(1, 28, 28, 1)
    assert fed.max() > 0.5, "the stroke reached the model"
    want = models["strokes"].predict(fed, verbose=0)[0]
    drawn = np.asarray(page.evaluate(
        """() => { const c = document.querySelector('#strokes .tfjs-mask-classes');
             return Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data); }"""),
        np.float64).reshape(28, 28, 4)
    matches = np.all(drawn[..., None, :3] == np.asarray(COLOURS[:3], np.float64)[None, None], -1)
    assert np.all(matches.sum(-1) == 1)
    top2 = np.sort(want, axis=-1)[..., -2:]
    clear = (top2[..., 1] - top2[..., 0]) > 1e-6
    assert clear.mean() > 0.95
    assert np.array_equal(matches.argmax(-1)[clear], want.argmax(-1)[clear])
    assert len(np.unique(want.argmax(-1))) >= 2, "a model that paints one class tests little"
    assert not log.errors, log.errors


@pytest.mark.browser
@pytest.mark.parametrize("widget_id", ["drawn", "slid"])
def test_the_authors_output_behind_the_drawing_pad_and_the_sliders(site, serve, open_page, models,
                                                                   widget_id):
    # Bug caught: an input that loads the author's output part but hands it nothing, or the
    # output of another input than the one the model was fed.
    site_dir, _ = site
    page, log = open_page(serve(site_dir), wait_ready=widget_id)
    before = inferences(page, widget_id)
    if widget_id == "drawn":
        _stroke(page, [(30, 30), (150, 150)], widget=widget_id)
    else:
        page.fill(f"#{widget_id}-input-1", "1.5")
    wait_idle_after(page, widget_id, before)
    last = _inspect(page, widget_id)
    model = models["drawing" if widget_id == "drawn" else "tabular"]
    fed = np.asarray(last["input"], np.float32).reshape(1, *model.input_shape[1:])
    if widget_id == "slid":
        assert fed.tolist() == [[0.5, 1.5]]
    want = model.predict(fed, verbose=0)[0]
    written = json.loads(page.locator(f"#{widget_id} .tfjs-custom-output").text_content())
    assert np.abs(np.asarray(written) - want).max() <= TOLERANCE
    assert not log.errors, log.errors


@pytest.mark.browser
def test_two_hundred_palettes_leave_the_tensor_count_flat(site, serve, open_page):
    # Bug caught: a tensor of each press (the noise, the output) kept once the palette became
    # an output part that the generator hands nested arrays to.
    site_dir, _ = site
    page, log = open_page(serve(site_dir), wait_ready="colours")
    # A leak of one tensor a press would add 200.
    baseline, counts = tensors_after_presses(page, "colours", 200)
    assert counts == [baseline] * 200, (baseline, counts[:5], counts[-5:])
    assert not log.errors, log.errors
