"""Build tiny real sites with the mkdocs CLI and check what lands in site/."""

from __future__ import annotations

import hashlib
import base64
import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from mkdocs_tfjs.render import human_bytes

from .conftest import PALETTE_BLOCK, PALETTE_MODEL, ROOT, place
from .keras_models import fft_model, lstm_model


def widget_config(html: str, widget_id: str) -> dict:
    match = re.search(rf'<div class="tfjs-widget" id="{widget_id}"[^>]*data-config=\'([^\']*)\'', html)
    assert match, f"no widget {widget_id} in the page"
    return json.loads(match.group(1))


def runtime_config(html: str) -> dict:
    return json.loads(re.search(r"data-tfjs-runtime='([^']*)'", html).group(1))


def test_build_renders_the_widget_and_ships_a_content_hashed_model(project, shared_cache, keras_palette):
    project.config({"cache_dir": str(shared_cache)})
    project.page("index.md", "# Home\n\nBefore.\n" + PALETTE_BLOCK + "\nAfter.\n")
    result = project.build()
    assert result.returncode == 0, result.output

    html = (project.site / "index.html").read_text()
    assert '<div class="tfjs-widget" id="tfjs-palette-1" data-widget="palette" data-state="loading"' in html
    assert "<p>Before.</p>" in html and "<p>After.</p>" in html and "```" not in html
    config = widget_config(html, "tfjs-palette-1")
    assert config["noiseSize"] == 5 and config["output"]["colours"] == 5
    model_json = project.site / config["model"]
    assert re.fullmatch(r"assets/tfjs/models/generator-[0-9a-f]{8}/model.json", config["model"])
    manifest = json.loads(model_json.read_text())
    assert manifest["format"] == "graph-model"
    shards = [p for group in manifest["weightsManifest"] for p in group["paths"]]
    assert shards and all((model_json.parent / shard).is_file() for shard in shards)
    # The model card tells the reader what runs: shapes, parameters, bytes.
    assert "[batch, 5]" in html and "[batch, 15]" in html
    assert f"<dd>{keras_palette.count_params():,}</dd>" in html


def test_native_conversion_then_cache_never_import_tensorflow(project):
    project.config()
    project.page("index.md", PALETTE_BLOCK)
    first = project.build()
    assert first.returncode == 0, first.output
    # The default converter is the native one: no TensorFlow even for a cold build.
    assert first.tensorflow_imported is False
    size = human_bytes(PALETTE_MODEL.stat().st_size)
    assert re.search(rf"INFO +- +mkdocs_tfjs: converted models/palette/generator.keras natively \({size} → "
                     r"\d+\.\d KB, float16\) in \d+\.\d\d s", first.output), first.output
    assert (project.root / ".cache/plugin/tfjs").is_dir()

    second = project.build()
    assert second.returncode == 0, second.output
    assert "converted" not in second.output
    assert "1 model up to date" in second.output
    assert second.tensorflow_imported is False
    assert list((project.site / "assets/tfjs/models").glob("generator-*/model.json"))


def test_changed_model_or_options_are_converted_again(project, variant_models):
    project.config()
    project.page("index.md", PALETTE_BLOCK)
    assert project.build().returncode == 0
    before = {p.name for p in (project.site / "assets/tfjs/models").iterdir()}

    place(project, variant_models["palette_b"], "models/palette/generator.keras")
    changed = project.build()
    assert "converted models/palette/generator.keras" in changed.output
    after = {p.name for p in (project.site / "assets/tfjs/models").iterdir()}
    assert before.isdisjoint(after), "a new model must get a new content-hashed folder"

    project.page("index.md", PALETTE_BLOCK.replace("widget: palette", "widget: palette\nquantize: none"))
    requantized = project.build()
    assert "converted models/palette/generator.keras" in requantized.output
    assert ", none)" in requantized.output


