"""Fitting the site: instant navigation, colour schemes, other themes, live reload, accessibility."""

from __future__ import annotations

import re

import numpy as np
import pytest

from .conftest import PALETTE_BLOCK, ROOT, mkdocs_serve, place, wait_for_log
from .test_handwriting import held_out_digits, recognise

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"
DEMO_PAGES = {"palette": ("demos/palette/", "tfjs-palette-1"),
              "handwriting": ("demos/handwriting/", "tfjs-handwriting-1"),
              "image": ("demos/image/", "tfjs-image-1"),
              "pictures": ("demos/pictures/", "tfjs-image-1"),
              "sunspots": ("demos/sunspots/", "tfjs-sliders-1"),
              # The sliders' choices (a select per string feature) beside sliders.
              "choices": ("demos/sliders/", "tfjs-sliders-3"),
              "text": ("demos/text/", "tfjs-text-1")}


def hexes(page, widget_id: str) -> str:
    return ",".join(page.locator(f"#{widget_id} .tfjs-swatch-hex").all_text_contents())


def generate_and_check(page, widget_id: str) -> None:
    before = hexes(page, widget_id)
    page.locator(f"#{widget_id} .tfjs-generate").click()
    page.wait_for_function(
        "([id, old]) => [...document.querySelectorAll('#' + id + ' .tfjs-swatch-hex')]"
        ".map(e => e.textContent).join() !== old", arg=[widget_id, before])


def test_instant_navigation_round_trips_keep_every_widget_working(demo_url, open_page):
    page, log = open_page(demo_url + "demos/palette/", wait_ready="tfjs-palette-1")
    page.evaluate("window.__sameDocument = true")
    after_first_trip = None
    for trip in range(10):
        page.locator("a.md-nav__link[href$='handwriting/']:visible").first.click()
        page.wait_for_url("**/demos/handwriting/")
        page.evaluate("window.tfjsWidgets.ready('tfjs-handwriting-1')")
        if trip in (0, 9):
            assert recognise(page, "tfjs-handwriting-1", held_out_digits()[3][1])[0][0] == "3"
        page.locator("a.md-nav__link[href$='palette/']:visible").first.click()
        page.wait_for_url("**/demos/palette/")
        page.evaluate("window.tfjsWidgets.ready('tfjs-palette-1')")
        generate_and_check(page, "tfjs-palette-1")
        assert page.evaluate("window.__sameDocument") is True, "instant navigation, not a reload"
        assert sorted(page.evaluate("window.tfjsWidgets.ids()")) == ["tfjs-palette-1", "tfjs-palette-2"]
        tensors = page.evaluate("window.tfjsWidgets.memory().numTensors")
        if trip == 0:
            after_first_trip = tensors
    assert tensors == after_first_trip, "the widgets of pages left behind are disposed"
    # Each TF.js file loads once per visit: the palette page runs on the lean CPU file, the
    # handwriting page on the lean WebAssembly file (each holds its own tfjs-core).
    tfjs = [r.rsplit("/", 1)[-1] for r in log.requests if re.search(r"/(tf-core|tfjs-lean-\w+)\.min\.js$", r)]
    assert sorted(tfjs) == ["tfjs-lean-cpu.min.js", "tfjs-lean-wasm.min.js"]
    assert len([r for r in log.requests if r.endswith("fabric@6.9.1/dist/index.min.js")]) == 1
    assert not log.page_errors and not log.console_errors


def test_instant_navigation_from_a_page_without_widgets(demo_url, open_page):
    # The directive reference has no widget but links to the handwriting demo.
    page, log = open_page(demo_url + "reference/")
    page.evaluate("window.__sameDocument = true")
    page.locator("article a[href$='handwriting/']").first.click()
    page.wait_for_url("**/demos/handwriting/")
    page.evaluate("window.tfjsWidgets.ready('tfjs-handwriting-1')")
    assert recognise(page, "tfjs-handwriting-1", held_out_digits()[2][1])[0][0] == "2"
    assert page.evaluate("window.__sameDocument") is True
    assert not log.page_errors


def colours(page, selector: str) -> dict:
    return page.evaluate("sel => { const s = getComputedStyle(document.querySelector(sel)); "
                         "return {color: s.color, background: s.backgroundColor, border: s.borderTopColor}; }",
                         selector)


