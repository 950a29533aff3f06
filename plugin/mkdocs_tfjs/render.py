"""Render widget HTML and the tags a page with widgets needs.

Jinja2 with autoescape renders everything that comes from the author (titles,
captions, labels, file names) as text. Configuration reaches the browser in
``data-`` attributes, never as inline code, so the widgets work under a
Content-Security-Policy without ``unsafe-inline``. (Not in
``<script type="application/json">`` elements: Material's instant navigation
re-creates the script elements of a new page to run them, and drops their type.)
Nothing here imports MkDocs.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .widgets import PARTS

#: The frame every widget shares and the page's tags; each part's own template is in its folder.
TEMPLATES = Path(__file__).with_name("templates")


@cache
def environment(user_dirs: tuple[str, ...] = ()) -> Environment:
    """Return the Jinja2 environment of the package's templates.

    The author's folders come first, so a ``palette.html`` there replaces the
    palette part's own.
    """
    folders = [str(part.folder) for part in PARTS if part.folder is not None]
    env = Environment(
        loader=FileSystemLoader([*user_dirs, str(TEMPLATES), *folders]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["bytes"] = human_bytes
    # Jinja's tojson escapes <, >, & and ' for HTML: safe in a single-quoted attribute.
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":")}
    return env


def human_bytes(size: float) -> str:
    """Return e.g. ``52.1 KB`` (powers of 1000, as browsers' network panels show)."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def render_widget(context: dict[str, Any], user_dirs: tuple[str, ...] = ()) -> str:
    """Render one widget from its context (see ``build.py``).

    A widget of the author's own without a template of its own in
    ``user_dirs`` gets ``custom.html``: the common frame around an empty box.
    """
    env = environment(user_dirs)
    template = env.select_template([f"{context['widget']}.html", "custom.html"])
    # One line: Markdown must not see blank lines or indentation inside it.
    return " ".join(
        line.strip() for line in template.render(**context).splitlines() if line.strip()
    )


def render_page_tags(
    stylesheets: Sequence[dict[str, str]],
    scripts: Sequence[dict[str, str]],
    runtime_config: dict[str, Any],
    served_check: str,
    user_dirs: tuple[str, ...] = (),
) -> tuple[str, str]:
    """Return the HTML to add at the end of ``<head>`` and of ``<body>``."""
    env = environment(user_dirs)
    head = env.get_template("page_head.html").render(stylesheets=stylesheets)
    tail = env.get_template("page_tail.html").render(
        scripts=scripts, runtime=runtime_config, served_check=served_check
    )
    return head, tail
