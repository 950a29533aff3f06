"""Bad input fails loudly and safely; the cache survives kills, races and corruption."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mkdocs_tfjs.build import Settings, SiteBuild
from mkdocs_tfjs.directive import find_blocks
from mkdocs_tfjs.errors import DirectiveError

from .conftest import PALETTE_BLOCK, PALETTE_MODEL, ROOT, place
from .keras_models import lstm_model
from .test_build import widget_config

CUSTOM_LAYER = '''
import keras


@keras.saving.register_keras_serializable(package="mine")
class Doubler(keras.layers.Layer):
    def call(self, x):
        return x * 2.0
'''


@pytest.fixture(scope="session")
def broken_models(tmp_path_factory) -> dict[str, Path]:
    """Files that are not models, or models that cannot be converted."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    out = tmp_path_factory.mktemp("broken")
    (out / "text.h5").write_text("these are my notes, not a model\n")
    (out / "empty.keras").write_bytes(b"")
    (out / "truncated.keras").write_bytes(PALETTE_MODEL.read_bytes()[:30_000])
    (out / "lfs.keras").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 1\n")
    with zipfile.ZipFile(PALETTE_MODEL) as src, zipfile.ZipFile(out / "badconfig.keras", "w") as dst:
        for name in src.namelist():
            dst.writestr(name, b'{"class_name": "Sequential", "config": {' if name == "config.json"
                         else src.read(name))
    lambda_model = keras.Sequential([keras.Input((5,)),
                                     keras.layers.Lambda(lambda x: x * 2.0, name="times_two"),
                                     keras.layers.Dense(15)])
    lambda_model.save(out / "lambda.keras")
    # The two ways out the Lambda message gives: the same model as tensor arithmetic in a
    # functional model (native), and the Lambda model exported as a SavedModel (TensorFlow).
    inputs = keras.Input((5,))
    keras.Model(inputs, keras.layers.Dense(15)(inputs * 2.0)).save(out / "times_two_ops.keras")
    lambda_model.export(str(out / "lambda_saved_model"), format="tf_saved_model", verbose=False)
    namespace: dict = {}
    exec(CUSTOM_LAYER, namespace)  # noqa: S102 - the same code the hooks file of a test holds.
    keras.Sequential([keras.Input((5,)), namespace["Doubler"](name="doubler"),
                      keras.layers.Dense(15, activation="sigmoid")]).save(out / "custom.keras")

    class Determinant(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 5], tf.float32)])
        def __call__(self, x):
            det = tf.linalg.det(tf.reshape(x[:, :4], [-1, 2, 2]))
            return tf.tile(det[:, None], [1, 15])

    module = Determinant()
    tf.saved_model.save(module, str(out / "det_model"), signatures={"serving_default": module.__call__})
    return {p.name: p for p in out.iterdir()}


BAD_FILES = [
    ("text.h5", "the file is not an HDF5 file (it starts with b'these are my not'); "
                "save the model again with model.save('name.keras')"),
    ("empty.keras", "the file is empty (0 bytes)"),
    ("truncated.keras", "the file is not a complete .keras archive"),
    ("lfs.keras", "the file is a Git LFS pointer, not the model; run `git lfs pull`"),
    ("badconfig.keras", "the model's config.json is not valid JSON"),
    ("lambda.keras", "the model has Lambda layer `times_two`, whose Python code Keras will not load safely "
                     "and TF.js cannot run; compute the same with what the native converter lowers"),
    ("custom.keras", "the model uses the layer class `Doubler`, which Keras cannot find; register it "
                     "with @keras.saving.register_keras_serializable() in a Python file that mkdocs.yml "
                     "lists under `hooks:`"),
    ("det_model", "TensorFlow.js has no kernel for these ops: MatrixDeterminant"),
]


@pytest.mark.parametrize(("name", "message"), BAD_FILES)
def test_files_that_are_not_convertible_models_fail_with_the_reason(project, broken_models, name, message):
    rel = place(project, broken_models[name], f"models/{name}")
    project.config()
    project.page("index.md", f"# Page\n\n```tfjs\nmodel: {rel}\nwidget: palette\n```\n")
    result = project.build()
    assert result.returncode != 0
    assert f"docs/index.md:3: models/{name}: {message}" in result.output, result.output
    cache = project.root / ".cache/plugin/tfjs"
    assert not any(cache.iterdir()), "a failed conversion leaves nothing in the cache"
    assert not (project.site / "index.html").exists()


