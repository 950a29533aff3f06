"""The sliders widget's choice control: string features of tabular models, chosen in the page.

A model's own ``StringLookup`` / ``IntegerLookup`` leaves the graph at conversion
(``convert/strings.py``); the sliders widget offers each such feature as a
``<select>`` of the layer's vocabulary, and the page encodes the choice as
Keras does (``assets/preprocess.js``, whose parity with Keras over every
lookup mode is ``tests/test_text_preprocessing.py``'s). Here: the choices come
from the vocabulary, every choice gives Keras's output for that row, the
select works from the keyboard and passes axe, and bad ``inputs`` fail the
build at the key.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from .conftest import (
    ROOT,
    Project,
    assert_build_fails_at_key,
    project_with_models,
    saved,
    seeded_keras,
    tfjs_block,
)

PROFILE = ROOT / "models" / "penguin-profile" / "body_mass.keras"
MEASURES = [
    {"name": "Bill length (mm)", "min": 30, "max": 60, "step": 0.5, "value": 44},
    {"name": "Bill depth (mm)", "min": 13, "max": 22, "step": 0.1, "value": 17},
    {"name": "Flipper length (mm)", "min": 170, "max": 235, "step": 1, "value": 200},
]
# The author's order (strings first), not the model's (measures, species, island, sex).
PROFILE_INPUTS = {
    "species": {"name": "Species"},
    "island": {"name": "Island", "value": "Dream"},
    "sex": {"name": "Sex", "choices": ["male", "female"]},
    "measures": MEASURES,
}
LOOKUPS_INPUTS = {
    "size": {"name": "Size", "min": -2, "max": 2, "step": 0.5, "value": 0.5},
    "year": {"name": "Year", "value": 2008},
    "colour": [{"name": "Colour"}, {"name": "Trim", "choices": ["blue", "red"]}],
    # A Hashing layer has no vocabulary: the author lists the choices.
    "tag": {"name": "Tag", "choices": ["alpha", "beta", "gamma"]},
}

# Measured differences between the page (TF.js, quantize: none, CPU backend) and Keras
# on the same strings: the penguin's mass (about 3,000 to 6,000 g) at most 9.8e-4 g, two
# float32 ulps of a mass above 4,096 g; the lookups model's softmax 3.0e-8. The tolerances
# sit just above.
MASS_TOL = 1.2e-3
SCORES_TOL = 6e-8


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A small model of every other kind of choice: IntegerLookup one-hot, two strings of one
    [batch, 2] input through a StringLookup with a mask token and two OOV indices, Hashing
    one-hot, beside a [batch] number; and a text model."""
    keras = seeded_keras(19)
    layers = keras.layers
    size = keras.Input((), name="size")
    year = keras.Input((1,), dtype="int64", name="year")
    colour = keras.Input((2,), dtype="string", name="colour")
    years = layers.IntegerLookup(vocabulary=[2007, 2008, 2009], output_mode="one_hot",
                                 name="year_lookup")(year)
    colours = layers.StringLookup(vocabulary=["red", "green", "blue"], mask_token="",
                                  num_oov_indices=2, name="colour_lookup")(colour)
    colours = layers.Flatten()(layers.Embedding(6, 2)(colours))
    tag = keras.Input((1,), dtype="string", name="tag")
    tags = layers.Hashing(num_bins=8, output_mode="one_hot", name="tag_hash")(tag)
    x = layers.Concatenate()([layers.Reshape((1,))(size), years, colours, tags])
    lookups = keras.Model([size, year, colour, tag], layers.Dense(3, activation="softmax")(x))
    # Text is the text widget's: the sliders refuse a TextVectorization input.
    words = keras.Input((1,), dtype="string", name="words")
    indices = layers.TextVectorization(vocabulary=["red", "blue"], output_sequence_length=3)(words)
    text = keras.Model(words, layers.Dense(2)(layers.Flatten()(layers.Embedding(4, 2)(indices))))
    return saved(tmp_path_factory.mktemp("choice-models"), {"lookups": lookups, "text": text})


@pytest.fixture(scope="module")
def site(tmp_path_factory, models, shared_cache):
    project = project_with_models(tmp_path_factory.mktemp("choice") / "proj", models["dir"],
                                  ["lookups"], shared_cache)
    shutil.copy(PROFILE, project.root / "models" / "profile.keras")
    project.page("index.md", "# Choices\n\n" + tfjs_block(
        model="models/profile.keras", widget="sliders", id="mass", inputs=PROFILE_INPUTS,
        outputs=["Body mass"], kind="values", decimals=0, unit="g") + "\n" + tfjs_block(
        model="models/lookups.keras", widget="sliders", id="lookups", inputs=LOOKUPS_INPUTS,
        outputs=["a", "b", "c"], backend="cpu"))
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    return project.site


