"""The directive parser: which fences are widgets, their YAML, and line numbers."""

import pytest

from mkdocs_tfjs.directive import find_blocks, read_block, replace_blocks
from mkdocs_tfjs.errors import DirectiveError


def test_finds_backtick_and_tilde_fences_with_their_page_lines():
    md = "# Title\n\n```tfjs\nmodel: a.keras\nwidget: palette\n```\n\ntext\n\n~~~~ tfjs\nmodel: b.keras\n~~~~\n"
    blocks = find_blocks(md)
    assert [b.line for b in blocks] == [3, 10]
    assert [read_block(b, "p.md").values["model"] for b in blocks] == ["a.keras", "b.keras"]


def test_line_numbers_count_from_first_line_after_front_matter():
    blocks = find_blocks("intro\n```tfjs\nmodel: m.keras\n```", first_line=5)
    assert blocks[0].line == 6
    assert read_block(blocks[0], "p.md").key_lines == {"model": 7}


def test_tfjs_fence_inside_a_longer_fence_is_an_example_not_a_widget():
    md = "````markdown\n```tfjs\nmodel: x.keras\nwidget: palette\n```\n````\n"
    assert find_blocks(md) == []


def test_tfjs_fence_inside_a_tilde_fence_is_left_alone():
    md = "~~~\n```tfjs\nmodel: x\n```\n~~~\n```tfjs\nmodel: y.keras\n```\n"
    blocks = find_blocks(md)
    assert len(blocks) == 1 and blocks[0].line == 6


def test_other_languages_are_not_widgets():
    assert find_blocks("```python\nprint(1)\n```\n```tfjsx\nx\n```\n") == []


def test_indented_block_in_an_admonition_is_found_and_dedented():
    md = '!!! note\n\n    ```tfjs\n    model: m.keras\n    widget: palette\n    ```\n'
    block = read_block(find_blocks(md)[0], "p.md")
    assert block.indent == "    " and block.values == {"model": "m.keras", "widget": "palette"}


def test_replacement_keeps_every_other_byte():
    md = "a  \n\n```tfjs\nmodel: m\n```\n\n  b\t\n```py\nx\n```\n"
    blocks = find_blocks(md)
    out = replace_blocks(md, blocks, ["TOKEN"])
    assert out == "a  \n\nTOKEN\n\n  b\t\n```py\nx\n```\n"


def test_yaml_error_names_the_page_and_the_line_of_the_problem():
    md = "text\n```tfjs\nmodel: m.keras\nwidget: [palette\n```\n"
    with pytest.raises(DirectiveError) as err:
        read_block(find_blocks(md)[0], "docs/p.md")
    assert err.value.page == "docs/p.md"
    assert err.value.line in (4, 5)
    assert "not valid YAML" in str(err.value)


def test_a_body_that_is_not_a_mapping_is_refused():
    with pytest.raises(DirectiveError, match="must be a YAML mapping.*found list"):
        read_block(find_blocks("```tfjs\n- a\n- b\n```")[0], "p.md")


def test_an_empty_block_says_what_it_needs():
    with pytest.raises(DirectiveError, match="empty.*model.*widget"):
        read_block(find_blocks("```tfjs\n```")[0], "p.md")


def test_an_unclosed_block_is_an_error_at_its_opening_line():
    blocks = find_blocks("x\n\n```tfjs\nmodel: m.keras\n")
    with pytest.raises(DirectiveError) as err:
        read_block(blocks[0], "p.md")
    assert err.value.line == 3 and "never closed" in err.value.message


def test_an_indented_code_block_that_shows_a_tfjs_block_is_text():
    # Four spaces at the top level make an indented code block: its ```tfjs is shown, not run.
    md = "Write this:\n\n    ```tfjs\n    model: m.keras\n    widget: palette\n    ```\n\nDone.\n"
    assert find_blocks(md) == []
    # ... and so it is inside an admonition, eight spaces in.
    assert find_blocks("!!! note\n\n    Example:\n\n        ```tfjs\n        model: m.keras\n        ```\n") == []


def test_a_block_in_a_list_item_is_found():
    md = "1. First step\n\n    ```tfjs\n    model: m.keras\n    widget: palette\n    ```\n"
    (block,) = find_blocks(md)
    assert block.line == 3 and read_block(block, "p.md").values["model"] == "m.keras"


def test_a_block_inside_a_blockquote_is_found_and_replaced_inside_it():
    md = "Intro\n\n> Quoted:\n>\n> ```tfjs\n> model: m.keras\n> widget: palette\n> ```\n\nAfter\n"
    (block,) = find_blocks(md)
    assert block.line == 5
    assert read_block(block, "p.md").values == {"model": "m.keras", "widget": "palette"}
    assert read_block(block, "p.md").key_lines == {"model": 6, "widget": 7}
    assert replace_blocks(md, [block], ["TOKEN"]) == "Intro\n\n> Quoted:\n>\n> TOKEN\n\nAfter\n"


def test_a_blockquote_that_ends_before_the_fence_closes_leaves_it_unclosed():
    blocks = find_blocks("> ```tfjs\n> model: m.keras\n\nOutside\n```\n")
    assert len(blocks) == 1 and not blocks[0].closed and blocks[0].body == "model: m.keras"


def test_a_closing_fence_indented_four_spaces_is_a_line_of_the_block():
    # Bug caught: any run of backticks closed the fence, however indented; Python-Markdown
    # and CommonMark both keep "    ```" as text, so the next fence's opening closed this one.
    md = "```tfjs\nmodel: a.keras\n    ```\n\ntext\n\n```\n"
    (block,) = find_blocks(md)
    assert block.closed and block.body == "model: a.keras\n    ```\n\ntext\n"


def test_a_fence_in_a_list_item_ends_with_the_item():
    # Bug caught: the fence ran past its list item and took the next block's lines as its
    # own; MkDocs shows the unclosed one as text and renders the next block.
    md = "-   item\n\n    ```tfjs\n    model: a.keras\n\nOutside.\n\n```tfjs\nmodel: b.keras\n```\n"
    first, second = find_blocks(md)
    assert not first.closed and first.body == "model: a.keras\n"
    assert second.closed and read_block(second, "p.md").values == {"model": "b.keras"}


def test_a_deeper_blockquote_inside_a_fence_neither_closes_it_nor_loses_its_markers():
    md = "`````\n> `````\n```tfjs\nmodel: x\n```\n`````\n"
    assert find_blocks(md) == []
    (block,) = find_blocks("```tfjs\nmodel: a\n> ```\n")
    assert not block.closed and block.body == "model: a\n> ```\n"


def test_a_block_touching_text_becomes_a_paragraph_of_its_own():
    # Bug caught: "Text\n```tfjs…```\nMore" became "Text\nTOKEN\nMore", one paragraph, and
    # the widget's <div> landed inside a <p>. In a blockquote the blank line keeps its '>'.
    md = "Text\n```tfjs\nmodel: m\n```\nMore\n"
    assert replace_blocks(md, find_blocks(md), ["TOKEN"]) == "Text\n\nTOKEN\n\nMore\n"
    quoted = "> Text\n> ```tfjs\n> model: m\n> ```\n> More\n"
    assert replace_blocks(quoted, find_blocks(quoted), ["TOKEN"]) == "> Text\n>\n> TOKEN\n>\n> More\n"
