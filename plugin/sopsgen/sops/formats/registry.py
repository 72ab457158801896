"""Format names, how a path picks one, and lazy access to the format modules."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from collections.abc import Mapping as AbcMapping
from typing import Final, cast

from sopsgen.errors import ConfigError
from sopsgen.sops.formats.base import Format

# Name -> module. Modules are imported on first use, so one missing or broken format
# does not stop the others from working.
_MODULES: Final = {
    "yaml": "sopsgen.sops.formats.yaml",
    "json": "sopsgen.sops.formats.json",
    "dotenv": "sopsgen.sops.formats.dotenv",
    "ini": "sopsgen.sops.formats.ini",
    "binary": "sopsgen.sops.formats.binary",
}

# By file name ending, as sops decides (case-sensitive); anything else is binary.
_SUFFIXES: Final = (
    (".yaml", "yaml"),
    (".yml", "yaml"),
    (".json", "json"),
    (".env", "dotenv"),
    (".ini", "ini"),
)


class _LazyFormats(AbcMapping[str, Format]):
    def __getitem__(self, key: str) -> Format:
        return cast(Format, importlib.import_module(_MODULES[key]))

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


FORMATS: Final[AbcMapping[str, Format]] = _LazyFormats()


def format_for_path(path: str, override: str | None) -> str:
    """The format name for `path`; an explicit `override` wins but must be a known name."""
    if override is not None:
        _check_name(override)
        return override
    for suffix, format_name in _SUFFIXES:
        if path.endswith(suffix):
            return format_name
    return "binary"


def get_format(name: str) -> Format:
    _check_name(name)
    return FORMATS[name]


def _check_name(name: str) -> None:
    # Never fall back to binary for a typo: that would write the wrong file silently.
    if name not in _MODULES:
        known = ", ".join(_MODULES)
        raise ConfigError(f"unknown file format {name!r}", hint=f"use one of: {known}")
