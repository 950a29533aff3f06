"""The cache key: each input that shapes a conversion changes it, one test per input.

A key that misses an input serves a stale conversion: the old weights after
the author retrained, float16 weights for a `quantize: none` block, or a model
converted by an older converter after an upgrade.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mkdocs_tfjs import cache as cache_module
from mkdocs_tfjs import convert
from mkdocs_tfjs.cache import ModelCache

from .conftest import PALETTE_MODEL

# The packages whose versions each converter's key holds (NATIVE_VERSION is the native one's own).
NATIVE_PACKAGES = ("numpy", "h5py")
TENSORFLOW_PACKAGES = ("tensorflow", "tensorflowjs", "keras")


@pytest.fixture
def model_cache(tmp_path) -> ModelCache:
    return ModelCache(tmp_path / "cache", warn=print)


@pytest.fixture
def model(tmp_path) -> Path:
    path = tmp_path / "generator.keras"
    shutil.copy(PALETTE_MODEL, path)
    return path


def key(model_cache: ModelCache, model: Path, quantize="float16", fmt="graph", converter="native") -> str:
    return model_cache.key(model, quantize, fmt, converter)


def test_the_same_inputs_give_the_same_key_in_another_cache(model_cache, model, tmp_path):
    # The baseline the other tests move away from: a key is a function of its inputs only.
    other = ModelCache(tmp_path / "other", warn=print)
    assert key(model_cache, model) == key(other, model)


def test_the_model_bytes_change_the_key(model_cache, model):
    # Bug caught: the author retrains, and readers keep the old weights.
    before = key(model_cache, model)
    data = bytearray(model.read_bytes())
    data[-100] ^= 1  # one bit of the archive
    model.write_bytes(bytes(data))
    assert key(model_cache, model) != before


def test_a_saved_model_folder_is_keyed_by_every_file_and_its_name(model_cache, tmp_path):
    # Bug caught: a folder hashed by its saved_model.pb only, or by contents without names.
    folder = tmp_path / "saved"
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"graph")
    (folder / "variables" / "variables.data-00000-of-00001").write_bytes(b"weights")
    before = key(model_cache, folder, converter="tensorflow")
    (folder / "variables" / "variables.data-00000-of-00001").write_bytes(b"weightz")
    changed = key(model_cache, folder, converter="tensorflow")
    assert changed != before
    # The same bytes under another name are another model.
    (folder / "variables" / "variables.data-00000-of-00001").rename(folder / "variables" / "other")
    assert key(model_cache, folder, converter="tensorflow") not in (before, changed)


def test_quantize_changes_the_key(model_cache, model):
    # Bug caught: a `quantize: none` block served the float16 entry.
    keys = {key(model_cache, model, quantize=q) for q in ("none", "float16", "uint8")}
    assert len(keys) == 3


def test_format_changes_the_key(model_cache, model):
    # Bug caught: the format left out of the key.
    # `graph` is the only format today; a second one must not reuse its entries.
    assert key(model_cache, model, fmt="graph") != key(model_cache, model, fmt="layers")


def test_the_converter_asked_for_changes_the_key(model_cache, model):
    # Bug caught: `converter: tensorflow` served the native converter's entry.
    keys = {key(model_cache, model, converter=c) for c in ("auto", "native", "tensorflow")}
    assert len(keys) == 3


def test_the_scheme_changes_the_key(model_cache, model, monkeypatch):
    # Bug caught: bumping SCHEME (a changed recipe) still reused the old entries.
    before = key(model_cache, model)
    monkeypatch.setattr(cache_module, "SCHEME", cache_module.SCHEME + "-next")
    assert key(model_cache, model) != before


def test_the_native_converters_own_version_changes_the_native_and_auto_keys(model_cache, model, monkeypatch):
    # Bug caught: a new native converter (NATIVE_VERSION bumped) reused old conversions.
    before = {c: key(model_cache, model, converter=c) for c in ("native", "auto", "tensorflow")}
    monkeypatch.setattr(convert, "NATIVE_VERSION", convert.NATIVE_VERSION + "-next")
    after = {c: key(model_cache, model, converter=c) for c in ("native", "auto", "tensorflow")}
    assert after["native"] != before["native"] and after["auto"] != before["auto"]
    # TensorFlow's conversions do not depend on it: an upgrade must not redo them.
    assert after["tensorflow"] == before["tensorflow"]


@pytest.fixture
def installed_version(tmp_path, monkeypatch):
    """Make ``importlib.metadata`` see another version of a package, as after ``pip install -U``.

    A ``.dist-info`` folder ahead of site-packages on ``sys.path`` is what an
    upgrade changes; the key reads versions through importlib.metadata, never
    through the package's own ``__version__``.
    """
    def install(package: str) -> None:
        dist = tmp_path / "site" / f"{package}-999.0.dist-info"
        dist.mkdir(parents=True)
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 999.0\n")
        monkeypatch.syspath_prepend(str(tmp_path / "site"))
        convert._package_versions.cache_clear()

    yield install
    convert._package_versions.cache_clear()


@pytest.mark.parametrize("package", NATIVE_PACKAGES + TENSORFLOW_PACKAGES)
def test_each_converters_package_versions_change_its_key(model_cache, model, installed_version, package):
    # Bug caught: an upgraded numpy, h5py, TensorFlow, tensorflowjs or Keras reused old conversions.
    convert._package_versions.cache_clear()
    before = {c: key(model_cache, model, converter=c) for c in ("native", "auto", "tensorflow")}
    installed_version(package)
    assert convert.converter_versions("auto")[package] == "999.0"
    after = {c: key(model_cache, model, converter=c) for c in ("native", "auto", "tensorflow")}
    # `auto` may run either converter, so it depends on both sets of versions.
    assert after["auto"] != before["auto"], package
    if package in NATIVE_PACKAGES:
        assert after["native"] != before["native"] and after["tensorflow"] == before["tensorflow"]
    else:
        assert after["tensorflow"] != before["tensorflow"] and after["native"] == before["native"]


def test_the_build_reads_the_key_from_the_blocks_own_options(tmp_path):
    # The key is only as good as what the build hands it: a block's `quantize` and
    # `converter` override the plugin's, and each of them gets its own entry.
    from mkdocs_tfjs.build import Settings, SiteBuild

    (tmp_path / "models").mkdir()
    shutil.copy(PALETTE_MODEL, tmp_path / "models" / "generator.keras")
    build = SiteBuild(Settings(project_dir=tmp_path), warn=print, info=print, cache_root=tmp_path / "cache")
    blocks = "\n".join(f"```tfjs\nmodel: models/generator.keras\nwidget: palette\nid: w{i}\n{extra}\n```\n"
                       for i, extra in enumerate(["", "quantize: none", "quantize: uint8", "converter: native"]))
    build.process_markdown(blocks, "docs/p.md", "p/")
    keys = {p.name for p in (tmp_path / "cache").iterdir()}
    # Default (float16, auto), none, uint8, and float16 with `converter: native`.
    assert len(keys) == 4 == len(build.models)


def test_a_cached_model_takes_the_backends_of_the_kernel_table_of_today(model_cache, model):
    # Fails when a cached conversion keeps the backends the table listed when it was written:
    # after the table gained webgpu, `backend: webgpu` would be refused for every model
    # converted before, and the page would never try webgpu, until the cache was cleared.
    import json

    k = key(model_cache, model)
    model_cache.convert(k, model, "palette", "float16", "graph", convert.Choice("native"))
    info_path = model_cache.files(k) / cache_module.INFO
    old = json.loads(info_path.read_text())
    assert "webgpu" in old["backends"]
    old["backends"] = ["webgl", "wasm", "cpu"]  # what the table said before webgpu
    info_path.write_text(json.dumps(old, indent=1))
    assert model_cache.lookup(k, "palette").backends == ["webgl", "wasm", "cpu", "webgpu"]
