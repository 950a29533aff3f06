"""The MkDocs adapter: wires MkDocs events to :class:`~mkdocs_tfjs.build.SiteBuild`.

Only this module and ``config.py`` know MkDocs. Another generator (the
ProperDocs fork, Zensical) needs another adapter of this size, not a rewrite.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger

from .build import PageWidgets, SiteBuild, relative_root
from .config import TfjsConfig
from .errors import ConfigError, TfjsError
from .project import make_settings

log = get_plugin_logger(__name__)


class TfjsPlugin(BasePlugin[TfjsConfig]):
    """Turn ```` ```tfjs ```` blocks into live TensorFlow.js widgets."""

    #: The live server of ``mkdocs serve`` (set by on_serve), kept across rebuilds.
    _server: Any = None

    # Defining on_startup keeps this instance across `mkdocs serve` rebuilds.
    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Remember whether we are serving."""
        self.is_serve = command == "serve"

    def on_config(self, config: Any) -> Any:
        """Resolve the options and start a build."""
        self.build: SiteBuild | None = None
        self.pages: dict[str, PageWidgets] = {}
        self._temporary_cache: str | None = None
        if not self.config.enabled:
            return config
        project_dir = Path(config.config_file_path or ".").resolve().parent
        try:
            settings = make_settings(self.config, project_dir, "mkdocs.yml: plugins: tfjs")
        except TfjsError as exc:
            raise PluginError(f"tfjs: {exc}") from exc
        if self.config.cache:
            cache_root = settings.cache_dir
        else:
            self._temporary_cache = tempfile.mkdtemp(prefix="mkdocs-tfjs-")
            cache_root = Path(self._temporary_cache)
        try:
            self.build = SiteBuild(settings, warn=log.warning, info=log.info, cache_root=cache_root)
            self.build.check_runtime()
        except ConfigError as exc:
            # Its message starts with "mkdocs.yml: tfjs: ...": a second "tfjs: " repeats it.
            raise PluginError(str(exc)) from exc
        except TfjsError as exc:
            raise PluginError(f"tfjs: {exc}") from exc
        return config

    # Runs before other plugins' on_page_markdown (default priority 0), so the
    # line numbers in our messages are those of the file the author edits.
    @event_priority(100)
    def on_page_markdown(self, markdown: str, *, page: Any, config: Any, files: Any) -> str:
        """Replace each tfjs block with a placeholder, converting models as needed."""
        if self.build is None:
            return markdown
        project_dir = self.build.settings.project_dir
        label = (
            os.path.relpath(page.file.abs_src_path, project_dir)
            if page.file.abs_src_path
            else page.file.src_uri
        )
        try:
            new, placed = self.build.process_markdown(
                markdown, label, page.url, first_line=_first_line(page, markdown)
            )
        except TfjsError as exc:
            raise PluginError(str(exc)) from exc
        finally:
            # A block added while serving names a model on_serve never saw; a model whose
            # conversion failed is watched too, so that replacing it rebuilds.
            self._watch_new_files()
        if placed.widgets:
            self.pages[page.file.src_uri] = placed
        else:
            self.pages.pop(page.file.src_uri, None)
        return new

    def on_page_content(self, html: str, *, page: Any, config: Any, files: Any) -> str:
        """Put the widgets' HTML in place of their placeholders."""
        placed = self.pages.get(page.file.src_uri)
        if placed is None:
            return html
        try:
            return self.build.fill_html(html, placed)  # type: ignore[union-attr]
        except TfjsError as exc:
            raise PluginError(str(exc)) from exc

    def on_post_page(self, output: str, *, page: Any, config: Any) -> str:
        """Add the stylesheet and the runtime to pages that need them.

        Pages with widgets always do. With Material's instant navigation every
        page does, because a page reached that way keeps the scripts of the
        page the reader arrived on.
        """
        if self.build is None or not self.build.widget_types:
            return output
        if page.file.src_uri not in self.pages and not self._instant_navigation(config):
            return output
        head, tail = self.build.page_tags(relative_root(page.url))
        output = _insert_before(output, "</head>", head)
        return _insert_before(output, "</body>", tail)

    @staticmethod
    def _instant_navigation(config: Any) -> bool:
        features = config.theme.get("features") or []
        return config.theme.name == "material" and "navigation.instant" in features

    def on_post_build(self, *, config: Any) -> None:
        """Write converted models, widget assets and the local runtime into the site."""
        if self.build is None:
            return
        try:
            self.build.write_site(Path(config.site_dir))
        except TfjsError as exc:
            raise PluginError(f"tfjs: {exc}") from exc
        finally:
            self._drop_temporary_cache()

    def on_build_error(self, *, error: Exception) -> None:
        """Remove the per-build cache when ``cache: false``."""
        self._drop_temporary_cache()

    def on_serve(self, server: Any, *, config: Any, builder: Any) -> Any:
        """Watch the model files, widget modules and templates, which live outside docs_dir.

        Called once, after the first build; later builds add what they see first
        (``_watch_new_files``).
        """
        self._server = server
        self._watched: set[str] = set()  # what this server watches for us
        self._watch_new_files()
        return server

    def _watch_new_files(self) -> None:
        """Have the live server watch each model, widget module and template folder once."""
        if self._server is None or self.build is None:
            return
        paths = set(self.build.model_paths)
        # Widgets of the author's own and template overrides live outside docs_dir too.
        paths.update(w.module for w in self.build.widgets.values() if w.module is not None)
        if self.build.settings.templates_dir is not None:
            paths.add(self.build.settings.templates_dir)
        for path in sorted(str(p) for p in paths):
            if path not in self._watched and os.path.exists(path):
                self._server.watch(path)
                self._watched.add(path)

    def _drop_temporary_cache(self) -> None:
        if self._temporary_cache:
            shutil.rmtree(self._temporary_cache, ignore_errors=True)
            self._temporary_cache = None


def _first_line(page: Any, markdown: str) -> int:
    """Return the file line where ``markdown`` starts (MkDocs strips front matter)."""
    try:
        source = page.file.content_string
    except (OSError, AttributeError, TypeError):
        return 1
    if markdown and source.endswith(markdown):
        return source[: len(source) - len(markdown)].count("\n") + 1
    return 1


def _insert_before(html: str, marker: str, text: str) -> str:
    index = html.rfind(marker)
    if index < 0:
        return html + text
    return html[:index] + text + html[index:]
