"""What a reader sees: real TF.js in Debian's headless Chromium, driven by Playwright."""

from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pytest

from .conftest import PALETTE_BLOCK, ROOT, SMALL_REASON, Project

pytestmark = pytest.mark.browser

HEX = r"^#[0-9a-f]{6}$"


def swatch_hexes(page, widget_id: str) -> list[str]:
    return page.eval_on_selector_all(f"#{widget_id} .tfjs-swatch-hex", "els => els.map(e => e.textContent)")


def build_palette_site(tmp_path_factory, name: str, index_md: str):
    """Build a one-page site using the demo palette model; return its site folder."""
    project = Project(tmp_path_factory.mktemp(name) / "proj")
    shutil.copytree(ROOT / "models" / "palette", project.root / "models" / "palette",
                    ignore=shutil.ignore_patterns("*.py", "*.md"))
    project.config()
    project.page("index.md", index_md)
    result = project.build()
    assert result.returncode == 0, result.output
    return project.site


def palette_block(extra: str) -> str:
    return PALETTE_BLOCK.replace("widget: palette", "widget: palette\n" + extra)


@pytest.fixture(scope="module")
def parity_site(tmp_path_factory):
    return build_palette_site(tmp_path_factory, "parity",
                              palette_block("id: half") + "\n" + palette_block("id: full\nquantize: none"))


# float16 weights carry 11 bits of mantissa: on the palette generator that costs
# a median 1e-4 and a worst case of about 1.2e-3 over 7,680 outputs (half of one
# 8-bit colour level). The 99th percentile stays under 1e-3; float32 ("none")
# matches Keras to 1e-5 everywhere.
@pytest.mark.parametrize(("widget_id", "p99", "worst"), [("half", 1e-3, 2e-3), ("full", 1e-5, 1e-5)])
def test_browser_predictions_match_keras(parity_site, serve, open_page, keras_palette, widget_id, p99, worst):
    url = serve(parity_site)
    page, log = open_page(url, wait_ready=widget_id)
    noise = np.random.default_rng(3).uniform(size=(256, 5)).astype("float32")
    expected = keras_palette.predict(noise, verbose=0)
    got = np.asarray(page.evaluate("([id, x]) => window.tfjsWidgets.predict(id, x)", [widget_id, noise.tolist()]))
    assert got.shape == (256, 15)
    error = np.abs(got - expected)
    assert np.quantile(error, 0.99) <= p99
    assert error.max() <= worst
    assert not log.page_errors


def test_demo_page_generates_new_palettes_offline(demo_site, serve, open_page):
    url = serve(demo_site)
    page, log = open_page(url + "demos/palette/", wait_ready="tfjs-palette-1")
    widget = page.locator("#tfjs-palette-1")
    assert widget.get_attribute("data-state") == "ready"
    seen = []
    for _ in range(3):
        before = swatch_hexes(page, "tfjs-palette-1")
        widget.get_by_role("button", name="Generate").click()
        page.wait_for_function("([id, old]) => { const now = [...document.querySelectorAll('#' + id + "
                               "' .tfjs-swatch-hex')].map(e => e.textContent).join(); return now && now !== old; }",
                               arg=["tfjs-palette-1", ",".join(before)])
        hexes = swatch_hexes(page, "tfjs-palette-1")
        assert len(hexes) == 5 and all(re.match(HEX, h) for h in hexes)
        seen.append(tuple(hexes))
    assert len(set(seen)) == 3, "each Generate must give a new palette"
    # The model card says what ran.
    # The 23.5k multiply-add palette model runs on the CPU backend.
    assert page.locator("#tfjs-palette-1 .tfjs-card-backend").text_content() == f"cpu ({SMALL_REASON})"
    # The last inference's time shows once the card is opened, and keeps up while it is open.
    time = page.locator("#tfjs-palette-1 .tfjs-card-time")
    page.locator("#tfjs-palette-1 .tfjs-card summary").click()
    # The card's toggle event (which writes the time) fires after the click returns.
    page.wait_for_function("node => node.textContent !== 'none yet'", arg=time.element_handle())
    assert re.fullmatch(r"\d+\.\d ms \(cpu\)", time.text_content())
    time.evaluate("node => { node.textContent = 'stale'; }")
    widget.get_by_role("button", name="Generate").click()
    page.wait_for_function("node => node.textContent !== 'stale'", arg=time.element_handle())
    assert re.fullmatch(r"\d+\.\d ms \(cpu\)", time.text_content())
    assert not log.console_errors and not log.page_errors
    outside = [r for r in log.requests if not r.startswith(url) and not r.startswith("data:")]
    assert outside == [], "the demo site must make no request outside itself"