@pytest.fixture(scope="module")
def profile():
    import keras

    return keras.models.load_model(PROFILE, compile=False)


def _profile_rows(model, rows: list[dict]) -> np.ndarray:
    """Keras's body mass for rows of ``{measures, species, island, sex}``, strings as tf.string."""
    import tensorflow as tf

    inputs = [np.asarray([r["measures"] for r in rows], np.float32),
              *(tf.constant([[r[k]] for r in rows]) for k in ("species", "island", "sex"))]
    return np.asarray(model.predict(inputs, verbose=0))


def _controls(page, widget_id: str) -> list[dict]:
    """Each control of the widget: its label, and for a select its options' texts and choice."""
    return page.evaluate(
        """id => [...document.querySelectorAll('#' + id + ' .tfjs-sliders-inputs select, '
                  + '#' + id + ' .tfjs-sliders-inputs input')].map((el) => ({
             id: el.id, label: el.labels[0].textContent, tag: el.tagName.toLowerCase(),
             options: el.tagName === 'SELECT' ? [...el.options].map((o) => o.textContent) : null,
             selected: el.tagName === 'SELECT' ? el.selectedOptions[0].textContent
                                                 : el.value }))""",
        widget_id)


def _wait_for(page, widget_id: str, values: list) -> dict:
    """Wait until a run that read exactly ``values`` (numbers and choices) has finished.

    A run that fails says so in the widget's status: that fails here at once.
    """
    page.wait_for_function(
        """([id, want]) => { const last = window.tfjsWidgets.inspect(id);
             const status = document.querySelector('#' + id + ' .tfjs-status').textContent;
             if (status.startsWith('Something went wrong')) throw new Error(status);
             return last && JSON.stringify(last.values) === JSON.stringify(want); }""",
        arg=[widget_id, values])
    return page.evaluate("id => window.tfjsWidgets.inspect(id)", widget_id)


@pytest.mark.browser
def test_choices_come_from_the_vocabulary_and_each_gives_keras_output(site, serve, open_page,
                                                                      profile, models):
    # Bugs caught: choices not read from the model's vocabulary (or the author's `choices`
    # order lost), a choice encoded at another index than Keras's (an off-by-one past the OOV
    # index, one-hot without its OOV column), controls fed to the wrong model input (the
    # author's order is not the model's), a choice's value taken from its option's text.
    page, log = open_page(serve(site), wait_ready="mass")
    page.evaluate("id => window.tfjsWidgets.ready(id)", "lookups")
    controls = _controls(page, "mass")
    vocabulary = {name: profile.get_layer(f"{name}_lookup").get_vocabulary()[1:]
                  for name in ("species", "island", "sex")}
    assert [(c["label"], c["options"], c["selected"]) for c in controls[:3]] == [
        ("Species", vocabulary["species"], "Adelie"),
        ("Island", vocabulary["island"], "Dream"),
        ("Sex", ["male", "female"], "male"),
    ]
    assert [c["label"] for c in controls[3:]] == [m["name"] for m in MEASURES]
    start = {"species": "Adelie", "island": "Dream", "sex": "male",
             "measures": [m["value"] for m in MEASURES]}
    rows, seen = [], []
    for index, key in enumerate(("species", "island", "sex")):
        for option in controls[index]["options"]:
            page.select_option(f"#mass-input-{index}", label=option)
            row = {**start, key: option}
            last = _wait_for(page, "mass", [row["species"], row["island"], row["sex"],
                                            *row["measures"]])
            rows.append(row)
            seen.append(last["output"])
        page.select_option(f"#mass-input-{index}", label=start[key])
    want = _profile_rows(profile, rows)
    worst = float(np.abs(np.asarray(seen) - want).max())
    assert worst < MASS_TOL, worst
    # The choices matter to the model, or the test proves little: the rows differ by grams.
    assert np.ptp(want) > 100, want.ravel()

    # The other kinds: an IntegerLookup's years (numbers, not strings), two choices of one
    # [batch, 2] input through a masked StringLookup with two OOV indices, a [batch] number.
    import tensorflow as tf

    lookups = models["lookups"]
    controls = _controls(page, "lookups")
    assert [(c["label"], c["options"]) for c in controls] == [
        ("Size", None), ("Year", ["2007", "2008", "2009"]), ("Colour", ["red", "green", "blue"]),
        ("Trim", ["blue", "red"]), ("Tag", ["alpha", "beta", "gamma"])]
    rows, seen = [], []
    for year, colour, trim, tag, size in [(2008, "red", "blue", "beta", 0.5),
                                          (2009, "green", "blue", "gamma", -1.5),
                                          (2007, "blue", "red", "alpha", 2.0),
                                          (2009, "blue", "red", "beta", 0.0)]:
        page.select_option("#lookups-input-1", label=str(year))
        page.select_option("#lookups-input-2", label=colour)
        page.select_option("#lookups-input-3", label=trim)
        page.select_option("#lookups-input-4", label=tag)
        page.fill("#lookups-input-0", repr(size))
        last = _wait_for(page, "lookups", [size, year, colour, trim, tag])
        assert last["input"] == [[size], [[year]], [[colour, trim]], [[tag]]]
        rows.append((size, year, colour, trim, tag))
        seen.append(last["output"])
    want = lookups.predict([np.asarray([r[0] for r in rows], np.float32),
                            np.asarray([[r[1]] for r in rows], np.int64),
                            tf.constant([[r[2], r[3]] for r in rows]),
                            tf.constant([[r[4]] for r in rows])], verbose=0)
    worst = float(np.abs(np.asarray(seen) - want).max())
    assert worst < SCORES_TOL, worst
    assert not log.page_errors and not log.console_errors, log.errors


