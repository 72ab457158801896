"""YAML emitter in sops's layout: the write side of the YAML store.

Kept apart from the reader so that loading a store (every render) does not compile the
emitter's large character-class regexes.
"""

from __future__ import annotations

import base64
import math
import re

from sopsgen.sops.formats.flat import go_general_float
from sopsgen.sops.formats.yaml import DEFAULT_INDENT, item_count, type_plain
from sopsgen.sops.tree import Comment, Mapping, Sequence, Timestamp
from sopsgen.sops.tree import Node as TreeNode


def dump(
    branches: list[Mapping], metadata: dict[str, object] | None, *, indent: int = DEFAULT_INDENT
) -> bytes:
    emitter = _Emitter(" " * indent)
    documents = []
    for branch in branches:
        body = Mapping(branch)
        if metadata is not None:
            body.append(("sops", _metadata_tree(metadata)))
        lines: list[str] = []
        emitter.mapping(body, "", lines)
        documents.append("".join(lines) if lines else "{}\n")
    return "---\n".join(documents).encode("utf-8")


def _metadata_tree(value: object) -> TreeNode:
    if isinstance(value, dict):
        return Mapping((str(k), _metadata_tree(v)) for k, v in value.items())
    if isinstance(value, list):
        return Sequence(_metadata_tree(v) for v in value)
    assert value is None or isinstance(value, str | int | float | bool)
    return value


class _Emitter:
    """Block-style YAML in sops's layout.

    Keys nest by the indent width; a list sits one indent under its key; a mapping that
    is a list item starts after `- ` and its children nest by the indent width from the dash.
    """

    def __init__(self, indent: str) -> None:
        self.indent = indent

    def mapping(self, mapping: Mapping, prefix: str, lines: list[str], child: str = "") -> None:
        child = child or prefix + self.indent
        for item in mapping:
            if isinstance(item, Comment):
                lines.append(f"{prefix}#{item.text}\n")
                continue
            key, value = item
            self._value(f"{prefix}{_key_text(key)}:", value, child, lines)

    def sequence(self, sequence: Sequence, prefix: str, lines: list[str]) -> None:
        item_prefix = prefix + "  "
        for item in sequence:
            if isinstance(item, Comment):
                lines.append(f"{prefix}#{item.text}\n")
                continue
            if isinstance(item, Mapping | Sequence) and item and not _starts_with_comment(item):
                nested: list[str] = []
                if isinstance(item, Mapping):
                    child = prefix + " " * max(len(self.indent), 4)
                    self.mapping(item, item_prefix, nested, child)
                else:
                    self.sequence(item, item_prefix, nested)
                nested[0] = prefix + "- " + nested[0][len(item_prefix) :]
                lines.extend(nested)
            else:
                self._value(prefix + "-", item, prefix + " " * max(len(self.indent), 4), lines)

    def _value(self, head: str, value: TreeNode, child: str, lines: list[str]) -> None:
        if isinstance(value, Mapping) and item_count(value):
            lines.append(head + "\n")
            self.mapping(value, child, lines)
        elif isinstance(value, Sequence) and item_count(value):
            lines.append(head + "\n")
            self.sequence(value, child, lines)
        elif isinstance(value, Mapping | Sequence):
            # Empty, or holding only comments: sops writes `{}`/`[]`, then the comments.
            lines.append(head + (" {}\n" if isinstance(value, Mapping) else " []\n"))
            indent = head[: len(head) - len(head.lstrip())]
            lines.extend(f"{indent}#{item.text}\n" for item in value if isinstance(item, Comment))
        elif isinstance(value, str) and _literal_ok(value):
            lines.append(f"{head} |{_block_hints(value, len(self.indent))}\n")
            body = value[:-1] if value.endswith("\n") else value
            lines.extend(f"{child}{line}\n" if line else "\n" for line in body.split("\n"))
        else:
            assert not isinstance(value, Comment)
            lines.append(f"{head} {scalar_text(value)}\n")


def _starts_with_comment(node: Mapping | Sequence) -> bool:
    return isinstance(node[0], Comment)


def _key_text(key: str) -> str:
    if key == "<<":
        return "!!merge <<"  # yaml.v3 tags the merge key when it writes it
    return _string_text(key, simple_key=True)


