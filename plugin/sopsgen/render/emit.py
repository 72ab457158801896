"""The one byte-stable dumper for rendered manifests (YAML and JSON).

Manifests here are trees of `dict` (kept in insertion order: the caller fixes the order),
`list` and `str` (plus `bool`/`int` for KRM results). Nothing depends on the clock, the
hash seed, the locale, the time zone or the working directory:

- mappings keep the order they were built in; `Secret.data`, labels and annotations are
  sorted by the builder, never here;
- YAML: two-space indent, block style, no line folding, strings plain only when that is
  unambiguous in YAML 1.1 and 1.2, otherwise double-quoted with fixed escapes; documents
  separated by `---`; exactly one trailing newline;
- JSON: two-space indent, `ensure_ascii`, documents one after the other (a JSON stream, as
  `kubectl apply -f -` and `jq` read it), exactly one trailing newline.

Written by hand (no PyYAML emitter) so its output cannot drift with a library upgrade.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence

Node = Mapping[str, "Node"] | Sequence["Node"] | str | bool | int

# Plain scalars we allow: conservative, so no YAML 1.1/1.2 resolver reads them as
# anything but a string (no leading indicator, no ': ' or ' #', no trailing space).
_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./=+-]*$")
# Words YAML 1.1 (go-yaml v2, PyYAML) or 1.2 resolve to bool/null, in any case.
_RESERVED = frozenset(
    {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf", "_"}
)
_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\0": "\\0",
    "\a": "\\a",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\v": "\\v",
    "\f": "\\f",
    "\r": "\\r",
    "\x1b": "\\e",
    "\x85": "\\N",
    "\xa0": "\\_",
    "\u2028": "\\L",
    "\u2029": "\\P",
}


def dump_yaml(documents: Iterable[Mapping[str, Node]]) -> bytes:
    """A YAML stream of `documents`, `---` between them, one trailing newline."""
    parts = ["".join(_mapping_lines(doc, 0)) for doc in documents]
    return "---\n".join(parts).encode("utf-8")


def dump_json(documents: Iterable[Mapping[str, Node]]) -> bytes:
    """A stream of indented JSON objects, one trailing newline after each."""
    parts = [json.dumps(doc, indent=2, ensure_ascii=True) + "\n" for doc in documents]
    return "".join(parts).encode("ascii")


def dump(documents: Iterable[Mapping[str, Node]], fmt: str) -> bytes:
    if fmt == "json":
        return dump_json(documents)
    return dump_yaml(documents)


def scalar(text: str | bool | int) -> str:
    """A YAML scalar for one value, plain when unambiguous, else double-quoted."""
    if isinstance(text, bool):
        return "true" if text else "false"
    if isinstance(text, int):
        return str(text)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED and not _looks_numeric(text):
        return text
    return '"' + "".join(_escape(ch) for ch in text) + '"'


def _looks_numeric(text: str) -> bool:
    """Anything a YAML 1.1 resolver could read as a number, date or sexagesimal."""
    return bool(re.match(r"^[-+.]?[0-9]", text)) or text.startswith(".")


def _escape(ch: str) -> str:
    known = _ESCAPES.get(ch)
    if known is not None:
        return known
    code = ord(ch)
    if 0x20 <= code <= 0x7E:
        return ch
    if code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    return ch  # printable non-ASCII: kept as UTF-8


def _mapping_lines(node: Mapping[str, Node], indent: int) -> Iterable[str]:
    pad = " " * indent
    if not node:
        yield "{}\n"  # only reached at top level; nested empties are inline below
        return
    for key, value in node.items():
        head = f"{pad}{scalar(key)}:"
        yield from _value_lines(head, value, indent)


def _value_lines(head: str, value: Node, indent: int) -> Iterable[str]:
    if isinstance(value, Mapping):
        if not value:
            yield f"{head} {{}}\n"
            return
        yield f"{head}\n"
        yield from _mapping_lines(value, indent + 2)
    elif isinstance(value, str | bool | int):
        yield f"{head} {scalar(value)}\n"
    else:
        yield from _sequence_lines(head, value, indent)


def _sequence_lines(head: str, items: Sequence[Node], indent: int) -> Iterable[str]:
    if not items:
        yield f"{head} []\n"
        return
    yield f"{head}\n"
    pad = " " * (indent + 2)
    for item in items:
        if isinstance(item, Mapping) and item:
            lines = list(_mapping_lines(item, indent + 4))
            yield f"{pad}- {lines[0].lstrip()}"
            yield from lines[1:]
        elif isinstance(item, Mapping):
            yield f"{pad}- {{}}\n"
        elif isinstance(item, str | bool | int):
            yield f"{pad}- {scalar(item)}\n"
        else:
            raise TypeError("nested sequences are not used in manifests")
