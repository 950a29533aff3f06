"""The `generator` input and the `image` output part: build-time checks, and the picture
the page draws against Keras's output on the same noise."""

from __future__ import annotations

import os

import numpy as np
import pytest

from .conftest import (
    Project,
    assert_build_fails_at_key,
    project_with_models,
    tensors_after_presses,
    tfjs_block,
)

WIDGETS = {"grey": (8, 8, 1, "sigmoid"), "rgb": (6, 5, 3, "tanh"), "linear": (4, 4, 1, None)}
LINEAR_RANGE = [-3, 3]
# One slider per input of the grey model.
SLIDERS = [{"name": f"z{i}", "min": -2, "max": 2, "step": 0.1, "value": 0} for i in range(4)]


def _picture_model(height, width, channels, activation):
    import keras

    layers = [keras.Input((4,)), keras.layers.Dense(height * width * channels),
              keras.layers.Reshape((height, width, channels))]
    if activation:
        layers.append(keras.layers.Activation(activation))
    return keras.Sequential(layers)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Three untrained pictures from noise: grey sigmoid, RGB tanh, and linear (needs `range`)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    keras.utils.set_random_seed(18)
    out = tmp_path_factory.mktemp("pictures")
    built = {}
    for name, (height, width, channels, activation) in WIDGETS.items():
        built[name] = _picture_model(height, width, channels, activation)
        built[name].save(out / f"{name}.keras")
    built["dir"] = out
    return built


def _project(root, models, shared_cache=None) -> Project:
    return project_with_models(root, models["dir"], WIDGETS, shared_cache)


BAD = [
    # A linear output has no range to read.
    ({"model": "models/linear.keras", "widget": "generator", "show": "image"}, "show",
     "cannot tell which values of `models/linear.keras`'s picture are black and white: its "
     "output layer has no activation to read; add `range: [low, high]`"),
    ({"model": "models/grey.keras", "widget": "generator", "range": [1, 0]}, "range",
     "`range` must be `[low, high]`, two numbers with low below high; found [1, 0]"),
    # The palette draws a picture too (`show: image`), but 3·k colours it cannot see in one.
    ({"model": "models/grey.keras", "widget": "palette"}, "widget",
     "`models/grey.keras` does not fit `show: palette`"),
    ({"model": "models/grey.keras", "widget": "generator", "show": "classes"}, "show",
     "the generator widget cannot show 'classes'; it shows values or palette or image or mask"),
    # Keys about classes or values mean nothing when the output part draws a picture.
    ({"model": "models/grey.keras", "widget": "sliders", "show": "image", "inputs": SLIDERS,
      "kind": "values"}, "kind",
     "`kind` applies to `show: classes` or `show: values`, and this block has `show: image`"),
    ({"model": "models/grey.keras", "widget": "sliders", "show": "image",
      "inputs": SLIDERS[:3]}, "inputs",
     "`inputs` has 3 sliders but `models/grey.keras` takes 4 features"),
]


@pytest.mark.parametrize(("keys", "key", "message"), BAD, ids=[m[:40] for _, _, m in BAD])
def test_picture_mistakes_fail_the_build_at_the_key(tmp_path, shared_cache, models, keys, key,
                                                    message):
    assert_build_fails_at_key(_project(tmp_path / "proj", models, shared_cache), keys, key, message)


def test_an_output_that_is_no_picture_fails_naming_both_shapes(tmp_path, shared_cache, models):
    import keras

    project = _project(tmp_path / "proj", models, shared_cache)
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="sigmoid")]).save(
        project.root / "models" / "flat.keras")
    project.page("page.md", "# P\n\n" + tfjs_block(model="models/flat.keras", widget="generator"))
    result = project.build()
    assert result.returncode != 0
    assert "docs/page.md:3: `models/flat.keras` does not fit `show: image`: it takes" in result.output
    assert "[batch, 4]" in result.output and "[batch, 10]" in result.output, result.output


@pytest.fixture(scope="module")
def site(tmp_path_factory, models):
    project = _project(tmp_path_factory.mktemp("generator") / "proj", models)
    blocks = [tfjs_block(model="models/grey.keras", widget="generator", id="grey"),
              tfjs_block(model="models/rgb.keras", widget="generator", show="image", id="rgb",
                     noise="uniform"),
              tfjs_block(model="models/linear.keras", widget="generator", id="linear",
                     range=LINEAR_RANGE),
              tfjs_block(model="models/grey.keras", widget="sliders", show="image", id="explore",
                     inputs=SLIDERS, normalize={"mean": [1, 0, 0, 0], "std": [2, 1, 1, 1]})]
    project.page("index.md", "# Pictures\n\n" + "\n".join(blocks))
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    return project.site