def test_quantization_changes_the_shipped_size(project, shared_cache):
    project.config({"cache_dir": str(shared_cache)})
    project.page("index.md", PALETTE_BLOCK + "\n" + PALETTE_BLOCK.replace(
        "widget: palette", "widget: palette\nquantize: none\nid: full") + "\n" + PALETTE_BLOCK.replace(
        "widget: palette", "widget: palette\nquantize: uint8\nid: small"))
    assert project.build().returncode == 0
    html = (project.site / "index.html").read_text()
    sizes = {wid: widget_config(html, wid)["shippedBytes"] for wid in ("tfjs-palette-1", "full", "small")}
    assert sizes["small"] < sizes["tfjs-palette-1"] < sizes["full"]
    assert sizes["full"] > 95_000 and sizes["tfjs-palette-1"] < 60_000


@pytest.mark.parametrize("kind", ["palette_h5", "legacy_h5", "saved_model"])
def test_h5_legacy_h5_and_saved_model_folders_convert(project, variant_models, shared_cache, kind):
    suffix = "" if kind == "saved_model" else ".h5"
    rel = place(project, variant_models[kind], f"models/{kind}{suffix}")
    project.config({"cache_dir": str(shared_cache)})
    project.page("index.md", f"```tfjs\nmodel: {rel}\nwidget: palette\n```\n")
    result = project.build()
    assert result.returncode == 0, result.output
    # Keras files (Keras 3 and legacy tf_keras .h5) convert natively; a SavedModel needs TensorFlow.
    how = "with TensorFlow (a SavedModel folder)" if kind == "saved_model" else "natively"
    assert f"converted {rel} {how} (" in result.output, result.output
    config = widget_config((project.site / "index.html").read_text(), "tfjs-palette-1")
    assert config["noiseSize"] == 5 and config["output"]["colours"] == 5
    assert (project.site / config["model"]).is_file()


def test_conversion_never_writes_next_to_the_authors_model(project):
    project.config()
    project.page("index.md", PALETTE_BLOCK)
    assert project.build().returncode == 0
    assert sorted(p.name for p in (project.root / "models/palette").iterdir()) == ["generator.keras"]


def test_a_page_without_tfjs_blocks_comes_out_byte_for_byte_as_without_the_plugin(project):
    text = """
        # Plain page

        Some *text* with `code`, a [link](other.md) and a list:

        - one
        - two

        ````markdown
        ```tfjs
        model: models/palette/generator.keras
        widget: palette
        ```
        ````

        ```python
        print("tfjs")
        ```
        """
    project.page("plain.md", text)
    project.page("other.md", "# Other\n")
    project.config()
    assert project.build().returncode == 0
    with_plugin = (project.site / "plain/index.html").read_text()
    project.write("mkdocs.yml", "site_name: Test site\ntheme:\n  name: mkdocs\n  highlightjs: false\nplugins: [search]\n")
    assert project.build().returncode == 0
    assert (project.site / "plain/index.html").read_text() == with_plugin
    assert "tfjs-widget" not in with_plugin and "```tfjs" in with_plugin.replace("&lt;", "<")


def test_the_page_gets_one_runtime_and_one_module_per_widget_type(project, shared_cache):
    project.config({"cache_dir": str(shared_cache)})
    project.page("deep/page.md", PALETTE_BLOCK + PALETTE_BLOCK.replace("widget: palette", "widget: palette\nid: two"))
    project.page("index.md", "# No widgets here\n")
    assert project.build().returncode == 0
    html = (project.site / "deep/page/index.html").read_text()
    assert html.count("data-tfjs-runtime=") == 1
    assert html.count("/runtime.js") == 1
    # Widget modules are imported by the runtime, from beside it, when a page shows one.
    runtime_src = re.search(r'src="([^"]+/runtime.js)"', html).group(1)
    assert (project.site / "deep/page" / runtime_src).resolve().with_name("palette.js").is_file()
    assert html.count("tfjs-widgets.css") == 1
    assert "tfjs" not in (project.site / "index.html").read_text()
    # URLs are relative to the page, so the site works under any base path.
    config = widget_config(html, "two")
    assert config["model"].startswith("../../assets/tfjs/models/")
    assert (project.site / "deep/page" / config["model"]).resolve().is_file()


def sri_of(path: Path) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


