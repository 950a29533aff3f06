"""Errors of the core, each carrying what a docs author needs to fix it.

The MkDocs adapter turns these into ``PluginError``; another front end (a
ProperDocs or Zensical adapter, a command-line tool) can print them as they are.
"""

from __future__ import annotations


class TfjsError(Exception):
    """Base class: a problem the author can fix, with the fix in the message."""


class DirectiveError(TfjsError):
    """A ``tfjs`` block is wrong; the message names the page and the line."""

    def __init__(self, page: str, line: int, message: str) -> None:
        self.page = page
        self.line = line
        self.message = message
        super().__init__(f"{page}:{line}: {message}")


class ConversionError(TfjsError):
    """A model could not be loaded or converted to TensorFlow.js."""


class RuntimeFilesError(TfjsError):
    """``runtime: local`` lacks a file that the page would need."""


class ConfigError(TfjsError):
    """An option in mkdocs.yml is wrong; the message names it."""


#: Where the plugin's docs list the layers the native converter lowers.
LAYERS_DOCS = (
    'the page "How conversion and caching work" of the plugin\'s docs, '
    "docs/conversion.md#two-converters"
)

#: What to do about a Lambda layer: ways that convert, not a registered custom layer (which
#: the native converter refuses in turn) nor ``converter: tensorflow`` (Keras will not load
#: a Lambda's code safely on that path either).
LAMBDA_ADVICE = (
    "compute the same with what the native converter lowers: Keras layers (Rescaling, "
    "Activation, Add, ...), or arithmetic on the tensors of a functional model, as "
    "`y = x * 2.0` or keras.ops.add/subtract/multiply/divide/maximum/minimum (the list is on "
    f"{LAYERS_DOCS}); or save it with model.export('folder') and give the "
    "plugin that SavedModel folder, which TensorFlow's converter takes "
    '(pip install "mkdocs-tfjs[tensorflow]", on Python 3.11 or 3.12)'
)
