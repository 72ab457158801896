"""dotenv store: `KEY=value` lines, `#` comments, metadata as sorted `sops_*` lines.

Deliberately simple, like sops: no quote handling, keys are not trimmed, `\\n` in a
value is a newline, and every value is a string.
"""

from __future__ import annotations

from typing import Final

from sopsgen.errors import FormatError
from sopsgen.sops.formats import flat
from sopsgen.sops.formats.base import Loaded
from sopsgen.sops.tree import Comment, Mapping, Node, Sequence

NAME: Final = "dotenv"
name: str = NAME  # lets the module satisfy the `Format` protocol

METADATA_PREFIX: Final = "sops_"
_ENCODING: Final = "utf-8"
_ERRORS: Final = "surrogateescape"  # keep undecodable bytes exactly as they were


def load(data: bytes) -> Loaded:
    branch = Mapping()
    metadata: dict[str, str] = {}
    for number, line in enumerate(data.decode(_ENCODING, _ERRORS).split("\n"), start=1):
        if not line:
            continue
        if line.startswith("#"):
            branch.append(Comment(line[1:]))
            continue
        key, value = _split_line(line, number)
        if key.startswith(METADATA_PREFIX):
            metadata[key.removeprefix(METADATA_PREFIX)] = value
        else:
            branch.append((key, value))
    return Loaded([branch], flat.unflatten(metadata) if metadata else None)


def _split_line(line: str, number: int) -> tuple[str, str]:
    key, equals, value = line.partition("=")
    if not equals:
        # The line itself may be a secret pasted by mistake: never echo it.
        raise FormatError(f"invalid dotenv input at line {number}: expected KEY=value")
    return key, flat.unescape_newlines(value)


def dump(branches: list[Mapping], metadata: dict[str, object] | None) -> bytes:
    lines = [line for item in _single_branch(branches) for line in _item_lines(item)]
    if metadata is not None:
        flat_metadata = flat.flatten(metadata)
        lines += [
            f"{METADATA_PREFIX}{key}={flat.escape_newlines(flat_metadata[key])}"
            for key in sorted(flat_metadata)
        ]
    return "".join(line + "\n" for line in lines).encode(_ENCODING, _ERRORS)


def _single_branch(branches: list[Mapping]) -> Mapping:
    if len(branches) != 1:
        raise FormatError(f"a dotenv file holds exactly one document, got {len(branches)}")
    return branches[0]


def _item_lines(item: tuple[str, Node] | Comment) -> list[str]:
    if isinstance(item, Comment):
        # A multi-line comment (e.g. from INI) becomes several comment lines, so the
        # file stays parsable.
        return ["#" + part for part in item.text.split("\n")]
    key, value = item
    _check_key(key)
    if isinstance(value, Mapping | Sequence | Comment):
        raise FormatError(
            f"dotenv cannot hold a nested value (key {key!r})",
            hint="choose another output type for nested data",
        )
    return [f"{key}={flat.escape_newlines(flat.scalar_text(value, where=key))}"]


def _check_key(key: str) -> None:
    # Such keys would read back differently (or not at all).
    if "=" in key or "\n" in key or key.startswith("#"):
        raise FormatError(f"key {key!r} cannot be written to a dotenv file")
