"""Flat metadata shared by dotenv and INI, plus the scalar-to-text rule both use.

Neither format can nest, so sops flattens the `sops` block into single keys:
a map child is joined with `__map_<key>`, a list child with `__list_<n>`
(`age__list_0__map_enc`). Values are strings; nulls are left out.
"""

from __future__ import annotations

import math
import re
from typing import Final

from sopsgen.errors import FormatError
from sopsgen.sops.cipher import format_float
from sopsgen.sops.formats.json import exponent_form
from sopsgen.sops.tree import Scalar, Timestamp

MAP_JOIN: Final = "__map_"
LIST_JOIN: Final = "__list_"
_SEPARATOR: Final = re.compile(r"__(map|list)_")


class _ListParts(dict[object, object]):
    """A list being rebuilt from `__list_<n>` keys, in any order."""


# --- flatten ---------------------------------------------------------------------------


def flatten(metadata: dict[str, object]) -> dict[str, str]:
    """The metadata as flat key -> string (insertion order follows the input)."""
    out: dict[str, str] = {}
    for key, value in metadata.items():
        _flatten_into(out, key, value)
    return out


def _flatten_into(out: dict[str, str], prefix: str, value: object) -> None:
    if value is None:
        return  # sops leaves null fields (e.g. a group's hc_vault) out
    if isinstance(value, dict):
        for key, child in value.items():
            _flatten_into(out, f"{prefix}{MAP_JOIN}{key}", child)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _flatten_into(out, f"{prefix}{LIST_JOIN}{index}", child)
    elif isinstance(value, bool):
        out[prefix] = "true" if value else "false"
    elif isinstance(value, int | str):
        out[prefix] = str(value)
    else:
        raise FormatError(
            f"metadata field {prefix} has an unsupported {type(value).__name__} value"
        )


def escape_newlines(text: str) -> str:
    return text.replace("\n", "\\n")


def unescape_newlines(text: str) -> str:
    return text.replace("\\n", "\n")


# --- unflatten -------------------------------------------------------------------------


def unflatten(flat: dict[str, str]) -> dict[str, object]:
    """Rebuild the nested metadata; lists come out ordered by index."""
    root: dict[object, object] = {}
    for flat_key, text in flat.items():
        _place(root, flat_key, _typed(flat_key, text))
    return {str(key): _finish(value) for key, value in root.items()}


def _typed(flat_key: str, text: str) -> object:
    # Only these two top-level fields are not strings; sops converts them by name.
    if flat_key == "shamir_threshold":
        return _threshold(text)
    if flat_key == "mac_only_encrypted":
        return text == "true"
    return text


def _threshold(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)  # sops <= 3.10 wrote "2.000000" in INI
    except ValueError:
        number = math.nan
    if not number.is_integer():
        raise FormatError("metadata field shamir_threshold is not a whole number")
    return int(number)


def _place(root: dict[object, object], flat_key: str, value: object) -> None:
    parts = _SEPARATOR.split(flat_key)
    container = root
    slot: object = parts[0]
    for kind, name in zip(parts[1::2], parts[2::2]):
        wanted = _ListParts if kind == "list" else dict
        child = container.setdefault(slot, wanted())
        if type(child) is not wanted:
            raise FormatError(f"metadata key {flat_key} conflicts with another metadata key")
        assert isinstance(child, dict)
        container = child
        slot = _list_index(name, flat_key) if kind == "list" else name
    if slot in container:
        raise FormatError(f"metadata key {flat_key} appears twice or conflicts with another key")
    container[slot] = value


def _list_index(text: str, flat_key: str) -> int:
    if not text.isdigit():
        raise FormatError(f"metadata key {flat_key} has a non-numeric list index")
    return int(text)


def _finish(node: object) -> object:
    if isinstance(node, _ListParts):
        indexes = sorted(index for index in node if isinstance(index, int))
        return [_finish(node[index]) for index in indexes]
    if isinstance(node, dict):
        return {key: _finish(value) for key, value in node.items()}
    return node


# --- scalars as text -------------------------------------------------------------------


def scalar_text(value: Scalar, *, where: str) -> str:
    """How a typed scalar is written into a format that only holds strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="surrogateescape")  # re-encoded the same way
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_general_float(value)
    if isinstance(value, Timestamp):
        return value.text
    if value is None:
        return ""
    raise FormatError(f"cannot write the value at {where} as text")


def go_general_float(value: float) -> str:
    """Go's %v for a float64 ('g', shortest): exponent form below 1e-4 or from 1e6."""
    if math.isnan(value) or math.isinf(value):
        return format_float(value)
    magnitude = abs(value)
    if magnitude == 0 or 1e-4 <= magnitude < 1e6:
        return format_float(value)
    return exponent_form(value)
