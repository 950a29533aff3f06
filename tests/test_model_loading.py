"""What a reader of a big model gets: progress, loading on demand, a copy kept across visits.

Real sites, built by the mkdocs CLI, served on 127.0.0.1 (a secure context, where
browsers offer Cache Storage; one test routes a plain-HTTP host to it, where they
offer none) and opened in Debian's Chromium. The network is
throttled by Chromium itself (DevTools' network emulation) and cut with routes
that abort; every wait is for something the page shows.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mkdocs_tfjs.convert import Choice, convert_model
from mkdocs_tfjs.convert.measure import describe_cost

from .conftest import PALETTE_MODEL, ROOT, Project, tfjs_block

DIGITS_MODEL = ROOT / "models" / "digits" / "digits.keras"
MODELS = re.compile(r"/assets/tfjs/models/")
# Everything of TF.js a page may fetch: the lean files, or the full pieces.
TFJS = re.compile(r"tfjs-lean-|/@tensorflow/|\.wasm$")
CACHE_KEYS = """async () => {
  if (!(await caches.has("mkdocs-tfjs-models"))) return [];
  const cache = await caches.open("mkdocs-tfjs-models");
  return (await cache.keys()).map((r) => new URL(r.url).pathname);
}"""
# Every aria-valuenow and size text the bar shows, recorded as the page changes them.
RECORD_PROGRESS = """
window.progressSeen = [];
new MutationObserver(() => {
  const bar = document.querySelector(".tfjs-progress");
  const text = document.querySelector(".tfjs-progress-text");
  if (!bar) return;
  const seen = [Number(bar.getAttribute("aria-valuenow")), text ? text.textContent : null];
  const last = window.progressSeen[window.progressSeen.length - 1];
  if (!last || last[0] !== seen[0] || last[1] !== seen[1]) window.progressSeen.push(seen);
}).observe(document, { subtree: true, attributes: true, childList: true, characterData: true });
"""


def palette_block(**keys) -> str:
    return tfjs_block(model="models/m.keras", widget="palette", **keys)


def site(root: Path, pages: dict[str, str], model: Path = PALETTE_MODEL, **options) -> Project:
    """Build a site of ``pages`` with ``model`` at models/m.keras; return the project."""
    project = Project(root)
    (project.root / "models").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model, project.root / "models" / "m.keras")
    project.config(options)
    for name, text in pages.items():
        project.page(name, "# Page\n\n" + text)
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    return project


def model_files(project: Project) -> dict[str, int]:
    """Return the converted model's files in the site and their sizes."""
    [folder] = (project.site / "assets" / "tfjs" / "models").iterdir()
    return {p.name: p.stat().st_size for p in folder.iterdir()}


def wait_state(page, widget_id: str, state: str) -> None:
    page.wait_for_function("([id, s]) => { const el = document.getElementById(id); "
                           "return el && el.dataset.state === s; }", arg=[widget_id, state])


def wait_mounted(page, widget_id: str) -> None:
    """Wait until the runtime has made the element a widget (its module loaded, scan done)."""
    page.wait_for_function("id => window.tfjsWidgets && window.tfjsWidgets.ids().includes(id)",
                           arg=widget_id)


def generate(page, widget_id: str):
    return page.evaluate("id => window.tfjsWidgets.predict(id, [[0.1, -0.2, 0.3, 0.4, -0.5]])", widget_id)


