"""WebAssembly threads (plugin option `threads`): cross-origin isolation, and Keras's outputs.

TF.js's threaded WebAssembly binary needs SharedArrayBuffer, which Chromium gives a
cross-origin-isolated page only. With `threads: true` the build writes a service worker
at the site's root that isolates pages the host serves without the headers (GitHub
Pages); the first page reloads once to come under it. XNNPack runs at most half the
logical cores the browser reports, one on this two-core machine: the pages here report
four, so that two threads run.
"""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import ROOT, place, seeded_keras

EMOJI_MODEL = ROOT / "models" / "emoji" / "classifier.keras"
CLASSES = ROOT / "models" / "emoji" / "classes.json"
ISOLATION = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}
FOUR_CORES = "Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', {get: () => 4});"
BLOCK = ("```tfjs\nmodel: models/emoji/classifier.keras\nwidget: image\nid: emoji\n"
         "labels: models/emoji/classes.json\nbackend: wasm\nquantize: none\n```\n")
# Measured 3.7e-7 from Keras's probabilities on this input, with two threads and with one.
TOLERANCE = 5e-7

STATE = """async () => ({
  isolated: window.crossOriginIsolated,
  backend: window.tfjsWidgets.backend(),
  workers: (await navigator.serviceWorker.getRegistrations()).map((r) => r.active && r.active.scriptURL),
})"""


@pytest.fixture(scope="module")
def reference():
    """A fixed input of the emoji model and Keras's output for it."""
    keras = seeded_keras(5)
    model = keras.models.load_model(EMOJI_MODEL, compile=False)
    x = np.random.default_rng(3).uniform(-1, 1, (1, *model.input_shape[1:])).astype("float32")
    return x, model.predict(x, verbose=0)


def build(project, shared_cache, threads: bool | None):
    place(project, EMOJI_MODEL, "models/emoji/classifier.keras")
    place(project, CLASSES, "models/emoji/classes.json")
    options = {"cache_dir": str(shared_cache)}
    if threads is not None:
        options["threads"] = threads
    project.config(options)
    project.page("index.md", BLOCK)
    project.page("other.md", BLOCK)
    project.page("plain.md", "# No widget here\n")
    assert project.build("--strict").returncode == 0
    return project.site


def open_ready(page, url: str, loads: int = 1) -> list[str]:
    """Open ``url``, wait for its ``loads``-th document load (reloads count) and the widget.

    Return the loads seen; Playwright hands the page's events over only during its calls,
    so none is missed between the count and the wait.
    """
    seen: list[str] = []
    page.on("load", lambda: seen.append(page.url))
    page.goto(url)
    while len(seen) < loads:
        page.wait_for_event("load")
    page.evaluate("window.tfjsWidgets.ready('emoji')")
    return seen


def predicted(page, x) -> np.ndarray:
    return np.array(page.evaluate("([x]) => window.tfjsWidgets.predict('emoji', new Float32Array(x))",
                                  [x.ravel().tolist()]))


@pytest.mark.browser
def test_threads_on_a_host_without_headers_isolate_through_the_worker_and_match_keras(
        project, shared_cache, serve, browser, reference):
    # Bugs caught: the worker not written at the site's root, not registered, or not adding
    # both headers (the page stays unisolated: one thread); the first page not reloaded to
    # come under it, or reloaded again on every page (a loop); the worker isolating pages
    # without widgets; the threaded binary giving other numbers than Keras.
    site = build(project, shared_cache, threads=True)
    assert (site / "tfjs-isolation.js").is_file()
    url = serve(site)
    context = browser.new_context()
    try:
        context.add_init_script(FOUR_CORES)
        page = context.new_page()
        seen = open_ready(page, url, loads=2)
        state = page.evaluate(STATE)
        assert state["isolated"] is True
        assert state["workers"] == [url + "tfjs-isolation.js"]
        assert state["backend"]["threads"] == 2, state
        assert len(seen) == 2, seen  # the first visit, and its one reload
        card = page.locator("#emoji .tfjs-card-backend").text_content()
        assert card.startswith("wasm with SIMD, 2 threads ("), card
        x, expected = reference
        assert np.abs(predicted(page, x) - expected).max() <= TOLERANCE

        # Another page of the site, and the first again: already under the worker, no reload.
        other = context.new_page()
        seen = open_ready(other, url + "other/")
        assert other.evaluate(STATE)["backend"]["threads"] == 2
        assert len(seen) == 1, seen

        # A page without widgets keeps its plain headers (and its cross-origin iframes).
        plain = context.new_page()
        plain.goto(url + "plain/")
        assert plain.evaluate("window.crossOriginIsolated") is False
    finally:
        context.close()


@pytest.mark.browser
def test_turning_threads_off_retires_the_worker_a_reader_kept(project, shared_cache, serve, browser):
    # Bug caught: a site rebuilt with `threads: false` leaving readers of the earlier build
    # under the isolating worker for good (it keeps serving its headers when its file is gone).
    url = serve(build(project, shared_cache, threads=True))
    context = browser.new_context()
    try:
        context.add_init_script(FOUR_CORES)
        open_ready(context.new_page(), url, loads=2)
        site = build(project, shared_cache, threads=False)
        assert "unregister" in (site / "tfjs-isolation.js").read_text()
        # The next visit checks the worker for an update, gets the retiring one, which
        # unregisters itself and reloads the page: the second load has no isolation.
        page = context.new_page()
        open_ready(page, url, loads=2)
        state = page.evaluate(STATE)
        assert state["isolated"] is False and state["workers"] == [], state
        assert state["backend"]["threads"] == 1
    finally:
        context.close()


@pytest.mark.browser
def test_threads_on_a_host_that_isolates_need_no_worker_and_no_reload(
        project, shared_cache, serve, browser, reference):
    # Bugs caught: a page already isolated by its host (a `_headers` file on Netlify or
    # Cloudflare Pages) registering the worker anyway, or reloading for it.
    url = serve(build(project, shared_cache, threads=True), ISOLATION)
    context = browser.new_context()
    try:
        context.add_init_script(FOUR_CORES)
        page = context.new_page()
        seen = open_ready(page, url)
        state = page.evaluate(STATE)
        assert state["backend"]["threads"] == 2 and state["workers"] == [], state
        assert len(seen) == 1, seen
        x, expected = reference
        assert np.abs(predicted(page, x) - expected).max() <= TOLERANCE
    finally:
        context.close()


@pytest.mark.browser
def test_without_the_option_an_isolated_page_runs_one_thread_and_ships_no_worker(
        project, shared_cache, serve, browser, reference):
    # Bugs caught: threads (and the threaded binary) used where the author did not ask for
    # them, on a page its host happens to isolate; the isolating worker written or registered.
    site = build(project, shared_cache, threads=None)
    assert "unregister" in (site / "tfjs-isolation.js").read_text()  # the retiring worker only
    url = serve(site, ISOLATION)
    context = browser.new_context()
    try:
        context.add_init_script(FOUR_CORES)
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        open_ready(page, url)
        state = page.evaluate(STATE)
        assert state["isolated"] is True
        assert state["backend"]["threads"] == 1 and state["workers"] == [], state
        assert [r.rsplit("/", 1)[-1] for r in requests if r.endswith(".wasm")] == ["tfjs-backend-wasm-simd.wasm"]
        x, expected = reference
        assert np.abs(predicted(page, x) - expected).max() <= TOLERANCE
    finally:
        context.close()
