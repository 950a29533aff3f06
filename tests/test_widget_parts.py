"""The widget parts: one folder each, found by the registry, and a demo site that did not move."""

import json
import subprocess
import sys

import pytest
from mkdocs_tfjs.widgets import FOLDER, PARTS, WIDGETS

from .conftest import ROOT


def test_every_folder_under_widgets_is_a_part_with_its_module_template_and_styles():
    # Bug caught: a part whose folder misses its template or styles (the site then draws
    # it bare), or a folder the registry does not find (its widget name is unknown).
    folders = sorted(p.name for p in FOLDER.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert sorted(p.folder.name for p in PARTS) == folders
    for part in PARTS:
        names = {p.name for p in part.files()}
        assert f"{part.folder.name}.css" in names, part.name
        if part.kind == "input":
            assert {f"{part.name}.js", f"{part.name}.html"} <= names, part.name
        if part.script:  # an output part with a module of its own
            assert {part.script, part.template} <= names, part.name
    assert list(WIDGETS) == ["palette", "generator", "handwriting", "image", "sliders", "text"]


def test_the_widgets_import_without_the_spec():
    # Bug caught: spec.py and widgets.py importing each other (the widgets then needed
    # imports inside functions).
    code = "import sys, mkdocs_tfjs.widgets; print('mkdocs_tfjs.spec' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_demo_site_matches_the_digests_recorded_before_the_parts_moved():
    # Bug caught: a move of widget files that changes what readers get (a module, a
    # template's HTML, a model); only the widget folder's name, its SRI hashes and the
    # order of the stylesheet's sections may differ (scripts/site_digests.py).
    commit = json.loads((ROOT / "tests/data/site_digests.json").read_text())["commit"]
    if subprocess.run(["git", "cat-file", "-e", commit], cwd=ROOT).returncode:
        pytest.skip(f"the commit the digests were recorded on ({commit[:7]}) is not in this clone")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "site_digests.py"), "check"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
