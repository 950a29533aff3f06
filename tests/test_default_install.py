"""A plain `pip install` of the package, without extras, converts and serves the demo site.

The install runs into a fresh virtual environment (Python 3.13 where the
machine has it, which TensorFlow's converter does not support), builds this
project's own documentation with `mkdocs build --strict` and `runtime: local`
with no node_modules anywhere, and the three demo widgets then run in
Chromium, offline, and match Keras. It fails if the default install pulls
TensorFlow, tensorflowjs, jax or torch, if anything in the build path imports
them, if the wheel lacks the vendored runtime, or if the native conversion
differs from Keras.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from .conftest import ROOT, StaticServer, copy_demo_project
from .keras_models import lstm_model

pytestmark = pytest.mark.browser

HEAVY = ("tensorflow", "tensorflowjs", "tf-keras", "keras", "jax", "jaxlib", "torch")


def newest_python() -> str:
    """Return a Python 3.13+ interpreter that really runs, if the machine has one."""
    candidates = [shutil.which(f"python3.{minor}") for minor in (14, 13)]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[3-9]*/bin/python3")), reverse=True)
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "import sys; assert sys.version_info >= (3, 13)"],
                          capture_output=True).returncode == 0:
            return candidate
    return sys.executable


@pytest.fixture(scope="module")
def lean_venv(tmp_path_factory, package_source):
    """A virtual environment with only `pip install <this checkout>` (and the demo's theme)."""
    python = newest_python()
    venv = tmp_path_factory.mktemp("lean") / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    # The demo site uses Material; an author brings their own theme the same way.
    done = subprocess.run([*pip, "-c", str(ROOT / "constraints.txt"), str(package_source), "mkdocs-material"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


def test_default_install_has_no_tensorflow(lean_venv):
    listed = subprocess.run([str(lean_venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
                            capture_output=True, text=True, check=True).stdout
    names = {line.split("==")[0].lower() for line in listed.splitlines()}
    assert not names & set(HEAVY), names & set(HEAVY)
    probe = subprocess.run([str(lean_venv / "bin" / "python"), "-c", "import tensorflow"],
                           capture_output=True, text=True)
    assert probe.returncode != 0 and "No module named 'tensorflow'" in probe.stderr


@pytest.fixture(scope="module")
def lean_site(lean_venv, tmp_path_factory):
    """The demo site built by the lean environment's own `mkdocs`."""
    root = copy_demo_project(tmp_path_factory.mktemp("lean-demo") / "proj")
    # No node_modules anywhere: `runtime: local` takes TF.js from inside the package.
    assert not (root / "node_modules").exists() and "runtime_dir" not in (root / "mkdocs.yml").read_text()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(lean_venv / "bin" / "mkdocs"), "build", "--strict"], cwd=root,
                          capture_output=True, text=True, env={**env, "NO_MKDOCS_2_WARNING": "1"}, timeout=600)
    assert done.returncode == 0, done.stderr
    for model in ("palette/generator", "digits/digits", "emoji/classifier"):
        assert re.search(rf"converted models/{model}\.keras natively \(", done.stderr), done.stderr
    return root / "site"


# (page, widget id, model, input shape): the three demo widgets.
DEMOS = [
    ("demos/palette/", "tfjs-palette-1", "palette/generator.keras", (16, 5)),
    ("demos/handwriting/", "tfjs-handwriting-1", "digits/digits.keras", (4, 28, 28, 1)),
    ("demos/image/", "tfjs-image-1", "emoji/classifier.keras", (2, 64, 64, 3)),
]


@pytest.mark.parametrize(("page_path", "widget_id", "model", "shape"), DEMOS, ids=[d[1] for d in DEMOS])
def test_demo_widgets_built_without_tensorflow_match_keras(lean_site, open_page, page_path, widget_id, model, shape):
    import keras

    server = StaticServer(lean_site)
    try:
        page, log = open_page(server.url + page_path, wait_ready=widget_id)
        x = np.random.default_rng(4).uniform(0, 1, size=shape).astype("float32")
        got = np.asarray(page.evaluate("([id, x]) => window.tfjsWidgets.predict(id, x)", [widget_id, x.tolist()]))
    finally:
        server.close()
    expected = keras.models.load_model(ROOT / "models" / model, compile=False).predict(x, verbose=0)
    # The demo ships float16 weights: measured max errors 1.2e-3 (palette), and far less on the
    # softmax outputs; a wrong lowering is off by more than 0.05.
    assert got.shape == expected.shape
    assert float(np.abs(got - expected).max()) <= 2e-3
    assert not log.page_errors
    offsite = [url for url in log.requests if not url.startswith(server.url)]
    assert not offsite, offsite


def test_unsupported_layer_without_tensorflow_names_page_line_layer_and_both_fixes(lean_venv, tmp_path):
    project = tmp_path / "proj"
    (project / "docs").mkdir(parents=True)
    (project / "models").mkdir()
    lstm_model().save(project / "models" / "rnn.keras")
    (project / "mkdocs.yml").write_text("site_name: t\nplugins:\n  - tfjs\n")
    (project / "docs" / "index.md").write_text("# Title\n\n```tfjs\nmodel: models/rnn.keras\nwidget: palette\n```\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(lean_venv / "bin" / "mkdocs"), "build"], cwd=project, capture_output=True,
                          text=True, env={**env, "NO_MKDOCS_2_WARNING": "1"}, timeout=300)
    assert done.returncode != 0
    assert "docs/index.md:3: models/rnn.keras: the native converter does not support the layer `memory` " \
           "of class ConvLSTM1D" in done.stderr, done.stderr
    assert 'pip install "mkdocs-tfjs[tensorflow]"' in done.stderr and "supported layers" in done.stderr
    # Issue 17: the message says which Pythons the extra installs on, and where the list is.
    assert "Python 3.11 or 3.12" in done.stderr and "docs/conversion.md#two-converters" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (project / "site" / "assets" / "tfjs").exists()
