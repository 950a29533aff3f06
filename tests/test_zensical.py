"""The same blocks under Zensical (the ``mkdocs_tfjs.markdown`` extension and
``mkdocs-tfjs prepare``) and under ProperDocs (the plugin), from PyPI.

Zensical runs no MkDocs plugin: without the extension a site builds with "No
issues found" and every block shows its YAML. These tests build this project's
own documentation with the real ``zensical`` and ``properdocs`` commands and
open it in Chromium.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest

from .conftest import PALETTE_MODEL, ROOT, READY_OR_FAIL, StaticServer, copy_demo_project

# Every page of docs/demos/ (a new demo page is checked without being listed here), the home
# page and the custom widget's page.
DEMO_PAGES = ["", *sorted(f"demos/{p.stem}/" for p in (ROOT / "docs" / "demos").glob("*.md")),
              "custom-widgets/"]
WIDGET = re.compile(r'<div[^>]*class="tfjs-widget[^"]*"[^>]*>')
DATA = re.compile(r'\sdata-([a-z-]+)=(?:"([^"]*)"|\'([^\']*)\')')
LINKS = re.compile(r'\s(?:src|href)="([^"#?]+)"')


def run(cmd: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def zensical(root: Path, *args: str) -> subprocess.CompletedProcess:
    """The real Zensical CLI (from PyPI, pinned in the test extra)."""
    return run([sys.executable, "-m", "zensical", "build", *args], root)


def prepare(root: Path) -> subprocess.CompletedProcess:
    """The console script of the package, as a user runs it in the project folder."""
    script = Path(sys.executable).with_name("mkdocs-tfjs")
    found = str(script) if script.exists() else shutil.which("mkdocs-tfjs")
    assert found, "the mkdocs-tfjs console script is not installed ([project.scripts])"
    return run([found, "prepare"], root)


def output(done: subprocess.CompletedProcess) -> str:
    return done.stdout + done.stderr


def widgets(html: str) -> dict[str, dict[str, str]]:
    """Return each widget element's data attributes, by id."""
    found = {}
    for tag in WIDGET.findall(html):
        ident = re.search(r'\sid="([^"]+)"', tag).group(1)
        found[ident] = {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
                        for m in DATA.finditer(tag)}
    return found


def page_html(site: Path, rel: str) -> str:
    return (site / rel / "index.html").read_text()


def broken_links(site: Path) -> list[str]:
    """Return our src/href links that name no file of the site (from every page)."""
    missing = []
    for page in site.rglob("*.html"):
        for link in LINKS.findall(page.read_text()):
            if "assets/tfjs/" in link and not (page.parent / link).resolve().is_file():
                missing.append(f"{page.relative_to(site)}: {link}")
    return missing


@pytest.fixture(scope="module")
def zensical_demo(tmp_path_factory):
    """This project's documentation, prepared and built with Zensical; and its server."""
    root = tmp_path_factory.mktemp("zensical-demo") / "proj"
    server = StaticServer(root / "site")
    copy_demo_project(root, site_url=server.url)
    done = prepare(root)
    assert done.returncode == 0, output(done)
    done = zensical(root, "--clean")
    assert done.returncode == 0, output(done)
    yield root, server
    server.close()


def test_zensical_without_the_extension_is_what_the_issue_reports(tmp_path):
    # The baseline the extension fixes: the same page, no extension, raw YAML in the page.
    root = tmp_path / "proj"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "index.md").write_text("# Home\n\n```tfjs\nmodel: m.keras\nwidget: palette\n```\n")
    (root / "mkdocs.yml").write_text("site_name: Plain\n")
    done = zensical(root)
    assert done.returncode == 0, output(done)
    assert "widget: palette" in (root / "site" / "index.html").read_text()


