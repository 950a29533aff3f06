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

from .conftest import PALETTE_BLOCK, PALETTE_MODEL, place

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
    keras.Sequential([keras.Input((5,)), keras.layers.Lambda(lambda x: x * 2.0, name="times_two"),
                      keras.layers.Dense(15)]).save(out / "lambda.keras")
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
    ("lambda.keras", "the model has Lambda layer `times_two`"),
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
