"""The sliders widget: build-time checks, parity with Keras, keyboard, bursts, axe, normalize."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from .conftest import ROOT, Project, tfjs_block, training_script

penguins_training = training_script("penguins")

PENGUINS = ROOT / "models" / "penguins" / "penguins.keras"
SLIDERS = [
    {"name": "Bill length (mm)", "min": 30, "max": 60, "step": 0.1, "value": 39},
    {"name": "Bill depth (mm)", "min": 13, "max": 22, "step": 0.1, "value": 18.3},
    {"name": "Flipper length (mm)", "min": 170, "max": 235, "step": 1, "value": 190},
    {"name": "Body mass (g)", "min": 2500, "max": 6500, "step": 50, "value": 3700},
]
SPECIES = ["Adélie", "Chinstrap", "Gentoo"]
WIDGET = "peng"

# Small models for `normalize`: the same Dense layer with the statistics inside
# (a Normalization layer) and outside (the block's `normalize` key).
MEAN = [10.0, -5.0, 100.0]
STD = [2.0, 0.5, 20.0]
TINY_SLIDERS = [
    {"name": "a", "min": 0, "max": 20, "step": 0.5, "value": 10},
    {"name": "b", "min": -8, "max": -2, "step": 0.25, "value": -5},
    {"name": "c", "min": 50, "max": 150, "step": 5, "value": 100},
]

# Measured float32 differences between the page (TF.js, quantize: none; these
# small models run on the CPU backend under `backend: auto`) and Keras: penguin
# probabilities at most 6.8e-12 at the held-out positions (confident answers;
# 1.2e-10 on the WASM backend), the normalize pair's values (about 1 to 10)
# 2.4e-7. The tolerances sit just above: 2e-11 for the probabilities, 5e-7 for
# the values (a float32 ulp at 4 to 8 is 4.8e-7).
PARITY_TOL = 2e-11
VALUES_TOL = 5e-7


def _penguin_block(**extra) -> str:
    keys = {"model": "models/penguins.keras", "widget": "sliders", "id": WIDGET,
            "inputs": SLIDERS, "outputs": SPECIES, "kind": "classes", **extra}
    return tfjs_block(**keys)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """Two 3 -> 2 models computing the same function: statistics inside, and outside."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    out = tmp_path_factory.mktemp("tiny")
    keras.utils.set_random_seed(5)
    dense = keras.layers.Dense(2, name="dense")
    outside = keras.Sequential([keras.Input((3,)), dense])
    inside = keras.Sequential([
        keras.Input((3,)),
        keras.layers.Normalization(mean=MEAN, variance=np.square(STD).tolist()),
        keras.layers.Dense(2, name="dense"),
    ])
    inside.layers[-1].set_weights(dense.get_weights())
    outside.save(out / "outside.keras")
    inside.save(out / "inside.keras")
    # An Embedding of 4 rows behind a slider that goes to 9: past 3, TF.js's gather throws.
    lookup = keras.Sequential([keras.Input((1,)), keras.layers.Embedding(4, 2),
                               keras.layers.Flatten(), keras.layers.Dense(2)])
    lookup.save(out / "lookup.keras")
    return {"inside": inside, "outside": outside, "lookup": lookup, "dir": out}


@pytest.fixture(scope="module")
def site(tmp_path_factory, tiny_models):
    """A built site: the penguins at float32, and the normalize pair; served by the test."""
    project = Project(tmp_path_factory.mktemp("sliders") / "proj")
    (project.root / "models").mkdir(parents=True)
    shutil.copy(PENGUINS, project.root / "models" / "penguins.keras")
    for name in ("inside", "outside", "lookup"):
        shutil.copy(tiny_models["dir"] / f"{name}.keras", project.root / "models" / f"{name}.keras")
    project.config({"quantize": "none"})
    project.page("index.md", "# Penguins\n\n" + _penguin_block(title="Which penguin?"))
    common = {"widget": "sliders", "inputs": TINY_SLIDERS, "outputs": ["first", "second"],
              "kind": "values", "decimals": 3, "unit": "u"}
    project.page("normalize.md", "# Normalize\n\n"
                 + tfjs_block(model="models/inside.keras", id="inside", **common) + "\n"
                 + tfjs_block(model="models/outside.keras", id="outside",
                          normalize={"mean": MEAN, "std": STD}, **common))
    # A linear output layer returns logits: shown as classes, they go through a softmax.
    project.page("logits.md", "# Logits\n\n" + tfjs_block(
        model="models/inside.keras", id="logit-bars", widget="sliders", inputs=TINY_SLIDERS,
        outputs=["first", "second"], kind="classes"))
    # The CPU backend checks gather indices (WebAssembly's does not): an index past the table fails.
    project.page("failing.md", "# Failing\n\n" + tfjs_block(
        model="models/lookup.keras", id="lookup", widget="sliders", backend="cpu",
        inputs=[{"name": "row", "min": 0, "max": 9, "step": 1, "value": 1}], outputs=["x", "y"],
        kind="values"))
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    assert "converted models/penguins.keras natively" in result.output, result.output
    return project.site