def test_every_demo_widget_reaches_ready_under_zensical_and_runs_the_mkdocs_model(
        zensical_demo, demo_site, serve, open_page):
    # Catches: blocks left as code, links Zensical rewrote to the wrong folder, models or
    # runtime files missing from the site, and a model that differs from MkDocs's.
    root, server = zensical_demo
    site = root / "site"
    mkdocs_url = serve(demo_site)
    total = 0
    for rel in DEMO_PAGES:
        ours, theirs = widgets(page_html(site, rel)), widgets(page_html(demo_site, rel))
        assert ours.keys() == theirs.keys(), rel
        for ident in ours:
            # The same model, runtime and options as under MkDocs (URLs relative to the same page).
            assert json.loads(ours[ident]["config"]) == json.loads(theirs[ident]["config"]), ident
        page, log = open_page(server.url + rel)
        for ident in ours:
            page.evaluate(READY_OR_FAIL, ident)
            total += 1
        assert not log.errors, (rel, log.errors)
    assert total >= 7
    # The same inputs give the same outputs as the MkDocs site's widget (which test_example_parity
    # holds to Keras): the Zensical site serves the same converted files.
    probe = "([id, x]) => window.tfjsWidgets.predict(id, x)"
    x = [[0.1, 0.5, 0.9, 0.3, 0.7]]
    z_page, _ = open_page(server.url + "demos/palette/", wait_ready="tfjs-palette-1")
    m_page, _ = open_page(mkdocs_url + "demos/palette/", wait_ready="tfjs-palette-1")
    assert z_page.evaluate(probe, ["tfjs-palette-1", x]) == m_page.evaluate(probe, ["tfjs-palette-1", x])


def test_instant_navigation_reaches_the_widgets_without_a_reload(
        zensical_demo, open_page):
    # Catches: widgets that mount only on a full page load (Zensical's theme swaps the page's
    # content in place), from a page with another widget type and from one with none.
    root, server = zensical_demo
    assert not widgets(page_html(root / "site", "getting-started/"))
    for start, target, ident in (("demos/palette/", "demos/handwriting/", "tfjs-handwriting-1"),
                                 ("getting-started/", "demos/palette/", "tfjs-palette-1")):
        page, log = open_page(server.url + start)
        page.evaluate("t => document.querySelector(`a[href$='${t}']`).click()", target)
        page.wait_for_function("t => location.pathname.endsWith('/' + t)", arg=target)
        page.wait_for_selector("#" + ident)
        page.evaluate(READY_OR_FAIL, ident)
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1, "a reload"
        assert not log.errors, (start, target, log.errors)


def test_the_zensical_site_works_under_a_sub_path(zensical_demo, serve, open_page):
    # Catches: a URL written from the site root (`/assets/...`), which breaks a site
    # published under a sub-path (a project page on GitHub Pages).
    root, _ = zensical_demo
    url = serve(root) + "site/demos/handwriting/"
    page, log = open_page(url, wait_ready="tfjs-handwriting-1")
    assert not log.errors, log.errors
    ours = [request for request in log.requests if "/assets/tfjs/" in request]
    assert any(request.endswith("model.json") for request in ours), ours
    assert all("/site/assets/tfjs/" in request for request in ours), ours


def test_cached_and_clean_zensical_builds_keep_every_widget_file(zensical_demo):
    # Catches: files only the extension writes (pages from Zensical's cache run no extension),
    # and the site folder Zensical empties on every build.
    root, _ = zensical_demo
    site = root / "site"
    before = {rel: widgets(page_html(site, rel)) for rel in DEMO_PAGES}
    for args in ((), ("--clean",)):
        done = zensical(root, *args)
        assert done.returncode == 0, output(done)
        assert {rel: widgets(page_html(site, rel)) for rel in DEMO_PAGES} == before, args
        assert broken_links(site) == [], args
        for rel, found in before.items():
            for ident, data in found.items():
                model = json.loads(data["config"])["model"]
                assert (site / rel / model).resolve().is_file(), (args, ident, model)


def small_project(root: Path, page: str, options: str = "runtime = \"local\"") -> Path:
    """A Zensical project configured in zensical.toml, with the palette model."""
    (root / "docs").mkdir(parents=True)
    (root / "models").mkdir()
    shutil.copy(PALETTE_MODEL, root / "models" / "generator.keras")
    (root / "docs" / "index.md").write_text(page)
    (root / "zensical.toml").write_text(
        '[project]\nsite_name = "Small"\n\n'
        '[project.markdown_extensions."mkdocs_tfjs.markdown"]\n' + options + "\n")
    return root


GOOD = "```tfjs\nmodel: models/generator.keras\nwidget: palette\n```\n"


