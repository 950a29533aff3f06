"""Find ```` ```tfjs ```` blocks in Markdown and read their YAML bodies.

This module knows Markdown fences and YAML, nothing of MkDocs, TensorFlow or
HTML. It returns the blocks it found with their line numbers on the page, so
that every later error can point at the right line.

Fences follow CommonMark: an opening run of three or more backticks or tildes,
closed by a run of the same character at least as long, indented less than
four spaces past the container, with nothing after it; a fence also ends with
its container. A ``tfjs`` fence that sits inside another fence (for example a
four-backtick block showing the syntax) is text, not a widget, and is left
alone; so is one indented by four or more spaces past its container, which
Markdown shows as an indented code block. Containers are what Python-Markdown
and its common extensions nest with four spaces (list items, admonitions,
tabs, definitions) and blockquotes, whose ``>`` markers are part of every line
of the block.

Why not a CommonMark parser (markdown-it-py): MkDocs renders with
Python-Markdown, whose four-space containers CommonMark does not have (an
admonition's fence is an indented code block to CommonMark, a widget to
MkDocs). ``tests/test_fences.py`` holds this scanner to markdown-it-py
wherever the two agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import DirectiveError

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_QUOTE = re.compile(r"^ {0,3}> ?")
# Lines that open something whose content is indented by four spaces.
_CONTAINER = re.compile(
    r"^(?:[!?]{3}\+?[ \t]+\S"  # admonition, collapsible block
    r"|===\+?[ \t]+\S"  # content tab
    r"|[-*+][ \t]+\S"  # bullet list item
    r"|\d{1,9}[.)][ \t]+\S"  # ordered list item
    r"|:[ \t]+\S)"  # definition
)
_INFO_WORD = re.compile(r"^\s*\{?\s*\.?(?P<word>[^\s{}`]+)")


@dataclass
class Block:
    """One ```` ```tfjs ```` block as written on the page.

    ``start`` and ``end`` index the page's lines (0-based, ``end`` exclusive,
    the closing fence included); ``line`` is the 1-based line of the opening
    fence as an editor shows it.
    """

    start: int
    end: int
    line: int
    indent: str
    body: str
    closed: bool = True
    values: dict[str, Any] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)


def _info_word(info: str) -> str:
    match = _INFO_WORD.match(info)
    return match.group("word").lower() if match else ""


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def _split_quote(line: str, depth: int | None = None) -> tuple[str, str]:
    """Return a line's blockquote markers (``> > ``, at most ``depth`` of them) and the rest."""
    prefix = ""
    while (depth is None or prefix.count(">") < depth) and (
        match := _QUOTE.match(line[len(prefix) :])
    ):
        prefix += match.group(0)
    return prefix, line[len(prefix) :]


def _width(text: str) -> int:
    """Return the width of the leading whitespace, tabs to the next multiple of four."""
    width = 0
    for char in text:
        if char == " ":
            width += 1
        elif char == "\t":
            width += 4 - width % 4
        else:
            break
    return width


def find_blocks(markdown: str, first_line: int = 1) -> list[Block]:
    """Return the ``tfjs`` fenced blocks of ``markdown`` that Markdown renders as fences.

    ``first_line`` is the page line number of the first line of
    ``markdown`` (MkDocs hands plugins the text after the front matter).
    """
    lines = markdown.split("\n")
    blocks: list[Block] = []
    containers: list[int] = []  # content indents of the open containers
    quote = ""
    i = 0
    while i < len(lines):
        line_quote, rest = _split_quote(lines[i])
        if line_quote.count(">") != quote.count(">"):
            quote, containers = line_quote, []
        if not rest.strip():
            i += 1
            continue
        indent = _width(rest)
        while containers and indent < containers[-1]:
            containers.pop()
        base = containers[-1] if containers else 0
        if indent >= base + 4:
            # An indented code block (or a paragraph's continuation): text, fences included.
            i += 1
            continue
        match = _FENCE_OPEN.match(rest)
        if match and not (match.group("fence")[0] == "`" and "`" in match.group("info")):
            i = _read_fence(lines, i, match, line_quote, base, first_line, blocks)
            continue
        if _CONTAINER.match(rest.lstrip(" \t")):
            containers.append(indent + 4)
        i += 1
    return blocks


def _read_fence(
    lines: list[str],
    i: int,
    match: re.Match[str],
    quote: str,
    base: int,
    first_line: int,
    blocks: list[Block],
) -> int:
    """Record the fence opened on line ``i`` if it is a tfjs block; return the next line.

    ``base`` is the content indent of the container that holds the fence (0 at
    the top level, 4 in a list item or an admonition).
    """
    fence, indent = match.group("fence"), match.group("indent")
    end = i + 1
    closed = False
    while end < len(lines):
        line_quote, rest = _split_quote(lines[end])
        if line_quote.count(">") < quote.count(">"):
            break  # the blockquote that holds the fence ended, and with it the fence
        if rest.strip() and _width(rest) < base:
            break  # so did the list item or admonition: a line indented less than its content
        # A closing fence indented four or more past the container is a line of the fence,
        # and so is one inside a deeper blockquote (``> ```` in a top-level fence).
        depth = line_quote.count(">") == quote.count(">")
        if depth and _width(rest) < base + 4 and _closes(rest, fence):
            closed = True
            break
        end += 1
    if _info_word(match.group("info")) == "tfjs":
        depth = quote.count(">")
        body_lines = [_dedent(_split_quote(line, depth)[1], indent) for line in lines[i + 1 : end]]
        blocks.append(
            Block(
                start=i,
                end=end + 1 if closed else end,
                line=first_line + i,
                indent=quote + indent,
                body="\n".join(body_lines),
                closed=closed,
            )
        )
    # Everything up to the closing fence is the fence's text: a tfjs
    # fence in there is an example, not a widget.
    return end + 1 if closed else end


def _dedent(line: str, indent: str) -> str:
    return line[len(indent) :] if line.startswith(indent) else line.lstrip(" \t")


def read_block(block: Block, page: str) -> Block:
    """Parse the YAML body of ``block`` into ``block.values``.

    Raises :class:`DirectiveError` naming the page and line when the block is
    not closed, the YAML does not parse or the body is not a mapping.
    """
    if not block.closed:
        raise DirectiveError(
            page,
            block.line,
            "the tfjs block is never closed; add a closing ``` line after its last key",
        )
    if not block.body.strip():
        raise DirectiveError(
            page,
            block.line,
            "the tfjs block is empty; it needs at least `model:` and `widget:`, "
            "for example\n    model: models/palette/generator.keras\n    widget: palette",
        )
    try:
        node = yaml.compose(block.body, Loader=yaml.SafeLoader)
        values = yaml.safe_load(block.body)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = block.line + 1 + mark.line if mark is not None else block.line
        problem = getattr(exc, "problem", None) or str(exc)
        raise DirectiveError(
            page,
            line,
            f"the tfjs block is not valid YAML ({problem}); write one `key: value` per line"
            + (
                ', and put text that contains ": " in quotes'
                if "mapping values are not allowed" in problem
                else ""
            ),
        ) from exc
    if not isinstance(values, dict) or not isinstance(node, yaml.MappingNode):
        found = type(values).__name__ if values is not None else "nothing"
        raise DirectiveError(
            page,
            block.line,
            f"the tfjs block must be a YAML mapping of `key: value` lines, found {found}",
        )
    block.values = {str(k): v for k, v in values.items()}
    block.key_lines = {
        str(key.value): block.line + 1 + key.start_mark.line for key, _ in node.value
    }
    return block


def replace_blocks(markdown: str, blocks: list[Block], replacements: list[str]) -> str:
    """Return ``markdown`` with each block's lines replaced by its replacement.

    Lines outside the blocks are returned byte for byte. A fence needs no
    blank line around it, a paragraph does: where text touches the block, a
    blank line (in the block's blockquote, if any) keeps the replacement a
    paragraph of its own instead of a line of the text's paragraph.
    """
    if not blocks:
        return markdown
    lines = markdown.split("\n")
    out: list[str] = []
    previous = 0

    def touches(index: int) -> bool:
        return 0 <= index < len(lines) and bool(_split_quote(lines[index])[1].strip())

    for block, replacement in zip(blocks, replacements, strict=True):
        out.extend(lines[previous : block.start])
        blank = _split_quote(block.indent)[0].rstrip()
        if touches(block.start - 1):
            out.append(blank)
        out.append(block.indent + replacement)
        if touches(block.end):
            out.append(blank)
        previous = block.end
    out.extend(lines[previous:])
    return "\n".join(out)