@pytest.fixture(scope="module")
def keras_penguins():
    import keras

    return keras.models.load_model(PENGUINS, compile=False)


def _keras(model, rows) -> np.ndarray:
    return np.asarray(model.predict(np.asarray(rows, np.float32), verbose=0))


def _open(open_page, serve, site, path: str, widget_id: str):
    page, log = open_page(serve(site) + path, wait_ready=widget_id)
    return page, log


def _set_sliders(page, widget_id: str, values) -> None:
    """Move every slider as a reader would (fill fires `input`), then wait for the answer."""
    for index, value in enumerate(values):
        page.fill(f"#{widget_id}-input-{index}", repr(float(value)))
    _wait_for_values(page, widget_id, values)


def _wait_for_values(page, widget_id: str, values) -> dict:
    # The widget records the values a run read once the run has finished.
    page.wait_for_function(
        """([id, want]) => { const last = window.tfjsWidgets.inspect(id);
             return last && last.values.length === want.length
               && last.values.every((v, i) => Math.abs(v - want[i]) < 1e-9); }""",
        arg=[widget_id, [float(v) for v in values]],
    )
    return page.evaluate("id => window.tfjsWidgets.inspect(id)", widget_id)


def _shown_classes(page, widget_id: str) -> list[tuple[str, float]]:
    return page.evaluate(
        """id => [...document.querySelectorAll('#' + id + ' .tfjs-topk-item')].map((item) => [
             item.querySelector('.tfjs-topk-label').textContent,
             Number(item.dataset.probability)])""",
        widget_id,
    )


