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
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xss") is None


CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
       "img-src 'self' data:; connect-src 'self'")


def test_widgets_work_under_a_strict_content_security_policy(hostile_site, serve, open_page):
    url = serve(hostile_site, headers={"Content-Security-Policy": CSP})
    page, log = open_page(url, init_script="""
        window.__violations = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(
            {directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile}));
    """)
    page.evaluate("window.tfjsWidgets.ready('colours')")
    assert page.evaluate("window.tfjsWidgets.backend().name") == "wasm"
    before = page.locator("#colours .tfjs-swatch-hex").all_text_contents()
    page.locator("#colours .tfjs-generate").click()
    page.wait_for_function("old => [...document.querySelectorAll('#colours .tfjs-swatch-hex')]"
                           ".map(e => e.textContent).join() !== old", arg=",".join(before))
    ours = [v for v in page.evaluate("window.__violations")
            if "assets/tfjs" in (v["source"] or "") or "assets/tfjs" in (v["blocked"] or "")
            or v["directive"].startswith("script-src") and v["blocked"] in ("eval", "wasm-eval")]
    assert ours == []


def test_a_shard_that_answers_500_ends_in_a_readable_error_and_others_keep_working(
        hostile_site, serve, open_page, browser):
    url = serve(hostile_site)
    context = browser.new_context()
    page = context.new_page()
    html = (hostile_site / "index.html").read_text()
    broken = re.search(r'id="second".*?"model":"([^"]+)/model.json"', html, re.S).group(1)
    page.route(f"**/{broken}/*.bin", lambda route: route.fulfill(status=500, body="server error"))
    page.goto(url)
    page.evaluate("window.tfjsWidgets.ready('second').catch(() => null)")
    assert page.locator("#second").get_attribute("data-state") == "error"
    status = page.locator("#second .tfjs-status").text_content()
    assert "could not start" in status and "500" in status
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
    page.evaluate("window.tfjsWidgets.ready('second').catch(() => null)")
    assert page.locator("#second").get_attribute("data-state") == "error"
    assert "could not start" in page.locator("#second .tfjs-status").text_content()
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


def test_two_hundred_fast_clicks_neither_leak_nor_pile_up(hostile_site, serve, open_page):
    page, _ = open_page(serve(hostile_site), wait_ready="colours")
    page.locator("#colours .tfjs-generate").click()
    page.wait_for_timeout(100)
    baseline = page.evaluate("window.tfjsWidgets.memory().numTensors")
    before = page.evaluate("window.tfjsWidgets.stats('colours').inferences")
    page.evaluate("() => { const b = document.querySelector('#colours .tfjs-generate'); "
                  "for (let i = 0; i < 200; i++) b.click(); }")
    page.wait_for_timeout(300)
    ran = page.evaluate("window.tfjsWidgets.stats('colours').inferences") - before
    assert 1 <= ran <= 3, f"200 clicks during one inference collapse into at most two more, ran {ran}"
    assert page.evaluate("window.tfjsWidgets.memory().numTensors") == baseline
    # Still responsive: a frame is painted promptly.
    assert page.evaluate("new Promise(r => { const t = performance.now(); "
                         "requestAnimationFrame(() => r(performance.now() - t)); })") < 500


def test_drawing_and_clearing_fifty_times_leaks_no_tensors(hostile_site, serve, open_page):
    page, _ = open_page(serve(hostile_site), wait_ready="digits")

    def scribble(i: int) -> None:
        box = page.locator("#digits .upper-canvas").bounding_box()
        page.mouse.move(box["x"] + 60 + i % 7 * 10, box["y"] + 50)
        page.mouse.down()
        page.mouse.move(box["x"] + 150, box["y"] + 200, steps=4)
        page.mouse.up()

    scribble(0)
    page.wait_for_function("document.querySelectorAll('#digits .tfjs-topk-item').length > 0")
    baseline = page.evaluate("window.tfjsWidgets.memory().numTensors")
    for i in range(50):
        scribble(i)
        page.wait_for_timeout(80)  # past the 50 ms delay: a recognition runs
        page.locator("#digits .tfjs-clear").click()
    page.wait_for_timeout(200)
    assert page.evaluate("window.tfjsWidgets.stats('digits').inferences") > 25
    assert page.evaluate("window.tfjsWidgets.memory().numTensors") == baseline
