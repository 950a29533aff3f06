"""The plugin's options, wherever they are written, turned into one :class:`Settings`.

The same options configure the MkDocs plugin (``plugins: - tfjs:``) and the
Zensical extension (``markdown_extensions: - mkdocs_tfjs.markdown:``, in
``mkdocs.yml`` or ``zensical.toml``). This module checks them against one
schema, resolves them against the project folder, and finds them in a project's
configuration file for ``mkdocs-tfjs prepare``. It reads configuration files
as data: it imports neither MkDocs's build nor Zensical.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .build import Settings, parse_size
from .config import TfjsConfig
from .errors import ConfigError

#: The name of the Markdown extension in ``markdown_extensions``: part of the contract.
EXTENSION = "mkdocs_tfjs.markdown"
#: Where the Zensical adapter puts the site's files inside ``docs_dir``.
PUBLISHED_DIR = "assets/tfjs"


def check_options(raw: dict[str, Any], where: str) -> TfjsConfig:
    """Return the options checked against the plugin's schema, or raise :class:`ConfigError`."""
    config = TfjsConfig()
    config.load_dict(dict(raw))
    errors, _warnings = config.validate()
    if errors:
        name, error = errors[0]
        raise ConfigError(f"{where}: {name}: {error}")
    unknown = sorted(set(raw) - set(config))
    if unknown:
        known = ", ".join(sorted(config))
        raise ConfigError(f"{where}: unknown option `{unknown[0]}`; the options are: {known}")
    return config


def make_settings(config: TfjsConfig, project_dir: Path, where: str) -> Settings:
    """Resolve checked options against the project folder."""
    sizes = {}
    for name in ("size_budget", "load_threshold", "browser_cache_size"):
        try:
            sizes[name] = parse_size(config[name])
        except ValueError as exc:
            raise ConfigError(f"{where}: {name}: {exc}") from exc
    return Settings(
        project_dir=project_dir,
        quantize=config.quantize,
        format=config.format,
        cache_dir=project_dir / config.cache_dir,
        runtime=config.runtime,
        runtime_dir=project_dir / config.runtime_dir if config.runtime_dir else None,
        size_budget=sizes["size_budget"],
        load_threshold=sizes["load_threshold"],
        browser_cache=config.browser_cache,
        browser_cache_size=sizes["browser_cache_size"],
        threads=config.threads,
        backend=config.backend,
        converter=config.converter,
        widgets=dict(config.widgets),
        templates_dir=project_dir / config.templates_dir if config.templates_dir else None,
    )


@dataclass
class Project:
    """What ``mkdocs-tfjs prepare`` needs to know of a Zensical project."""

    config_file: Path
    docs_dir: Path
    use_directory_urls: bool
    #: The extension's options, or None when the configuration does not name the extension.
    options: dict[str, Any] | None

    @property
    def root(self) -> Path:
        """Return the project folder (that of the configuration file)."""
        return self.config_file.parent


def find_config_file(folder: Path) -> Path:
    """Return the project's configuration file, as Zensical looks for it."""
    for name in ("zensical.toml", "mkdocs.yml", "mkdocs.yaml"):
        if (folder / name).is_file():
            return folder / name
    raise ConfigError(
        f"{folder}: no zensical.toml or mkdocs.yml here; run `mkdocs-tfjs prepare` in the "
        "project folder, or name the file with `--config-file`"
    )


def read_project(config_file: Path) -> Project:
    """Read the options of the extension, ``docs_dir`` and ``use_directory_urls``."""
    try:
        text = config_file.read_text(encoding="utf-8")
        if config_file.suffix == ".toml":
            data = tomllib.loads(text).get("project", {})
            extensions = data.get("markdown_extensions", {})
            options = extensions.get(EXTENSION) if isinstance(extensions, dict) else None
            if options is None and isinstance(extensions, dict) and EXTENSION in extensions:
                options = {}
        else:
            data = yaml.load(text, Loader=_ConfigLoader) or {}
            options = _extension_options(data.get("markdown_extensions") or [])
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"{config_file}: cannot read it: {exc}") from exc
    root = config_file.resolve().parent
    return Project(
        config_file=config_file.resolve(),
        docs_dir=root / str(data.get("docs_dir", "docs")),
        use_directory_urls=bool(data.get("use_directory_urls", True)),
        options=options,
    )


def _extension_options(entries: list[Any]) -> dict[str, Any] | None:
    for entry in entries:
        if entry == EXTENSION:
            return {}
        if isinstance(entry, dict) and EXTENSION in entry:
            return dict(entry[EXTENSION] or {})
    return None


class _ConfigLoader(yaml.SafeLoader):
    """A YAML loader for configuration files that tolerates their tags (``!ENV``, ``!!python``)."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    # The tagged values (emoji functions, environment variables) are not ours to read.
    return None


_ConfigLoader.add_multi_constructor("!", _any_tag)
_ConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/", _any_tag)