def test_the_hooks_advice_for_custom_layers_works(project, broken_models):
    place(project, broken_models["custom.keras"], "models/custom.keras")
    project.write("hooks/layers.py", CUSTOM_LAYER)
    project.config(extra="hooks:\n  - hooks/layers.py\n")
    project.page("index.md", "```tfjs\nmodel: models/custom.keras\nwidget: palette\n```\n")
    result = project.build()
    assert result.returncode == 0, result.output


# The Lambda advice used to be "replace it with a built-in layer or a registered custom layer",
# and a registered custom layer is the next refusal ("the native converter does not support the
# layer ... of class ..."). Each way the message gives now must build.
def test_the_lambda_advice_names_ways_that_build(project, broken_models):
    place(project, broken_models["lambda.keras"], "models/lambda.keras")
    project.config()
    project.page("index.md", "```tfjs\nmodel: models/lambda.keras\nwidget: palette\n```\n")
    refused = project.build()
    assert refused.returncode != 0
    message = next(line for line in refused.output.splitlines() if "Lambda layer `times_two`" in line)
    assert "registered custom layer" not in message
    for advice in ("`y = x * 2.0`", "keras.ops.add/subtract/multiply/divide", "docs/conversion.md#two-converters",
                   "model.export('folder')", 'pip install "mkdocs-tfjs[tensorflow]", on Python 3.11 or 3.12'):
        assert advice in message, message

    place(project, broken_models["times_two_ops.keras"], "models/times_two_ops.keras")
    place(project, broken_models["lambda_saved_model"], "models/lambda_saved_model")
    project.page("index.md", "```tfjs\nmodel: models/times_two_ops.keras\nwidget: palette\n```\n\n"
                             "```tfjs\nmodel: models/lambda_saved_model\nwidget: palette\n```\n")
    built = project.build()
    assert built.returncode == 0, built.output
    assert "converted models/times_two_ops.keras natively" in built.output, built.output
    assert "converted models/lambda_saved_model with TensorFlow" in built.output, built.output


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("../../outside.keras", "points outside the project folder"),
        ("/etc/passwd", "is an absolute path"),
        ("models/link.keras", "points outside the project folder"),
        ("models", "is a folder without saved_model.pb, so not a SavedModel"),
        ("models/palete/generator.keras", "does not exist; did you mean `models/palette/generator.keras`?"),
    ],
)
def test_model_paths_are_checked_at_build_time(project, tmp_path, model, message):
    outside = tmp_path / "elsewhere.keras"
    shutil.copy(PALETTE_MODEL, outside)
    os.symlink(outside, project.root / "models" / "link.keras")
    project.config()
    project.page("index.md", f"```tfjs\nmodel: {model}\nwidget: palette\n```\n")
    result = project.build()
    assert result.returncode != 0
    assert f"docs/index.md:2: `model: {model}` {message}" in result.output, result.output


def test_a_block_that_is_not_a_mapping_is_an_error(project):
    project.config()
    project.page("index.md", "```tfjs\nmodels/palette/generator.keras\n```\n")
    result = project.build()
    assert result.returncode != 0
    assert "docs/index.md:1: the tfjs block must be a YAML mapping of `key: value` lines, found str" in result.output


def test_a_failed_build_keeps_the_earlier_good_cache_entry(project):
    project.config()
    project.page("index.md", PALETTE_BLOCK)
    assert project.build().returncode == 0
    cache = project.root / ".cache/plugin/tfjs"
    entries = sorted(p.name for p in cache.iterdir())
    project.page("index.md", PALETTE_BLOCK + "\n```tfjs\nmodel: models/missing.keras\nwidget: palette\n```\n")
    assert project.build().returncode != 0
    assert sorted(p.name for p in cache.iterdir()) == entries
    project.page("index.md", PALETTE_BLOCK)
    again = project.build()
    assert again.returncode == 0 and "1 model up to date" in again.output and again.tensorflow_imported is False


