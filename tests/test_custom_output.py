"""An author's module as an output part alone: a built-in input (`generator`, `image`) hands it
the model's output when `show:` names it (`registerOutput(name, Output)`, "Write your own
widget"); a module that registers no output fails its widget naming the module."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest

from .conftest import Project

# The smallest output of an author's own: the model's output written out as JSON.
WRITER = """import { registerOutput } from "./runtime.js";
class Writer {
  constructor(el, config) { this.box = el.querySelector(".tfjs-custom-output"); }
  show(output) { this.box.textContent = JSON.stringify(output); return "Written."; }
}
registerOutput("writer", Writer);
"""
# Registers its class under another name than its `widgets:` key.
MISNAMED = WRITER.replace('registerOutput("writer"', 'registerOutput("other"')


def _block(**keys) -> str:
    body = "\n".join(f"{k}: {json.dumps(v)}" for k, v in keys.items())
    return f"```tfjs\n{body}\n```\n"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Noise in, three numbers out; and a picture in, a picture out."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    keras.utils.set_random_seed(18)
    out = tmp_path_factory.mktemp("custom-output")
    built = {
        "noise": keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]),
        "picture": keras.Sequential([keras.Input((6, 6, 3)),
                                     keras.layers.Conv2D(2, 3, padding="same")]),
    }
    for name, model in built.items():
        model.save(out / f"{name}.keras")
    built["dir"] = out
    return built


def _project(root, models, shared_cache=None) -> Project:
    project = Project(root)
    (project.root / "models").mkdir(parents=True)
    for name in ("noise", "picture"):
        (project.root / "models" / f"{name}.keras").write_bytes(
            (models["dir"] / f"{name}.keras").read_bytes())
    (project.root / "writer.js").write_text(WRITER)
    (project.root / "misnamed.js").write_text(MISNAMED)
    cache = {"cache_dir": str(shared_cache)} if shared_cache else {}
    project.config({"quantize": "none", "widgets": {"writer": "writer.js",
                                                    "misnamed": "misnamed.js"}, **cache})
    return project


def test_a_built_in_input_hands_the_authors_output_part_its_module_and_frame(
        tmp_path, shared_cache, models):
    # Bug caught: `show:` refusing an author's module, or the page not told which module draws.
    project = _project(tmp_path / "proj", models, shared_cache)
    project.page("index.md", "# P\n\n" + _block(model="models/picture.keras", widget="image",
                                               show="writer", id="seg"))
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    html = (project.site / "index.html").read_text()
    config = json.loads(re.search(r"data-config='([^']*)'", html).group(1).replace("&#34;", '"'))
    assert config["output"] == {"module": "writer.js", "template": "custom_output.html",
                                "author": "writer"}
    assert '<div class="tfjs-custom-output"></div>' in html


def test_an_input_that_hands_nothing_on_refuses_the_authors_output(tmp_path, shared_cache, models):
    # Bug caught: an author's output named after an input that draws its own output (the
    # palette): the build passed and the page showed swatches, ignoring `show:`.
    project = _project(tmp_path / "proj", models, shared_cache)
    project.page("page.md", "# P\n\n" + _block(model="models/noise.keras", widget="palette",
                                              show="writer"))
    result = project.build()
    assert result.returncode != 0
    assert "docs/page.md:6: the palette widget cannot show 'writer'; it shows palette" in (
        result.output), result.output


@pytest.fixture(scope="module")
def site(tmp_path_factory, models):
    project = _project(tmp_path_factory.mktemp("custom-output-site") / "proj", models)
    blocks = [_block(model="models/noise.keras", widget="generator", show="writer", id="mine"),
              _block(model="models/noise.keras", widget="generator", show="misnamed", id="bad")]
    project.page("index.md", "# Outputs of my own\n\n" + "\n".join(blocks))
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    return project.site


@pytest.mark.browser
def test_the_authors_output_part_receives_kerass_output(site, serve, open_page, models):
    # Bug caught: the generator handing an author's module nothing, or another press's output.
    page, log = open_page(serve(site), wait_ready="mine")
    for press in range(2):  # the output at load, then one after a press of Generate
        last = page.evaluate("id => window.tfjsWidgets.inspect(id)", "mine")
        want = models["noise"].predict(np.asarray([last["noise"]], np.float32), verbose=0)[0]
        written = json.loads(page.locator("#mine .tfjs-custom-output").text_content())
        # Measured: 6e-8 (float32 on both sides).
        assert np.abs(np.asarray(written) - want).max() <= 1e-5
        if press:  # at load the ready text replaces what show() returned
            assert page.locator("#mine .tfjs-status").text_content() == "Written."
        before = page.evaluate("id => window.tfjsWidgets.stats(id).inferences", "mine")
        page.click("#mine .tfjs-generate")
        page.wait_for_function(
            "([id, n]) => { const s = window.tfjsWidgets.stats(id); return s.inferences > n"
            " && !s.busy; }", arg=["mine", before])
    assert not log.page_errors, log.page_errors


@pytest.mark.browser
def test_a_module_that_registers_no_output_names_itself(site, serve, open_page):
    # Bug caught: "Output is not a constructor" (or nothing at all) for a module that registered
    # its output under another name: the message must name the file, its key and the fix.
    page, log = open_page(serve(site), wait_ready="mine")
    message = ("the output module misnamed.js (`misnamed` under `widgets:` in mkdocs.yml, named in "
               "`show:`): it registered no output: end it with registerOutput(\"misnamed\", "
               "YourOutput)")
    outcome = page.evaluate(
        "id => window.tfjsWidgets.ready(id).then(() => 'ready', e => e.message)", "bad")
    assert outcome == message
    assert page.locator("#bad").get_attribute("data-state") == "error"
    status = page.locator("#bad .tfjs-status").text_content()
    assert status == "This widget could not start: " + message
