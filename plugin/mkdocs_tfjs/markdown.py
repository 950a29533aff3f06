"""The Zensical adapter: a Python-Markdown extension named ``mkdocs_tfjs.markdown``.

Zensical runs no MkDocs plugin; it runs the Python-Markdown extensions named in
``markdown_extensions``, one new ``Markdown`` per page, and caches the pages
it rendered. So this adapter does per page what the MkDocs plugin does per
site, through the same :class:`~mkdocs_tfjs.build.SiteBuild`:

- a preprocessor replaces each ``tfjs`` block with a placeholder (converting
  the model through the shared cache) and puts the page's files into
  ``docs_dir/assets/tfjs``, which Zensical copies into the site;
- a postprocessor puts the widgets' HTML in place of the placeholders and adds
  the stylesheet and the runtime to the page.

``mkdocs-tfjs prepare`` (``prepare.py``) writes every page's files before
``zensical build``, because a file written while Zensical builds may miss that
build, and pages Zensical takes from its cache run no extension at all.

Zensical has no public API yet to tell an extension which page it renders;
:func:`zensical_page` is the one place that reads Zensical's private page
context, and ``tests/test_zensical.py`` fails loudly when Zensical changes it.
"""

from __future__ import annotations

import atexit
import html
import json
import logging
import os
import posixpath
import re
import secrets
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor

from .build import PageWidgets, SiteBuild, relative_root
from .directive import find_blocks
from .errors import TfjsError
from .project import EXTENSION, PUBLISHED_DIR, check_options, make_settings

log = logging.getLogger("mkdocs.plugins.mkdocs_tfjs")

#: Paragraphs the preprocessor adds, where the postprocessor puts the page's tags or its error.
TAGS_MARK = "tfjspagetags" + secrets.token_hex(4)
ERROR_MARK = "tfjspageerror" + secrets.token_hex(4)
#: Written by ``mkdocs-tfjs prepare``: what the whole site uses, so every page gets the same tags.
MANIFEST = "site.json"


@dataclass(frozen=True)
class ZensicalPage:
    """The page Zensical renders, as far as this extension needs it."""

    project_dir: Path
    docs_dir: Path
    #: The page's source, relative to ``docs_dir`` (``demos/palette.md``).
    path: str
    #: The page's URL, relative to the site root (``demos/palette/``).
    url: str
    #: Whether ``zensical serve`` runs (where an exception would stop the server).
    serving: bool


def zensical_page(md: Markdown) -> ZensicalPage | None:
    """Return the page Zensical is rendering with ``md``, or None outside Zensical.

    The one reader of Zensical's private parts (0.0.x): the ``rendering_context``
    preprocessor it registers on every page's ``Markdown``, with the page's
    ``path`` and ``url`` and the configuration's ``root_dir`` and ``docs_dir``.
    Whether ``zensical serve`` runs comes from the command line, which Zensical
    does not expose either.
    """
    if "rendering_context" not in md.preprocessors:
        return None
    context = md.preprocessors["rendering_context"]
    page = getattr(context, "page", None)
    config = getattr(context, "config", None)
    if page is None or not isinstance(config, dict):
        return None
    project_dir = Path(config.get("root_dir") or ".").resolve()
    command = sys.argv[1:2]
    return ZensicalPage(
        project_dir=project_dir,
        docs_dir=(project_dir / str(config.get("docs_dir", "docs"))).resolve(),
        path=str(page.path),
        url=str(page.url),
        serving=command == ["serve"],
    )


# -- one build per page -----------------------------------------------------

_lock = threading.RLock()
_cache_roots: dict[tuple[str, str], Path] = {}


def site_build(options: dict[str, Any], project_dir: Path, where: str) -> SiteBuild:
    """Return a new build for these options.

    A new one for every page: Zensical renders pages one at a time, and
    ``zensical serve`` keeps one process across rebuilds, where a build kept
    from the last one would hold the last model files' hashes. Conversions
    persist in the cache, so a page whose model is unchanged converts nothing.
    """
    key = (str(project_dir), json.dumps(options, sort_keys=True, default=str))
    config = check_options(options, where)
    settings = make_settings(config, project_dir, where)
    with _lock:
        if key not in _cache_roots:
            if config.cache:
                assert settings.cache_dir is not None
                _cache_roots[key] = settings.cache_dir
            else:
                temporary = tempfile.mkdtemp(prefix="mkdocs-tfjs-")
                atexit.register(shutil.rmtree, temporary, True)
                _cache_roots[key] = Path(temporary)
    build = SiteBuild(settings, warn=log.warning, info=log.info, cache_root=_cache_roots[key])
    build.check_runtime()
    return build