def test_cdn_runtime_is_pinned_with_subresource_integrity(project, shared_cache):
    project.config({"runtime": "cdn", "cache_dir": str(shared_cache)})
    project.page("index.md", PALETTE_BLOCK)
    assert project.build().returncode == 0
    html = (project.site / "index.html").read_text()
    tags = re.findall(r"<(?:script|link)[^>]*(?:src|href)=[^>]*>", html)
    ours = [t for t in tags if "assets/tfjs" in t and "served-check.js" not in t]
    assert len(ours) == 2
    assert all('integrity="sha384-' in t and 'crossorigin="anonymous"' in t for t in ours)
    # The one script without a hash is the classic one that explains file:// (see test_page_safety).
    assert len([t for t in tags if "served-check.js" in t]) == 1
    runtime = runtime_config(html)
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    for name, entry in runtime["scripts"].items():
        if name.startswith("lean-"):
            # No CDN serves the lean file: it comes from the site, checked against the package's copy.
            file = entry["src"].rsplit("/", 1)[-1]
            assert entry["integrity"] == sri_of(ROOT / "plugin/mkdocs_tfjs/vendor/lean" / file), name
            assert (project.site / entry["src"]).is_file(), name
            continue
        match = re.fullmatch(r"https://cdn\.jsdelivr\.net/npm/(.+)@(\d+\.\d+\.\d+)/(.+)", entry["src"])
        assert match, entry["src"]
        package, version, file = match.groups()
        assert lock[f"node_modules/{package}"]["version"] == version, name
        # jsDelivr serves the npm tarball's bytes: the hash of the file npm installed must match.
        assert entry["integrity"] == sri_of(ROOT / "node_modules" / package / file), name
    # The WebAssembly binaries, which the page fetches itself, carry the hashes of npm's files too.
    wasm = ROOT / "node_modules/@tensorflow/tfjs-backend-wasm/dist"
    assert runtime["wasmIntegrity"] == {p.name: sri_of(p) for p in wasm.glob("*.wasm")}
    # Nothing of the CDN's is copied: the site's vendor folder holds the lean files only.
    assert [p.name for p in (project.site / "assets/tfjs/vendor").iterdir()] == [
        runtime["scripts"]["lean-cpu"]["src"].split("/")[-2]]


def test_local_runtime_copies_only_what_graph_models_need(project, shared_cache):
    project.config({"cache_dir": str(shared_cache)})
    project.page("index.md", PALETTE_BLOCK)
    assert project.build().returncode == 0
    vendor = project.site / "assets/tfjs/vendor"
    files = sorted(p.relative_to(vendor).as_posix() for p in vendor.rglob("*") if p.is_file())
    assert "@tensorflow/tfjs-core@4.22.0/dist/tf-core.min.js" in files
    assert "@tensorflow/tfjs-backend-wasm@4.22.0/dist/tfjs-backend-wasm-simd.wasm" in files
    assert not any("tfjs-layers" in f or f.endswith("/tf.min.js") for f in files)
    assert not any(f.startswith("fabric") for f in files), "the palette page needs no fabric.js"


def test_local_runtime_with_missing_files_lists_every_file_and_one_npm_command(project, tmp_path):
    # An author's own node_modules after the options page's old command: fabric.js and wasm missing.
    own = tmp_path / "own" / "node_modules"
    for package in ("@tensorflow/tfjs-core", "@tensorflow/tfjs-converter", "@tensorflow/tfjs-backend-cpu",
                    "@tensorflow/tfjs-backend-webgl"):
        shutil.copytree(ROOT / "node_modules" / package, own / package)
    project.config({"runtime_dir": str(own)})
    project.page("index.md", PALETTE_BLOCK)
    result = project.build()
    assert result.returncode != 0
    for missing in ("tfjs-backend-wasm/dist/tf-backend-wasm.min.js", "tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm",
                    "tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js", "fabric/dist/index.min.js"):
        assert f"{missing} is missing" in result.output, missing
    assert ("`npm install @tensorflow/tfjs-backend-webgpu@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0 fabric@6.9.1`"
            in result.output)
    assert "Traceback" not in result.output
    assert not (project.site / "index.html").exists()