def test_widget_colours_follow_materials_scheme_toggle_at_once(demo_url, open_page):
    page, _ = open_page(demo_url + "demos/palette/", wait_ready="tfjs-palette-1")
    light_widget = colours(page, "#tfjs-palette-1")
    light_card = colours(page, "#tfjs-palette-1 .tfjs-card")
    page.locator("label.md-header__button[for='__palette_1']").click()
    page.wait_for_function("document.body.dataset.mdColorScheme === 'slate'")
    dark_widget = colours(page, "#tfjs-palette-1")
    assert dark_widget["color"] != light_widget["color"]
    assert colours(page, "#tfjs-palette-1 .tfjs-card")["color"] != light_card["color"]
    # Text is light on the dark scheme: the sum of its RGB channels is high.
    assert sum(map(int, re.findall(r"\d+", dark_widget["color"])[:3])) > 450


@pytest.mark.parametrize("scheme", ["default", "slate"])
@pytest.mark.parametrize("name", list(DEMO_PAGES))
def test_demo_pages_pass_axe_and_are_screenshotted_in_both_schemes(demo_url, open_page, name, scheme):
    path, widget_id = DEMO_PAGES[name]
    page, _ = open_page(demo_url + path, wait_ready=widget_id)
    if scheme == "slate":
        page.locator("label.md-header__button[for='__palette_1']").click()
        page.wait_for_function("document.body.dataset.mdColorScheme === 'slate'")
    if name == "handwriting":
        recognise(page, widget_id, held_out_digits()[5][1])
    if name in ("image", "pictures"):
        before = page.evaluate("id => window.tfjsWidgets.stats(id).inferences", widget_id)
        page.locator(f"#{widget_id} .tfjs-sample").first.click()
        page.wait_for_function("([id, n]) => { const s = window.tfjsWidgets.stats(id); "
                               "return s.inferences > n && !s.busy; }", arg=[widget_id, before])
    page.add_script_tag(path=str(ROOT / "node_modules" / "axe-core" / "axe.min.js"))
    # Material's own chrome (header, search dialog, sidebars, footer) is Material's to
    # fix; the page content, our widgets included, must pass.
    result = page.evaluate("axe.run({exclude: [['.md-header'], ['.md-search'], ['.md-sidebar'], "
                           "['.md-footer']]}, {resultTypes: ['violations']})")
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"{name}-{scheme}.png"
    page.locator(f"#{widget_id}").screenshot(path=str(shot))
    # The screenshot shows what the reader sees: the scheme's background, and the result.
    from PIL import Image

    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    background = rgb(page.evaluate(BACKGROUND, f"#{widget_id}"))
    assert tuple(colours[counts.argmax()]) == background, "the widget sits on the scheme's background"
    present = {tuple(c) for c in colours}
    if name == "palette":
        for hex_code in page.locator(f"#{widget_id} .tfjs-swatch").evaluate_all("s => s.map(e => e.dataset.hex)"):
            assert tuple(int(hex_code[i:i + 2], 16) for i in (1, 3, 5)) in present, hex_code
    elif name == "pictures":
        # The legend's swatches are drawn in the classes' colours.
        for swatch in page.locator(f"#{widget_id} .tfjs-mask-swatch").all():
            assert rgb(swatch.evaluate("e => getComputedStyle(e).backgroundColor")) in present
    elif name in ("sunspots", "choices"):
        # A number, not bars: the forecast (the body mass, in whole grams) is shown.
        shown = r"\d+\.\d" if name == "sunspots" else r"\d{4} g"
        assert re.search(shown, page.locator(f"#{widget_id} .tfjs-values").text_content())
    else:
        # The top-k bars are drawn in their fill colour.
        assert rgb(page.evaluate(BACKGROUND, f"#{widget_id} .tfjs-bar-fill")) in present
    if name == "handwriting":
        assert (0, 0, 0) in present, "the ink of the drawing"


# The colour a reader sees behind an element: its own background or the nearest ancestor's.
BACKGROUND = """sel => {
    for (let e = document.querySelector(sel); e; e = e.parentElement) {
        const c = getComputedStyle(e).backgroundColor;
        if (c !== 'transparent' && !/^rgba\\(.*, 0\\)$/.test(c)) return c;
    }
    return 'rgb(255, 255, 255)';
}"""


def rgb(css: str) -> tuple[int, int, int]:
    return tuple(int(v) for v in re.findall(r"\d+", css)[:3])


