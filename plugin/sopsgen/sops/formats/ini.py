"""INI store, following what sops does through its INI library (go-ini).

Tree shape: one branch whose entries are sections (`DEFAULT` first, for keys before any
header; duplicate sections stay separate). A section is a Mapping of string values.
Comment lines above a header become the section's first item; comment lines above a
key, and an inline comment after its value, become one Comment placed after that key.
Metadata is a final `[sops]` section holding the flattened keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from sopsgen.errors import FormatError
from sopsgen.sops.formats import flat
from sopsgen.sops.formats.base import Loaded
from sopsgen.sops.tree import Comment, Mapping, Node, Sequence

NAME: Final = "ini"
name: str = NAME  # lets the module satisfy the `Format` protocol

DEFAULT_SECTION: Final = "DEFAULT"
METADATA_SECTION: Final = "sops"
_COMMENT_CHARS: Final = "#;"
_TRIPLE: Final = '"""'
_ENCODING: Final = "utf-8"
_ERRORS: Final = "surrogateescape"

_Row = tuple[str, str, list[str]]  # key, value text, comment texts written above the key


# --- reading ---------------------------------------------------------------------------


@dataclass
class _Section:
    name: str
    comment: str = ""
    items: list[tuple[str, str, str]] = field(default_factory=list)  # key, value, comment

    def set(self, key: str, value: str, comment: str) -> None:
        # The library keeps one key per name: a repeat overwrites value and comment
        # in the first one's position.
        for index, (existing, _, _) in enumerate(self.items):
            if existing == key:
                self.items[index] = (key, value, comment)
                return
        self.items.append((key, value, comment))

    def to_mapping(self) -> Mapping:
        mapping = Mapping([Comment(self.comment)] if self.comment else [])
        for key, value, comment in self.items:
            mapping.append((key, value))
            if comment:
                mapping.append(Comment(comment))
        return mapping


class _Parser:
    def __init__(self, text: str) -> None:
        self._lines = [line.removesuffix("\r") for line in text.split("\n")]
        self._index = 0
        self._pending: list[str] = []  # comment lines waiting for a header or a key
        self.sections = [_Section(DEFAULT_SECTION)]

    def run(self) -> list[_Section]:
        while self._index < len(self._lines):
            self._index += 1
            self._line(self._lines[self._index - 1].lstrip())
        return self.sections

    @property
    def _number(self) -> int:
        return self._index  # 1-based number of the line being read

    def _line(self, line: str) -> None:
        if not line:
            return  # blank lines keep pending comments attached
        if line[0] in _COMMENT_CHARS:
            self._pending.append(line)
        elif line[0] == "[":
            self._header(line)
        else:
            self._key_line(line)

    def _header(self, line: str) -> None:
        close = line.rfind("]")
        if close < 0:
            raise FormatError(f"invalid INI input at line {self._number}: unclosed section header")
        section_name = line[1:close]
        if not section_name:
            raise FormatError(f"invalid INI input at line {self._number}: empty section name")
        rest = line[close + 1 :].strip()
        if rest[:1] and rest[0] in _COMMENT_CHARS:
            self._pending.append(rest)
        # Pending comments (also those at the very top of a file) go to this header.
        self.sections.append(_Section(section_name, self._take_comment()))

    def _key_line(self, line: str) -> None:
        key, rest = self._split_key(line)
        value, inline = self._value(rest)
        if inline:
            self._pending.append(inline)
        self.sections[-1].set(key, value, self._take_comment())

    def _split_key(self, line: str) -> tuple[str, str]:
        if line[0] in '`"':
            return self._quoted_key(line)
        positions = [p for p in (line.find("="), line.find(":")) if p >= 0]
        if not positions:
            raise FormatError(
                f"invalid INI input at line {self._number}: key-value delimiter not found"
            )
        cut = min(positions)
        return line[:cut].strip(), line[cut + 1 :]

    def _quoted_key(self, line: str) -> tuple[str, str]:
        quote = _TRIPLE if line.startswith(_TRIPLE) else line[0]
        end = line.find(quote, len(quote))
        if end < 0:
            raise FormatError(f"invalid INI input at line {self._number}: unclosed quoted key")
        after = line[end + len(quote) :].lstrip()
        if not after or after[0] not in "=:":
            raise FormatError(
                f"invalid INI input at line {self._number}: key-value delimiter not found"
            )
        return line[len(quote) : end], after[1:]

    def _value(self, rest: str) -> tuple[str, str]:
        """The value and any inline comment (the library's quoting rules)."""
        text = rest.lstrip()
        if text.startswith(_TRIPLE) and len(text) > 3:
            return self._triple_quoted(text[3:]), ""
        if text.startswith("`"):
            end = text.find("`", 1)
            if end < 0:
                raise FormatError(f"invalid INI input at line {self._number}: unclosed ` quote")
            return text[1:end], ""
        text = text.strip()
        inline = ""
        cut = min((p for p in (text.find("#"), text.find(";")) if p >= 0), default=-1)
        if cut >= 0:  # even inside "quotes": the library splits first
            text, inline = text[:cut].strip(), text[cut:]
        return _unquote(text), inline

    def _triple_quoted(self, first: str) -> str:
        parts = [first]
        while (end := parts[-1].find(_TRIPLE)) < 0:
            if self._index >= len(self._lines):
                raise FormatError(f'invalid INI input at line {self._number}: unclosed """ quote')
            parts.append(self._lines[self._index])
            self._index += 1
        parts[-1] = parts[-1][:end]
        return "\n".join(parts)

    def _take_comment(self) -> str:
        # The library joins comment lines with newlines and trims the whole block;
        # sops then strips the leading comment marks and spaces.
        text = "\n".join(self._pending).strip().lstrip("#; ")
        self._pending = []
        return text