def test_local_runtime_needs_no_node_modules(project):
    project.config({"runtime": "local"})
    (project.root / "mkdocs.yml").write_text(
        (project.root / "mkdocs.yml").read_text().replace(f', "runtime_dir": "{ROOT / "node_modules"}"', ""))
    assert "runtime_dir" not in (project.root / "mkdocs.yml").read_text()
    project.page("index.md", PALETTE_BLOCK)
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    core = project.site / "assets/tfjs/vendor/@tensorflow/tfjs-core@4.22.0/dist/tf-core.min.js"
    assert core.read_bytes() == (ROOT / "node_modules/@tensorflow/tfjs-core/dist/tf-core.min.js").read_bytes()


def test_vendored_runtime_is_what_the_script_makes_from_the_lock_file(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("vendor_script", ROOT / "scripts" / "update_runtime_manifest.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.main(["--output", str(tmp_path)])
    package = ROOT / "plugin" / "mkdocs_tfjs"
    made = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(package).as_posix() for p in (package / "vendor").rglob("*")
                       if p.is_file() and not p.is_relative_to(package / "vendor" / "lean"))
    assert made == sorted([*committed, "runtime.json"])
    for rel in made:
        assert (tmp_path / rel).read_bytes() == (package / rel).read_bytes(), rel


def test_size_budget_warns_and_strict_mode_fails(project, shared_cache):
    project.config({"size_budget": "20 KB", "cache_dir": str(shared_cache)})
    project.page("index.md", "# Big\n" + PALETTE_BLOCK)
    relaxed = project.build()
    assert relaxed.returncode == 0
    assert re.search(r"WARNING.*docs/index.md:3: models/palette/generator.keras converts to \d\d\.\d KB "
                     r"\(float16\), over the size_budget of 20.0 KB", relaxed.output)
    assert "quantize: uint8" in relaxed.output
    strict = project.build("--strict")
    assert strict.returncode != 0


BAD_BLOCKS = [
    ("widget: palette", 5, "the tfjs block has no `model` key"),
    ("model: models/palette/generator.keras\nwidget: palette\ncolours: 5", 8,
     "unknown key `colours` for the palette widget"),
    ("model: models/palette/generator.keras\nwidget: pie", 7, "unknown widget 'pie'"),
    ("model: models/palette/generator.keras\nwidget: palette\nsort: hue", 8,
     "`sort`: 'hue' is not one of: none, lightness"),
    ("model: models/palette/generator.keras\nwidget: palette\ntitle: : :", 8,
     'the tfjs block is not valid YAML (mapping values are not allowed here); write one `key: value` '
     'per line, and put text that contains ": " in quotes'),
    ("model: models/nope.keras\nwidget: palette", 6, "`model: models/nope.keras` does not exist"),
]


@pytest.mark.parametrize(("body", "line", "message"), BAD_BLOCKS)
def test_bad_blocks_fail_the_build_naming_page_line_and_fix(project, body, line, message):
    project.config()
    # Front matter: MkDocs hides it from plugins, but line numbers must count it.
    project.page("guide/page.md", f"---\ntitle: T\n---\n\n```tfjs\n{body}\n```\n")
    result = project.build()
    assert result.returncode != 0
    assert f"docs/guide/page.md:{line}: {message}" in result.output, result.output
    assert not (project.site / "guide/page/index.html").exists()


def test_a_model_that_does_not_fit_the_widget_says_what_was_found(project, variant_models, shared_cache):
    rel = place(project, variant_models["image"], "models/image.keras")
    project.config({"cache_dir": str(shared_cache)})
    project.page("index.md", f"Text\n\n```tfjs\nmodel: {rel}\nwidget: palette\n```\n")
    result = project.build()
    assert result.returncode != 0
    assert ("docs/index.md:3: `models/image.keras` does not fit the palette widget: it takes "
            "[batch, 8, 8, 1] and returns [batch, 10], but the palette widget needs one noise "
            "vector [batch, n]") in result.output


def test_the_same_id_twice_on_a_page_is_an_error(project):
    project.config()
    block = PALETTE_BLOCK.replace("widget: palette", "widget: palette\nid: same")
    project.page("index.md", block + "\n" + block)
    result = project.build()
    assert result.returncode != 0
    assert "the id `same` is already used by the tfjs block on line 1" in result.output


def test_a_widget_id_that_is_also_a_heading_anchor_is_an_error(project, shared_cache):
    # Bug caught: the page finds the heading, not the widget, and the widget never starts.
    project.config({"cache_dir": str(shared_cache)})
    project.page("index.md", "# Usage\n" + PALETTE_BLOCK.replace("widget: palette", "widget: palette\nid: usage"))
    result = project.build()
    assert result.returncode != 0
    assert ("docs/index.md:6: another element of this page already has the id `usage` (a heading's "
            "anchor, most likely)") in result.output, result.output
    assert not (project.site / "index.html").exists()


def test_cache_false_converts_without_leaving_a_cache(project):
    project.config({"cache": False})
    project.page("index.md", PALETTE_BLOCK)
    result = project.build()
    assert result.returncode == 0, result.output
    assert "converted models/palette/generator.keras" in result.output
    assert not (project.root / ".cache").exists()
    assert list((project.site / "assets/tfjs/models").glob("generator-*/model.json"))


def test_disabled_plugin_leaves_blocks_as_code(project):
    project.config({"enabled": False})
    project.page("index.md", PALETTE_BLOCK)
    result = project.build()
    assert result.returncode == 0
    html = (project.site / "index.html").read_text()
    assert "tfjs-widget" not in html
    # The reader sees the block itself, as code.
    code = re.search(r"<pre><code[^>]*>(.*?)</code></pre>", html, re.S)
    assert code and code.group(1).strip() == (
        "model: models/palette/generator.keras\nwidget: palette\ntitle: Palette generator")


def test_a_lost_placeholder_is_reported_at_its_own_block_among_ten(shared_cache, tmp_path):
    from mkdocs_tfjs.build import Settings, SiteBuild
    from mkdocs_tfjs.errors import DirectiveError

    (tmp_path / "models/palette").mkdir(parents=True)
    (tmp_path / "models/palette/generator.keras").write_bytes(PALETTE_MODEL.read_bytes())
    build = SiteBuild(Settings(project_dir=tmp_path), warn=print, info=print, cache_root=shared_cache)
    markdown = "\n".join(PALETTE_BLOCK.replace("title: Palette generator", f"id: w{i}")
                         for i in range(1, 11))
    _, placed = build.process_markdown(markdown, "docs/p.md", "p/")
    lines = [w.spec.line for w in placed.widgets]
    # Another extension ate the first placeholder; the tenth (…x10) is still there.
    html = "".join(f"<p>{w.token}</p>\n" for w in placed.widgets[1:])
    with pytest.raises(DirectiveError) as err:
        build.fill_html(html, placed)
    assert err.value.line == lines[0] == 2
    # With all ten in place, each widget lands where its own placeholder was.
    html = "".join(f"<h2>{i}</h2><p>{w.token}</p>\n" for i, w in enumerate(placed.widgets, 1))
    filled = build.fill_html(html, placed)
    assert [m for m in re.findall(r'<h2>(\d+)</h2><div class="tfjs-widget" id="(w\d+)"', filled)] == [
        (str(i), f"w{i}") for i in range(1, 11)]


def test_gh_deploy_puts_the_widget_page_and_model_on_gh_pages(project, shared_cache, tmp_path):
    remote = tmp_path / "remote.git"
    git_env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    project.config({"cache_dir": str(shared_cache)})
    project.page("demo.md", PALETTE_BLOCK)
    project.page("index.md", "# Home\n")
    for cmd in (["init", "-q", "-b", "main"], ["remote", "add", "origin", str(remote)],
                ["add", "-A"], ["commit", "-qm", "docs"]):
        subprocess.run(["git", *cmd], cwd=project.root, check=True, env={**git_env, "PATH": "/usr/bin:/bin"})
    result = project.mkdocs("gh-deploy", "--force", env=git_env)
    assert result.returncode == 0, result.output
    tree = subprocess.run(["git", "--git-dir", str(remote), "ls-tree", "-r", "--name-only", "gh-pages"],
                          capture_output=True, text=True, check=True).stdout.split()
    assert "demo/index.html" in tree
    assert any(re.fullmatch(r"assets/tfjs/models/generator-[0-9a-f]{8}/model.json", f) for f in tree)
    assert any(f.endswith("group1-shard1of1.bin") for f in tree)


def test_unsupported_layer_takes_the_tensorflow_path_under_auto_and_fails_under_native(project):
    lstm_model().save(project.root / "models" / "rnn.keras")
    project.config()
    project.page("index.md", "# Title\n\n```tfjs\nmodel: models/rnn.keras\nwidget: palette\n```\n")
    auto = project.build()
    assert auto.returncode == 0, auto.output
    assert ("converted models/rnn.keras with TensorFlow (the native converter does not support the layer "
            "`memory` of class ConvLSTM1D)") in auto.output
    assert auto.tensorflow_imported is True

    project.page("index.md", "# Title\n\n```tfjs\nmodel: models/rnn.keras\nwidget: palette\nconverter: native\n```\n")
    native = project.build()
    assert native.returncode != 0
    assert ("docs/index.md:3: models/rnn.keras: the native converter does not support the layer `memory` of "
            "class ConvLSTM1D; either set `converter: auto` or `converter: tensorflow`") in native.output, native.output


def test_backends_that_cannot_run_every_op_are_left_out_or_refused(project):
    # keras.ops.rfft goes through TensorFlow's converter, whose graph has RFFT and Real ops:
    # TF.js registers kernels for them on webgl and cpu, not on wasm. (MultiHeadAttention's
    # Einsum was the case until TensorFlow's path learnt to rewrite it.)
    fft_model().save(project.root / "models" / "fft.keras")
    project.config()
    project.page("index.md", "# T\n\n```tfjs\nmodel: models/fft.keras\nwidget: palette\n```\n")
    auto = project.build()
    assert auto.returncode == 0, auto.output
    config = widget_config((project.site / "index.html").read_text(), "tfjs-palette-1")
    assert config["backends"] == ["webgl", "cpu", "webgpu"]

    project.page("index.md", "# T\n\n```tfjs\nmodel: models/fft.keras\nwidget: palette\nbackend: wasm\n```\n")
    wasm = project.build()
    assert wasm.returncode != 0
    assert ("docs/index.md:3: `backend: wasm` cannot run `models/fft.keras`: TF.js's wasm backend has no "
            "kernel for RFFT, Real; use `backend: webgl` or `backend: auto`") in wasm.output, wasm.output


def test_native_conversion_is_byte_identical_across_fresh_builds(tmp_path):
    from mkdocs_tfjs.convert import Choice, convert_model

    for run in ("a", "b"):
        convert_model(ROOT / "models" / "emoji" / "classifier.keras", tmp_path / run, "float16", "emoji",
                      Choice("native"))
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_converted_model_folders_get_the_same_modes_as_the_rest_of_the_site(project, shared_cache):
    # Bug caught (issue 17, bug 1): the model folders were made by mkdtemp (0700) and renamed
    # into site/, so a web server running as another user answered 404 for model.json.
    # Two umasks: the folders must follow the umask like every other folder, not a fixed mode.
    project.config({"cache_dir": str(shared_cache)})
    project.page("index.md", PALETTE_BLOCK)
    for umask, folder_mode, file_mode in ((0o022, 0o755, 0o644), (0o002, 0o775, 0o664)):
        before = os.umask(umask)
        try:
            result = project.build()
        finally:
            os.umask(before)
        assert result.returncode == 0, result.output
        models = project.site / "assets/tfjs/models"
        assert stat.S_IMODE((project.site / "assets").stat().st_mode) == folder_mode
        folders = [p for p in models.rglob("*") if p.is_dir()] + [models]
        files = [p for p in models.rglob("*") if p.is_file()]
        assert len(folders) == 2 and len(files) == 2, (folders, files)
        assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in folders} == {oct(folder_mode)}, umask
        assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {oct(file_mode)}, umask


