"""The cost model behind `backend: auto`: multiply-adds the build counts, and what each demo page runs on.

The runtime takes the plain CPU backend for pages whose models need at most
200,000 multiply-adds per inference (no WebAssembly to fetch), WebAssembly
for the rest under 4 MB. A miscount moves a demo to the wrong backend: a
reader downloads WebAssembly for nothing, or waits on the CPU backend.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pytest

from mkdocs_tfjs.directive import find_blocks

from .conftest import ROOT

# Pinned: a changed example model, or a changed count, shows here first. Each equals the
# independent count below (per-layer arithmetic on Keras's own shapes).
EXAMPLE_MACS = {
    "palette/generator.keras": 23_500,  # 5·100 + 100·200 + 200·15
    "digits/digits.keras": 2_440_960,  # 26²·32·3²·1 + 11²·64·3²·32 + 1600·10
    "emoji/classifier.keras": 4_746_688,  # MobileNetV2 (alpha 0.35) at 64x64, then 1280·9
    "penguins/penguins.keras": 368,  # 4·16 + 16·16 + 16·3
    "penguin-mass/body_mass.keras": 48,  # 2·16 + 16·1
}


def keras_macs(model) -> int:
    """Count multiply-adds per example from Keras's layers: shapes and kernel sizes only.

    Written here, apart from the converter's count (graph.py), so that the two
    can disagree: the converter counts its graph's ops, this counts layers.
    """
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):  # MobileNetV2 inside the emoji classifier
            total += keras_macs(layer)
            continue
        kind, config = type(layer).__name__, layer.get_config()
        if not layer.weights or kind in ("BatchNormalization", "Normalization"):
            continue  # element-wise, pooling, reshaping: no multiply-adds worth counting
        out, inp = tuple(layer.output.shape), tuple(layer.input.shape)
        if kind == "Dense":
            total += math.prod(out[1:]) * inp[-1]
        elif kind == "Conv2D":
            kh, kw = config["kernel_size"]
            total += math.prod(out[1:]) * kh * kw * inp[-1] // config["groups"]
        elif kind == "DepthwiseConv2D":
            kh, kw = config["kernel_size"]
            total += math.prod(out[1:]) * kh * kw
        else:
            raise AssertionError(f"{layer.name}: no formula for {kind} here; add one")
    return total


@pytest.mark.parametrize("name", sorted(EXAMPLE_MACS))
def test_each_example_models_multiply_adds_match_an_independent_count(tmp_path, name):
    # Bugs caught: a miscounted op in graph.py (a convolution's kernel size or channels
    # left out, a depthwise counted like a full convolution, a Dense counted per unit),
    # which would move a demo to another backend than the one measured for it.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import json

    import keras

    from mkdocs_tfjs.convert import Choice, convert_model

    path = ROOT / "models" / name
    convert_model(path, tmp_path / "out", "float16", name, Choice("native"))
    counted = json.loads((tmp_path / "out" / "model.json").read_text())["userDefinedMetadata"]["macs"]
    independent = keras_macs(keras.models.load_model(path, compile=False))
    assert counted == independent, (name, counted, independent)
    assert counted == EXAMPLE_MACS[name]


# What `backend: auto` picks on each page of docs/ with widgets, and the card's reason.
SMALL = "small enough for the CPU backend, with no WebAssembly to download"
WASM = "the models here are under 4 MB, where WebAssembly is fastest"
DEMO_BACKENDS = {
    "": ("cpu", "the models here need at most 23,500 multiply-adds per inference: " + SMALL),
    "demos/palette/": ("cpu", "the models here need at most 23,500 multiply-adds per inference: " + SMALL),
    "demos/handwriting/": ("wasm", WASM),
    "demos/image/": ("wasm", WASM),
    "demos/sliders/": ("cpu", "the models here need at most 368 multiply-adds per inference: " + SMALL),
    "demos/pictures/": ("wasm", WASM),
    "demos/sunspots/": ("cpu", "the models here need at most 8,224 multiply-adds per inference: " + SMALL),
    "demos/text/": ("cpu", "the models here need at most 196,672 multiply-adds per inference: " + SMALL),
    "custom-widgets/": ("cpu", "the models here need at most 48 multiply-adds per inference: " + SMALL),
}


def pages_with_widgets() -> set[str]:
    """Return the URL of each page of docs/ with a live tfjs block (examples in longer fences are not)."""
    urls = set()
    for page in (ROOT / "docs").rglob("*.md"):
        if find_blocks(page.read_text()):
            rel = page.relative_to(ROOT / "docs").with_suffix("")
            urls.add("" if rel.name == "index" and rel.parent == Path(".") else f"{rel.as_posix()}/")
    return urls


def test_every_page_with_widgets_has_its_expected_backend():
    # A new demo page must say here which backend it runs on.
    assert pages_with_widgets() == set(DEMO_BACKENDS)


@pytest.mark.browser
def test_auto_picks_the_measured_backend_on_each_demo_page(demo_url, open_page):
    # Bugs caught: the threshold compared the wrong way or against the wrong model of the
    # page, a count missing from a widget's config (then "not known to be small"), or a
    # miscount that moves a demo page across the 200,000 line.
    found = {}
    for path in sorted(DEMO_BACKENDS):
        page, log = open_page(demo_url + path)
        ids = page.eval_on_selector_all(".tfjs-widget[data-config]", "els => els.map(e => e.id)")
        assert ids, path
        for widget_id in ids:
            page.evaluate("id => window.tfjsWidgets.ready(id)", widget_id)
        card = page.locator(f"#{ids[0]} .tfjs-card-backend").text_content()
        name = page.evaluate("window.tfjsWidgets.backend().name")
        found[path] = (name, re.sub(r"^\w+(?: with SIMD)? \((.*)\)$", r"\1", card))
        assert not log.page_errors, (path, log.page_errors)
    assert found == DEMO_BACKENDS