def _held_out_positions(count: int = 8) -> list[list[float]]:
    """Held-out penguins, moved onto the sliders' grids."""
    x, y = penguins_training.load_rows()
    _, _, x_test, _ = penguins_training.split(x, y)
    rows = x_test[:: max(1, len(x_test) // count)][:count].astype(np.float64)
    steps = np.array([s["step"] for s in SLIDERS])
    lows = np.array([s["min"] for s in SLIDERS])
    snapped = lows + np.round((rows - lows) / steps) * steps
    return [[round(v, 1) for v in row] for row in snapped]


# -- (a) build-time errors name the page, the key's line and the fix ----------------

BAD = [
    ({"inputs": SLIDERS[:3]}, "inputs",
     "`inputs` has 3 sliders but `models/penguins.keras` takes 4 features ([batch, 4])"),
    ({"outputs": SPECIES[:2]}, "outputs",
     "`outputs` has 2 names but `models/penguins.keras` returns 3 values ([batch, 3])"),
    ({"inputs": [*SLIDERS[:1], {**SLIDERS[1], "min": 22, "max": 13}, *SLIDERS[2:]]}, "inputs",
     "`inputs` item 2 (`Bill depth (mm)`) has min 22 and max 13; min must be below max"),
    ({"inputs": [*SLIDERS[:3], {**SLIDERS[3], "value": 7000}]}, "inputs",
     "`inputs` item 4 (`Body mass (g)`) has value 7000 outside its range 2500 to 6500"),
    ({"inputs": [{**SLIDERS[0], "step": 0}, *SLIDERS[1:]]}, "inputs",
     "`inputs` item 1 (`Bill length (mm)`) has step 0; the step must be above 0"),
    ({"inputs": [*SLIDERS[:2], {**SLIDERS[2], "value": 190.5}, SLIDERS[3]]}, "inputs",
     "`inputs` item 3 (`Flipper length (mm)`) has value 190.5, which is not min + a whole "
     "number of steps (1), so the browser would move it; use for example 190"),
    ({"normalize": {"mean": [0, 0, 0, 0], "std": [1, 1, 1]}}, "normalize",
     "`normalize`: `std` has 3 numbers but `inputs` has 4 sliders"),
    ({"normalize": {"mean": [0, 0, 0, 0], "std": [1, 0, 1, 1]}}, "normalize",
     "`normalize`: std number 2 is 0; a standard deviation must be above 0"),
    ({"unit": "g"}, "unit", "`unit` applies to `kind: values` only"),
    ({"inputs": "inputs.json"}, "inputs",
     "`inputs` (inputs.json) item 1 (`Bill length (mm)`) has min 60 and max 30"),
    ({"inputs": "three.json"}, "inputs",
     "`inputs` has 3 sliders but `models/penguins.keras` takes 4"),
]


@pytest.mark.parametrize(("change", "key", "message"), BAD, ids=[m[:40] for _, _, m in BAD])
def test_count_and_range_mistakes_fail_the_build_at_the_key(tmp_path, shared_cache, change, key,
                                                           message):
    project = Project(tmp_path / "proj")
    (project.root / "models").mkdir(parents=True)
    shutil.copy(PENGUINS, project.root / "models" / "penguins.keras")
    project.write("inputs.json", json.dumps([{**SLIDERS[0], "min": 60, "max": 30}, *SLIDERS[1:]]))
    project.write("three.json", json.dumps(SLIDERS[:3]))
    project.config({"cache_dir": str(shared_cache)})
    block = _penguin_block(**change)
    # Front matter and a heading before the block: line numbers count them.
    project.page("guide/page.md", "---\ntitle: T\n---\n\n# Penguins\n\n" + block)
    line = 7 + next(i for i, text in enumerate(block.splitlines()) if text.startswith(f"{key}:"))
    result = project.build()
    assert result.returncode != 0
    assert f"docs/guide/page.md:{line}: {message}" in result.output, result.output


def test_classes_from_an_output_that_is_neither_scores_nor_logits_fail_at_the_block(
        tmp_path, shared_cache):
    # Bug caught: a tanh output shown as top-k bars of made-up probabilities.
    import keras

    project = Project(tmp_path / "proj")
    (project.root / "models").mkdir(parents=True)
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="tanh")]).save(
        project.root / "models" / "penguins.keras")
    project.config({"cache_dir": str(shared_cache)})
    project.page("page.md", "# P\n\n" + _penguin_block())
    result = project.build()
    assert result.returncode != 0
    assert ("docs/page.md:3: cannot tell whether `models/penguins.keras` returns probabilities "
            "or logits: its output layer has a `tanh` activation; show its outputs as numbers "
            "with `kind: values`") in result.output, result.output


# -- (b) parity with Keras for slider positions, shown and predicted ----------------


@pytest.mark.browser
def test_page_matches_keras_for_held_out_slider_positions(site, serve, open_page, keras_penguins):
    page, log = _open(open_page, serve, site, "", WIDGET)
    positions = _held_out_positions()
    expected = _keras(keras_penguins, positions)
    worst = 0.0
    for row, want in zip(positions, expected, strict=True):
        _set_sliders(page, WIDGET, row)
        last = page.evaluate("id => window.tfjsWidgets.inspect(id)", WIDGET)
        shown = _shown_classes(page, WIDGET)
        predicted = page.evaluate("([id, x]) => window.tfjsWidgets.predict(id, [x])", [WIDGET, row])
        assert [label for label, _ in shown] == [SPECIES[i] for i in np.argsort(-want)]
        for label, probability in shown:
            worst = max(worst, abs(probability - want[SPECIES.index(label)]))
        worst = max(worst, np.abs(np.asarray(last["output"]) - want).max(),
                    np.abs(np.asarray(predicted[0]) - want).max())
        # The visible value beside each slider is the value the model got.
        texts = page.locator(f"#{WIDGET} .tfjs-slider-value").all_inner_texts()
        assert [float(t) for t in texts] == pytest.approx(row)
    assert worst < PARITY_TOL, worst
    assert not log.page_errors, log.page_errors


# -- (c) keyboard operation --------------------------------------------------------


