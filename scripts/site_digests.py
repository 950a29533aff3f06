"""Build the demo site and record (or check) the sha256 of every file it writes.

    python scripts/site_digests.py record   # writes tests/data/site_digests.json
    python scripts/site_digests.py check    # builds again and compares
    python scripts/site_digests.py accept PATH... --why "..."   # pins changed, new or gone files

For moves inside the package that must not change what readers get: the demo
site (docs/, models/, benchmarks/*.md and mkdocs.yml, as tests/conftest.py's
copy_demo_project copies them) is built with this checkout's package on
``PYTHONPATH`` and every file under site/ is hashed twice. The site's sources
come from the commit the digests were recorded on (``record`` takes HEAD), so
edits to the docs since then do not count: only the package's do.

- ``raw``: the bytes as written;
- ``normalized``: the bytes after two substitutions that only follow the
  widget assets' file names and contents: the content-hashed folder
  ``assets/tfjs/widgets-XXXXXXXX`` becomes ``widgets-HASH``, and each widget
  asset's SRI hash becomes ``sri(<name>)``; sitemap.xml's dates (the day
  of the build) become ``DAY``; a stylesheet is compared as the
  sorted list of its non-blank lines (the same rules, in any order of
  sections).

``check`` passes when every normalized digest matches (a new part's module
in the widgets folder is only listed), or equals the digest a deliberate change
was accepted with (``accept``: the file's new normalized digest and why, kept
under ``accepted`` in the record, so the changed file is pinned too), and says which files
differ raw (the widget folder's name and the pages that name it, when assets
moved or the stylesheet's sections were regrouped). Files that differ between
two builds of the same code are left out: only ``sitemap.xml.gz`` (gzip
stores the build time); the search index is the same every time.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "tests" / "data" / "site_digests.json"
# gzip writes the build time into its header.
VARYING = {"sitemap.xml.gz"}
_WIDGETS_DIR = re.compile(r"widgets-[0-9a-f]{8}")
_LASTMOD = re.compile(r"<lastmod>[0-9-]+</lastmod>")
_TEXT = {".html", ".js", ".css", ".json", ".xml", ".txt", ".md", ".svg", ".mjs"}


def copy_demo(root: Path, commit: str) -> None:
    """Write the demo project of ``commit`` into ``root`` (docs, models, benchmark tables)."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "docs", "models", "benchmarks", "mkdocs.yml"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    for path in (root / "benchmarks").iterdir():
        if path.suffix != ".md":
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def head_commit() -> str:
    """Return the commit checked out."""
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def build(root: Path, plugin: Path) -> Path:
    """Build the site in ``root`` with the package in ``plugin`` first on the path."""
    env = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "PYTHONPATH": os.pathsep.join([str(plugin), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q"], cwd=root, env=env, check=True)
    return root / "site"


def sri(data: bytes) -> str:
    """Return the SRI hash the build writes for ``data``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def digests(site: Path) -> dict[str, dict]:
    """Return ``{path: {raw, normalized}}`` for every file of ``site``."""
    folders = [p for p in (site / "assets" / "tfjs").glob("widgets-*") if p.is_dir()]
    assert len(folders) == 1, f"expected one widgets folder, found {folders}"
    asset_sri = {sri(p.read_bytes()): f"sri({p.name})" for p in folders[0].iterdir()}
    result = {}
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = path.relative_to(site).as_posix()
        if rel in VARYING:
            continue
        data = path.read_bytes()
        normalized = data
        if path.suffix in _TEXT:
            text = _WIDGETS_DIR.sub("widgets-HASH", data.decode("utf-8"))
            # sitemap.xml dates every page with the day of the build.
            text = _LASTMOD.sub("<lastmod>DAY</lastmod>", text)
            for value, name in asset_sri.items():
                text = text.replace(value, name)
            lines = sorted(line for line in text.splitlines() if line.strip())
            if path.suffix == ".css":
                text = "\n".join(lines)
            normalized = text.encode()
        entry: dict = {
            "raw": hashlib.sha256(data).hexdigest(),
            "normalized": hashlib.sha256(normalized).hexdigest(),
        }
        if path.suffix == ".css" and "widgets-" in rel:
            # Kept whole, so that a new part's rules can be told from changed ones.
            entry["lines"] = lines
        result[_WIDGETS_DIR.sub("widgets-HASH", rel)] = entry
    return result


def main() -> int:
    """Build the demo site, then record its digests or check them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("record", "check", "accept"))
    parser.add_argument(
        "path", nargs="*", help="accept: the site files that changed, came or went on purpose"
    )
    parser.add_argument("--why", help="accept: what feature changed the file")
    parser.add_argument("--record", type=Path, default=RECORD)
    parser.add_argument(
        "--plugin", type=Path, default=ROOT / "plugin", help="the folder holding mkdocs_tfjs"
    )
    parser.add_argument("--commit", help="record: the commit whose docs to build (HEAD)")
    args = parser.parse_args()
    if args.action == "accept" and not (args.path and args.why):
        parser.error("accept needs the site file's path and --why")
    if args.action == "record":
        commit = args.commit or head_commit()
    else:
        saved = json.loads(args.record.read_text())
        commit, recorded = saved["commit"], saved["files"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        copy_demo(root, commit)
        found = digests(build(root, args.plugin))
    if args.action == "record":
        args.record.parent.mkdir(parents=True, exist_ok=True)
        saved = {"commit": commit, "files": found}
        args.record.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")
        print(f"recorded {len(found)} files of {commit[:7]}'s site in {args.record}")
        return 0
    accepted = saved.get("accepted", {})
    if args.action == "accept":
        for path in args.path:
            if path not in found and path not in recorded:
                print(f"{path} is neither in the site nor in the record")
                return 1
            # A file the site no longer has is pinned as gone (null), a new one by its digest.
            digest = found[path]["normalized"] if path in found else None
            accepted[path] = {"normalized": digest, "why": args.why}
            print(f"accepted the {'change' if digest else 'removal'} of {path}: {args.why}")
        saved["accepted"] = accepted
        args.record.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")
        return 0
    missing = sorted(set(recorded) - set(found))
    extra = sorted(set(found) - set(recorded))
    changed = sorted(
        p for p in set(recorded) & set(found) if recorded[p]["normalized"] != found[p]["normalized"]
    )
    # Deliberate removals pass while the file stays gone, new files with the bytes they were
    # accepted with.
    for path in [p for p in missing if p in accepted and accepted[p]["normalized"] is None]:
        missing.remove(path)
        print(f"accepted removal: {path} ({accepted[path]['why']})")
    for path in [
        p for p in extra if accepted.get(p, {}).get("normalized") == found[p]["normalized"]
    ]:
        extra.remove(path)
        print(f"accepted new file: {path} ({accepted[path]['why']})")
    # Deliberate changes pass only with the exact bytes they were accepted with.
    for path in [
        p for p in changed if accepted.get(p, {}).get("normalized") == found[p]["normalized"]
    ]:
        changed.remove(path)
        print(f"accepted change: {path} ({accepted[path]['why']})")
    # The stylesheet may gain a new part's rules; every rule it had must still be there.
    for path in [p for p in changed if "lines" in recorded[p] and "lines" in found[p]]:
        new = Counter(found[path]["lines"])
        new.subtract(recorded[path]["lines"])
        if min(new.values(), default=0) >= 0:
            changed.remove(path)
            for line in sorted(new.elements()):
                print(f"added to {path}: {line}")
    raw = sorted(p for p in set(recorded) & set(found) if recorded[p]["raw"] != found[p]["raw"])
    # A new part adds its module to the widgets folder; no page names it unless a block uses it.
    added = [p for p in extra if p.startswith("assets/tfjs/widgets-HASH/")]
    extra = [p for p in extra if p not in added]
    for label, paths in (("missing", missing), ("new", extra), ("changed", changed)):
        for path in paths:
            print(f"{label}: {path}")
    for path in added:
        print(f"added by a new part: {path}")
    print(f"{len(found)} files; {len(raw)} differ raw (widget folder name, SRI, stylesheet order):")
    for path in raw:
        print(f"  raw only: {path}")
    if missing or extra or changed:
        print("FAIL: the site differs beyond the widget assets' names and order")
        return 1
    print("OK: every file matches after normalisation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
