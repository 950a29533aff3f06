"""The lean runtime: one file per backend, with the kernels of the ops the converter writes.

A page whose models use only those ops loads that one file instead of
tfjs-core, tfjs-converter and the backend's script; any other page loads the
full pieces. These tests run the real files in Chromium against Keras, check
what each page requests, and rebuild the files from the lock file.
"""

from __future__ import annotations

import importlib.util
import re
import shutil

import numpy as np
import pytest
from mkdocs_tfjs import runtime

from .conftest import ROOT, Project
from .keras_models import lstm_model

PENGUIN_INPUTS = (
    "inputs:\n  - {name: Bill length, min: 30, max: 60, step: 1, value: 39}\n  - {name: Bill depth, min: 13, max: 22, step: 1, value: 18}\n"
    "  - {name: Flipper length, min: 170, max: 235, step: 1, value: 190}\n  - {name: Body mass, min: 2500, max: 6500, step: 50, value: 3700}\n"
)
MASS_INPUTS = "inputs:\n  - {name: Flipper length, min: 170, max: 235, step: 1, value: 200}\n  - {name: Bill length, min: 32, max: 60, step: 1, value: 44}\n"
# page, block, model, input sampler, measured worst |browser - Keras| / max(1, |Keras|) on
# the backend `auto` picks (cpu for palette and the penguin models, under 200k multiply-adds;
# wasm for digits and emoji), the same on the lean and the full runtime.
EXAMPLES = {
    "palette": ("widget: palette", "palette/generator.keras", lambda r: r.uniform(0, 1, (64, 5)), 3.9e-7),
    "digits": ("widget: handwriting\nlabels: digits", "digits/digits.keras",
               lambda r: r.uniform(0, 1, (16, 28, 28, 1)), 3.6e-7),
    "emoji": ("widget: image\nlabels: models/emoji/classes.json", "emoji/classifier.keras",
              lambda r: r.uniform(0, 1, (8, 64, 64, 3)), 1.1e-6),
    "penguins": ("widget: sliders\noutputs: [Adelie, Chinstrap, Gentoo]\nkind: classes\n" + PENGUIN_INPUTS,
                 "penguins/penguins.keras",
                 lambda r: r.uniform([30, 13, 170, 2500], [60, 22, 235, 6500], (32, 4)), 2.4e-7),
    "penguin-mass": ("widget: sliders\noutputs: [Body mass]\nkind: values\n" + MASS_INPUTS,
                     "penguin-mass/body_mass.keras",
                     lambda r: r.uniform([170, 32], [235, 60], (32, 2)), 7.7e-8),
}


#: Outputs of the lean runs, by example, for the full runs to compare with.
LEAN_OUTPUTS: dict[str, np.ndarray] = {}


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _lean_files(log) -> list[str]:
    return [u.rsplit("/", 1)[-1] for u in log.requests if "/tfjs-lean-" in u and u.endswith(".js")]


def _full_pieces(log) -> list[str]:
    return [u.rsplit("/", 1)[-1] for u in log.requests if re.search(r"/tf-(core|converter|backend-\w+)\.min\.js$", u)]


def test_lean_files_are_what_the_script_makes_from_the_lock_file(tmp_path):
    # Fails when the committed lean files were edited by hand, or not rebuilt after a
    # change of a pinned TF.js or esbuild version, of the lowering or of the kernel table.
    _load_script("build_lean_runtime").main(["--output", str(tmp_path)])
    made, committed = tmp_path / "vendor" / "lean", runtime.LEAN
    assert sorted(p.name for p in made.iterdir()) == sorted(p.name for p in committed.iterdir())
    for path in made.iterdir():
        assert path.read_bytes() == (committed / path.name).read_bytes(), path.name