@pytest.mark.browser
def test_arrow_keys_move_a_slider_and_the_prediction_follows(site, serve, open_page,
                                                              keras_penguins):
    page, _ = _open(open_page, serve, site, "", WIDGET)
    start = [s["value"] for s in SLIDERS]
    _wait_for_values(page, WIDGET, start)
    page.locator(f"#{WIDGET}-input-0").focus()
    for _ in range(70):  # 70 steps of 0.1 mm: an Adélie's bill grows into a Chinstrap's.
        page.keyboard.press("ArrowRight")
    page.locator(f"#{WIDGET}-input-2").focus()
    page.keyboard.press("ArrowLeft")
    want = [46.0, 18.3, 189, 3700]
    last = _wait_for_values(page, WIDGET, want)
    expected = _keras(keras_penguins, [want])[0]
    assert np.abs(np.asarray(last["output"]) - expected).max() < PARITY_TOL
    assert page.locator(f"#{WIDGET}-input-0 + .tfjs-slider-value").inner_text() == "46.0"
    assert page.locator(f"#{WIDGET}-input-2 + .tfjs-slider-value").inner_text() == "189"
    assert _shown_classes(page, WIDGET)[0][0] == SPECIES[int(np.argmax(expected))]
    # The start is an Adélie; the keys must have changed the answer, or the test proves nothing.
    assert np.argmax(expected) != np.argmax(_keras(keras_penguins, [start])[0])
    page.keyboard.press("End")
    _wait_for_values(page, WIDGET, [46.0, 18.3, 235, 3700])


# -- (d) a burst of input events runs the model a few times, on the newest values ---


@pytest.mark.browser
def test_a_burst_of_moves_runs_few_inferences_and_shows_the_last(site, serve, open_page,
                                                                 keras_penguins):
    page, _ = _open(open_page, serve, site, "", WIDGET)
    _wait_for_values(page, WIDGET, [s["value"] for s in SLIDERS])
    before = page.evaluate("id => window.tfjsWidgets.stats(id).inferences", WIDGET)
    final = page.evaluate(
        """id => {
             const inputs = [...document.querySelectorAll('#' + id + ' .tfjs-slider-input')];
             for (let i = 0; i < 50; i++) {
               const input = inputs[i % inputs.length];
               const span = input.max - input.min;
               input.value = String(Number(input.min) + (i * 7919 % 97) / 96 * span);
               input.dispatchEvent(new Event('input', { bubbles: true }));
             }
             return inputs.map((input) => Number(input.value));
           }""",
        WIDGET,
    )
    last = _wait_for_values(page, WIDGET, final)
    runs = page.evaluate("id => window.tfjsWidgets.stats(id).inferences", WIDGET) - before
    # One run starts with the first event; the other 49 collapse into one more.
    assert 1 <= runs <= 3, runs
    expected = _keras(keras_penguins, [final])[0]
    assert np.abs(np.asarray(last["output"]) - expected).max() < PARITY_TOL
    shown = _shown_classes(page, WIDGET)
    assert shown[0][0] == SPECIES[int(np.argmax(expected))]
    assert shown[0][1] == pytest.approx(float(expected.max()), abs=PARITY_TOL)


# -- (e) accessibility ---------------------------------------------------------------


@pytest.mark.browser
def test_the_widget_passes_axe(site, serve, open_page):
    page, _ = _open(open_page, serve, site, "", WIDGET)
    _wait_for_values(page, WIDGET, [s["value"] for s in SLIDERS])
    page.add_script_tag(path=str(ROOT / "node_modules" / "axe-core" / "axe.min.js"))
    result = page.evaluate(
        "id => axe.run('#' + id, {resultTypes: ['violations']})", WIDGET)
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
    # Every slider has an accessible name: its label.
    names = page.evaluate(
        """id => [...document.querySelectorAll('#' + id + ' input[type=range]')].map(
             (input) => input.labels.length ? input.labels[0].textContent : '')""", WIDGET)
    assert names == [s["name"] for s in SLIDERS]


# -- (f) `normalize` in the page equals a Normalization layer in the model -----------