def _unquote(text: str) -> str:
    for quote in "\"'":
        if len(text) >= 2 and text[0] == text[-1] == quote and text.count(quote) == 2:
            return text[1:-1]
    return text


def load(data: bytes) -> Loaded:
    parser = _Parser(data.decode(_ENCODING, _ERRORS))
    sections = parser.run()
    branch = Mapping()
    metadata: dict[str, str] = {}
    for section in sections:
        if section.name == METADATA_SECTION:
            metadata.update((key, flat.unescape_newlines(value)) for key, value, _ in section.items)
        else:
            branch.append((section.name, section.to_mapping()))
    has_metadata = any(section.name == METADATA_SECTION for section in sections)
    return Loaded([branch], flat.unflatten(metadata) if has_metadata else None)


# --- writing ---------------------------------------------------------------------------


def dump(branches: list[Mapping], metadata: dict[str, object] | None) -> bytes:
    blocks = [
        block
        for index, (section_name, body) in enumerate(_sections(branches))
        if (block := _section_block(section_name, body, first=index == 0))
    ]
    if metadata is not None:
        blocks.append(_metadata_block(metadata))
    text = "\n".join("".join(line + "\n" for line in block) for block in blocks)
    return text.encode(_ENCODING, _ERRORS)


def _sections(branches: list[Mapping]) -> Iterator[tuple[str, Mapping]]:
    if len(branches) != 1:
        raise FormatError(f"an INI file holds exactly one document, got {len(branches)}")
    for section_name, body in branches[0].entries():  # top-level comments have no place
        if not isinstance(body, Mapping):
            raise FormatError(
                f"INI needs a section of keys at the top level, but {section_name!r} is not one",
                hint="choose another output type for this data",
            )
        yield section_name, body


def _section_block(section_name: str, body: Mapping, *, first: bool) -> list[str]:
    header_comment, keys = _attach_comments(body)
    lines = [line for text in header_comment for line in _comment_lines(text)]
    if first and section_name == DEFAULT_SECTION:
        if not keys:
            return lines  # the library writes nothing for an empty leading DEFAULT
    else:
        lines.append(f"[{section_name}]")
    lines += _key_lines(section_name, keys)
    return lines


def _attach_comments(body: Mapping) -> tuple[list[str], list[_Row]]:
    """Split a section into its header comments and (key, value, comments-above) rows."""
    header: list[str] = []
    rows: list[_Row] = []
    for item in body:
        if isinstance(item, Comment):
            # A comment belongs to the key just before it; before any key, to the header.
            (rows[-1][2] if rows else header).append(item.text)
        else:
            key, value = item
            rows.append((key, _value_text(key, value), []))
    return header, rows


def _value_text(key: str, value: Node) -> str:
    if isinstance(value, Mapping | Sequence | Comment):
        raise FormatError(
            f"INI cannot hold a nested value (key {key!r})",
            hint="choose another output type for nested data",
        )
    return flat.scalar_text(value, where=key)


def _key_lines(section_name: str, rows: list[_Row]) -> list[str]:
    width = max((len(key.encode(_ENCODING, _ERRORS)) for key, _, _ in rows), default=0)
    lines: list[str] = []
    for key, value, comments in rows:
        lines += [line for text in comments for line in _comment_lines(text)]
        padding = " " * (width - len(key.encode(_ENCODING, _ERRORS)))
        lines.append(f"{_quote_key(key, section_name)}{padding} = {_quote_value(value)}")
    return lines


def _comment_lines(text: str) -> list[str]:
    # The library writes every line of a comment with a `; ` prefix unless the line
    # already starts with a comment mark, which then gets one space after it.
    lines = []
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped[:1] and stripped[0] in _COMMENT_CHARS:
            lines.append(f"{stripped[0]} {stripped[1:].strip()}".rstrip())
        else:
            lines.append(f"; {stripped}".rstrip())
    return lines


def _quote_key(key: str, section_name: str) -> str:
    if not key:
        raise FormatError(f"an empty key cannot be written to INI section {section_name!r}")
    if "`" in key:
        return _TRIPLE + key + _TRIPLE
    if '"' in key or any(c in key for c in "=:") or key[0] in "#;[" or key != key.strip():
        return f"`{key}`"
    return key


def _quote_value(value: str) -> str:
    """Quote a value the way the library does, so it reads back unchanged."""
    if "\n" in value or "`" in value:
        return _TRIPLE + value + _TRIPLE
    if any(c in value for c in _COMMENT_CHARS) or _unquote(value) != value:
        return f"`{value}`"
    if value.startswith(_TRIPLE):
        return f"`{value}`"
    if value != value.strip():
        return f"`{value}`" if '"' in value else f'"{value}"'
    return value


def _metadata_block(metadata: dict[str, object]) -> list[str]:
    # sops writes these in random (Go map) order; sorted keeps our output stable.
    flat_metadata = flat.flatten(metadata)
    rows: list[_Row] = [
        (key, flat.escape_newlines(flat_metadata[key]), []) for key in sorted(flat_metadata)
    ]
    return [f"[{METADATA_SECTION}]", *_key_lines(METADATA_SECTION, rows)]