def test_zensical_toml_configures_the_extension_and_its_private_page_context_still_works(tmp_path):
    # Fails loudly when Zensical changes the private page context the extension reads
    # (mkdocs_tfjs.markdown.zensical_page): the block would stay code, with a warning.
    root = small_project(tmp_path / "proj", "---\ntitle: Small\n---\n\n# Home\n\n" + GOOD)
    done = prepare(root)
    assert done.returncode == 0, output(done)
    done = zensical(root)
    assert done.returncode == 0, output(done)
    found = widgets((root / "site" / "index.html").read_text())
    assert list(found) == ["tfjs-palette-1"], (
        "Zensical no longer gives the extension its page: update zensical_page() in "
        "mkdocs_tfjs/markdown.py for this Zensical release\n" + output(done))
    assert "runs only under Zensical" not in output(done)
    assert broken_links(root / "site") == []
    # The generated folder stays out of git.
    assert (root / "docs" / "assets" / "tfjs" / ".gitignore").read_text().splitlines()[-1] == "*"


RUNTIME_TAG = re.compile(r"data-tfjs-runtime='([^']*)'")


def test_every_page_gets_the_tags_of_the_whole_site_whatever_order_zensical_renders(tmp_path):
    # Catches: tags made from the widget types seen so far in the process (the runtime reads
    # them once per visit): the home page, rendered first, would lack the handwriting widget's
    # fabric.js, and a reader going from it to the handwriting page would get a dead canvas.
    root = small_project(tmp_path / "proj", "# Home\n\n" + GOOD)
    shutil.copy(ROOT / "models" / "digits" / "digits.keras", root / "models" / "digits.keras")
    (root / "docs" / "zz.md").write_text(
        "# Digits\n\n```tfjs\nmodel: models/digits.keras\nwidget: handwriting\n```\n")
    (root / "docs" / "plain.md").write_text("# Plain\n\nNo widget here.\n")
    assert prepare(root).returncode == 0
    done = zensical(root)
    assert done.returncode == 0, output(done)
    pieces = {}
    for rel in ("", "zz/", "plain/"):
        found = RUNTIME_TAG.findall(page_html(root / "site", rel))
        assert len(found) == 1, (rel, found)
        pieces[rel] = sorted(json.loads(html.unescape(found[0]))["scripts"])
    assert "fabric" in pieces[""], pieces
    assert pieces[""] == pieces["zz/"] == pieces["plain/"]


@pytest.mark.parametrize("directory_urls", [True, False])
def test_pages_in_folders_link_the_files_they_need(tmp_path, directory_urls):
    # Catches: our src/href written relative to the page's URL, which Zensical rewrites as if
    # relative to the .md file (one folder too deep with directory URLs).
    root = small_project(tmp_path / "proj", "# Home\n")
    (root / "docs" / "a" / "b").mkdir(parents=True)
    (root / "docs" / "a" / "b" / "deep.md").write_text("# Deep\n\n" + GOOD)
    toml = (root / "zensical.toml").read_text()
    (root / "zensical.toml").write_text(
        toml.replace("[project]\n", f"[project]\nuse_directory_urls = {str(directory_urls).lower()}\n"))
    assert prepare(root).returncode == 0
    done = zensical(root)
    assert done.returncode == 0, output(done)
    page = root / "site" / ("a/b/deep/index.html" if directory_urls else "a/b/deep.html")
    found = widgets(page.read_text())
    assert list(found) == ["tfjs-palette-1"]
    assert (page.parent / json.loads(found["tfjs-palette-1"]["config"])["model"]).resolve().is_file()
    assert broken_links(root / "site") == []
    assert len(LINKS.findall(page.read_text())) > 0


def test_mkdocs_with_the_extension_but_not_the_plugin_says_to_add_the_plugin(project):
    # Catches: the issue's silent failure, the other way round (raw YAML under MkDocs).
    project.page("index.md", "# Home\n\n" + GOOD.replace("models/generator", "models/palette/generator"))
    project.write("mkdocs.yml", "site_name: Ext\nmarkdown_extensions:\n  - mkdocs_tfjs.markdown\n")
    result = project.build("--strict")
    assert result.returncode != 0
    assert "add the `tfjs` plugin" in result.output, result.output


def test_zensical_build_without_prepare_fails_and_says_to_run_it(tmp_path):
    # Catches: a site built with widgets whose model or runtime files are missing from it
    # (Zensical lists docs_dir's files before the extension writes any).
    root = small_project(tmp_path / "proj", "# Home\n\n" + GOOD)
    done = zensical(root)
    assert done.returncode != 0
    assert "docs/index.md: " in output(done) and "run `mkdocs-tfjs prepare` before" in output(done)
    assert prepare(root).returncode == 0
    done = zensical(root)
    assert done.returncode == 0, output(done)
    assert broken_links(root / "site") == []