def test_lean_ops_are_what_the_lowering_writes():
    # Fails when the op list is cut off from the lowering (a hand-kept list, or an op the
    # native converter writes missing from the lean files, which would ship every model
    # using it the full runtime), or when an op lacks a kernel in a lean file.
    table = runtime.lean_manifest()["backends"]
    for op in ("_FusedConv2D", "_FusedMatMul", "MaxPool", "Softmax", "Placeholder", "Const"):
        assert all(op in entry["ops"] for entry in table.values()), op
    # The native converter's loop over a sequence of free length (a While over TensorLists)
    # runs on the lean files; TensorFlow's own control flow (Enter, Merge, Switch) is never
    # written by it: models with that get the full runtime.
    for op in ("While", "TensorListFromTensor", "TensorListGetItem", "TensorListSetItem", "TensorListStack"):
        assert all(op in entry["ops"] for entry in table.values()), op
    assert not {"Enter", "Merge", "Switch", "NextIteration"} & set(table["wasm"]["ops"])


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The five example models, one page each, float32; and the same site with every widget marked full."""
    project = Project(tmp_path_factory.mktemp("lean") / "proj")
    shutil.copytree(ROOT / "models", project.root / "models", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for name, (block, model, _, _) in EXAMPLES.items():
        project.page(f"{name}.md", f"# {name}\n\n```tfjs\nmodel: models/{model}\nid: w\nquantize: none\n{block.rstrip()}\n```\n")
    project.page("index.md", "# Index\n")
    project.config({"runtime": "local"})
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    full = project.root / "site-full"
    shutil.copytree(project.site, full)
    for page in full.rglob("index.html"):
        text = page.read_text()
        page.write_text(text.replace('"lean":true', '"lean":false'))
    assert '"lean":true' in (project.site / "palette" / "index.html").read_text()
    return {"lean": project.site, "full": full}


@pytest.mark.browser
@pytest.mark.parametrize("flavour", ["lean", "full"])
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_model_matches_keras_on_the_lean_and_the_full_runtime(sites, serve, open_page, name, flavour):
    # Fails when the lean file lacks a kernel one of the example models runs (the widget
    # never gets ready: "Kernel 'X' not registered"), when a lean kernel computes otherwise
    # than the full one, or when the build stops marking converter-made models lean.
    import keras

    _, model, sample, worst = EXAMPLES[name]
    page, log = open_page(serve(sites[flavour]) + f"{name}/", wait_ready="w")
    backend = page.evaluate("window.tfjsWidgets.backend()")
    assert backend["runtime"] == flavour
    if flavour == "lean":
        assert _lean_files(log) == [f"tfjs-lean-{backend['name']}.min.js"] and not _full_pieces(log)
    else:
        assert not _lean_files(log) and "tf-core.min.js" in _full_pieces(log)
    x = sample(np.random.default_rng(9)).astype("float32")
    got = np.asarray(page.evaluate("([id, x]) => window.tfjsWidgets.predict(id, x)", ["w", x.tolist()]))
    expected = keras.models.load_model(ROOT / "models" / model, compile=False).predict(x, verbose=0)
    error = float(np.abs(got - expected).max() / max(1.0, float(np.abs(expected).max())))
    print(f"{name} {flavour} {backend['name']}: worst relative error {error:.2e}")
    # Twice the measured worst, relative to the output's scale (body mass is in grams).
    assert got.shape == expected.shape and error <= 2 * worst
    if flavour == "lean":
        LEAN_OUTPUTS[name] = got
    elif name in LEAN_OUTPUTS:
        # The same kernels run in both: the same numbers, to the bit.
        assert np.array_equal(got, LEAN_OUTPUTS[name])
    assert not log.page_errors, log.page_errors


@pytest.mark.browser
def test_a_model_outside_the_lean_ops_gets_the_full_runtime_and_runs(tmp_path, serve, open_page):
    # Fails when a page ships the lean file to a model with ops it lacks (an LSTM converted by
    # TensorFlow has a While loop and TensorList ops): the widget would fail for a missing kernel.
    # A lean model on the same page must not pull the page back to the lean file either.
    import keras

    keras.utils.set_random_seed(5)
    project = Project(tmp_path / "proj")
    (project.root / "models").mkdir(parents=True)
    model = lstm_model()
    model.save(project.root / "models" / "lstm.keras")
    shutil.copy(ROOT / "models" / "palette" / "generator.keras", project.root / "models" / "palette.keras")
    project.page("index.md", "# LSTM\n\n```tfjs\nmodel: models/lstm.keras\nwidget: palette\nid: w\nquantize: none\n```\n\n"
                 "```tfjs\nmodel: models/palette.keras\nwidget: palette\nid: p\n```\n")
    project.config({"runtime": "local"})
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    assert "converted models/lstm.keras with TensorFlow" in result.output
    page, log = open_page(serve(project.site), wait_ready="w")
    page.evaluate("id => window.tfjsWidgets.ready(id)", "p")
    assert page.evaluate("window.tfjsWidgets.backend()")["runtime"] == "full"
    assert not _lean_files(log) and "tf-core.min.js" in _full_pieces(log)
    x = np.random.default_rng(1).uniform(-1, 1, (4, 6)).astype("float32")
    got = np.asarray(page.evaluate("([id, x]) => window.tfjsWidgets.predict(id, x)", ["w", x.tolist()]))
    assert float(np.abs(got - model.predict(x, verbose=0)).max()) <= 1e-5
    assert not log.page_errors, log.page_errors


@pytest.mark.browser
def test_cdn_pages_take_the_lean_file_from_the_site_and_the_binary_from_the_cdn(tmp_path, serve, open_page):
    # Fails when `runtime: cdn` points the lean file at a CDN that does not serve it, or
    # forgets to copy it into the site: the page would load nothing and the widget fail.
    project = Project(tmp_path / "proj")
    (project.root / "models").mkdir(parents=True)
    shutil.copy(ROOT / "models" / "palette" / "generator.keras", project.root / "models" / "palette.keras")
    project.page("index.md", "# Palette\n\n```tfjs\nmodel: models/palette.keras\nwidget: palette\nid: p\n```\n")
    project.config({"runtime": "cdn"})
    assert project.build("--strict").returncode == 0
    assert len(list(project.site.glob("assets/tfjs/vendor/tfjs-lean-*/tfjs-lean-*.min.js"))) == 4  # cpu, wasm, webgl, webgpu
    url = serve(project.site)
    page, log = open_page(url, wait_ready="p")
    lean = [u for u in log.requests if "/tfjs-lean-" in u]
    assert lean and all(u.startswith(url) for u in lean)
    assert not _full_pieces(log) and not log.page_errors


@pytest.mark.browser
def test_instant_navigation_from_a_lean_page_to_a_full_page_reloads_it_and_back_stays(
        tmp_path, serve, open_page):
    # Fails when a page reached by Material's instant navigation from a lean page runs its
    # model on the lean file anyway (a widget of the author's own may call TF.js functions
    # the lean file lacks), or loads a second TF.js over the first; and when going back to
    # the lean page then reloads although the full TF.js already loaded serves it.
    project = Project(tmp_path / "proj")
    (project.root / "models").mkdir(parents=True)
    shutil.copy(ROOT / "models" / "palette" / "generator.keras", project.root / "models" / "palette.keras")
    shutil.copy(ROOT / "models" / "penguin-mass" / "body_mass.keras", project.root / "models" / "mass.keras")
    shutil.copy(ROOT / "docs" / "widgets" / "body-mass.js", project.root / "body-mass.js")
    server = project.instant_site(["index.md", "custom.md"], {"widgets": {"body-mass": "body-mass.js"}})
    project.page("index.md", "# Lean\n\n[Custom](custom.md)\n\n```tfjs\nmodel: models/palette.keras\n"
                 "widget: palette\nid: p\n```\n")
    project.page("custom.md", "# Custom\n\n[Lean](index.md)\n\n```tfjs\nmodel: models/mass.keras\n"
                 "widget: body-mass\nid: m\nunit: g\nfields:\n"
                 "  - {label: Flipper length, min: 170, max: 235, value: 200}\n"
                 "  - {label: Bill length, min: 32, max: 60, value: 44}\n```\n")
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    url = server.url
    page, log = open_page(url, wait_ready="p")
    assert page.evaluate("window.tfjsWidgets.backend()")["runtime"] == "lean"
    page.evaluate("window.__sameDocument = true")
    # Instant navigation swaps the content in, then the runtime reloads the page.
    with page.expect_event("load"):
        page.locator(".md-content").get_by_role("link", name="Custom").click()
    page.wait_for_url("**/custom/")
    page.evaluate("window.tfjsWidgets.ready('m')")
    assert page.evaluate("window.__sameDocument") is None, "the full page must load afresh"
    assert page.evaluate("window.tfjsWidgets.backend()")["runtime"] == "full"
    assert "tf-core.min.js" in _full_pieces(log)
    page.evaluate("window.__sameDocument = true")
    page.locator(".md-content").get_by_role("link", name="Lean").click()
    page.wait_for_url(url)
    page.wait_for_function("document.querySelector('#p')")
    page.evaluate("window.tfjsWidgets.ready('p')")
    assert page.evaluate("window.__sameDocument") is True, "back to the lean page: no reload"
    assert page.evaluate("window.tfjsWidgets.backend()")["runtime"] == "full"
    assert page.locator("#p .tfjs-swatch").count() == 5
    assert not log.page_errors, log.page_errors
    server.close()
