"""The WebGPU backend: `backend: webgpu` against Keras, `auto` and software adapters, falling back.

No GPU is at hand: these tests run TF.js's real webgpu backend on Chromium's
software WebGPU adapter. Debian's Chromium 156, headless, exposes WebGPU with
``--enable-unsafe-webgpu`` alone (kept with the suite's ``--disable-gpu``): it
then offers SwiftShader's Vulkan as a fallback adapter (``adapter.info``:
vendor "google", architecture "swiftshader", ``isFallbackAdapter`` true;
``adapter.isFallbackAdapter`` itself is undefined there). Adding
``--enable-features=Vulkan``, ``--use-angle=swiftshader``,
``--use-webgpu-adapter=swiftshader`` or ``--disable-vulkan-surface`` changes
nothing. Without ``--enable-unsafe-webgpu``, ``navigator.gpu`` exists but
``requestAdapter()`` gives null: the missing adapter. The suite's own browser
is that one; a second one with the flag is launched here.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from .conftest import (
    READY_OR_FAIL,
    ROOT,
    Project,
    StaticServer,
    page_opener,
)
from .test_lean_runtime import EXAMPLES as LEAN_EXAMPLES

pytestmark = pytest.mark.browser

# page: (block keys, model under models/, input sampler, measured worst
# |webgpu - Keras| / max(1, |Keras|) on the software adapter, float32 weights).
EXAMPLES = {
    **{name: (block, model, sample) for name, (block, model, sample, _) in LEAN_EXAMPLES.items()},
    # Fewer pictures than the lean runtime's test: SwiftShader takes seconds for each emoji.
    "emoji": (LEAN_EXAMPLES["emoji"][0], LEAN_EXAMPLES["emoji"][1], lambda r: r.uniform(0, 1, (2, 64, 64, 3))),
    "digit-segmenter": ("widget: image\nshow: mask\nlabels: [background, digit, blot]\npreprocess: scale",
                        "digit-segmenter/segmenter.keras", lambda r: r.uniform(0, 1, (2, 28, 28, 3))),
    "digit-denoiser": ("widget: image\nshow: image\npreprocess: scale", "digit-denoiser/denoiser.keras",
                       lambda r: r.uniform(0, 1, (4, 28, 28, 3))),
    "digit-vae": ("widget: generator\nnoise: normal", "digit-vae/decoder.keras", lambda r: r.normal(0, 1, (16, 2))),
}
# Measured on the software adapter: 4.2e-7, 1.2e-7, 2.4e-7, 1.8e-7, 7.6e-8, 8.3e-7, 4.8e-7, 3.6e-7
# (the float32 rounding of a different order of summation; the wasm backend's are alike).
WORST = {
    "palette": 4.2e-7, "digits": 1.2e-7, "emoji": 2.4e-7, "penguins": 1.8e-7, "penguin-mass": 7.6e-8,
    "digit-segmenter": 8.3e-7, "digit-denoiser": 4.8e-7, "digit-vae": 3.6e-7,
}

# Kills the WebGPU of the page before any script runs: a browser without it.
NO_WEBGPU = "Object.defineProperty(Navigator.prototype, 'gpu', {get: () => undefined});"
# Every shader TF.js compiles gets a line no WGSL compiler takes: each kernel then fails
# as a driver's refused shader does, with a GPU validation error and no exception.
BROKEN_SHADERS = """
const create = GPUDevice.prototype.createShaderModule;
GPUDevice.prototype.createShaderModule = function (descriptor) {
  return create.call(this, {...descriptor, code: descriptor.code + "\\nnot wgsl at all"});
};
"""


@pytest.fixture
def open_gpu_page(webgpu_browser):
    with page_opener(webgpu_browser) as open_:
        yield open_


def big_model():
    """A 5 -> 15 generator whose two 3x3 convolutions on 32x32 need 40 million multiply-adds."""
    import keras

    keras.utils.set_random_seed(3)
    return keras.Sequential([
        keras.Input((5,)), keras.layers.Dense(32 * 32 * 4, activation="relu"), keras.layers.Reshape((32, 32, 4)),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(15, activation="sigmoid"),
    ])


@pytest.fixture(scope="module")
def site(tmp_path_factory, shared_cache):
    """Every demo model on a page of its own with `backend: webgpu`; the big model under `auto`."""
    project = Project(tmp_path_factory.mktemp("webgpu") / "proj")
    shutil.copytree(ROOT / "models", project.root / "models", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    # One page holds them all: one WebGPU start (and one Keras-free page load) for eight models.
    project.page("all.md", "# All\n\n" + "\n".join(
        f"```tfjs\nmodel: models/{model}\nid: {name}\nquantize: none\nbackend: webgpu\n{block.rstrip()}\n```\n"
        for name, (block, model, _) in EXAMPLES.items()))
    project.page("palette.md", f"# Palette\n\n```tfjs\nmodel: models/{EXAMPLES['palette'][1]}\nid: w\n"
                               f"quantize: none\nbackend: webgpu\n{EXAMPLES['palette'][0]}\n```\n")
    project.page("digits.md", f"# Digits\n\n```tfjs\nmodel: models/{EXAMPLES['digits'][1]}\nid: w\n"
                              f"quantize: none\nbackend: webgpu\n{EXAMPLES['digits'][0]}\n```\n")
    big_model().save(project.root / "models" / "big.keras")
    project.page("big.md", "# Big\n\n```tfjs\nmodel: models/big.keras\nid: w\nwidget: palette\n```\n")
    project.page("index.md", "# Index\n")
    project.config({"cache_dir": str(shared_cache)})
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    return project.site


def _webgpu_files(log) -> list[str]:
    return [u for u in log.requests if "webgpu" in u.rsplit("/", 1)[-1]]


def _relative_error(got, expected) -> float:
    return float(np.abs(got - expected).max() / max(1.0, float(np.abs(expected).max())))


def _predict_against_keras(page, name: str, x: np.ndarray, widget_id: str = "w") -> float:
    import keras

    got = np.asarray(page.evaluate("([id, x]) => window.tfjsWidgets.predict(id, x)", [widget_id, x.tolist()]))
    expected = keras.models.load_model(ROOT / "models" / EXAMPLES[name][1], compile=False).predict(x, verbose=0)
    assert got.shape == expected.shape
    return _relative_error(got, expected)


@pytest.fixture(scope="module")
def all_models_page(site, webgpu_browser):
    """The page of the eight demo models under `backend: webgpu`, every widget ready."""
    server = StaticServer(site)
    with page_opener(webgpu_browser) as open_:
        page, log = open_(server.url + "all/")
        for name in EXAMPLES:
            page.evaluate(READY_OR_FAIL, name)
        yield page, log
    server.close()


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_webgpu_matches_keras_on_every_demo_model(all_models_page, name):
    # Fails when a webgpu kernel computes otherwise than Keras on a lowering the converter
    # writes (a fused activation the webgpu kernel drops, say), when the lean webgpu file
    # lacks a kernel (the widget never gets ready), or when `backend: webgpu` is not honoured.
    page, log = all_models_page
    info = page.evaluate("window.tfjsWidgets.backend()")
    assert info["name"] == "webgpu", info
    assert page.locator(f"#{name} .tfjs-card-backend").text_content() == (
        "webgpu (backend: webgpu; WebGPU's adapter is software (swiftshader))")
    x = EXAMPLES[name][2](np.random.default_rng(9)).astype("float32")
    error = _predict_against_keras(page, name, x, name)
    print(f"{name} webgpu (software adapter): worst relative error {error:.2e}")
    # Twice the measured worst, relative to the output's scale (body mass is in grams).
    assert error <= 2 * WORST[name]
    assert not log.page_errors, log.page_errors


def test_auto_never_takes_a_software_webgpu_adapter(site, serve, open_gpu_page):
    # Fails when `auto` takes the software adapter for a model over the multiply-add line
    # (reading only navigator.gpu, or missing adapter.info's isFallbackAdapter), or when the
    # page fetches WebGPU's script although it will not use it.
    page, log = open_gpu_page(serve(site) + "big/", wait_ready="w")
    assert page.evaluate("window.tfjsWidgets.backend().name") == "wasm"
    assert page.locator("#w .tfjs-card-backend").text_content() == (
        "wasm with SIMD (WebGPU's adapter is software (swiftshader))")
    assert not _webgpu_files(log), log.requests
    assert not log.page_errors, log.page_errors


@pytest.mark.parametrize("how", ["no adapter", "no navigator.gpu"])
def test_backend_webgpu_without_webgpu_falls_back_to_webassembly(site, serve, open_page, open_gpu_page, how):
    # Fails when a page asking for webgpu in a browser without it ends in an error instead of
    # running on WebAssembly, when the model card does not say why, or when the webgpu script
    # is fetched for nothing.
    url = serve(site) + "palette/"
    if how == "no adapter":
        page, log = open_page(url, wait_ready="w")  # the suite's browser: no --enable-unsafe-webgpu
        why = "WebGPU has no adapter here"
    else:
        page, log = open_gpu_page(url, wait_ready="w", init_script=NO_WEBGPU)
        why = "WebGPU is not available in this browser"
    assert page.evaluate("window.tfjsWidgets.backend().name") == "wasm"
    assert page.locator("#w .tfjs-card-backend").text_content() == (
        f"wasm with SIMD (backend: webgpu fell back to wasm: {why})")
    assert not _webgpu_files(log), log.requests
    x = EXAMPLES["palette"][2](np.random.default_rng(9)).astype("float32")
    assert _predict_against_keras(page, "palette", x) <= 1e-6
    assert not log.page_errors, log.page_errors


def test_a_kernel_failing_at_the_first_inference_falls_back_to_webassembly(site, serve, open_gpu_page):
    # Fails when a webgpu kernel's GPU error goes unseen (no error scope around the first
    # inference, or its outputs never read back): the widget would then answer zeros.
    page, log = open_gpu_page(serve(site) + "digits/", wait_ready="w", init_script=BROKEN_SHADERS)
    assert page.evaluate("window.tfjsWidgets.backend().name") == "wasm"
    card = page.locator("#w .tfjs-card-backend").text_content()
    assert card.startswith("wasm with SIMD (backend: webgpu fell back to wasm: webgpu failed at its first "
                           "inference: "), card
    assert _webgpu_files(log), "webgpu was tried first"
    x = EXAMPLES["digits"][2](np.random.default_rng(9)).astype("float32")
    assert _predict_against_keras(page, "digits", x) <= 1e-6
    assert not log.page_errors, log.page_errors


def test_backend_webgpu_on_the_full_runtime(site, serve, open_gpu_page, tmp_path):
    # Fails when the full pieces lack webgpu (the runtime configuration or `runtime: local`
    # copies no tf-backend-webgpu.min.js): a page needing the full TF.js would then fall back.
    full = tmp_path / "site-full"
    shutil.copytree(site, full)
    page_file = full / "digits" / "index.html"
    page_file.write_text(page_file.read_text().replace('"lean":true', '"lean":false'))
    page, log = open_gpu_page(serve(full) + "digits/", wait_ready="w")
    assert page.evaluate("window.tfjsWidgets.backend()")["runtime"] == "full"
    assert page.evaluate("window.tfjsWidgets.backend().name") == "webgpu"
    assert [u.rsplit("/", 1)[-1] for u in _webgpu_files(log)] == ["tf-backend-webgpu.min.js"]
    x = EXAMPLES["digits"][2](np.random.default_rng(9)).astype("float32")
    assert _predict_against_keras(page, "digits", x) <= 2 * WORST["digits"]
    assert not log.page_errors, log.page_errors