def test_a_bad_block_fails_prepare_and_zensical_build_naming_page_and_line(tmp_path):
    # Catches: an error swallowed into a code block, or a line counted without the front matter.
    page = "---\ntitle: Bad\n---\n\n# Home\n\n```tfjs\nmodel: models/generator.keras\nwidget: palette\ncolors: 9\n```\n"
    root = small_project(tmp_path / "proj", page)
    expected = "docs/index.md:10: unknown key `colors` for the palette widget"
    done = prepare(root)
    assert done.returncode == 1 and expected in output(done), output(done)
    done = zensical(root)
    assert done.returncode != 0 and expected in output(done), output(done)


def test_a_wrong_option_names_the_extension_and_the_option(tmp_path):
    root = small_project(tmp_path / "proj", GOOD, options='runtime = "nearby"')
    done = prepare(root)
    assert done.returncode == 1, output(done)
    assert "markdown_extensions: mkdocs_tfjs.markdown: runtime:" in output(done), output(done)
    assert "nearby" in output(done)


def test_a_replaced_model_reaches_the_next_zensical_build(tmp_path):
    # Catches: Zensical's page cache serving the old model after the file changed
    # (the `watch:` list makes Zensical render again when a model changes).
    root = small_project(tmp_path / "proj", GOOD)
    toml = (root / "zensical.toml").read_text()
    (root / "zensical.toml").write_text(toml.replace("[project]\n", '[project]\nwatch = ["models"]\n'))
    assert prepare(root).returncode == 0
    assert zensical(root).returncode == 0
    first = json.loads(widgets((root / "site" / "index.html").read_text())["tfjs-palette-1"]["config"])
    scale_weights(root / "models" / "generator.keras", 1.01)
    assert prepare(root).returncode == 0
    done = zensical(root)
    assert done.returncode == 0, output(done)
    second = json.loads(widgets((root / "site" / "index.html").read_text())["tfjs-palette-1"]["config"])
    assert second["model"] != first["model"]
    assert (root / "site" / "index.html").parent.joinpath(second["model"]).is_file()
    assert broken_links(root / "site") == []


