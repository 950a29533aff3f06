"""`handwriting` + `show: image` (sketch to picture): the drawing pad hands the model's output to
the image output part; build-time fit checks at the `show` line, and the picture the page draws
against Keras's output on the input the page fed."""

from __future__ import annotations

import numpy as np
import pytest

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

WIDGET = "sketch"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A drawing in, a picture out (28 x 28 x 1, sigmoid), and two that do not fit a picture."""
    keras = seeded_keras(18)
    built = {
        "sketch": keras.Sequential([
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")]),
        # Classes, not a picture: `show: image` cannot draw it.
        "classes": keras.Sequential([
            keras.Input((28, 28, 1)), keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax")]),
        # A picture with no activation to read its range from.
        "linear": keras.Sequential([
            keras.Input((28, 28, 1)), keras.layers.Conv2D(1, 3, padding="same")]),
    }
    return saved(tmp_path_factory.mktemp("sketch"), built)


def _project(root, models, shared_cache=None) -> Project:
    return project_with_models(root, models["dir"], ("sketch", "classes", "linear"), shared_cache)


BAD = [
    # Bug caught: a pairing whose shapes cannot fit built anyway, and the page drew nonsense.
    ({"model": "models/classes.keras", "widget": "handwriting", "show": "image"}, "show",
     "`models/classes.keras` does not fit `show: image`: it takes"),
    ({"model": "models/linear.keras", "widget": "handwriting", "show": "image"}, "show",
     "cannot tell which values of `models/linear.keras`'s picture are black and white"),
    # Bug caught: a key about classes silently ignored when the output part draws a picture.
    ({"model": "models/sketch.keras", "widget": "handwriting", "show": "image", "topk": 3},
     "topk", "`topk` applies to `show: classes`, and this block has `show: image`; remove `topk`"),
]


@pytest.mark.parametrize(("keys", "key", "message"), BAD, ids=[m[:40] for _, _, m in BAD])
def test_sketch_to_picture_mistakes_fail_at_the_key(tmp_path, shared_cache, models, keys, key,
                                                    message):
    assert_build_fails_at_key(_project(tmp_path / "proj", models, shared_cache), keys, key, message)


def test_the_misfit_names_both_shapes(tmp_path, shared_cache, models):
    project = _project(tmp_path / "proj", models, shared_cache)
    project.page("page.md", "# P\n\n" + tfjs_block(model="models/classes.keras",
                                               widget="handwriting", show="image"))
    result = project.build()
    assert result.returncode != 0
    assert "[batch, 28, 28, 1]" in result.output and "[batch, 10]" in result.output, result.output


@pytest.fixture(scope="module")
def site(tmp_path_factory, models):
    project = _project(tmp_path_factory.mktemp("sketch-site") / "proj", models)
    project.page("index.md", "# Sketch to picture\n\n" + tfjs_block(model="models/sketch.keras",
                                                     widget="handwriting", show="image", id=WIDGET))
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    return project.site


def _canvas(page):
    return np.asarray(page.evaluate(
        """id => { const c = document.querySelector('#' + id + ' .tfjs-picture-canvas');
             return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }""",
        WIDGET), np.float64).reshape(28, 28, 4)


def _stroke(page, points, widget=WIDGET):
    """Draw one stroke through ``points`` (pixels of the pad) on the handwriting widget."""
    canvas = page.locator(f"#{widget} .upper-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    (x0, y0), rest = points[0], points[1:]
    page.mouse.move(box["x"] + x0, box["y"] + y0)
    page.mouse.down()
    for x, y in rest:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    page.mouse.up()


@pytest.mark.browser
def test_the_drawing_becomes_kerass_picture_within_one_grey_level(site, serve, open_page, models):
    # Bugs caught: a handwriting pad that hands the output part nothing (or the top-k of a
    # picture), a picture of the previous drawing, and one left in view after Clear.
    page, log = open_page(serve(site), wait_ready=WIDGET)
    for points in ([(40, 40), (120, 140), (60, 150)], [(30, 100), (150, 100)]):
        before = inferences(page, WIDGET)
        _stroke(page, points)
        wait_idle_after(page, WIDGET, before)
        seen = page.evaluate("id => window.tfjsWidgets.inspect(id)", WIDGET)
        fed = np.asarray(seen["input"], np.float32).reshape(1, 28, 28, 1)
        assert fed.max() > 0.5, "the stroke reached the model"
        want = np.asarray(models["sketch"].predict(fed, verbose=0))[0]
        # Measured: 1.2e-7 (float32 on both sides).
        assert np.abs(np.asarray(seen["output"]) - want).max() <= 1e-5
        grey = np.clip(np.rint(want[..., 0] * 255), 0, 255)
        shown = _canvas(page)
        assert np.all(shown[..., 3] == 255)
        assert np.abs(shown[..., 0] - grey).max() <= 1
        assert np.all(shown[..., 0] == shown[..., 2])
        assert page.locator(f"#{WIDGET} .tfjs-topk").count() == 0
    page.click(f"#{WIDGET} .tfjs-clear")
    assert np.all(_canvas(page)[..., 3] == 0), "the picture of the cleared drawing stays"
    assert not log.errors, log.errors
