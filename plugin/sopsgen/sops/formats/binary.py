"""Binary store: the whole file is one string under `data`; encrypted, it is JSON.

Plaintext bytes are kept exactly: `str` when they are valid UTF-8, else `bytes`.
"""

from __future__ import annotations

from typing import Final

from sopsgen.errors import FormatError
from sopsgen.sops.formats import json
from sopsgen.sops.formats.base import Loaded
from sopsgen.sops.tree import Mapping

NAME: Final = "binary"
name: str = NAME  # lets the module satisfy the `Format` protocol

DATA_KEY: Final = "data"


def load(data: bytes) -> Loaded:
    encrypted = _encrypted(data)
    if encrypted is not None:
        return encrypted
    return Loaded([Mapping([(DATA_KEY, _text_or_bytes(data))])], None)


def _encrypted(data: bytes) -> Loaded | None:
    """An encrypted binary file is a JSON object with a `sops` key; anything else is data."""
    if data.lstrip()[:1] != b"{":
        return None  # cheap check: most plaintext is not JSON at all
    try:
        loaded = json.load(data)
    except FormatError:
        return None
    return loaded if loaded.metadata is not None else None


def _text_or_bytes(data: bytes) -> str | bytes:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def dump(
    branches: list[Mapping], metadata: dict[str, object] | None, *, indent: str = "\t"
) -> bytes:
    if metadata is not None:
        return json.dump(branches, metadata, indent=indent)
    value = branches[0].get(DATA_KEY) if len(branches) == 1 else None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", errors="surrogateescape")
    raise FormatError(
        "the document has no 'data' string to write as a binary file",
        hint="choose another output type (yaml, json, dotenv or ini)",
    )