@pytest.mark.browser
def test_normalize_key_matches_normalization_inside_the_model(site, serve, open_page, tiny_models):
    page, log = _open(open_page, serve, site, "normalize/", "inside")
    page.evaluate("id => window.tfjsWidgets.ready(id)", "outside")
    positions = [[10, -5, 100], [0, -8, 50], [20, -2, 150], [3.5, -6.25, 85]]
    expected = _keras(tiny_models["inside"], positions)
    worst = 0.0
    for row, want in zip(positions, expected, strict=True):
        outputs = {}
        for widget_id in ("inside", "outside"):
            _set_sliders(page, widget_id, row)
            outputs[widget_id] = page.evaluate("id => window.tfjsWidgets.inspect(id)", widget_id)
        worst = max(worst, *(np.abs(np.asarray(outputs[w]["output"]) - want).max()
                             for w in outputs))
        # The page normalised the input itself, and the unnormalised model got it.
        assert outputs["outside"]["input"] == pytest.approx(
            [(v - m) / s for v, m, s in zip(row, MEAN, STD, strict=True)])
        assert outputs["inside"]["input"] == pytest.approx(row)
        shown = page.locator("#outside .tfjs-value dd").all_inner_texts()
        assert shown == [f"{v:.3f} u" for v in outputs["outside"]["output"]]
    assert worst < VALUES_TOL, worst
    # Without the statistics the outer model gives another answer: the key matters.
    raw = _keras(tiny_models["outside"], positions[1:2])[0]
    assert np.abs(raw - expected[1]).max() > 0.1
    assert not log.page_errors, log.page_errors


@pytest.mark.browser
def test_classes_from_a_linear_output_are_shown_through_a_softmax(site, serve, open_page,
                                                                   tiny_models):
    # Bug caught: logits shown as if they were probabilities (bars past 100 %, or
    # negative), or a softmax applied to a softmax output.
    page, log = _open(open_page, serve, site, "logits/", "logit-bars")
    row = [3.5, -6.25, 85]
    _set_sliders(page, "logit-bars", row)
    logits = _keras(tiny_models["inside"], [row])[0]
    want = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    shown = dict(_shown_classes(page, "logit-bars"))
    # Measured 3.0e-8 (float32 logits, a softmax in JavaScript's doubles); bound twice that.
    worst = max(abs(shown[name] - want[i]) for i, name in enumerate(["first", "second"]))
    assert worst < 6e-8, worst
    assert not log.page_errors, log.page_errors


# Unhandled promise rejections, which Playwright does not always report as page errors.
REJECTIONS = """
window.__rejections = [];
window.addEventListener("unhandledrejection",
                        (event) => window.__rejections.push(String(event.reason)));
"""


@pytest.mark.browser
def test_a_failing_inference_is_shown_in_the_widget_and_it_recovers(site, serve, open_page,
                                                                     tiny_models):
    # Bug caught: sliders running outside the widget's coalesce (an unhandled rejection, the
    # widget never busy, a failure nobody sees while the values of the last position stay on
    # screen as if they answered the new one), or a widget that stays broken afterwards.
    page, log = open_page(serve(site) + "failing/", wait_ready="lookup", init_script=REJECTIONS)
    _wait_for_values(page, "lookup", [1])
    assert page.locator("#lookup .tfjs-value").count() == 2
    page.fill("#lookup-input-0", "7")
    page.wait_for_function("document.querySelector('#lookup .tfjs-status').textContent"
                           ".startsWith('Something went wrong')")
    stats = page.evaluate("id => window.tfjsWidgets.idle(id)", "lookup")
    assert not stats["busy"] and stats["state"] == "ready"
    # TF.js's own words (its CPU gather) reach the reader, and no stale value is shown.
    text = page.locator("#lookup .tfjs-status").text_content()
    assert "GatherV2" in text and "7" in text, text
    assert page.locator("#lookup .tfjs-value").count() == 0
    assert page.evaluate("id => window.tfjsWidgets.inspect(id)", "lookup") is None
    assert any("tfjs widget lookup: " in w and "GatherV2" in w for w in log.console_warnings)
    # Back in range, the model answers again.
    page.fill("#lookup-input-0", "2")
    last = _wait_for_values(page, "lookup", [2])
    want = _keras(tiny_models["lookup"], [[2]])[0]
    # Measured 0.0 (a looked-up row times a Dense, float32 on both sides); bound: about one
    # float32 ulp of these values (below 1).
    assert np.abs(np.asarray(last["output"]) - want).max() <= 1e-7
    assert page.locator("#lookup .tfjs-value").count() == 2
    assert page.evaluate("window.__rejections") == [] and not log.page_errors, (
        page.evaluate("window.__rejections"), log.page_errors)
