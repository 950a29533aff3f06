"""For readers: author text stays text, a strict CSP works, failures end readable."""

from __future__ import annotations

import re
import shutil

import pytest

from .conftest import ROOT, Project

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=window.__xss=1>"


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    """Widgets whose title, caption and labels carry HTML, plus a second, healthy widget."""
    project = Project(tmp_path_factory.mktemp("hostile") / "proj")
    shutil.copytree(ROOT / "models" / "palette", project.root / "models" / "palette",
                    ignore=shutil.ignore_patterns("*.py", "*.md"))
    shutil.copytree(ROOT / "models" / "digits", project.root / "models" / "digits",
                    ignore=shutil.ignore_patterns("*.py", "*.md"))
    project.config()
    labels = ", ".join(f'"{XSS}"' if i == 0 else f'"d{i}"' for i in range(10))
    project.page("index.md", f"""
        ```tfjs
        model: models/palette/generator.keras
        widget: palette
        id: colours
        title: '{XSS} Palette </script><script>window.__xss=2</script>'
        caption: '<b>not bold</b>'
        ```

        ```tfjs
        model: models/digits/digits.keras
        widget: handwriting
        id: digits
        delay: 50
        labels: [{labels}]
        ```

        ```tfjs
        model: models/palette/generator.keras
        widget: palette
        id: second
        quantize: none
        ```
        """)
    result = project.build()
    assert result.returncode == 0, result.output
    return project.site


def test_author_text_is_shown_as_text_and_no_script_runs(hostile_site, serve, open_page):
    page, log = open_page(serve(hostile_site), wait_ready="colours")
    assert page.locator("#colours .tfjs-title").text_content().startswith(XSS)
    assert page.locator("#colours .tfjs-caption").text_content() == "<b>not bold</b>"
    assert page.locator("#colours img, #colours b").count() == 0
    # A label with HTML, shown in the results, is text too.
    page.evaluate("window.tfjsWidgets.ready('digits')")
    box = page.locator("#digits .upper-canvas").bounding_box()
    page.mouse.move(box["x"] + 140, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 140, box["y"] + 240, steps=10)
    page.mouse.up()
    page.wait_for_function("document.querySelectorAll('#digits .tfjs-topk-item').length === 3")
    labels = page.locator("#digits .tfjs-topk-label").all_text_contents()
    page.evaluate("window.tfjsWidgets.predict('digits', [Array.from({length: 28}, () => Array(28).fill([0]))])")
    assert all(re.fullmatch(r"d\d|" + re.escape(XSS), label) for label in labels)
    assert page.locator("#digits img").count() == 0
    # Nothing of the author's markup became an element that could run code later.
    assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0
    assert page.evaluate("[...document.scripts].filter(s => s.textContent.includes('__xss')).length") == 0
    assert page.evaluate("window.__xss") is None


CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
       "img-src 'self' data:; connect-src 'self'")

