"""``mkdocs-tfjs prepare``: what must happen before ``zensical build``.

Zensical copies the files of ``docs_dir`` into the site when a build starts,
and takes unchanged pages from its cache without running any extension. So
this command reads every page the way the extension will, converts the models
(into the same cache), and writes the models, the widgets' assets and the
runtime into ``docs_dir/assets/tfjs`` (git-ignored), with a manifest that
gives every page the same script tags. It exits non-zero on a bad block,
naming the page and the line, as ``zensical build`` would.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from .errors import TfjsError
from .markdown import publish, site_build, site_url_path, write_manifest
from .project import EXTENSION, PUBLISHED_DIR, find_config_file, read_project

_FRONT_MATTER_END = ("---", "...")


def strip_front_matter(text: str) -> tuple[str, int]:
    """Return the page without its YAML front matter, and the file line where the rest starts."""
    lines = text.split("\n")
    if lines and lines[0].rstrip() == "---":
        for index, line in enumerate(lines[1:], start=1):
            if line.rstrip() in _FRONT_MATTER_END:
                return "\n".join(lines[index + 1 :]), index + 2
    return text, 1


def prepare(config_file: Path) -> int:
    """Prepare the project of ``config_file``; return the exit status."""
    log = logging.getLogger("mkdocs.plugins.mkdocs_tfjs")
    project = read_project(config_file)
    if project.options is None:
        print(
            f"mkdocs-tfjs: {config_file.name} names no `{EXTENSION}` in markdown_extensions; add "
            f"it (see the `Use with Zensical` page) so that Zensical renders the tfjs blocks",
            file=sys.stderr,
        )
        return 1
    if project.options.get("enabled", True) is False:
        print("mkdocs-tfjs: enabled: false, nothing to prepare")
        return 0
    build = site_build(
        project.options, project.root, f"{config_file.name}: markdown_extensions: {EXTENSION}"
    )
    published = project.docs_dir / PUBLISHED_DIR
    pages = 0
    for source in sorted(project.docs_dir.rglob("*.md")):
        if published in source.parents:
            continue
        path = source.relative_to(project.docs_dir).as_posix()
        text = source.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
        markdown, first = strip_front_matter(text)
        label = os.path.relpath(source, project.root)
        _, placed = build.process_markdown(
            markdown, label, site_url_path(path, project.use_directory_urls), first_line=first
        )
        pages += bool(placed.widgets)
    written = publish(build, published, prune=True)
    write_manifest(build, published)
    log.info(
        f"{pages} page(s) with widgets, {len(build.models)} model(s); wrote {len(written)} "
        f"file(s) into {os.path.relpath(published)}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``mkdocs-tfjs`` command."""
    parser = argparse.ArgumentParser(
        prog="mkdocs-tfjs",
        description="Keras models as live TensorFlow.js widgets, for Zensical sites.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "prepare",
        help="convert the models and put the widgets' files where Zensical copies them; "
        "run it in the project folder before `zensical build` or `zensical serve`",
    )
    run.add_argument(
        "-f", "--config-file", type=Path, help="zensical.toml or mkdocs.yml (default: found here)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)-7s - %(message)s")
    try:
        config_file = args.config_file or find_config_file(Path.cwd())
        return prepare(config_file)
    except TfjsError as exc:
        print(f"mkdocs-tfjs: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