def read_manifest(build: SiteBuild, published: Path) -> None:
    """Take the site's widget types and lean runtime from ``prepare``, for the page tags."""
    try:
        manifest = json.loads((published / MANIFEST).read_text())
    except (OSError, ValueError):
        return
    build.widget_types.update(t for t in manifest.get("widget_types", []) if t in build.widgets)
    build.lean_used = build.lean_used or bool(manifest.get("lean"))


def write_manifest(build: SiteBuild, published: Path) -> None:
    """Record what the whole site uses (see :func:`read_manifest`)."""
    manifest = {"widget_types": sorted(build.widget_types), "lean": build.lean_used}
    _write_if_changed(published / MANIFEST, json.dumps(manifest, indent=1).encode())


def publish(build: SiteBuild, published: Path, prune: bool = False) -> list[str]:
    """Copy what the build has used so far into ``published``; return the files it wrote.

    Only files that changed are written, so that ``zensical serve``, which
    watches ``docs_dir``, rebuilds once for a new model and not in a loop.
    With ``prune``, files that the build no longer uses are removed.
    """
    staging = Path(tempfile.mkdtemp(prefix="mkdocs-tfjs-site-"))
    try:
        build.write_site(staging)
        source = staging / PUBLISHED_DIR
        written = []
        wanted = set()
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            rel = path.relative_to(source)
            wanted.add(rel)
            if _write_if_changed(published / rel, path.read_bytes()):
                written.append(rel.as_posix())
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # Generated files: git ignores the folder whole, and this file with it.
    _write_if_changed(published / ".gitignore", b"# Written by mkdocs-tfjs: do not commit.\n*\n")
    if prune and published.is_dir():
        for path in sorted(published.rglob("*"), reverse=True):
            rel = path.relative_to(published)
            if path.is_file() and rel not in wanted and not rel.name.startswith("."):
                if rel.as_posix() != MANIFEST:
                    path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return written


def _write_if_changed(target: Path, data: bytes) -> bool:
    try:
        if target.read_bytes() == data:
            return False
    except OSError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f".{target.name}.tmp{os.getpid()}")
    work.write_bytes(data)
    os.replace(work, target)
    return True


# -- the extension ----------------------------------------------------------


class TfjsPreprocessor(Preprocessor):
    """Replace each ``tfjs`` block with a placeholder and publish the page's files."""

    def __init__(self, md: Markdown, extension: TfjsExtension) -> None:
        super().__init__(md)
        self.extension = extension

    def run(self, lines: list[str]) -> list[str]:
        """Process the page's blocks."""
        self.extension.placed = None
        self.extension.problem = None
        self.extension.tags = ""
        if not self.extension.options_enabled():
            return lines
        page = zensical_page(self.md)
        markdown = "\n".join(lines)
        if page is None:
            # Under MkDocs the `tfjs` plugin has already replaced the blocks it handles.
            if find_blocks(markdown):
                log.warning(
                    f"{EXTENSION} found tfjs blocks but runs only under Zensical; under MkDocs "
                    "or ProperDocs add the `tfjs` plugin (plugins: - tfjs) to mkdocs.yml"
                )
            return lines
        source = page.docs_dir / page.path
        label = os.path.relpath(source, page.project_dir)
        published = page.docs_dir / PUBLISHED_DIR
        try:
            build = site_build(
                self.extension.options, page.project_dir, f"markdown_extensions: {EXTENSION}"
            )
            with _lock:
                read_manifest(build, published)
                new, placed = build.process_markdown(
                    markdown, label, page.url, first_line=first_line(source, lines)
                )
                written = publish(build, published) if placed.widgets else []
                tags = _link_roots(build.page_tags(relative_root(page.url)), page)
            if written and not page.serving:
                # Zensical listed docs_dir's files when the build started: these may miss it.
                raise TfjsError(
                    f"{label}: {len(written)} file(s) its widgets need (such as "
                    f"{written[0]}) were not in {os.path.relpath(published)} when the build "
                    "started; run `mkdocs-tfjs prepare` before `zensical build` (it has now "
                    "written them, so the next build has them, but `prepare` also checks the "
                    "other pages)"
                )
        except TfjsError as exc:
            if not page.serving:
                raise
            # An exception would stop `zensical serve`: show the error in the page instead.
            log.error(str(exc))
            self.extension.problem = str(exc)
            return [ERROR_MARK, "", *lines]
        if written:
            # Zensical serve notices them and builds again.
            log.info(f"{label}: wrote {len(written)} file(s) into {os.path.relpath(published)}")
        self.extension.placed = placed if placed.widgets else None
        # Every page gets the tags once the site has widgets: Zensical's instant navigation
        # keeps the runtime of the page the reader arrived on, which may have none.
        self.extension.tags = "".join(tags) if build.widget_types else ""
        self.extension.page = page
        self.extension.build = build
        return [*new.split("\n"), "", TAGS_MARK] if self.extension.tags else new.split("\n")


