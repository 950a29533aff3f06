"""The documentation names every key and option the code accepts."""

import re

from mkdocs_tfjs.config import TfjsConfig
from mkdocs_tfjs.spec import COMMON_OPTIONS
from mkdocs_tfjs.widgets import WIDGETS

from .conftest import ROOT


def test_directive_reference_documents_every_key_of_every_widget():
    reference = (ROOT / "docs" / "reference.md").read_text()
    for option in COMMON_OPTIONS:
        assert f"| `{option.name}` |" in reference, option.name
    for widget in WIDGETS.values():
        assert f"## `{widget.name}`" in reference, widget.name
        for option in widget.options:
            assert f"| `{option.name}` |" in reference, (widget.name, option.name)
            for choice in option.choices or ():
                assert f"`{choice}`" in reference, (widget.name, option.name, choice)


def test_options_page_documents_every_plugin_option():
    options = (ROOT / "docs" / "options.md").read_text()
    for name, _ in TfjsConfig._schema:
        assert f"| `{name}` |" in options, name


def test_troubleshooting_lists_the_build_errors_the_tests_provoke():
    from .test_build import BAD_BLOCKS
    from .test_errors import BAD_FILES

    page = (ROOT / "docs" / "troubleshooting.md").read_text()
    messages = [m for _, _, m in BAD_BLOCKS] + [m for _, m in BAD_FILES]
    for message in messages:
        # The fixed words of the message: before the first quoted value, or after it.
        parts = [p.strip(" :;,") for p in re.split(r"`[^`]*`|'[^']*'| \(", message)]
        lead = next(p for p in parts if len(p) >= 8)
        assert lead.split(":")[0][:24] in page, message
