"""Which TF.js backend a page runs, and why the model card says so."""

from __future__ import annotations

import re

import pytest

from .conftest import PALETTE_BLOCK, ROOT, SMALL_REASON, Project, place


def palette(extra: str) -> str:
    return PALETTE_BLOCK.replace("widget: palette", "widget: palette\n" + extra)


def open_palette(project, shared_cache, serve, open_page, extra: str = ""):
    """Build a page with one palette widget (with the block keys ``extra``) and open it, ready."""
    project.config({"cache_dir": str(shared_cache)})
    project.page("index.md", palette(extra))
    assert project.build().returncode == 0
    return open_page(serve(project.site), wait_ready="tfjs-palette-1")


@pytest.fixture(scope="module")
def large_model(tmp_path_factory):
    """A 5 -> 15 generator of 1.2 million parameters: 4.9 MB as float32."""
    import keras

    path = tmp_path_factory.mktemp("large") / "large.keras"
    keras.Sequential([keras.Input((5,)), keras.layers.Dense(1100, activation="relu"),
                      keras.layers.Dense(1100, activation="relu"),
                      keras.layers.Dense(15, activation="sigmoid")]).save(path)
    return path


@pytest.mark.browser
def test_an_explicit_backend_is_used_and_named(project, shared_cache, serve, open_page):
    page, _ = open_palette(project, shared_cache, serve, open_page, "backend: cpu")
    assert page.evaluate("window.tfjsWidgets.backend().name") == "cpu"
    assert page.locator("#tfjs-palette-1 .tfjs-card-backend").text_content() == "cpu (backend: cpu)"


@pytest.mark.browser
def test_auto_runs_a_small_model_on_the_cpu_backend_and_fetches_no_webassembly(
        project, shared_cache, serve, open_page):
    # Bugs caught: `auto` ignoring the multiply-adds the build counted (the palette
    # model would take WebAssembly and fetch its binary), or the card not saying why.
    page, log = open_palette(project, shared_cache, serve, open_page)
    assert page.evaluate("window.tfjsWidgets.backend().name") == "cpu"
    assert page.locator("#tfjs-palette-1 .tfjs-card-backend").text_content() == f"cpu ({SMALL_REASON})"
    assert not [r for r in log.requests if "wasm" in r], log.requests
    assert page.locator("#tfjs-palette-1 .tfjs-swatch").count() == 5


@pytest.mark.browser
def test_a_model_over_the_small_threshold_takes_webassembly(project, shared_cache, serve, open_page,
                                                           large_model):
    # Bug caught: a threshold compared the wrong way, or a page's largest model not
    # the one that counts (this page also has the 23.5k palette model).
    place(project, large_model, "models/large.keras")
    project.config({"cache_dir": str(shared_cache)})
    project.page("index.md", PALETTE_BLOCK + "\n```tfjs\nmodel: models/large.keras\nwidget: palette\n```\n")
    assert project.build().returncode == 0
    page, _ = open_page(serve(project.site), wait_ready="tfjs-palette-2")
    assert page.evaluate("window.tfjsWidgets.backend().name") == "wasm"
    assert page.locator("#tfjs-palette-1 .tfjs-card-backend").text_content() == (
        "wasm with SIMD (the models here are under 4 MB, where WebAssembly is fastest)")


@pytest.mark.browser
def test_a_large_model_skips_software_webgl_and_says_why(project, shared_cache, serve, open_page, large_model):
    place(project, large_model, "models/large.keras")
    project.config({"cache_dir": str(shared_cache), "size_budget": "20 MB"})
    project.page("index.md", "```tfjs\nmodel: models/large.keras\nwidget: palette\nquantize: none\n```\n")
    assert project.build().returncode == 0
    page, _ = open_page(serve(project.site), wait_ready="tfjs-palette-1")
    # Over 4 MB, WebGL comes first, but this machine's WebGL is SwiftShader.
    assert page.locator("#tfjs-palette-1 .tfjs-card-backend").text_content() == (
        "wasm with SIMD (WebGL is software-rendered (SwiftShader))")


def test_plugin_option_sets_the_default_and_conflicts_on_a_page_are_errors(project, shared_cache):
    from .test_build import widget_config

    project.config({"cache_dir": str(shared_cache), "backend": "wasm"})
    project.page("index.md", palette("id: a") + "\n" + palette("id: b\nbackend: auto"))
    assert project.build().returncode == 0
    html = (project.site / "index.html").read_text()
    assert widget_config(html, "a")["backend"] == "wasm" and widget_config(html, "b")["backend"] == "auto"

    project.page("index.md", "Intro\n\n" + palette("id: a\nbackend: cpu") + "\n" + palette("id: b\nbackend: wasm"))
    result = project.build()
    assert result.returncode != 0
    assert ("docs/index.md:13: the widgets on this page ask for different backends (`cpu` on line 4, "
            "`wasm` here); TF.js runs one backend per page") in result.output