def test_a_build_killed_mid_conversion_leaves_the_cache_usable(project):
    project.config()
    project.page("index.md", PALETTE_BLOCK)
    cache = project.root / ".cache/plugin/tfjs"
    killer = Path(__file__).with_name("helpers") / "mkdocs_killed_mid_write.py"
    killed = subprocess.run([sys.executable, str(killer), "build"], cwd=project.root, capture_output=True,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert list(cache.glob(".tmp-*/model/group1-shard*")), "it died with a half-written conversion"
    assert not [p for p in cache.iterdir() if not p.name.startswith(".tmp-")], \
        "a killed conversion must leave no entry a later build would trust"
    site_models = project.site / "assets/tfjs/models"
    assert not site_models.exists() or not any(site_models.iterdir())

    result = project.build()
    assert result.returncode == 0, result.output
    assert "converted models/palette/generator.keras" in result.output
    assert [p.name for p in cache.iterdir() if p.name.startswith(".tmp-")] == [], "dead work folders are removed"
    model_dirs = list((project.site / "assets/tfjs/models").iterdir())
    assert len(model_dirs) == 1 and (model_dirs[0] / "model.json").is_file()


# A hook that holds each build before its pages are read until the other build is
# there too, so that both convert at the same moment.
def test_two_builds_converting_the_same_model_at_once_both_succeed(project, tmp_path):
    project.config()
    project.page("index.md", PALETTE_BLOCK)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    paused = Path(__file__).with_name("helpers") / "mkdocs_paused_mid_write.py"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "TFJS_TEST_BARRIER": str(barrier)}
    processes = [subprocess.Popen([sys.executable, str(paused), "build", "-d", f"site{i}"],
                                  cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  env=env, text=True) for i in (1, 2)]
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    # Each build, held inside its conversion, saw both conversions' work folders at once.
    pids = sorted(str(p.pid) for p in processes)
    for pid in pids:
        assert sorted((barrier / f"{pid}.seen").read_text().split()) == pids
    assert all("converted models/palette/generator.keras" in out for out in outputs), outputs
    cache = project.root / ".cache/plugin/tfjs"
    assert len([p for p in cache.iterdir() if not p.name.startswith(".tmp-")]) == 1
    for i in (1, 2):
        assert list((project.root / f"site{i}/assets/tfjs/models").glob("generator-*/model.json"))


@pytest.mark.parametrize("damage", ["truncate-shard", "edit-model-json"])
def test_a_corrupted_cache_entry_is_detected_discarded_and_rebuilt(project, damage):
    project.config()
    project.page("index.md", PALETTE_BLOCK)
    assert project.build().returncode == 0
    (entry,) = [p for p in (project.root / ".cache/plugin/tfjs").iterdir()]
    if damage == "truncate-shard":
        shard = next(entry.glob("*.bin"))
        shard.write_bytes(shard.read_bytes()[:1000])
    else:
        model_json = json.loads((entry / "model.json").read_text())
        model_json["format"] = "layers-model"
        (entry / "model.json").write_text(json.dumps(model_json))
    result = project.build()
    assert result.returncode == 0
    assert "WARNING" in result.output and "is damaged" in result.output
    assert "converted models/palette/generator.keras" in result.output
    strict = project.build("--strict")
    assert strict.returncode == 0, "once rebuilt, the entry is trusted again"
    site_model = next((project.site / "assets/tfjs/models").glob("generator-*"))
    assert json.loads((site_model / "model.json").read_text())["format"] == "graph-model"


# -- messages that say which key, which item and what to do --------------------

DIGITS_MODEL = PALETTE_MODEL.parents[1] / "digits" / "digits.keras"
PENGUINS_MODEL = PALETTE_MODEL.parents[1] / "penguins" / "penguins.keras"
PENGUIN_SLIDERS = """inputs:
  - {name: bill length, min: 30, max: 60}
  - {name: bill depth, min: 13, max: 22}
  - {name: flipper length, min: 170, max: 235}
  - {name: body mass, min: 2500, max: 6500}
"""


