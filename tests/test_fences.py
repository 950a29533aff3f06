"""The block scanner against a CommonMark reference (markdown-it-py) on generated documents.

Why a scanner of our own rather than markdown-it-py itself: MkDocs renders
with Python-Markdown, not CommonMark. Python-Markdown nests list items,
admonitions (``!!! note``), content tabs and definitions by four spaces, where
CommonMark takes a list item's content from its marker's width and knows no
admonitions at all: under CommonMark, a fence indented four spaces inside
``!!! note`` or under ``- item`` is an indented code block, while MkDocs
(with pymdownx.superfences, as Material sites have it) renders it as a fence,
and a widget is expected there. So the scanner keeps Python-Markdown's
containers, and this test holds it to CommonMark wherever the two agree:
fences of both characters and any length, closing fences longer than the
opening, too short, indented or followed by text, info strings with
attributes, fences inside longer fences, indented code blocks, blockquotes,
and list items written with their content four spaces in (``-   item``,
``1.  item``), where both put the content at the same column.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from mkdocs_tfjs.directive import find_blocks, replace_blocks

COMMONMARK = MarkdownIt("commonmark")


def reference_language(info: str) -> str:
    """The language of an info string: its first word, or the first class of ``{.lang #id}``."""
    info = info.strip()
    if info.startswith("{"):
        match = re.search(r"\.([^\s{}.#]+)", info)
        return match.group(1).lower() if match else ""
    return info.split()[0].lower() if info else ""


def reference_blocks(markdown: str) -> list[tuple[int, str]]:
    """Return (first line, body) of each tfjs fence as CommonMark parses the page."""
    return [(token.map[0], token.content.rstrip("\n")) for token in COMMONMARK.parse(markdown)
            if token.type == "fence" and reference_language(token.info) == "tfjs"]


INFO_STRINGS = ["tfjs", " tfjs", "TFJS", "tfjs title=x", "{.tfjs}", "{ .tfjs #w }", "tfjsx", "python", ""]
BODY_LINES = ["model: m.keras", "widget: palette", "", "  x: 1"]


@st.composite
def fences(draw, depth: int = 0) -> str:
    """A fence: either character, 3-5 long, indented 0-3, maybe holding another fence.

    Its closing fence may be as long, longer, too short, missing, indented up
    to five spaces (four or more is text) or followed by text (then it is text).
    """
    char = draw(st.sampled_from("`~"))
    length = draw(st.integers(3, 5))
    indent = " " * draw(st.integers(0, 3))
    body = draw(st.lists(st.sampled_from(BODY_LINES), max_size=3))
    if depth == 0 and draw(st.booleans()):
        body += draw(fences(depth + 1)).split("\n")
    lines = [indent + char * length + draw(st.sampled_from(INFO_STRINGS))]
    lines += [indent + line if line else line for line in body]
    closing = draw(st.sampled_from([length, length + 1, length - 1, None]))
    if closing is not None:
        lines.append(" " * draw(st.integers(0, 5)) + char * closing + draw(st.sampled_from(["", "  ", " x"])))
    return "\n".join(lines)


def indented(text: str) -> str:
    return "\n".join("    " + line if line else line for line in text.split("\n"))


@st.composite
def chunks(draw) -> str:
    kind = draw(st.sampled_from(["paragraph", "fence", "fence", "quote", "list", "ordered", "code"]))
    if kind == "paragraph":
        return "Some text."
    fence = draw(fences())
    if kind == "quote":
        return "\n".join("> " + line for line in fence.split("\n"))
    if kind == "list":
        return "-   item\n\n" + indented(fence)
    if kind == "ordered":
        return "1.  item\n\n" + indented(fence)
    if kind == "code":
        return indented(fence)  # an indented code block after a blank line: text, fences included
    return fence


documents = st.lists(chunks(), min_size=1, max_size=4).map(lambda parts: "\n\n".join(parts) + "\n")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_the_scanner_finds_the_tfjs_fences_commonmark_finds_with_the_same_bodies(markdown):
    # Bugs caught (each seen failing here before its fix): a closing fence indented four
    # spaces or more closed the fence (CommonMark: a line of it); a fence in a list item ran
    # past the item's end and swallowed the blocks after it; `> ```` in a top-level fence
    # closed it; a body's deeper `>` markers were stripped as if they were the fence's own.
    found = [(block.start, block.body.rstrip("\n")) for block in find_blocks(markdown)]
    assert found == reference_blocks(markdown)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_each_replaced_block_becomes_a_paragraph_and_the_rest_stays_as_it_was(markdown):
    # Bug caught: a placeholder left inside another fence or an indented code block (shown
    # as code, so the widget never appears), or a replacement that moved other blocks.
    blocks = [block for block in find_blocks(markdown) if block.closed]
    if len(blocks) != len(find_blocks(markdown)):
        return  # an unclosed tfjs block stops the build before any replacement
    tokens = [f"tfjswidgetx{i}" for i in range(len(blocks))]
    replaced = replace_blocks(markdown, blocks, tokens)
    assert reference_blocks(replaced) == []
    paragraphs = [t.content for t in COMMONMARK.parse(replaced) if t.type == "inline"]
    assert [p for p in paragraphs if p.startswith("tfjswidgetx")] == tokens
    others = [t for t in COMMONMARK.parse(markdown) if t.type == "fence" and reference_language(t.info) != "tfjs"]
    assert len(others) == len([t for t in COMMONMARK.parse(replaced) if t.type == "fence"])