def _canvas(page, widget_id):
    return page.evaluate(
        """id => { const c = document.querySelector('#' + id + ' .tfjs-picture-canvas');
             return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }""",
        widget_id)


@pytest.mark.browser
@pytest.mark.parametrize("name", list(WIDGETS))
def test_the_canvas_matches_keras_within_one_grey_level(site, serve, open_page, models, name):
    # Bug caught: a picture drawn with the wrong range, channel order or row order.
    height, width, channels, activation = WIDGETS[name]
    low, high = {"sigmoid": (0, 1), "tanh": (-1, 1), None: tuple(LINEAR_RANGE)}[activation]
    page, log = open_page(serve(site), wait_ready=name)
    for _ in range(2):  # the picture drawn at load, then one after a press of Generate
        last = page.evaluate("id => window.tfjsWidgets.inspect(id)", name)
        noise = np.asarray([last["noise"]], np.float32)
        want = np.asarray(models[name].predict(noise, verbose=0))[0]
        assert np.allclose(np.asarray(last["output"]), want, atol=1e-5)
        grey = np.clip(np.rint((want - low) * 255 / (high - low)), 0, 255)
        rgb = np.repeat(grey, 3, axis=-1) if channels == 1 else grey
        shown = np.asarray(_canvas(page, name), np.float64).reshape(height, width, 4)
        assert np.all(shown[..., 3] == 255)
        assert np.abs(shown[..., :3] - rgb).max() <= 1, name
        before = page.evaluate("id => window.tfjsWidgets.stats(id).inferences", name)
        page.click(f"#{name} .tfjs-generate")
        # The press's inference done and nothing left running: the canvas shows its answer.
        page.wait_for_function(
            "([id, n]) => { const s = window.tfjsWidgets.stats(id); return s.inferences > n"
            " && !s.busy && window.tfjsWidgets.inspect(id); }", arg=[name, before])
    assert not log.errors, log.errors


@pytest.mark.browser
def test_two_hundred_pictures_leave_the_tensor_count_flat(site, serve, open_page):
    # Bug caught: a tensor of each inference (the noise, the output) left undisposed by the
    # generator input or the picture output.
    page, log = open_page(serve(site), wait_ready="rgb")
    # Measured: 6 tensors after the first press and 9 after the second, once, and never more:
    # the count settles there, and a leak of one tensor per inference would add 200.
    baseline, counts = tensors_after_presses(page, "rgb", 200)
    assert counts == [baseline] * 200, (baseline, counts[:5], counts[-5:])
    assert not log.errors, log.errors


@pytest.mark.browser
def test_sliders_draw_the_decoders_picture_for_their_values(site, serve, open_page, models):
    # Bugs caught: sliders that hand the output part nothing (sliders + image), a picture of
    # the previous position, `normalize` skipped before the model.
    page, log = open_page(serve(site), wait_ready="explore")
    for value in ("0", "1.5", "-2"):
        before = page.evaluate("id => window.tfjsWidgets.stats(id).inferences", "explore")
        page.locator("#explore .tfjs-slider-input").nth(0).fill(value)
        page.wait_for_function(
            "([id, n]) => { const s = window.tfjsWidgets.stats(id); return s.inferences > n"
            " && !s.busy; }", arg=["explore", before])
        last = page.evaluate("id => window.tfjsWidgets.inspect(id)", "explore")
        assert last["values"] == [float(value), 0, 0, 0]
        fed = np.asarray([[(float(value) - 1) / 2, 0, 0, 0]], np.float32)
        want = np.asarray(models["grey"].predict(fed, verbose=0))[0]
        grey = np.clip(np.rint(want * 255), 0, 255)[..., 0]
        shown = np.asarray(_canvas(page, "explore"), np.float64).reshape(8, 8, 4)
        assert np.abs(shown[..., 0] - grey).max() <= 1, value
        assert np.all(shown[..., 0] == shown[..., 1])
    assert not log.errors, log.errors
