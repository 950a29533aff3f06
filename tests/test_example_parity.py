"""The three example models, converted natively at float32, match Keras in Chromium.

``tfjsWidgets.predict`` runs the widget's own model (the backend the page
picked) on inputs from this test; the reference is ``model.predict`` of the
same ``.keras`` file. A wrong lowering, weight order or folding is off by far
more than the tolerance; the measured worst errors are in ``EXAMPLES``.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from .conftest import ROOT, Project

pytestmark = pytest.mark.browser

# widget, model file, labels, input shape, measured worst |browser - Keras| (WebAssembly backend).
EXAMPLES = [
    ("palette", "palette/generator.keras", None, (64, 5), 4.2e-7),
    ("handwriting", "digits/digits.keras", "digits", (16, 28, 28, 1), 3.6e-7),
    ("image", "emoji/classifier.keras", "emoji/classes.json", (8, 64, 64, 3), 1.1e-6),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    project = Project(tmp_path_factory.mktemp("parity") / "proj")
    shutil.copytree(ROOT / "models", project.root / "models", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    blocks = []
    for widget, model, labels, _, _ in EXAMPLES:
        label_line = f"labels: models/{labels}\n" if labels and labels.endswith(".json") else (
            f"labels: {labels}\n" if labels else "")
        blocks.append(f"```tfjs\nmodel: models/{model}\nwidget: {widget}\nquantize: none\n{label_line}```\n")
    project.page("index.md", "# Parity\n\n" + "\n".join(blocks))
    project.config()
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    return project.site


@pytest.mark.parametrize(("widget", "model", "labels", "shape", "worst"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_model_matches_keras_in_chromium(site, serve, open_page, widget, model, labels, shape, worst):
    import keras

    widget_id = f"tfjs-{widget}-1"
    page, log = open_page(serve(site), wait_ready=widget_id)
    x = np.random.default_rng(9).uniform(0, 1, size=shape).astype("float32")
    got = np.asarray(page.evaluate("([id, x]) => window.tfjsWidgets.predict(id, x)", [widget_id, x.tolist()]))
    expected = keras.models.load_model(ROOT / "models" / model, compile=False).predict(x, verbose=0)
    assert got.shape == expected.shape
    # Twice the measured worst: well inside the 1e-5 the converter promises.
    assert float(np.abs(got - expected).max()) <= 2 * worst
    assert not log.page_errors