SHIPPED_FILES = sorted(p.relative_to(ROOT / "plugin/mkdocs_tfjs").as_posix()
                       for folder in ("assets", "templates", *(f"widgets/{part}" for part in
                                      sorted(os.listdir(ROOT / "plugin/mkdocs_tfjs/widgets"))))
                       for p in (ROOT / "plugin/mkdocs_tfjs" / folder).glob("*")
                       if p.is_file() and p.suffix in (".js", ".css", ".html"))


@pytest.mark.parametrize("shipped", SHIPPED_FILES)
def test_a_widget_named_like_any_file_the_plugin_ships_is_refused(tmp_path, shipped):
    # Bug caught: a hand-kept list of reserved names that misses a file (`served-check` was
    # missing), so the author's `<name>.js` replaced the plugin's in the widgets folder, or
    # the author's widget took our `<name>.html` template.
    from mkdocs_tfjs.build import Settings, custom_widgets
    from mkdocs_tfjs.errors import ConfigError

    name = Path(shipped).name.split(".")[0].replace("_", "-")
    (tmp_path / "mine.js").write_text("export default {};\n")
    with pytest.raises(ConfigError) as err:
        custom_widgets(Settings(project_dir=tmp_path, widgets={name: "mine.js"}))
    assert str(err.value) == (f"mkdocs.yml: tfjs: widgets: {name}: `{name}` is taken by a built-in module; "
                              "choose another name")
    # A name no shipped file has is the author's.
    assert "my-" + name in custom_widgets(Settings(project_dir=tmp_path, widgets={"my-" + name: "mine.js"}))