@pytest.mark.browser
def test_the_page_encodes_every_vocabulary_entry_and_an_unknown_one_as_keras(site, serve,
                                                                              open_page, profile):
    # Bug caught: the demo's lookups encoded otherwise than Keras's own layers (an unknown
    # string not at the OOV index; one-hot columns shifted). Every mode's parity over
    # thousands of strings is test_text_preprocessing.py's; this ties it to the demo model.
    import tensorflow as tf

    page, _ = open_page(serve(site), wait_ready="mass")
    for index, name in ((1, "species"), (2, "island"), (3, "sex")):
        layer = profile.get_layer(f"{name}_lookup")
        entries = [*layer.get_vocabulary()[1:], "Penguin Island", ""]
        inputs = [[[0, 0, 0]], [["Adelie"]], [["Dream"]], [["male"]]]
        encoded = []
        for entry in entries:
            inputs[index] = [[entry]]
            encoded.append(page.evaluate("([id, x]) => window.tfjsWidgets.encode(id, x)",
                                         ["mass", inputs])[index][0])
        want = np.asarray(layer(tf.constant([[e] for e in entries])))
        assert np.asarray(encoded).reshape(want.shape).tolist() == want.tolist(), name


@pytest.mark.browser
def test_the_select_works_from_the_keyboard_alone_and_passes_axe(site, serve, open_page):
    # Bugs caught: a choice that only the mouse can change (the widget listening for clicks,
    # or for `change` on sliders only), a select without its label, or one that axe flags.
    page, log = open_page(serve(site), wait_ready="mass")
    _wait_for(page, "mass", ["Adelie", "Dream", "male", 44, 17, 200])
    page.locator("body").focus()
    # Tab from the page's top reaches the first select (nothing focusable before the widget).
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "mass-input-0":
            break
    assert page.evaluate("document.activeElement.id") == "mass-input-0"
    page.keyboard.press("ArrowDown")
    last = _wait_for(page, "mass", ["Chinstrap", "Dream", "male", 44, 17, 200])
    page.keyboard.press("Tab")
    page.keyboard.press("End")
    page.keyboard.press("Tab")
    page.keyboard.press("Home")
    last = _wait_for(page, "mass", ["Chinstrap", "Torgersen", "male", 44, 17, 200])
    assert last["output"] != page.evaluate("([id, x]) => window.tfjsWidgets.predict(id, x)", [
        "mass", [[[44, 17, 200]], [["Chinstrap"]], [["Dream"]], [["male"]]]])
    page.add_script_tag(path=str(ROOT / "node_modules" / "axe-core" / "axe.min.js"))
    for widget in ("mass", "lookups"):
        result = page.evaluate("id => axe.run('#' + id, {resultTypes: ['violations']})", widget)
        serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                   for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], serious
    assert not log.page_errors, log.page_errors