def test_progress_rises_to_the_total_on_a_throttled_network(tmp_path, browser, serve):
    project = site(tmp_path / "p", {"index.md": tfjs_block(
        model="models/m.keras", widget="handwriting", labels="digits", id="digits", load="click")},
        model=DIGITS_MODEL, quantize="none")
    total = sum(model_files(project).values())
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script(RECORD_PROGRESS)
        page.goto(serve(project.site))
        wait_mounted(page, "digits")
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        # 100 KB/s from the press on: the model (about 130 KB unquantized) comes in many chunks.
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                      "downloadThroughput": 100_000,
                                                      "uploadThroughput": -1})
        page.locator("#digits .tfjs-load-button").click()
        bar = page.locator("#digits .tfjs-progress")
        assert bar.get_attribute("aria-valuemin") == "0"
        assert bar.get_attribute("aria-valuemax") == str(total)
        wait_state(page, "digits", "ready")
        seen = page.evaluate("window.progressSeen")
        values = [v for v, _ in seen]
        assert values == sorted(values), "the bar never goes back"
        assert values[-1] == total
        # model.json and one shard: more steps than files means it moved within a file.
        assert len([v for v in values if 0 < v < total]) > 2 * len(model_files(project)), values
        texts = [t for _, t in seen]
        size = f"{total / 1000:.1f}"
        assert texts[0] == f"0.0 of {size} KB" and texts[-1] == f"{size} of {size} KB"
        assert any(re.fullmatch(rf"\d+\.\d of {size} KB", t) for t in texts[1:-1]), texts
        # Once the model is there, the bar makes room for the widget.
        assert page.locator("#digits .tfjs-load").is_hidden()
    finally:
        context.close()


def test_load_click_fetches_nothing_before_the_press_and_works_by_keyboard(tmp_path, browser, serve):
    project = site(tmp_path / "p", {"index.md": palette_block(load="click", id="asked")
                                    + "\n" + palette_block(id="big", title="Over the threshold")},
                   load_threshold="10 KB")
    total = sum(model_files(project).values())
    context = browser.new_context()
    try:
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(serve(project.site))
        wait_mounted(page, "asked")
        wait_mounted(page, "big")
        size = f"{total / 1000:.1f} KB"
        for widget_id in ("asked", "big"):  # `load: auto` over load_threshold asks too
            button = page.locator(f"#{widget_id} .tfjs-load-button")
            assert button.text_content() == f"Load model ({size})"
            assert page.locator(f"#{widget_id}").get_attribute("data-state") == "waiting"
            assert page.locator(f"#{widget_id} .tfjs-progress").is_hidden()
        assert [u for u in requests if MODELS.search(u) or TFJS.search(u)] == []
        assert_axe_clean(page)
        # The shard waits until the bar has been checked while it shows.
        held = []
        page.route(re.compile(r"\.bin$"), lambda route: held.append(route))
        page.locator("#asked .tfjs-load-button").focus()
        with page.expect_request(re.compile(r"\.bin$")):
            page.keyboard.press("Enter")
        # model.json came whole before the shard was asked for.
        page.wait_for_function("() => Number(document.querySelector('#asked .tfjs-progress')"
                               ".getAttribute('aria-valuenow')) > 0")
        assert page.locator("#asked .tfjs-progress").is_visible()
        assert page.evaluate("document.activeElement.matches('#asked .tfjs-progress')")
        assert_axe_clean(page)
        held[0].continue_()
        wait_state(page, "asked", "ready")
        assert [u for u in requests if u.endswith("model.json")], "the press fetched the model"
        # The other widget still waits for its own press.
        assert page.locator("#big").get_attribute("data-state") == "waiting"
        # Focus stayed in the widget: on its first control once the model is there.
        assert page.evaluate("document.activeElement.closest('#asked') !== null")
        assert len(generate(page, "asked")[0]) == 15
        assert_axe_clean(page)
    finally:
        context.close()


def assert_axe_clean(page) -> None:
    page.add_script_tag(path=str(ROOT / "node_modules" / "axe-core" / "axe.min.js"))
    result = page.evaluate("axe.run({include: [['.tfjs-widget']]}, {resultTypes: ['violations']})")
    # As tests/test_site_fit.py: serious and critical violations fail.
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]
            if v["impact"] in ("serious", "critical")] == []


def visit(context, url: str, widget_id: str, cut: bool = False):
    """Open ``url`` in ``context``; with ``cut``, every model request fails. Return page and model requests."""
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if MODELS.search(r.url) else None)
    if cut:
        page.route(MODELS, lambda route: route.abort("internetdisconnected"))
    page.goto(url)
    page.evaluate("id => window.tfjsWidgets.ready(id)", widget_id)
    return page, requests


def kept_text(page, widget_id: str) -> str:
    return page.locator(f"#{widget_id} .tfjs-card-kept").text_content()


