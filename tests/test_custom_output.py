"""An author's module as one part alone: a built-in input (`generator`, `image`) hands it the
model's output when `show:` names it (`registerOutput(name, Output)`, "Write your own widget"),
and an author's input hands a built-in output part its model's output (`ctx.outputPart()`); a
module that registers no output fails its widget naming the module."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from .conftest import Project, project_with_models, saved, seeded_keras, tfjs_block

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
# An input of the author's own: fixed noise in, the output part `show:` names draws the output.
DRIVER = """import { registerWidget } from "./runtime.js";
class Driver {
  constructor(ctx) { this.ctx = ctx; }
  async prepare() {
    this.output = await this.ctx.outputPart();
    const x = [[0.1, -0.2, 0.3, 0.4]];
    const y = await this.ctx.predict(x);
    this.last = { input: x[0], output: y[0] };
    this.ctx.status(this.output.show(y[0]));
  }
  readyText() { return "Drawn."; }
  inspect() { return this.last; }
}
registerWidget("driver", Driver);
"""


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Noise in, three numbers out; and a picture in, a picture out."""
    keras = seeded_keras(18)
    built = {
        "noise": keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]),
        "picture": keras.Sequential([keras.Input((6, 6, 3)),
                                     keras.layers.Conv2D(2, 3, padding="same")]),
        "decoder": keras.Sequential([keras.Input((4,)), keras.layers.Dense(16),
                                     keras.layers.Reshape((4, 4, 1)),
                                     keras.layers.Activation("sigmoid")]),
    }
    return saved(tmp_path_factory.mktemp("custom-output"), built)


def _project(root, models, shared_cache=None) -> Project:
    widgets = {"writer": "writer.js", "misnamed": "misnamed.js", "driver": "driver.js"}
    project = project_with_models(root, models["dir"], ("noise", "picture", "decoder"),
                                  shared_cache, widgets=widgets)
    (project.root / "writer.js").write_text(WRITER)
    (project.root / "misnamed.js").write_text(MISNAMED)
    (project.root / "driver.js").write_text(DRIVER)
    return project


def test_a_built_in_input_hands_the_authors_output_part_its_module_and_frame(
        tmp_path, shared_cache, models):
    # Bug caught: `show:` refusing an author's module, or the page not told which module draws.
    project = _project(tmp_path / "proj", models, shared_cache)
    project.page("index.md", "# P\n\n" + tfjs_block(model="models/picture.keras", widget="image",
                                               show="writer", id="seg"))
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    html = (project.site / "index.html").read_text()
    config = json.loads(re.search(r"data-config='([^']*)'", html).group(1).replace("&#34;", '"'))
    assert config["output"] == {"module": "writer.js", "template": "custom_output.html",
                                "author": "writer"}
    assert '<div class="tfjs-custom-output"></div>' in html


def test_the_palette_input_hands_the_authors_output_its_model_output(tmp_path, shared_cache,
                                                                     models):
    # Bug caught: the palette input drawing its own swatches whatever `show:` names (it did,
    # before the swatches became an output part of their own).
    project = _project(tmp_path / "proj", models, shared_cache)
    project.page("index.md", "# P\n\n" + tfjs_block(model="models/noise.keras", widget="palette",
                                               show="writer"))
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    html = (project.site / "index.html").read_text()
    config = json.loads(re.search(r"data-config='([^']*)'", html).group(1).replace("&#34;", '"'))
    assert config["output"]["author"] == "writer"
    assert "tfjs-palette-swatches" not in html


def test_an_authors_input_with_a_misfit_output_part_fails_at_show(tmp_path, shared_cache, models):
    # Bug caught: an author's input whose model's output is no picture, built anyway with
    # `show: image` because the build checks nothing of the author's module.
    project = _project(tmp_path / "proj", models, shared_cache)
    project.page("page.md", "# P\n\n" + tfjs_block(model="models/noise.keras", widget="driver",
                                              show="image"))
    result = project.build()
    assert result.returncode != 0
    assert "docs/page.md:6: `models/noise.keras` does not fit `show: image`: it takes" in (
        result.output), result.output


@pytest.fixture(scope="module")
def site(tmp_path_factory, models):
    project = _project(tmp_path_factory.mktemp("custom-output-site") / "proj", models)
    blocks = [tfjs_block(model="models/noise.keras", widget="generator", show="writer", id="mine"),
              tfjs_block(model="models/noise.keras", widget="generator", show="misnamed", id="bad"),
              tfjs_block(model="models/decoder.keras", widget="driver", show="image", id="drive")]
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


@pytest.mark.browser
def test_an_authors_input_hands_the_picture_output_kerass_output(site, serve, open_page, models):
    # Bug caught: an author's module with `show: image` given no output part (ctx.outputPart()
    # missing, or the part's template not in the author's frame), so nothing is drawn.
    page, log = open_page(serve(site), wait_ready="drive")
    last = page.evaluate("id => window.tfjsWidgets.inspect(id)", "drive")
    want = models["decoder"].predict(np.asarray([last["input"]], np.float32), verbose=0)[0]
    grey = np.clip(np.rint(want[..., 0] * 255), 0, 255)
    shown = np.asarray(page.evaluate(
        """() => { const c = document.querySelector('#drive .tfjs-picture-canvas');
             return Array.from(c.getContext('2d').getImageData(0, 0, 4, 4).data); }"""),
        np.float64).reshape(4, 4, 4)
    assert np.abs(shown[..., 0] - grey).max() <= 1
    assert np.all(shown[..., 3] == 255)
    assert not log.page_errors, log.page_errors
