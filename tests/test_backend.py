"""Which TF.js backend a page runs, and why the model card says so."""

from __future__ import annotations

import pytest

from .conftest import PALETTE_BLOCK, place


def palette(extra: str) -> str:
    return PALETTE_BLOCK.replace("widget: palette", "widget: palette\n" + extra)


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
    project.config({"cache_dir": str(shared_cache)})
    project.page("index.md", palette("backend: cpu"))
    assert project.build().returncode == 0
    page, _ = open_page(serve(project.site), wait_ready="tfjs-palette-1")
    assert page.evaluate("window.tfjsWidgets.backend().name") == "cpu"
    assert page.locator("#tfjs-palette-1 .tfjs-card-backend").text_content() == "cpu (backend: cpu)"


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