@pytest.mark.parametrize(
    ("widget", "keys", "line", "message"),
    [
        # Used to point at the block's first line (3), not at the `border` key.
        ("handwriting", "title: Digits\nborder: 14\n", 7,
         "`border: 14` leaves no room for the character in a 28 x 28 input; use at most 13"),
        # Used to build, showing 10 bars where the author asked for 50.
        ("handwriting", "topk: 50\n", 6,
         "`topk: 50` asks for more classes than `models/digits/digits.keras` has: it returns 10 "
         "([batch, 10]); use at most `topk: 10`, or leave `topk` out"),
        ("sliders", PENGUIN_SLIDERS + "topk: 5\n", 11,
         "`topk: 5` asks for more classes than `models/penguins/penguins.keras` has: it returns 3 "
         "([batch, 3]); use at most `topk: 3`"),
        # Used to say only "must hold one text label per class", whichever item was wrong.
        ("handwriting", "labels: [zero, one, {two: 2}, three, four, five, six, seven, eight, nine]\n", 6,
         '`labels` item 3 (index 2) is a mapping {"two": 2}, not a text label'),
        ("handwriting", "labels:\n  - zero\n  - no\n", 6,
         "`labels` item 2 (index 1) is false (YAML reads an unquoted yes, no, on or off as true/false), "
         "not a text label; write each item as text, in quotes where YAML would read it as something else"),
    ],
)
def test_block_errors_point_at_the_key_and_say_what_is_wrong_with_it(project, shared_cache, widget, keys,
                                                                     line, message):
    model = {"handwriting": DIGITS_MODEL, "sliders": PENGUINS_MODEL}[widget]
    rel = place(project, model, f"models/{model.parent.name}/{model.name}")
    project.config({"cache_dir": str(shared_cache)})
    # The block opens on line 3; its keys start on line 4.
    project.page("index.md", f"# Page\n\n```tfjs\nmodel: {rel}\nwidget: {widget}\n{keys}```\n")
    result = project.build()
    assert result.returncode != 0
    assert f"docs/index.md:{line}: {message}" in result.output, result.output


# The message named the docs page in words only; it now gives the page's path and section,
# and that path must lead to the list.
def test_an_unsupported_layer_names_the_docs_page_that_lists_the_supported_layers(project):
    lstm_model().save(project.root / "models" / "rnn.keras")
    project.config()
    project.page("index.md", "# Page\n\n```tfjs\nmodel: models/rnn.keras\nwidget: palette\nconverter: native\n```\n")
    result = project.build()
    assert result.returncode != 0
    assert ("docs/index.md:3: models/rnn.keras: the native converter does not support the layer `memory` of "
            "class ConvLSTM1D; either set `converter: auto` or `converter: tensorflow` to use TensorFlow's converter, "
            "or build the model from supported layers (the list is on the page \"How conversion and caching "
            "work\" of the plugin's docs, docs/conversion.md#two-converters)") in result.output, result.output
    page = (ROOT / "docs" / "conversion.md").read_text()
    assert page.startswith("# How conversion and caching work\n") and "\n## Two converters\n" in page
    section = page.split("\n## Two converters\n")[1].split("\n## ")[0]
    assert "| group | layers |" in section and "Conv2D" in section


# -- the [tensorflow] extra --------------------------------------------------


# Issue 17, bug 3: with setuptools >= 81 (what a fresh Python 3.12 venv got) tensorflow_hub,
# imported by tensorflowjs, finds no pkg_resources, and the build said "cannot import the
# converter (...); install TensorFlow's converter with pip install "mkdocs-tfjs[tensorflow]"":
# the extra that was installed. A package folder on PYTHONPATH stands in for setuptools 81 (it
# raises what a missing module raises); TensorFlow and tensorflowjs are the real ones.
def test_a_converter_installed_but_broken_is_not_called_missing(project, tmp_path):
    shadow = tmp_path / "no-pkg-resources" / "pkg_resources"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'pkg_resources'\", name='pkg_resources')\n")
    project.config()
    project.page("index.md", "# Page\n\n```tfjs\nmodel: models/palette/generator.keras\nwidget: palette\n"
                             "converter: tensorflow\n```\n")
    pythonpath = os.pathsep.join(filter(None, [str(shadow.parent), os.environ.get("PYTHONPATH")]))
    result = project.build(env={"PYTHONPATH": pythonpath})
    assert result.returncode != 0
    assert ("docs/index.md:3: TensorFlow's converter is installed but fails on import (No module named "
            "'pkg_resources': setuptools 81 and later no longer ship pkg_resources, which tensorflow_hub "
            '(imported by tensorflowjs) needs); pip install "setuptools<81", or use `converter: native`'
            ) in result.output, result.output
    assert "not installed" not in result.output