# -- bad `inputs` fail the build at the key, naming the fix ---------------------------

BAD = [
    ({"inputs": {**PROFILE_INPUTS, "island": {"name": "Island", "value": "Biscoe Island"}}},
     "`inputs` `island` (`Island`): the value `Biscoe Island` is not in the vocabulary of the "
     "model's StringLookup (`island`): `Biscoe`, `Dream`, `Torgersen`; pick from these"),
    ({"inputs": {**PROFILE_INPUTS, "sex": {"name": "Sex", "choices": ["female", "other"]}}},
     "`inputs` `sex` (`Sex`): the choice `other` is not in the vocabulary of the model's "
     "StringLookup (`sex`): `female`, `male`; pick from these"),
    ({"inputs": {**PROFILE_INPUTS, "species": {"name": "Species", "min": 0, "max": 2}}},
     "`inputs` `species` (`Species`) has `min`, but the input `species` takes strings through "
     "its StringLookup: it gets a choice of the vocabulary's entries, not a slider; remove "
     "`min`, `max` and `step`"),
    ({"inputs": {**PROFILE_INPUTS, "measures": [{"name": "Bill", "choices": ["long"]},
                                                *MEASURES[1:]]}},
     "`inputs` `measures` item 1 has `choices`, but the input `measures` takes numbers "
     "[batch, 3]: it gets sliders; give this item `min` and `max` instead"),
    ({"inputs": {**PROFILE_INPUTS, "measures": MEASURES[:2]}},
     "`inputs` `measures` has 2 sliders but the input `measures` of `models/profile.keras` "
     "takes 3 ([batch, 3]); give one per feature, in the order the model was trained on"),
    ({"inputs": {**PROFILE_INPUTS, "beak": {"name": "Beak"}}},
     "`inputs` names `beak`, which is no input of `models/profile.keras`; its inputs are "
     "`measures` (numbers [batch, 3]), `species` (strings through its StringLookup)"),
    ({"inputs": {k: v for k, v in PROFILE_INPUTS.items() if k != "sex"}},
     "`inputs` says nothing of the input `sex` of `models/profile.keras`, which takes strings "
     "through its StringLookup; add `sex:` with a choice: `{name: ...}`"),
    ({"inputs": MEASURES},
     "`inputs` is a list, but `models/profile.keras` takes 4 inputs"),
    ({"inputs": PROFILE_INPUTS, "normalize": {"mean": [0] * 6, "std": [1] * 6}},
     "`normalize`: `mean` has 6 numbers but `inputs` has 3 sliders"),
]


# Against the small models: a Hashing input without `choices`, and a text model.
BAD_SMALL = [
    ("lookups", {**LOOKUPS_INPUTS, "tag": {"name": "Tag"}}, "inputs",
     "`inputs` `tag` (`Tag`) needs `choices`: the input `tag` goes through a Hashing layer, "
     "which has no vocabulary to offer; list the values to offer"),
    ("text", {"words": {"name": "Words"}}, "widget",
     "`models/text.keras` takes strings [batch, 1] (through its TextVectorization) as its "
     "input `words`: text for the text widget, not a choice"),
]


@pytest.mark.parametrize(("model", "inputs", "key", "message"), BAD_SMALL,
                         ids=[m for m, *_ in BAD_SMALL])
def test_a_hashing_input_needs_choices_and_text_is_refused(tmp_path, shared_cache, models, model,
                                                            inputs, key, message):
    project = project_with_models(tmp_path / "proj", models["dir"], [model], shared_cache)
    keys = {"model": f"models/{model}.keras", "widget": "sliders", "inputs": inputs,
            "kind": "values"}
    assert_build_fails_at_key(project, keys, key, message)


@pytest.mark.parametrize(("change", "message"), BAD, ids=[m[:48] for _, m in BAD])
def test_bad_inputs_fail_the_build_at_the_key(tmp_path, shared_cache, change, message):
    project = Project(tmp_path / "proj")
    (project.root / "models").mkdir(parents=True)
    shutil.copy(PROFILE, project.root / "models" / "profile.keras")
    project.config({"quantize": "none", "cache_dir": str(shared_cache)})
    keys = {"model": "models/profile.keras", "widget": "sliders", "inputs": PROFILE_INPUTS,
            "outputs": ["Body mass"], "kind": "values", **change}
    key = next(iter(k for k in change if k != "inputs"), "inputs")
    assert_build_fails_at_key(project, keys, key, message)