def test_a_second_visit_and_another_page_download_nothing_and_work_offline(tmp_path, browser, serve):
    project = site(tmp_path / "p", {"index.md": palette_block(id="first"),
                                    "other.md": palette_block(id="second")})
    url = serve(project.site)
    context = browser.new_context()
    try:
        page, requests = visit(context, url, "first")
        assert len(requests) == len(model_files(project))
        assert kept_text(page, "first") == "yes: kept in this browser for later visits and offline use"
        expected = generate(page, "first")
        assert sorted(Path(k).name for k in page.evaluate(CACHE_KEYS)) == sorted(model_files(project))
        for where, widget_id in ((url, "first"), (url + "other/", "second")):
            again, requests = visit(context, where, widget_id, cut=True)
            assert requests == []
            assert kept_text(again, widget_id) == "yes: loaded from this browser's copy, nothing downloaded"
            assert generate(again, widget_id) == expected
    finally:
        context.close()


def retrained(source: Path, target: Path) -> None:
    """Write a copy of a .keras model with one weight changed: the same model, trained again."""
    import h5py

    with zipfile.ZipFile(source) as original:
        parts = {name: original.read(name) for name in original.namelist()}
    weights = io.BytesIO(parts["model.weights.h5"])
    with h5py.File(weights, "r+") as h5:
        datasets = []
        h5.visititems(lambda name, obj: datasets.append(obj) if isinstance(obj, h5py.Dataset) else None)
        bias = next(d for d in datasets if d.ndim == 1 and d.dtype == np.float32)
        bias[0] = bias[0] + 0.5
    parts["model.weights.h5"] = weights.getvalue()
    with zipfile.ZipFile(target, "w") as out:
        for name, data in parts.items():
            out.writestr(name, data)


def test_a_changed_model_is_fetched_anew_and_its_stale_copy_dropped(tmp_path, browser, serve):
    project = site(tmp_path / "p", {"index.md": palette_block(id="w")})
    old = model_files(project)
    url = serve(project.site)
    context = browser.new_context()
    try:
        visit(context, url, "w")
        retrained(PALETTE_MODEL, project.root / "models" / "m.keras")
        assert project.build("--strict").returncode == 0
        new = model_files(project)
        page, requests = visit(context, url, "w")
        assert len(requests) == len(new), "the new model came from the network"
        [folder] = (project.site / "assets" / "tfjs" / "models").iterdir()
        kept = page.evaluate(CACHE_KEYS)
        assert sorted(kept) == sorted(f"/assets/tfjs/models/{folder.name}/{name}" for name in new), kept
        assert old.keys() == new.keys()
    finally:
        context.close()


def test_an_author_opt_out_keeps_nothing(tmp_path, browser, serve):
    project = site(tmp_path / "p", {"index.md": palette_block(id="w", browser_cache=False)})
    url = serve(project.site)
    context = browser.new_context()
    try:
        page, _ = visit(context, url, "w")
        assert kept_text(page, "w") == "no: the author turned it off (browser_cache: false)"
        assert page.evaluate(CACHE_KEYS) == []
        _, requests = visit(context, url, "w")
        assert len(requests) == len(model_files(project))
    finally:
        context.close()


def test_the_size_cap_drops_the_oldest_model(tmp_path, browser, serve):
    # The palette model: about 52 KB at float16, 99 KB unquantized; the cap holds one of them.
    project = site(tmp_path / "p", {"index.md": palette_block(id="a"),
                                    "other.md": palette_block(id="b", quantize="none")},
                   browser_cache_size="120 KB")
    url = serve(project.site)
    context = browser.new_context()
    try:
        folders = []
        for where, widget_id in ((url, "a"), (url + "other/", "b"), (url, "a")):
            page, requests = visit(context, where, widget_id)
            assert len(requests) == 2, "the cap dropped the model this visit wants: it came again"
            folders.append(Path(requests[0]).parent.name)
            kept = {Path(k).parent.name for k in page.evaluate(CACHE_KEYS)}
            assert kept == {folders[-1]}, (kept, folders)
        assert folders[0] != folders[1]
    finally:
        context.close()


# A host that is not localhost, over plain HTTP: no secure context, so no Cache Storage.
PLAIN_HTTP = "http://docs.example.test/"