# -- SavedModels: probabilities or logits, read from the graph ----------------


@pytest.fixture(scope="session")
def classifier_saved_models(tmp_path_factory) -> dict[str, Path]:
    """8 x 8 x 1 -> 10 classifiers exported as SavedModels, ending in each kind of output."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    out = tmp_path_factory.mktemp("classifiers")
    keras.utils.set_random_seed(3)
    for activation in ("softmax", "sigmoid", "linear"):
        # A non-zero bias: TensorFlow fuses a sigmoid into the matmul (_FusedMatMul), which
        # the graph reader must see through.
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation=activation, bias_initializer="ones")])
        model.export(str(out / activation), format="tf_saved_model", verbose=False)
    return {p.name: p for p in out.iterdir()}


# A SavedModel needed `outputs: probabilities|logits` even when its graph ends in a Softmax or
# a Sigmoid ("it carries no Keras architecture to read the output activation from").
def test_a_saved_model_that_ends_in_softmax_or_sigmoid_needs_no_outputs_key(project, classifier_saved_models):
    for name in ("softmax", "sigmoid", "linear"):
        place(project, classifier_saved_models[name], f"models/{name}")
    project.config()
    project.page("index.md", "".join(f"```tfjs\nmodel: models/{name}\nwidget: handwriting\nid: {name}\n```\n\n"
                                     for name in ("softmax", "sigmoid")))
    built = project.build()
    assert built.returncode == 0, built.output
    html = (project.site / "index.html").read_text()
    assert [widget_config(html, name)["outputs"] for name in ("softmax", "sigmoid")] == ["probabilities"] * 2

    project.page("index.md", "# Page\n\n```tfjs\nmodel: models/linear\nwidget: handwriting\n```\n")
    linear = project.build()
    assert linear.returncode != 0
    assert ("docs/index.md:3: cannot tell whether `models/linear` returns probabilities or logits: it is a "
            "SavedModel whose graph does not end in a Softmax or Sigmoid op; add `outputs: probabilities`"
            ) in linear.output, linear.output


# -- the parser under fuzzing ----------------------------------------------

MARKDOWN_BITS = st.sampled_from([
    "```", "````", "~~~", "```tfjs", "~~~ tfjs", "```python", "    ```tfjs", "\n", "\n\n", "text ",
    "model: models/palette/generator.keras", "widget: palette", "widget: nope", "key: [", ": :",
    "- item", "# Title", "    indented", "`inline`", "tfjs", "\t", "---", "{", "}", "\u00e9", "\r\n",
])
markdown_text = st.lists(st.one_of(MARKDOWN_BITS, st.text(max_size=12)), max_size=40).map("".join)


@pytest.fixture(scope="module")
def fuzz_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "models" / "palette").mkdir(parents=True)
    shutil.copy(PALETTE_MODEL, root / "models" / "palette" / "generator.keras")
    site = SiteBuild(Settings(project_dir=root), warn=lambda m: None, info=lambda m: None,
                     cache_root=root / "cache")
    # Convert once so that fuzzed pages hit the cache.
    site.process_markdown("```tfjs\nmodel: models/palette/generator.keras\nwidget: palette\n```\n",
                          "docs/p.md", "p/")
    return site


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(markdown_text)
def test_random_markdown_never_crashes_and_text_without_blocks_is_unchanged(fuzz_build, text):
    blocks = find_blocks(text)
    try:
        out, placed = fuzz_build.process_markdown(text, "docs/p.md", "p/")
    except DirectiveError as exc:
        # Only a block can be wrong, and the error points into it.
        assert exc.page == "docs/p.md" and exc.message
        assert any(b.line <= exc.line <= b.line + (b.end - b.start) for b in blocks), (exc.line, text)
        return
    if not blocks:
        assert out == text and placed.widgets == []
    else:
        assert len(placed.widgets) == len(blocks)
        assert all(w.token in out for w in placed.widgets)
