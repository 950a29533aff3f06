"""The text widget: the spam demo model in Chromium against Keras, by keyboard, axe, no leaks.

The page converts ``models/spam/spam.keras`` (TextVectorization then a small
transformer) at ``quantize: none``; its answers on held-out subject lines
must match Keras's, typing must drive it, and 200 inferences must leave
TF.js's tensor count where it was.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from .conftest import ROOT, Project, assert_build_fails_at_key, tfjs_block, training_script

pytestmark = pytest.mark.browser

SPAM = ROOT / "models" / "spam" / "spam.keras"
WIDGET = "tfjs-text-1"
# Measured: at most 1.2e-7 between TF.js (CPU backend, float32) and Keras on 60 held-out subjects.
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def held_out() -> list[str]:
    """The first 60 held-out subject lines of the spam model's split (never trained on)."""
    spam = training_script("spam")
    texts, labels = spam.load_subjects()
    return spam.split(texts, labels)[2][:60]


@pytest.fixture(scope="module")
def keras_spam():
    import keras

    return keras.saving.load_model(SPAM)


def keras_scores(model, texts: list[str]) -> np.ndarray:
    import tensorflow as tf

    return np.asarray(model(tf.constant(texts)[:, None]))


@pytest.fixture(scope="module")
def text_site(tmp_path_factory, shared_cache):
    project = Project(tmp_path_factory.mktemp("text") / "proj")
    (project.root / "models").mkdir(parents=True)
    (project.root / "models" / "spam.keras").write_bytes(SPAM.read_bytes())
    project.config({"quantize": "none", "cache_dir": str(shared_cache), "backend": "cpu"})
    project.page("index.md", "# Text\n\n" + tfjs_block(
        model="models/spam.keras", widget="text", labels=["ham", "spam"], prompt="Subject line",
        samples=["Re: [ILUG] Optimizing for Pentium", "Make $5000 a week from home GUARANTEED"]))
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    return project.site


@pytest.fixture
def text_page(text_site, serve, open_page):
    page, log = open_page(serve(text_site), wait_ready=WIDGET)
    return page, log


def test_held_out_subjects_match_keras(text_page, held_out, keras_spam):
    page, log = text_page
    got = np.asarray(page.evaluate(
        "([id, texts]) => window.tfjsWidgets.predict(id, texts.map((t) => [t]))", [WIDGET, held_out]))
    want = keras_scores(keras_spam, held_out)
    error = float(np.abs(got - want).max())
    assert error <= TOLERANCE, error
    assert not log.errors, log.errors


def test_typing_shows_the_classes_and_the_tokens_keras_sees(text_page, keras_spam):
    """Keyboard only: Tab to the text area, type, Tab to Show tokens, Enter."""
    page, log = text_page
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches('#{WIDGET} .tfjs-text-area')"):
            break
    else:
        pytest.fail("Tab never reached the text area")
    page.keyboard.press("Control+A")
    text = "FREE Viagra!! Cheap   meds, ÉCOLE 日本 🙂"
    page.keyboard.type(text)
    page.wait_for_function("([id, t]) => { const s = window.tfjsWidgets.inspect(id); "
                           "return s && s.text === t && !window.tfjsWidgets.stats(id).busy; }",
                           arg=[WIDGET, text])
    want = keras_scores(keras_spam, [text])[0]
    shown = page.locator(f"#{WIDGET} .tfjs-topk-label").first.text_content()
    assert shown == ["ham", "spam"][int(want.argmax())]
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches('#{WIDGET} .tfjs-text-toggle')"):
            break
    page.keyboard.press("Enter")
    assert page.locator(f"#{WIDGET} .tfjs-text-toggle").get_attribute("aria-expanded") == "true"
    layer = keras_spam.get_layer("vectorize")
    import tensorflow as tf

    tokens = [t.decode() for t in layer._preprocess(tf.constant([[text]])).to_list()[0]]  # noqa: SLF001
    vocabulary = layer.get_vocabulary()
    shown_tokens = page.locator(f"#{WIDGET} .tfjs-text-token > span:first-child").all_text_contents()
    assert shown_tokens == tokens
    indices = page.locator(f"#{WIDGET} .tfjs-text-token-index").all_text_contents()
    assert [int(i.split()[0]) for i in indices] == [vocabulary.index(t) if t in vocabulary else 1
                                                    for t in tokens]
    assert not log.errors, log.errors