@pytest.mark.browser
def test_an_explicit_webgl_runs_on_software_webgl_and_the_card_says_so(project, shared_cache, serve, open_page):
    page, log = open_palette(project, shared_cache, serve, open_page, "backend: webgl")
    # The options page: `webgl` forces that backend unless it cannot start; software WebGL starts.
    assert page.evaluate("window.tfjsWidgets.backend().name") == "webgl"
    assert page.locator("#tfjs-palette-1 .tfjs-card-backend").text_content() == (
        "webgl (backend: webgl; WebGL is software-rendered (SwiftShader))")
    assert page.locator("#tfjs-palette-1 .tfjs-swatch").count() == 5
    assert not log.page_errors


@pytest.fixture
def instant_site(tmp_path, shared_cache):
    """Two pages on Material with instant navigation: A on `auto` (a small model: cpu), B on `backend: wasm`."""
    project = Project(tmp_path / "proj")
    place(project, ROOT / "models" / "palette" / "generator.keras", "models/palette/generator.keras")
    server = project.instant_site(["index.md", "b.md"], {"cache_dir": str(shared_cache)})
    project.page("index.md", "# A\n\n[Page B](b.md)\n" + palette("id: a-widget"))
    project.page("b.md", "# B\n\n[Page A](index.md)\n" + palette("id: b-widget\nbackend: wasm"))
    result = project.build()
    assert result.returncode == 0, result.output
    yield server.url
    server.close()


@pytest.mark.browser
def test_a_page_reached_by_instant_navigation_gets_its_own_backend(instant_site, open_page):
    page, log = open_page(instant_site, wait_ready="a-widget")
    assert page.evaluate("window.tfjsWidgets.backend().name") == "cpu"
    page.evaluate("window.__sameDocument = true")
    page.locator(".md-content").get_by_role("link", name="Page B").click()
    page.wait_for_url("**/b/")
    page.evaluate("window.tfjsWidgets.ready('b-widget')")
    assert page.evaluate("window.__sameDocument") is True, "instant navigation, not a reload"
    assert page.evaluate("window.tfjsWidgets.backend().name") == "wasm"
    assert page.locator("#b-widget .tfjs-card-backend").text_content() == "wasm with SIMD (backend: wasm)"
    assert page.locator("#b-widget .tfjs-swatch").count() == 5
    # And back: A's `auto` is the CPU backend again.
    page.locator(".md-content").get_by_role("link", name="Page A").click()
    page.wait_for_url(instant_site)
    page.evaluate("window.tfjsWidgets.ready('a-widget')")
    assert page.evaluate("window.tfjsWidgets.backend().name") == "cpu"
    assert page.locator("#a-widget .tfjs-card-backend").text_content() == f"cpu ({SMALL_REASON})"
    assert not log.page_errors


CDN = re.compile(r"https://cdn\.jsdelivr\.net/npm/(.+?)@[0-9.]+/(.+)")


@pytest.mark.browser
@pytest.mark.parametrize("tampered", [False, True])
def test_cdn_webassembly_binaries_are_checked_against_their_hash(project, shared_cache, serve, browser, tampered):
    project.config({"cache_dir": str(shared_cache), "runtime": "cdn"})
    project.page("index.md", palette("backend: wasm"))
    assert project.build().returncode == 0
    context = browser.new_context()

    # jsDelivr, offline: the files npm installed, which are the bytes jsDelivr serves.
    def cdn(route):
        package, file = CDN.match(route.request.url).groups()
        body = (ROOT / "node_modules" / package / file).read_bytes()
        if tampered and file.endswith(".wasm"):
            body = body[:-1] + bytes([body[-1] ^ 1])  # one bit of the last byte
        route.fulfill(status=200, body=body, headers={
            "Access-Control-Allow-Origin": "*",
            "Content-Type": "application/wasm" if file.endswith(".wasm") else "text/javascript"})

    context.route("https://cdn.jsdelivr.net/**", cdn)
    page = context.new_page()
    page.goto(serve(project.site))
    assert page.evaluate("window.tfjsWidgets.ready('tfjs-palette-1').then(() => 'ready', e => e.message)") == "ready"
    card = page.locator("#tfjs-palette-1 .tfjs-card-backend").text_content()
    if tampered:
        assert page.evaluate("window.tfjsWidgets.backend().name") == "cpu"
        assert card.startswith("cpu (wasm failed: tfjs-backend-wasm-simd.wasm was refused (it does not match "
                               "its integrity hash"), card
    else:
        assert card == "wasm with SIMD (backend: wasm)"
    assert page.locator("#tfjs-palette-1 .tfjs-swatch").count() == 5
    context.close()