class TfjsPostprocessor(Postprocessor):
    """Put the widgets' HTML in place of their placeholders and add the page's tags."""

    def __init__(self, md: Markdown, extension: TfjsExtension) -> None:
        super().__init__(md)
        self.extension = extension

    def run(self, text: str) -> str:
        """Fill the placeholders.

        The toc extension runs the postprocessors on each heading too: only the
        whole page holds the placeholders.
        """
        extension = self.extension
        if extension.problem is not None:
            return _replace_mark(text, ERROR_MARK, _error_box(extension.problem))
        placed, page, build = extension.placed, extension.page, extension.build
        if placed is not None and page is not None and build is not None:
            if any(widget.token in text for widget in placed.widgets):
                for widget in placed.widgets:
                    widget.html = _link_roots((widget.html,), page)[0]
                try:
                    text = build.fill_html(text, placed)
                except TfjsError as exc:
                    if not page.serving:
                        raise
                    log.error(str(exc))
                    return _error_box(str(exc)) + text
        return _replace_mark(text, TAGS_MARK, extension.tags)


class TfjsExtension(Extension):
    """``markdown_extensions: - mkdocs_tfjs.markdown:`` with the plugin's options."""

    def __init__(self, **options: Any) -> None:
        # The options are checked against the plugin's own schema (project.check_options),
        # not Python-Markdown's, which would coerce them by the type of a default.
        super().__init__()
        self.options = options
        self.placed: PageWidgets | None = None
        self.problem: str | None = None
        self.tags = ""
        self.page: ZensicalPage | None = None
        self.build: SiteBuild | None = None

    def options_enabled(self) -> bool:
        """Tell whether ``enabled: false`` turns the extension off."""
        return self.options.get("enabled", True) is not False

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        """Register the two processors."""
        md.registerExtension(self)
        # 35: before pymdownx.snippets (32) and whitespace normalization (30), like the
        # MkDocs plugin's on_page_markdown, so lines in messages are those of the file.
        md.preprocessors.register(TfjsPreprocessor(md, self), "tfjs", 35)
        # 1: after raw HTML is restored (30) and everything else, so nothing touches
        # the widgets' HTML once it is in place.
        md.postprocessors.register(TfjsPostprocessor(md, self), "tfjs", 1)


def makeExtension(**options: Any) -> TfjsExtension:  # noqa: N802 (Python-Markdown's name)
    """Return the extension (Python-Markdown's entry point for ``mkdocs_tfjs.markdown``)."""
    return TfjsExtension(**options)


# -- helpers ----------------------------------------------------------------


def first_line(source: Path, lines: list[str]) -> int:
    """Return the file line of ``lines[0]``: Zensical strips the front matter first."""
    joined = "\n".join(lines)
    core = joined.strip()
    try:
        text = source.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    except OSError:
        return 1
    at = text.rfind(core) if core else -1
    if at < 0:
        return 1
    leading = joined[: joined.find(core)].count("\n")
    return text[:at].count("\n") + 1 - leading


_LINK = re.compile(r'(\s(?:src|href)=")([^"]*)(")')


def _link_roots(fragments: tuple[str, ...], page: ZensicalPage) -> tuple[str, ...]:
    """Make our ``src`` and ``href`` attributes relative to the page's ``.md`` file.

    The core writes them relative to the page's URL, as MkDocs serves them;
    Zensical reads every relative ``src`` and ``href`` as an author's link,
    relative to the Markdown file, and rewrites it. ``data-`` attributes,
    which the runtime resolves itself, keep the URL's root.
    """
    url_root = relative_root(page.url)
    md_root = relative_root(page.path)
    if url_root == md_root:
        return fragments

    def relink(match: re.Match[str]) -> str:
        value = match.group(2)
        if value.startswith(url_root):
            value = md_root + value[len(url_root) :]
        return match.group(1) + value + match.group(3)

    return tuple(_LINK.sub(relink, fragment) for fragment in fragments)


def _replace_mark(text: str, mark: str, replacement: str) -> str:
    return re.sub(rf"<p>\s*{mark}\s*</p>|{mark}", lambda _m: replacement, text, count=1)


def _error_box(message: str) -> str:
    return (
        '<div class="admonition failure tfjs-error" role="alert"><p class="admonition-title">'
        f"tfjs</p><p>{html.escape(message)}</p></div>\n"
    )


def site_url_path(path: str, use_directory_urls: bool = True) -> str:
    """Return the URL Zensical (like MkDocs) gives the page at ``path`` in ``docs_dir``."""
    stem, _ = posixpath.splitext(path)
    name = posixpath.basename(stem)
    folder = posixpath.dirname(stem)
    if name in ("index", "README"):
        return f"{folder}/" if folder else ""
    if not use_directory_urls:
        return f"{stem}.html"
    return f"{stem}/"
