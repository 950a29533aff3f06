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