# A theme with no inline script or style of its own, so that any violation is the plugin's.
CSP_CLEAN_THEME = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ page.title }}</title><link rel="icon" href="data:,"></head>
<body><main>{{ page.content }}</main></body>
</html>
"""


@pytest.fixture(scope="module")
def csp_site(tmp_path_factory):
    """All three widgets on a theme that is itself CSP-clean (no search plugin, no inline code)."""
    project = Project(tmp_path_factory.mktemp("csp") / "proj")
    for name in ("palette", "digits", "emoji"):
        shutil.copytree(ROOT / "models" / name, project.root / "models" / name,
                        ignore=shutil.ignore_patterns("*.py", "*.md"))
    sample = project.root / "docs" / "dog.png"
    sample.parent.mkdir(parents=True)
    shutil.copy(ROOT / "docs" / "img" / "twemoji-1f436.png", sample)
    project.write("theme/main.html", CSP_CLEAN_THEME)
    project.write("mkdocs.yml", "site_name: CSP\ntheme:\n  name: null\n  custom_dir: theme\n"
                  "plugins:\n  - tfjs:\n      runtime: local\n"
                  f"      runtime_dir: {ROOT / 'node_modules'}\n")
    project.page("index.md", """
        ```tfjs
        model: models/palette/generator.keras
        widget: palette
        id: colours
        ```

        ```tfjs
        model: models/digits/digits.keras
        widget: handwriting
        id: digits
        delay: 50
        labels: digits
        ```

        ```tfjs
        model: models/emoji/classifier.keras
        widget: image
        id: emoji
        labels: models/emoji/classes.json
        preprocess: mobilenet
        samples: [docs/dog.png]
        ```
        """)
    result = project.build()
    assert result.returncode == 0, result.output
    return project.site


def test_all_three_widgets_work_under_a_strict_content_security_policy(csp_site, serve, open_page):
    url = serve(csp_site, headers={"Content-Security-Policy": CSP})
    page, log = open_page(url, init_script="""
        window.__violations = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(
            {directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber}));
    """)
    for widget_id in ("colours", "digits", "emoji"):
        page.evaluate("id => window.tfjsWidgets.ready(id)", widget_id)
    assert page.evaluate("window.tfjsWidgets.backend().name") == "wasm"

    def act(widget_id: str, action) -> None:
        before = page.evaluate("id => window.tfjsWidgets.stats(id).inferences", widget_id)
        action()
        page.wait_for_function("([id, n]) => { const s = window.tfjsWidgets.stats(id); "
                               "return s.inferences > n && !s.busy; }", arg=[widget_id, before])

    before = page.locator("#colours .tfjs-swatch-hex").all_text_contents()
    act("colours", lambda: page.locator("#colours .tfjs-generate").click())
    assert page.locator("#colours .tfjs-swatch-hex").all_text_contents() != before

    def scribble() -> None:
        box = page.locator("#digits .upper-canvas").bounding_box()
        page.mouse.move(box["x"] + 140, box["y"] + 40)
        page.mouse.down()
        page.mouse.move(box["x"] + 140, box["y"] + 240, steps=10)
        page.mouse.up()

    act("digits", scribble)
    assert page.locator("#digits .tfjs-topk-item").count() == 3

    act("emoji", lambda: page.locator("#emoji .tfjs-sample").click())
    assert page.locator("#emoji .tfjs-topk-item").count() == 5
    assert page.locator("#emoji .tfjs-img-preview").is_visible()

    assert page.evaluate("window.__violations") == []
    assert not log.console_errors and not log.page_errors


def test_a_page_opened_from_disk_says_it_must_be_served(hostile_site, open_page):
    page, log = open_page((hostile_site / "index.html").as_uri())
    page.wait_for_function("[...document.querySelectorAll('.tfjs-widget')].every(w => w.dataset.state === 'error')")
    for status in page.locator(".tfjs-status").all_text_contents():
        assert status.startswith("This widget needs the site served over HTTP")
        assert "mkdocs serve" in status and "python3 -m http.server" in status


def test_a_shard_that_answers_500_ends_in_a_readable_error_and_others_keep_working(
        hostile_site, serve, open_page, browser):
    url = serve(hostile_site)
    context = browser.new_context()
    page = context.new_page()
    html = (hostile_site / "index.html").read_text()
    broken = re.search(r'id="second".*?"model":"([^"]+)/model.json"', html, re.S).group(1)
    page.route(f"**/{broken}/*.bin", lambda route: route.fulfill(status=500, body="server error"))
    page.goto(url)
    outcome = page.evaluate("window.tfjsWidgets.ready('second').then(() => 'ready', e => e.message)")
    assert "500" in outcome, outcome
    assert page.locator("#second").get_attribute("data-state") == "error"
    status = page.locator("#second .tfjs-status").text_content()
    assert status == "This widget could not start: " + outcome
    page.evaluate("window.tfjsWidgets.ready('colours')")
    assert page.locator("#colours").get_attribute("data-state") == "ready"
    context.close()


def test_a_truncated_shard_ends_in_a_readable_error(hostile_site, serve, browser):
    url = serve(hostile_site)
    context = browser.new_context()
    page = context.new_page()
    html = (hostile_site / "index.html").read_text()
    broken = re.search(r'id="second".*?"model":"([^"]+)/model.json"', html, re.S).group(1)
    shard = next((hostile_site / broken).glob("*.bin")).read_bytes()
    page.route(f"**/{broken}/*.bin", lambda route: route.fulfill(
        status=200, body=shard[: len(shard) // 2], headers={"Content-Type": "application/octet-stream"}))
    page.goto(url)
    outcome = page.evaluate("window.tfjsWidgets.ready('second').then(() => 'ready', e => e.message)")
    assert outcome != "ready"
    assert page.locator("#second").get_attribute("data-state") == "error"
    assert page.locator("#second .tfjs-status").text_content() == "This widget could not start: " + outcome
    assert page.locator("#second .tfjs-generate").is_disabled()
    context.close()


def test_without_webgl_and_webassembly_the_cpu_backend_runs_and_says_why(hostile_site, serve, open_page):
    page, log = open_page(serve(hostile_site), wait_ready="colours", init_script="""
        delete window.WebAssembly;
        const original = HTMLCanvasElement.prototype.getContext;
        HTMLCanvasElement.prototype.getContext = function (type, ...rest) {
            return /webgl/.test(type) ? null : original.call(this, type, ...rest);
        };
    """)
    assert page.evaluate("window.tfjsWidgets.backend().name") == "cpu"
    card = page.locator("#colours .tfjs-card-backend").text_content()
    assert card == "cpu (WebAssembly is not available; WebGL is not available)"
    assert len(page.locator("#colours .tfjs-swatch").all()) == 5


@pytest.fixture(scope="module")
def cdn_site(tmp_path_factory):
    """`runtime: cdn` and `backend: wasm`: the WebAssembly binary comes from jsDelivr."""
    project = Project(tmp_path_factory.mktemp("cdn") / "proj")
    shutil.copytree(ROOT / "models" / "palette", project.root / "models" / "palette",
                    ignore=shutil.ignore_patterns("*.py", "*.md"))
    project.config({"runtime": "cdn"})
    project.page("index.md", "```tfjs\nmodel: models/palette/generator.keras\nwidget: palette\n"
                 "id: colours\nbackend: wasm\n```\n")
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    return project.site


JSDELIVR = re.compile(r"https://cdn\.jsdelivr\.net/npm/(.+?)@[0-9.]+/(.+)")


@pytest.mark.parametrize("cdn", ["unreachable", "tampered"])
def test_a_cdn_binary_that_cannot_be_fetched_is_told_from_one_that_fails_its_hash(
        cdn_site, serve, browser, cdn):
    # Bug caught: one message ("does not match its integrity hash, or could not be fetched")
    # for both, so an author whose CDN is down (or blocked) goes looking for a tampered
    # file, and one whose CDN serves other bytes goes looking for a network fault.
    context = browser.new_context()

    def jsdelivr(route):
        if cdn == "unreachable":
            route.abort("internetdisconnected")
            return
        # Offline jsDelivr: npm's bytes (what jsDelivr serves), one bit of the binary flipped.
        package, file = JSDELIVR.match(route.request.url).groups()
        body = (ROOT / "node_modules" / package / file).read_bytes()
        body = body[:-1] + bytes([body[-1] ^ 1])
        route.fulfill(status=200, body=body, headers={
            "Access-Control-Allow-Origin": "*", "Content-Type": "application/wasm"})

    context.route("https://cdn.jsdelivr.net/**", jsdelivr)
    page = context.new_page()
    page.goto(serve(cdn_site))
    outcome = page.evaluate("window.tfjsWidgets.ready('colours').then(() => 'ready', e => e.message)")
    assert outcome == "ready"
    # The page falls back to the CPU backend, and its model card says why WebAssembly failed.
    assert page.evaluate("window.tfjsWidgets.backend().name") == "cpu"
    card = page.locator("#colours .tfjs-card-backend").text_content()
    base = "https://cdn.jsdelivr.net/npm/@tensorflow/tfjs-backend-wasm@"
    if cdn == "unreachable":
        assert card.startswith("cpu (wasm failed: tfjs-backend-wasm-simd.wasm could not be fetched "
                               f"from {base}"), card
        assert ("(Failed to fetch): the network or that server is down, or it does not allow "
                "this site (CORS)") in card, card
        assert "integrity" not in card, card
    else:
        assert card.startswith("cpu (wasm failed: tfjs-backend-wasm-simd.wasm was refused (it does "
                               f"not match its integrity hash: {base}"), card
        assert "serves other bytes than the pinned release)" in card, card
        assert "could not be fetched" not in card, card
    assert page.locator("#colours .tfjs-swatch").count() == 5
    context.close()


def wait_idle_after(page, widget_id: str, before: int) -> dict:
    page.wait_for_function("([id, n]) => { const s = window.tfjsWidgets.stats(id); "
                           "return s.inferences > n && !s.busy; }", arg=[widget_id, before])
    return page.evaluate("id => window.tfjsWidgets.stats(id)", widget_id)


def test_two_hundred_fast_clicks_run_two_inferences_and_leak_nothing(hostile_site, serve, open_page):
    page, log = open_page(serve(hostile_site), wait_ready="colours")
    before = page.evaluate("window.tfjsWidgets.stats('colours').inferences")
    page.locator("#colours .tfjs-generate").click()
    wait_idle_after(page, "colours", before)
    baseline = page.evaluate("window.tfjsWidgets.memory().numTensors")
    before = page.evaluate("window.tfjsWidgets.stats('colours').inferences")
    page.evaluate("() => { const b = document.querySelector('#colours .tfjs-generate'); "
                  "for (let i = 0; i < 200; i++) b.click(); }")
    # The first click's inference runs; the 199 clicks during it collapse into one more.
    stats = wait_idle_after(page, "colours", before)
    assert stats["inferences"] == before + 2
    assert page.evaluate("window.tfjsWidgets.memory().numTensors") == baseline
    assert not log.page_errors and not log.console_errors


def test_drawing_and_clearing_fifty_times_leaks_no_tensors(hostile_site, serve, open_page):
    page, _ = open_page(serve(hostile_site), wait_ready="digits")

    def scribble(i: int) -> None:
        before = page.evaluate("window.tfjsWidgets.stats('digits').inferences")
        box = page.locator("#digits .upper-canvas").bounding_box()
        page.mouse.move(box["x"] + 60 + i % 7 * 10, box["y"] + 50)
        page.mouse.down()
        page.mouse.move(box["x"] + 150, box["y"] + 200, steps=4)
        page.mouse.up()
        wait_idle_after(page, "digits", before)

    scribble(0)
    baseline = page.evaluate("window.tfjsWidgets.memory().numTensors")
    start = page.evaluate("window.tfjsWidgets.stats('digits').inferences")
    for i in range(50):
        page.locator("#digits .tfjs-clear").click()
        scribble(i)
    assert page.evaluate("window.tfjsWidgets.stats('digits').inferences") == start + 50
    assert page.evaluate("window.tfjsWidgets.memory().numTensors") == baseline


# -- the widget's life in the page -------------------------------------------


def test_a_widget_removed_while_its_model_loads_settles_ready(hostile_site, serve, browser):
    url = serve(hostile_site)
    html = (hostile_site / "index.html").read_text()
    model_dir = re.search(r'id="second".*?"model":"([^"]+)/model.json"', html, re.S).group(1)
    context = browser.new_context()
    page = context.new_page()
    held = []
    page.route(f"**/{model_dir}/model.json", lambda route: held.append(route))
    with page.expect_request(f"**/{model_dir}/model.json"):
        page.goto(url)
        page.evaluate("() => { window.__outcome = null; window.tfjsWidgets.ready('second')"
                      ".then(() => { window.__outcome = 'ready'; }, (e) => { window.__outcome = e.message; }); }")
    # Its model is on the way (held here); the reader navigates away from the widget.
    page.evaluate("document.getElementById('second').remove(); window.tfjsWidgets.scan()")
    page.wait_for_function("window.__outcome !== null", timeout=15_000)
    assert page.evaluate("window.__outcome") == "the widget left the page before its model loaded"
    for route in held:
        route.continue_()
    assert page.evaluate("window.tfjsWidgets.ready('colours').then(() => 'ready', e => e.message)") == "ready"
    context.close()


def test_clicks_queued_when_a_widget_is_removed_never_reach_its_model(hostile_site, serve, open_page):
    page, log = open_page(serve(hostile_site), wait_ready="colours")
    before, after = page.evaluate("""async () => {
        const b = document.querySelector('#colours .tfjs-generate');
        const before = window.tfjsWidgets.stats('colours').inferences;
        b.click(); b.click(); b.click();  // one runs, one waits
        const idle = window.tfjsWidgets.idle('colours');
        document.getElementById('colours').remove();
        window.tfjsWidgets.scan();
        return [before, (await idle).inferences];
    }""")
    assert after == before + 1, "the running inference ends; the queued one is dropped"
    assert not log.page_errors and not log.console_errors


def test_a_failed_download_of_the_output_frees_its_tensors(hostile_site, serve, open_page):
    page, _ = open_page(serve(hostile_site), wait_ready="colours")
    # Every model of the page loaded, so that the count below moves only with the prediction.
    page.evaluate("Promise.all(['digits', 'second'].map(id => window.tfjsWidgets.ready(id)))")
    baseline = page.evaluate("window.tfjsWidgets.memory().numTensors")
    # Fault injection: the next download of a tensor's values fails, as a lost GPU context does.
    outcome = page.evaluate("""() => {
        const probe = window.tf.tensor([0]), proto = Object.getPrototypeOf(probe), original = proto.array;
        probe.dispose();
        proto.array = function () { proto.array = original; return Promise.reject(new Error('lost')); };
        return window.tfjsWidgets.predict('colours', [[0.1, 0.2, 0.3, 0.4, 0.5]]).then(() => 'ok', e => e.message);
    }""")
    assert outcome == "lost"
    assert page.evaluate("window.tfjsWidgets.memory().numTensors") == baseline


def test_ready_settles_with_the_real_outcome(hostile_site, serve, open_page, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(hostile_site, site)
    html = (site / "index.html").read_text()
    html = re.sub(r"(id=\"second\"[^>]*data-config=')[^']*'", r"\1{broken'", html)
    (site / "index.html").write_text(html)
    page, _ = open_page(serve(site))
    outcome = page.evaluate("window.tfjsWidgets.ready('second').then(() => 'ready', e => e.message)")
    assert "JSON" in outcome, outcome
    assert page.locator("#second .tfjs-status").text_content() == "This widget could not start: " + outcome
    assert page.evaluate("window.tfjsWidgets.ready('nope').then(() => 'ready', e => e.message)") == (
        "no tfjs widget with id 'nope' on this page")
    # A widget that arrives after the call (as instant navigation swaps content in) is waited for.
    page.evaluate("""() => {
        window.__late = null;
        window.tfjsWidgets.ready('late').then(() => { window.__late = 'ready'; }, e => { window.__late = e.message; });
        const copy = document.getElementById('colours').cloneNode(true);
        copy.id = 'late';
        copy.dataset.state = 'loading';
        copy.querySelector('.tfjs-palette-swatches').replaceChildren();
        document.querySelector('main, body').append(copy);
        window.tfjsWidgets.scan();
    }""")
    page.wait_for_function("window.__late !== null")
    assert page.evaluate("window.__late") == "ready"