def scalar_text(value: object) -> str:
    """One scalar as YAML text that reads back as the same value and type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, Timestamp):
        return value.text
    if isinstance(value, bytes):
        return "!!binary " + base64.b64encode(value).decode("ascii")
    assert isinstance(value, str)
    return _string_text(value, simple_key=False)


def _float_text(value: float) -> str:
    """As yaml.v3 writes a float64: Go's shortest 'g' form (3.0 -> 3, 1e6 -> 1e+06)."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return go_general_float(value)


# How yaml.v3 (a libyaml port) picks a scalar style. A string that would read back as
# another type is double-quoted. Otherwise plain is tried, then single quotes, then double
# quotes, depending on what the text holds; strings with a newline use a literal block.
_BREAKS = "\n\r\x85\u2028\u2029"
_BLANKZ = " \t" + _BREAKS
# Not printable for yaml.v3 (tab is handled on its own): forces double quotes.
_SPECIAL = re.compile(r"[^\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]")
_NO_PLAIN = re.compile(
    r"^(?:---|\.\.\.)"  # document markers
    r"|^[#,\[\]{}&*!|>'\"%@`]"  # indicators at the start
    rf"|^[?:\-](?:[{_BLANKZ}]|$)"  # `? `, `: `, `- ` at the start
    rf"|:(?:[{_BLANKZ}]|$)"  # a mapping value indicator
    rf"|[{_BLANKZ}]#"  # a comment start
    rf"|^[ {_BREAKS}]|[ {_BREAKS}]$"  # leading or trailing space or break
    rf"|[\t{_BREAKS}]"  # tabs and line breaks
)
# Printable ASCII, no blanks, no indicator first, no `:` last: always plain if a string.
_FAST_PLAIN = re.compile(r"(?!\.\.\.)[A-Za-z0-9_./(=+$^~<;\\][\x21-\x7e]*(?<!:)")
_NO_SINGLE = re.compile(r"\t| [\n\r\x85\u2028\u2029]|[\n\r\x85\u2028\u2029] ")
_NO_BLOCK = re.compile(r" $| [\n\r\x85\u2028\u2029]")
_OLD_BOOLS = frozenset(
    [
        "y",
        "Y",
        "yes",
        "Yes",
        "YES",
        "n",
        "N",
        "no",
        "No",
        "NO",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "OFF",
    ]
)  # YAML 1.1 booleans yaml.v3 still quotes
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_ESCAPES = {
    "\0": "\\0", "\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v",
    "\f": "\\f", "\r": "\\r", "\x1b": "\\e", '"': '\\"', "\\": "\\\\",
    "\x85": "\\N", "\u2028": "\\L", "\u2029": "\\P",
}  # fmt: skip
_DOUBLE_ESCAPE = re.compile(
    r'["\\\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]|[^\x00-\uffff]'
)


def _string_text(text: str, *, simple_key: bool) -> str:
    """Plain, 'single' or "double" quoted (multi-line values are literal blocks earlier)."""
    if text == "<<" and not simple_key:
        return "!!merge <<"  # yaml.v3 resolves it to the merge tag and writes that tag
    if _FAST_PLAIN.fullmatch(text) and not _reads_as_other_type(text):
        return text  # the common case (ENC[...] values, plain words) without the full analysis
    if _reads_as_other_type(text) or "\n" in text or _SPECIAL.search(text):
        return _double_quoted(text)
    if _NO_PLAIN.search(text) is None:
        return text
    if _NO_SINGLE.search(text) is None and not any(c in text for c in _BREAKS):
        return "'" + text.replace("'", "''") + "'"
    return _double_quoted(text)


def _reads_as_other_type(text: str) -> bool:
    if not text or text in _OLD_BOOLS or text == "<<":
        return True
    if _BASE60.fullmatch(text):
        return True
    return type_plain(text) != text


def _literal_ok(text: str) -> bool:
    """A literal block keeps the text exactly (yaml.v3 uses one for every multi-line string)."""
    return "\n" in text and not _SPECIAL.search(text) and not _NO_BLOCK.search(text)


def _block_hints(text: str, indent: int) -> str:
    """Indentation indicator when the text starts with a space or break; then chomping."""
    hint = str(indent) if text[0] in " " + _BREAKS else ""
    if not text.endswith("\n"):
        return hint + "-"
    return hint + ("+" if len(text) == 1 or text[-2] in _BREAKS else "")


def _double_quoted(text: str) -> str:
    return '"' + _DOUBLE_ESCAPE.sub(_escape, text) + '"'


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02X}"
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    return f"\\U{code:08X}"