def test_palette_is_keyboard_operable_and_swatches_copy_their_hex(demo_site, serve, browser):
    url = serve(demo_site)
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page = context.new_page()
    page.goto(url + "demos/palette/")
    page.evaluate("window.tfjsWidgets.ready('tfjs-palette-1')")
    before = swatch_hexes(page, "tfjs-palette-1")
    page.locator("#tfjs-palette-1 .tfjs-generate").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("old => [...document.querySelectorAll('#tfjs-palette-1 .tfjs-swatch-hex')]"
                           ".map(e => e.textContent).join() !== old", arg=",".join(before))
    first = page.locator("#tfjs-palette-1 .tfjs-swatch").first
    hex_code = first.get_attribute("data-hex")
    first.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#tfjs-palette-1 .tfjs-status').textContent.startsWith('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == hex_code
    assert hex_code in page.locator("#tfjs-palette-1 .tfjs-status").text_content()
    context.close()


def luminance(hex_code: str) -> float:
    lin = [(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
           for c in (int(hex_code[i:i + 2], 16) / 255 for i in (1, 3, 5))]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_generate_on_a_lightness_sorted_palette_gives_a_new_sorted_palette(demo_site, serve, open_page):
    page, log = open_page(serve(demo_site) + "demos/palette/", wait_ready="tfjs-palette-2")
    for _ in range(3):
        before = swatch_hexes(page, "tfjs-palette-2")
        count = page.evaluate("window.tfjsWidgets.stats('tfjs-palette-2').inferences")
        page.locator("#tfjs-palette-2").get_by_role("button", name="Generate").click()
        # The click's inference, and nothing left running: then the palette shown is its answer.
        page.wait_for_function("n => { const s = window.tfjsWidgets.stats('tfjs-palette-2'); "
                               "return s.inferences > n && !s.busy; }", arg=count)
        assert page.evaluate("window.tfjsWidgets.stats('tfjs-palette-2').inferences") == count + 1
        after = swatch_hexes(page, "tfjs-palette-2")
        assert len(after) == 5 and after != before, "Generate must change the palette"
        values = [luminance(h) for h in after]
        # The widget sorts the model's unrounded colours; the hex codes round each channel by up
        # to half a level, which moves a luminance by at most 2.4 / 1.055 * 0.5 / 255 (the
        # steepest slope of the sRGB curve): two near-equal swatches may swap by twice that.
        # (A CI-like run had two swatches 1.1e-4 apart in swapped order.) The bug this catches,
        # a palette not sorted or sorted the wrong way, is out of order by more than that slack.
        slack = 2 * 2.4 / 1.055 * 0.5 / 255
        assert all(a <= b + slack for a, b in zip(values, values[1:])), after
    assert page.locator("#tfjs-palette-2 .tfjs-status").text_content() == f"New palette: {', '.join(after)}."
    assert not log.page_errors


@pytest.fixture(scope="module")
def two_widget_site(tmp_path_factory):
    spacer = "\n".join(f"Paragraph {i} of filler text.\n" for i in range(120))
    return build_palette_site(tmp_path_factory, "lazy", palette_block("id: top") + "\n" + spacer
                              + "\n" + palette_block("id: bottom\nquantize: none"))


def test_models_load_when_their_widget_nears_the_viewport_and_tfjs_loads_once(two_widget_site, serve, open_page):
    url = serve(two_widget_site)
    page, log = open_page(url, wait_ready="top")
    # The observer has reported on the bottom widget (out of view): had it been near the
    # viewport, its model would be loading now.
    page.wait_for_function("window.tfjsWidgets.stats('bottom').observations > 0")
    model_requests = [r for r in log.requests if r.endswith("model.json")]
    assert len(model_requests) == 1, "only the visible widget's model loads at first"
    assert page.locator("#bottom").get_attribute("data-state") == "loading"
    page.locator("#bottom").scroll_into_view_if_needed()
    page.wait_for_function("document.getElementById('bottom').dataset.state === 'ready'")
    assert len([r for r in log.requests if r.endswith("model.json")]) == 2
    # TF.js (here the lean file of the backend in use) loads once for both widgets.
    assert len([r for r in log.requests if re.search(r"/(tf-core|tfjs-lean-\w+)\.min\.js$", r)]) == 1


def test_a_missing_model_shows_an_error_in_place_and_other_widgets_keep_working(
        two_widget_site, serve, open_page, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(two_widget_site, site)
    # Break only the float32 model (the "bottom" widget); the float16 one stays.
    html = (site / "index.html").read_text()
    broken = re.search(r'id="bottom".*?"model":"([^"]+)"', html, re.S).group(1)
    (site / broken).unlink()
    url = serve(site)
    page, _ = open_page(url)
    page.locator("#bottom").scroll_into_view_if_needed()
    page.wait_for_function("document.getElementById('bottom').dataset.state === 'error'")
    status = page.locator("#bottom .tfjs-status").text_content()
    assert "could not start" in status and "not found" in status
    assert page.locator("#bottom .tfjs-generate").is_disabled()
    page.evaluate("window.tfjsWidgets.ready('top')")
    assert page.locator("#top").get_attribute("data-state") == "ready"
    assert len(swatch_hexes(page, "top")) == 5


# Instrumentation of the browser's own IntersectionObserver (behaviour unchanged): which
# elements are still observed, and whether the observer was disconnected.
OBSERVER_PROBE = """
window.__observed = new Set();
window.__disconnects = 0;
const Observer = window.IntersectionObserver;
window.IntersectionObserver = class extends Observer {
    observe(el) { window.__observed.add(el); return super.observe(el); }
    unobserve(el) { window.__observed.delete(el); return super.unobserve(el); }
    disconnect() { window.__observed.clear(); window.__disconnects += 1; return super.disconnect(); }
};
"""


def test_widgets_that_leave_the_page_stop_being_observed(two_widget_site, serve, open_page):
    page, log = open_page(serve(two_widget_site), wait_ready="top", init_script=OBSERVER_PROBE)
    page.wait_for_function("window.tfjsWidgets.stats('bottom').observations > 0")
    assert page.evaluate("[...window.__observed].map(e => e.id)") == ["bottom"], "not near the viewport yet"
    page.evaluate("document.getElementById('bottom').remove(); window.tfjsWidgets.scan()")
    assert page.evaluate("window.__observed.size") == 0
    page.evaluate("document.getElementById('top').remove(); window.tfjsWidgets.scan()")
    assert page.evaluate("window.__disconnects") == 1, "no widget left: the observer is disconnected"
    assert not log.page_errors


PREDICT_FORMS = """async ([id, rows]) => {
  const tf = window.tf, api = window.tfjsWidgets;
  const flat = Float32Array.from(rows.flat());
  const before = tf.memory().numTensors;
  const given = tf.tensor(flat, [rows.length, rows[0].length]);
  const out = {
    nested: await api.predict(id, rows),
    float32: await api.predict(id, flat),
    float64: await api.predict(id, Float64Array.from(rows.flat())),
    tensor: await api.predict(id, given),
  };
  // The caller's tensor stays the caller's: usable after predict, disposed by the caller.
  out.tensorKept = !given.isDisposed && given.dataSync().length === flat.length;
  for (let i = 0; i < 20; i++) {
    await api.predict(id, flat);
    await api.predict(id, given);
  }
  out.leaked = tf.memory().numTensors - before - 1;
  given.dispose();
  const errors = {};
  const bad = {
    shortTyped: () => new Float32Array(7),
    emptyTyped: () => new Float32Array(0),
    wrongShapeTensor: () => tf.tensor2d([[1, 2, 3, 4]]),
    wrongRankNested: () => rows[0],
    stringTensor: () => tf.tensor(["a", "b", "c", "d", "e"], [1, 5]),
    bigInts: () => new BigInt64Array(5),
    object: () => ({values: flat}),
    disposed: () => { const t = tf.zeros([1, 5]); t.dispose(); return t; },
  };
  for (const [name, make] of Object.entries(bad)) {
    const input = make();
    try { await api.predict(id, input); errors[name] = null; } catch (err) { errors[name] = err.message; }
    if (input && input.dataId !== undefined && !input.isDisposed) input.dispose();
  }
  out.errors = errors;
  out.leakedAfterErrors = tf.memory().numTensors - before;
  return out;
}"""


def test_predict_takes_typed_arrays_and_tensors_alike(parity_site, serve, open_page):
    """A Float32Array, a Float64Array and a tf.Tensor give the very outputs nested arrays give.

    Bugs caught: a typed array read with the wrong shape or batch size; a tensor the
    runtime disposes (the caller's, used again) or leaks (numTensors grows per call);
    bad input that reaches TF.js and fails there with a message that names neither
    the input nor what the model takes.
    """
    url = serve(parity_site)
    page, log = open_page(url, wait_ready="full")
    rows = np.random.default_rng(5).uniform(size=(4, 5)).astype("float32").tolist()
    out = page.evaluate(PREDICT_FORMS, ["full", rows])
    assert np.asarray(out["nested"]).shape == (4, 15)
    assert out["float32"] == out["nested"]
    assert out["float64"] == out["nested"]
    assert out["tensor"] == out["nested"]
    assert out["tensorKept"]
    assert out["leaked"] == 0
    assert out["leakedAfterErrors"] == 0
    takes = "(the model takes [any, 5], float32)"
    errors = out["errors"]
    assert errors["shortTyped"] == f"predict: input 0 is a Float32Array of 7 values, which is no whole number of examples of 5 values {takes}"
    assert errors["emptyTyped"].startswith("predict: input 0 is a Float32Array of 0 values")
    assert errors["wrongShapeTensor"] == f"predict: input 0 has shape [1, 4] {takes}"
    assert errors["wrongRankNested"] == f"predict: input 0 has shape [5] {takes}"
    assert errors["stringTensor"] == f"predict: input 0 is a string tensor: give float32 or int32 {takes}"
    assert errors["bigInts"] == f"predict: input 0 is a BigInt64Array: give a Float32Array or an Int32Array {takes}"
    assert errors["object"] == f"predict: input 0 is an object: give nested arrays, a typed array or a tf.Tensor {takes}"
    assert errors["disposed"] == "predict: input 0 is a disposed tensor"
    assert not log.page_errors