def test_on_a_plain_http_host_nothing_is_kept_and_the_widget_works(tmp_path, browser, serve, keras_palette):
    """Bug caught: Cache Storage used where the browser has none (caches.open unguarded),
    which fails the widget's load on every site served over plain HTTP."""
    project = site(tmp_path / "p", {"index.md": palette_block(id="w", quantize="none")})
    local = serve(project.site)
    context = browser.new_context()
    # Chromium sees the plain-HTTP host; the bytes come from the site on 127.0.0.1.
    context.route(PLAIN_HTTP + "**", lambda route: route.fulfill(
        response=route.fetch(url=local + route.request.url[len(PLAIN_HTTP):])))
    errors: list[str] = []
    context.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    context.on("weberror", lambda e: errors.append(str(e.error)))
    noise = np.random.default_rng(7).uniform(size=(3, 5)).astype("float32")
    try:
        for _ in range(2):  # the second visit downloads the model again: nothing was kept
            page, requests = visit(context, PLAIN_HTTP, "w")
            assert page.evaluate("[window.isSecureContext, typeof caches]") == [False, "undefined"]
            assert len(requests) == len(model_files(project))
            # What docs/troubleshooting.md quotes.
            assert kept_text(page, "w") == "no: this page is served over plain HTTP, where browsers offer no Cache Storage"
            got = np.asarray(page.evaluate("([id, x]) => window.tfjsWidgets.predict(id, x)", ["w", noise.tolist()]))
            # float32 weights: measured under 1e-6 from Keras.
            assert np.abs(got - keras_palette.predict(noise, verbose=0)).max() <= 1e-5
            page.close()
        assert errors == []
    finally:
        context.close()


def test_the_budget_warning_offers_every_way_out_with_numbers(tmp_path):
    project = Project(tmp_path / "p")
    (project.root / "models").mkdir(parents=True)
    shutil.copyfile(PALETTE_MODEL, project.root / "models" / "m.keras")
    project.config({"size_budget": "20 KB"})
    project.page("index.md", "# P\n\n" + palette_block())
    result = project.build()
    assert result.returncode == 0
    shipped = sum(model_files(project).values())
    warning = re.search(r"WARNING.*docs/index.md:3: models/m.keras converts to .*", result.output).group(0)
    assert f"converts to {shipped / 1000:.1f} KB (float16), over the size_budget of 20.0 KB" in warning
    estimate = float(re.search(r"`quantize: uint8` \(about (\d+\.\d) KB;", warning).group(1))
    # The measured cost of each quantization, as convert/measure.py gives it (checked against
    # Keras in tests/test_quantization_cost.py), in the warning, the log and the model card.
    cost = convert_model(PALETTE_MODEL, tmp_path / "direct", "float16", "m", Choice("native", ""))[
        "quantization_cost"]
    assert f"about {estimate} KB; {describe_cost(cost, 'uint8')})" in warning
    assert describe_cost(cost, "uint8").startswith("outputs move by at most 1.7e-02 (mean 3.8e-03)")
    assert f"models/m.keras, float16 weights: {describe_cost(cost, 'float16')}" in result.output
    card = (project.site / "index.html").read_text()
    assert f'<dd class="tfjs-card-quantization">{describe_cost(cost, "float16")}</dd>' in card
    # The estimate against the real uint8 conversion.
    project.config({"size_budget": "20 KB", "quantize": "uint8"})
    project.page("index.md", "# P\n\n" + palette_block())
    project.build()
    real = sum(model_files(project).values()) / 1000
    assert abs(estimate - real) <= 0.02 * real, (estimate, real)
    assert "`quantize: none`" not in warning, "no way out that grows the model"
    assert (f"`load: click` on the block (readers fetch the {shipped / 1000:.1f} KB only when they "
            "press **Load model**; the budget does not apply to it)") in warning
    assert "`size_budget: 1 MB` in mkdocs.yml (ship it as it is)" in warning
    assert "a smaller architecture" in warning
    # `load: click` is the reader's choice: no warning, and --strict passes.
    project.config({"size_budget": "20 KB"})
    project.page("index.md", "# P\n\n" + palette_block(load="click"))
    assert project.build("--strict").returncode == 0
