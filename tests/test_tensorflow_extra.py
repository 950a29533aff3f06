"""`pip install "mkdocs-tfjs[tensorflow]"` resolves, in a fresh environment, to a set that imports.

Issue 17, bug 3: in a fresh Python 3.12 virtual environment the extra got setuptools 81 or
later (a fresh 3.12 venv has no setuptools, so pip took the newest), which no longer ships
pkg_resources; tensorflowjs imports tensorflow_hub, which imports pkg_resources, and every
conversion with TensorFlow failed. On Python 3.13, for which tensorflowjs and TensorFlow 2.19
have no release, the extra did not install at all.

A full install of the extra downloads about 1 GB per Python, too slow for every run, so this
asks pip's own resolver (`pip install --dry-run --report`) what a fresh virtual environment of
each Python would get from this checkout's wheel. The environments are real ones made by each
interpreter; the pip is the project's pinned one (`--python` points it at them), with
`fast-deps` because PyPI has no separate metadata for TensorFlow 2.19's 645 MB wheels. A real
install of the extra into a fresh 3.12 environment, and the converter importing there, was
checked by hand when the setuptools pin went in.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

from .conftest import ROOT

EXTRA_PYTHONS = ("3.11", "3.12")
HEAVY = {"tensorflow", "tensorflowjs", "tf-keras", "tensorflow-decision-forests", "ydf", "keras", "jax"}


def interpreter(version: str) -> str | None:
    """Return a Python `version` interpreter that really runs, if the machine has one."""
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python3")))
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


@pytest.fixture(scope="module")
def resolved(tmp_path_factory) -> dict[str, dict[str, str] | str]:
    """Per Python: ``{name: version}`` that pip would install for the extra, or pip's error."""
    root = tmp_path_factory.mktemp("extra")
    pythons = {v: interpreter(v) for v in (*EXTRA_PYTHONS, "3.13")}
    missing = [v for v, path in pythons.items() if path is None]
    if missing:
        pytest.skip(f"no Python {', '.join(missing)} on this machine")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT),
                            "-w", str(root / "wheel")], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (root / "wheel").glob("mkdocs_tfjs-*.whl")
    runs = {}
    for version, python in pythons.items():
        venv = root / f"venv{version}"
        subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
        report = root / f"report{version}.json"
        runs[version] = (report, subprocess.Popen(
            [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
             "--dry-run", "--quiet", "--ignore-installed", "--use-feature=fast-deps",
             "--report", str(report), f"{wheel}[tensorflow]"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    out: dict[str, dict[str, str] | str] = {}
    for version, (report, process) in runs.items():
        output = process.communicate(timeout=600)[0]
        if process.returncode != 0:
            out[version] = output[-3000:]
            continue
        install = json.loads(report.read_text())["install"]
        out[version] = {item["metadata"]["name"].lower(): item["metadata"]["version"] for item in install}
    return out


@pytest.mark.parametrize("version", EXTRA_PYTHONS)
def test_the_extra_resolves_to_the_pinned_converter_and_a_setuptools_with_pkg_resources(resolved, version):
    packages = resolved[version]
    assert isinstance(packages, dict), packages
    assert (packages["tensorflow"], packages["tensorflowjs"], packages["ydf"]) == ("2.19.0", "4.22.0", "0.15.0")
    # tensorflow_hub (imported by tensorflowjs) imports pkg_resources, which setuptools 81 removed.
    assert "tensorflow-hub" in packages
    major = int(packages["setuptools"].split(".")[0])
    assert major < 81, f"setuptools {packages['setuptools']} has no pkg_resources"


def test_on_python_3_13_the_extra_installs_without_tensorflow(resolved):
    packages = resolved["3.13"]
    # It used to fail: "No matching distribution found for tensorflow==2.19.0".
    assert isinstance(packages, dict), packages
    assert "mkdocs-tfjs" in packages
    assert not HEAVY & set(packages), HEAVY & set(packages)


def test_the_extra_the_messages_and_the_docs_agree_on_the_pythons():
    """The markers, the build's advice (EXTRA_PYTHONS) and the docs name the same Pythons.

    docs/deployment.md said "Conversion needs TensorFlow" long after the native converter
    made TensorFlow optional, and no page said which Pythons the extra installs on.
    """
    import tomllib

    from packaging.requirements import Requirement

    from mkdocs_tfjs.convert import EXTRA_PYTHONS as MESSAGE_PYTHONS

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["tensorflow"]
    for version in ("3.11", "3.12", "3.13"):
        installed = {Requirement(r).name for r in extra
                     if Requirement(r).marker is None or Requirement(r).marker.evaluate({"python_version": version})}
        expected = {Requirement(r).name for r in extra} if version in EXTRA_PYTHONS else set()
        assert installed == expected, version
    assert [f"{major}.{minor}" for major, minor in MESSAGE_PYTHONS] == list(EXTRA_PYTHONS)
    docs = {path.name: path.read_text() for path in (ROOT / "docs").glob("*.md")}
    assert not [name for name, text in docs.items() if "Conversion needs TensorFlow" in text]
    assert "Conversion needs no TensorFlow" in docs["deployment.md"]
    for name in ("getting-started.md", "deployment.md", "conversion.md"):
        assert "Python 3.11 or 3.12" in docs[name] or "Python 3.11-3.12" in docs[name], name