def test_a_sample_button_fills_the_text_area_and_answers(text_page):
    page, _ = text_page
    page.locator(f"#{WIDGET} .tfjs-text-sample").nth(1).focus()
    page.keyboard.press("Enter")
    page.wait_for_function("id => { const s = window.tfjsWidgets.inspect(id); return s && "
                           "s.text.startsWith('Make $5000') && !window.tfjsWidgets.stats(id).busy; }",
                           arg=WIDGET)
    assert page.locator(f"#{WIDGET} .tfjs-text-area").input_value().startswith("Make $5000")


def test_axe_finds_nothing_serious(text_page):
    page, _ = text_page
    page.locator(f"#{WIDGET} .tfjs-text-toggle").click()
    page.add_script_tag(path=str(ROOT / "node_modules" / "axe-core" / "axe.min.js"))
    # The widget, tokens shown (the mkdocs theme's own nav and footer are the theme's to fix).
    result = page.evaluate("id => axe.run('#' + id, {resultTypes: ['violations']})", WIDGET)
    serious = [(v["id"], [n["target"] for n in v["nodes"]][:3])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], serious


def test_200_inferences_leave_the_tensor_count_flat(text_page, held_out):
    page, _ = text_page
    before = page.evaluate("window.tfjsWidgets.memory().numTensors")
    runs = page.evaluate("""async ([id, texts]) => {
        const area = document.querySelector('#' + id + ' .tfjs-text-area');
        const start = window.tfjsWidgets.stats(id).inferences;
        for (let i = 0; i < 200; i += 1) {
          area.value = texts[i % texts.length] + ' ' + i;
          area.dispatchEvent(new Event('input', {bubbles: true}));
          await window.tfjsWidgets.idle(id);
        }
        return window.tfjsWidgets.stats(id).inferences - start;
    }""", [WIDGET, held_out])
    assert runs == 200
    assert page.evaluate("window.tfjsWidgets.memory().numTensors") == before


def test_edits_while_the_model_runs_collapse_into_one_more_run(text_page):
    page, _ = text_page
    result = page.evaluate("""async (id) => {
        const area = document.querySelector('#' + id + ' .tfjs-text-area');
        await window.tfjsWidgets.idle(id);
        const start = window.tfjsWidgets.stats(id).inferences;
        for (const t of ['a', 'ab', 'abc', 'abcd', 'abcde']) {
          area.value = t;
          area.dispatchEvent(new Event('input', {bubbles: true}));
        }
        await window.tfjsWidgets.idle(id);
        return [window.tfjsWidgets.stats(id).inferences - start, window.tfjsWidgets.inspect(id).text];
    }""", WIDGET)
    # The first edit runs; the four that arrive while it runs become one run on the newest text.
    assert result == [2, "abcde"]


BAD = [
    ({"show": "values", "topk": 2}, "topk", "`topk` applies to `show: classes`, and this block has `show: values`"),
    ({"decimals": 3}, "decimals", "`decimals` applies to `show: values`, and this block shows `classes`"),
    ({"samples": [1984]}, "samples", "`samples` item 1 is 1984; each example must be a text"),
    ({"samples": ["ok", ""]}, "samples", "`samples` item 2 is ''"),
    # A text model's output is no picture: the image output part refuses it, naming both shapes.
    ({"show": "image"}, "show", "`models/spam.keras` does not fit `show: image`"),
]


@pytest.mark.parametrize(("keys", "key", "message"), BAD, ids=[b[1] + str(i) for i, b in enumerate(BAD)])
def test_bad_keys_fail_at_their_line(tmp_path, shared_cache, keys, key, message):
    project = Project(tmp_path)
    (project.root / "models").mkdir()
    (project.root / "models" / "spam.keras").write_bytes(SPAM.read_bytes())
    project.config({"quantize": "none", "cache_dir": str(shared_cache)})
    assert_build_fails_at_key(project, {"model": "models/spam.keras", "widget": "text", **keys},
                              key, message)


def test_a_model_without_text_input_is_refused(tmp_path, shared_cache):
    project = Project(tmp_path)
    (project.root / "models").mkdir()
    penguins = ROOT / "models" / "penguins" / "penguins.keras"
    (project.root / "models" / "p.keras").write_bytes(penguins.read_bytes())
    project.config({"cache_dir": str(shared_cache)})
    project.page("page.md", "# P\n\n" + tfjs_block(model="models/p.keras", widget="text"))
    result = project.build()
    assert result.returncode != 0
    assert "does not fit the text widget: it takes [batch, 4]" in result.output, result.output
    assert json.dumps("text")  # the message names the widget the block asked for