def scale_weights(keras_file: Path, factor: float) -> None:
    """Replace a .keras file by the same model with every weight scaled (new weights, same shape)."""
    import h5py

    with zipfile.ZipFile(keras_file) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    weights = keras_file.with_suffix(".weights.h5")
    weights.write_bytes(members["model.weights.h5"])
    with h5py.File(weights, "r+") as h5:
        h5.visititems(lambda _name, node: node.write_direct(node[()] * factor)
                      if isinstance(node, h5py.Dataset) and node.dtype.kind == "f" else None)
    members["model.weights.h5"] = weights.read_bytes()
    weights.unlink()
    with zipfile.ZipFile(keras_file, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_properdocs_builds_the_demo_site_with_the_same_widgets(tmp_path, demo_site, serve, open_page):
    # Catches: the plugin tied to the `mkdocs` package, which ProperDocs replaces.
    root = copy_demo_project(tmp_path / "proj")
    done = run([sys.executable, "-m", "properdocs", "build", "--strict"], root)
    assert done.returncode == 0, output(done)
    site = root / "site"
    for rel in DEMO_PAGES:
        assert widgets(page_html(site, rel)) == widgets(page_html(demo_site, rel)), rel
    page, log = open_page(serve(site) + "demos/palette/", wait_ready="tfjs-palette-1")
    assert not log.errors


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


def test_zensical_serve_follows_edits_models_and_bad_blocks_without_stopping(tmp_path, open_page):
    # Catches: an exception that stops `zensical serve` on a bad block, a model file that a
    # block added while serving never gets into the site, and a replaced model whose page keeps
    # the old one (a build kept across rebuilds remembers the old file's hash).
    root = small_project(tmp_path / "proj", "# Home\n\n" + GOOD)
    toml = (root / "zensical.toml").read_text()
    (root / "zensical.toml").write_text(toml.replace("[project]\n", '[project]\nwatch = ["models"]\n'))
    (root / "docs" / "other.md").write_text("# Other\n\nNo widget yet.\n")
    assert prepare(root).returncode == 0
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log_file:
        server = subprocess.Popen([sys.executable, "-m", "zensical", "serve", "-a", f"127.0.0.1:{port}"],
                                  cwd=root, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        def until(what: str, check, timeout: float = 90):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                assert server.poll() is None, f"zensical serve stopped ({what}):\n{log_path.read_text()}"
                found = check()
                if found:
                    return found
                time.sleep(0.2)
            raise AssertionError(f"not seen in {timeout} s: {what}\n{log_path.read_text()}")

        def model_of(rel: str) -> str | None:
            status, text = fetch(url + rel)
            found = widgets(text) if status == 200 else {}
            if not found:
                return None
            model = json.loads(next(iter(found.values()))["config"])["model"]
            return model if fetch(urllib.parse.urljoin(url + rel, model))[0] == 200 else None

        first = until("the home page's widget and its model", lambda: model_of(""))
        (root / "docs" / "other.md").write_text("# Other\n\n" + GOOD.replace("palette\n", "palette\nsort: lightness\n"))
        until("a block added while serving, with its model", lambda: model_of("other/"))
        (root / "docs" / "other.md").write_text("# Other\n\n" + GOOD.replace("palette\n", "palette\ncolors: 3\n"))
        message = "docs/other.md:6: unknown key `colors` for the palette widget"
        until("the bad block's error in the page", lambda: message in html.unescape(fetch(url + "other/")[1]))
        assert message in log_path.read_text()
        (root / "docs" / "other.md").write_text("# Other\n\n" + GOOD)
        until("the fixed block's widget", lambda: model_of("other/"))
        scale_weights(root / "models" / "generator.keras", 1.01)
        second = until("the replaced model", lambda: (m := model_of("")) and m != first and m)
        page, log = open_page(url, wait_ready="tfjs-palette-1")
        assert second in page.evaluate("document.getElementById('tfjs-palette-1').dataset.config")
        assert not log.page_errors
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def fresh_zensical_site(tmp_path_factory, package_source):
    """The demo site built by a fresh venv with `pip install <this checkout> zensical`, no extras."""
    from .test_default_install import newest_python

    venv = tmp_path_factory.mktemp("zensical-venv") / "venv"
    subprocess.run([newest_python(), "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                           "--disable-pip-version-check", "-c", str(ROOT / "constraints.txt"),
                           str(package_source), "zensical"], capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    root = copy_demo_project(tmp_path_factory.mktemp("fresh-zensical") / "proj")
    for command in (["mkdocs-tfjs", "prepare"], ["zensical", "build"]):
        done = subprocess.run([str(venv / "bin" / command[0]), *command[1:]], cwd=root,
                              capture_output=True, text=True, timeout=600, env=env)
        assert done.returncode == 0, (command, done.stdout + done.stderr)
    return root / "site"


@pytest.mark.parametrize(("page_path", "widget_id", "model", "shape"), [
    ("demos/palette/", "tfjs-palette-1", "palette/generator.keras", (16, 5)),
    ("demos/handwriting/", "tfjs-handwriting-1", "digits/digits.keras", (4, 28, 28, 1)),
    ("demos/image/", "tfjs-image-1", "emoji/classifier.keras", (2, 64, 64, 3)),
    ("demos/sliders/", "tfjs-sliders-1", "penguins/penguins.keras", (3, 4)),
], ids=["palette", "handwriting", "image", "sliders"])
def test_demo_widgets_from_a_fresh_zensical_install_match_keras(
        fresh_zensical_site, serve, open_page, page_path, widget_id, model, shape):
    # Catches: a console script or module missing from the installed package, a dependency
    # that only the test extra brings, and a Zensical site whose models differ from Keras.
    import keras
    import numpy as np

    page, log = open_page(serve(fresh_zensical_site) + page_path, wait_ready=widget_id)
    x = np.random.default_rng(4).uniform(0, 1, size=shape).astype("float32")
    got = np.asarray(page.evaluate("([id, x]) => window.tfjsWidgets.predict(id, x)",
                                   [widget_id, x.tolist()]))
    expected = keras.models.load_model(ROOT / "models" / model, compile=False).predict(x, verbose=0)
    # float16 weights, as test_default_install measures them: at most 1.2e-3 off.
    assert got.shape == expected.shape
    assert float(np.abs(got - expected).max()) <= 2e-3
    assert not log.page_errors