def test_a_widget_named_served_check_fails_the_build(project):
    # The case, end to end: an author's served-check.js replaced the plugin's.
    project.write("mine.js", "export default {};\n")
    project.config({"widgets": {"served-check": "mine.js"}})
    project.page("index.md", "# Page\n")
    result = project.build()
    assert result.returncode != 0
    assert ("mkdocs.yml: tfjs: widgets: served-check: `served-check` is taken by a built-in module"
            in result.output), result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("options", "files", "message"), [
    # Bug caught (issue 17, bug 5): a templates_dir naming a missing folder was accepted without
    # a word, and the author's overrides silently never applied.
    ({"templates_dir": "overrides"}, {},
     "ERROR   -  mkdocs.yml: tfjs: templates_dir: `overrides` does not exist ({root}/overrides); create that "
     "folder with your templates (palette.html, base.html...) or remove the option"),
    ({"templates_dir": "overrides.html"}, {"overrides.html": "<p>x</p>"},
     "ERROR   -  mkdocs.yml: tfjs: templates_dir: `overrides.html` is a file, not a folder"),
    # Bug caught: "tfjs: mkdocs.yml: tfjs: widgets: mine: widgets: ..." said the option three times.
    ({"widgets": {"mine": "docs/widgets/mine.js"}}, {},
     "ERROR   -  mkdocs.yml: tfjs: widgets: `mine: docs/widgets/mine.js` does not exist;"),
    ({"widgets": {"mine": "../mine.js"}}, {},
     "ERROR   -  mkdocs.yml: tfjs: widgets: `mine: ../mine.js` points outside the project folder"),
])
def test_bad_folders_and_modules_in_mkdocs_yml_fail_saying_the_option_once(project, options, files, message):
    for rel, text in files.items():
        project.write(rel, text)
    project.config(options)
    project.page("index.md", "# Page\n")
    result = project.build()
    assert result.returncode != 0
    assert message.format(root=project.root.resolve()) in result.output, result.output
    assert result.output.count("tfjs:") == 1, result.output
    assert "Traceback" not in result.output


def test_an_op_tensorflowjs_lacks_is_reported_with_its_layer(project):
    # Bug caught: "TensorFlow.js has no kernel for these ops: Erfinv" named no layer, and the
    # author had to guess which of the model's layers to rewrite. (Exact GELU's Erfc was the
    # case until TensorFlow's path learnt to rewrite it with Erf.)
    import keras

    x = keras.Input((5,))
    smooth = keras.ops.erfinv(keras.ops.tanh(keras.layers.Dense(8, name="plain")(x)))
    keras.Model(x, keras.layers.Dense(15, activation="sigmoid", name="colours")(smooth)).save(
        project.root / "models" / "erfinv.keras")
    project.config()
    project.page("index.md", "# T\n\n```tfjs\nmodel: models/erfinv.keras\nwidget: palette\n"
                             "converter: tensorflow\n```\n")
    result = project.build()
    assert result.returncode != 0
    assert ("docs/index.md:3: models/erfinv.keras: TensorFlow.js has no kernel for these ops: Erfinv (in "
            "layer `erfinv`)") in result.output, result.output