def test_every_control_works_from_the_keyboard(demo_url, open_page):
    page, _ = open_page(demo_url + "demos/palette/", wait_ready="tfjs-palette-1")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('#tfjs-palette-1 .tfjs-generate')"):
            break
    else:
        pytest.fail("Tab never reached the Generate button")
    before = hexes(page, "tfjs-palette-1")
    page.keyboard.press("Space")
    page.wait_for_function("old => [...document.querySelectorAll('#tfjs-palette-1 .tfjs-swatch-hex')]"
                           ".map(e => e.textContent).join() !== old", arg=before)
    # The swatches come before the button: one Shift+Tab reaches the last of them.
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.matches('#tfjs-palette-1 .tfjs-swatch')")
    # The focused control shows it.
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    # Results are announced, and each swatch says its hex code as text.
    assert page.locator("#tfjs-palette-1 .tfjs-status").get_attribute("aria-live") == "polite"
    assert re.fullmatch(r"#[0-9a-f]{6}", page.locator("#tfjs-palette-1 .tfjs-swatch-hex").first.text_content())

    page2, _ = open_page(demo_url + "demos/handwriting/", wait_ready="tfjs-handwriting-1")
    pad = page2.locator("#tfjs-handwriting-1 .tfjs-hw-pad")
    assert "Draw one character" in pad.get_attribute("aria-label")
    pad.focus()
    page2.keyboard.press("Tab")
    page2.keyboard.press("Shift+Tab")
    # Back on the drawing pad, by keyboard: it has the focus (so Escape and Delete clear it).
    assert page2.evaluate("document.activeElement.matches('#tfjs-handwriting-1 .tfjs-hw-pad')")
    assert page2.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


@pytest.mark.parametrize("theme", ["mkdocs", "readthedocs"])
def test_builtin_themes_render_every_widget_usably(project, shared_cache, serve, open_page, theme):
    place(project, ROOT / "models" / "digits" / "digits.keras", "models/digits/digits.keras")
    project.config({"cache_dir": str(shared_cache)}, theme=theme)
    project.page("index.md", "# Widgets\n\n" + PALETTE_BLOCK +
                 "\n```tfjs\nmodel: models/digits/digits.keras\nwidget: handwriting\nlabels: digits\n```\n")
    assert project.build().returncode == 0
    page, log = open_page(serve(project.site), wait_ready="tfjs-palette-1")
    generate_and_check(page, "tfjs-palette-1")
    # Our neutral colours, not Material's variables.
    assert colours(page, "#tfjs-palette-1 .tfjs-generate")["background"] == "rgb(63, 81, 181)"
    page.evaluate("window.tfjsWidgets.ready('tfjs-handwriting-1')")
    page.locator("#tfjs-handwriting-1").scroll_into_view_if_needed()
    assert recognise(page, "tfjs-handwriting-1", held_out_digits()[0][1])[0][0] == "0"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"theme-{theme}.png"), full_page=True)
    assert not log.page_errors


def test_mkdocs_serve_rebuilds_with_a_changed_model_and_keeps_unchanged_ones(
        project, variant_models, open_page, keras_palette):
    import keras

    place(project, ROOT / "models" / "digits" / "digits.keras", "models/digits/digits.keras")
    project.config()
    project.page("index.md", PALETTE_BLOCK.replace("widget: palette", "widget: palette\nquantize: none") +
                 "\n```tfjs\nmodel: models/digits/digits.keras\nwidget: handwriting\n```\n")
    with mkdocs_serve(project.root) as (url, log_path):
        noise = np.random.default_rng(5).uniform(size=(4, 5)).astype("float32")
        page, _ = open_page(url, wait_ready="tfjs-palette-1")
        first = np.asarray(page.evaluate("x => window.tfjsWidgets.predict('tfjs-palette-1', x)", noise.tolist()))
        assert np.abs(first - keras_palette.predict(noise, verbose=0)).max() < 1e-5

        place(project, variant_models["palette_b"], "models/palette/generator.keras")
        wait_for_log(log_path, "Reloading browsers", 120, after="Serving on")
        # Livereload reloads the open page by itself; a fresh page avoids racing it.
        page, _ = open_page(url, wait_ready="tfjs-palette-1")
        second = np.asarray(page.evaluate("x => window.tfjsWidgets.predict('tfjs-palette-1', x)", noise.tolist()))
        new_model = keras.models.load_model(variant_models["palette_b"], compile=False)
        assert np.abs(second - new_model.predict(noise, verbose=0)).max() < 1e-5

        project.page("index.md", PALETTE_BLOCK.replace("title: Palette generator", "title: Renamed widget"))
        wait_for_log(log_path, "Reloading browsers", 120, after="Reloading browsers")
        page, _ = open_page(url)
        assert page.locator("#tfjs-palette-1 .tfjs-title").text_content() == "Renamed widget"
    text = log_path.read_text()
    assert text.count("converted models/palette/generator.keras") == 3  # initial, new model, float16 block
    assert text.count("converted models/digits/digits.keras") == 1, "an unchanged model is not reconverted"
