"""The documentation names every key and option the code accepts."""

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
