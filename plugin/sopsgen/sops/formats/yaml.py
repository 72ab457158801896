"""YAML store: parse with PyYAML's composer, type scalars as Go's yaml.v3 does, keep comments.

PyYAML resolves plain scalars by YAML 1.1 (`yes` is true, `1:20` is sexagesimal); sops uses
yaml.v3, and the MAC covers unencrypted leaves as typed, so typing follows yaml.v3 here.
Comments are collected by a scanner hook and placed the way sops places them: own-line
comments before the next key or item of their block (or at the end of the block they are
indented into), an end-of-line comment above the key it follows.
"""

from __future__ import annotations

import base64
import binascii
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import TypeAlias, TypeVar

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from sopsgen.errors import FormatError
from sopsgen.sops.cipher import canonical_time
from sopsgen.sops.formats.base import Loaded
from sopsgen.sops.tree import Comment, Mapping, Sequence, Timestamp
from sopsgen.sops.tree import Node as TreeNode

NAME = "yaml"
DEFAULT_INDENT = 4
_PLAIN = "!plain"  # marks an untagged plain scalar, typed later by yaml.v3's rules
_STR = "tag:yaml.org,2002:str"
_YAML_TAG = "tag:yaml.org,2002:"


class _GoResolver(BaseResolver):
    """Leaves plain scalars untyped so `type_plain` can apply yaml.v3's rules."""

    def resolve(self, kind: type[Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class _FoundComment:
    line: int
    column: int
    text: str
    inline: bool


class _CommentScanner(Reader, Scanner):
    """PyYAML's scanner, recording the comments it skips and the `---` lines.

    It subclasses `Reader` too (as the loader does) so the reader state it uses is typed.
    """

    found_comments: list[_FoundComment]
    document_starts: list[int]

    def scan_to_next_token(self) -> None:
        if self.index == 0 and self.peek() == "\ufeff":
            self.forward()
        while True:
            while self.peek() == " ":
                self.forward()
            if self.peek() == "#":
                self._record_comment()
            if self.scan_line_break():  # type: ignore[no-untyped-call]
                if not self.flow_level:
                    self.allow_simple_key = True
            else:
                return

    def _record_comment(self) -> None:
        line, column = self.line, self.column
        line_start = self.buffer.rfind("\n", 0, self.pointer) + 1
        inline = self.buffer[line_start : self.pointer].strip() != ""
        start = self.pointer
        while self.peek() not in "\0\r\n\x85\u2028\u2029":
            self.forward()
        text = self.buffer[start + 1 : self.pointer]
        self.found_comments.append(_FoundComment(line, column, text, inline))

    def fetch_document_start(self) -> None:
        self.document_starts.append(self.line)
        super().fetch_document_start()


class _CommentLoader(_CommentScanner, Parser, Composer, _GoResolver):
    def __init__(self, stream: str) -> None:
        self.found_comments = []
        self.document_starts = []
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _GoResolver.__init__(self)


try:  # libyaml's parser (the yaml package itself does not export CParser)
    from yaml._yaml import CParser as _CParser

    _HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _HAVE_LIBYAML = False


if _HAVE_LIBYAML:

    class _FastLoader(_CParser, _GoResolver):
        """libyaml's parser with the same resolver; used when a file has no comments."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _GoResolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml
    _FastLoader = None  # type: ignore[assignment,misc]


# ---------------------------------------------------------------------------- load


def load(data: bytes) -> Loaded:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"YAML input is not UTF-8 (byte {exc.start})") from exc
    roots, comments, starts = _compose(text)
    if not roots:
        raise FormatError("YAML input holds no document", hint="an empty file cannot be encrypted")
    builder = _TreeBuilder(track=bool(comments))
    branches = [builder.branch(root, index) for index, root in enumerate(roots)]
    if comments:
        builder.place_comments(branches, roots, comments, starts)
    metadata = _take_metadata(branches)
    return Loaded(branches=[b.without("sops") for b in branches], metadata=metadata)


def _compose(text: str) -> tuple[list[Node], list[_FoundComment], list[int]]:
    loader: _CommentLoader | _FastLoader
    loader = (
        _FastLoader(text) if "#" not in text and _FastLoader is not None else _CommentLoader(text)
    )
    roots: list[Node] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                roots.append(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise FormatError(f"YAML input cannot be parsed{where}: {problem}") from exc
    finally:
        loader.dispose()
    if isinstance(loader, _CommentLoader):
        return roots, loader.found_comments, loader.document_starts
    return roots, [], []


def _take_metadata(branches: list[Mapping]) -> dict[str, object] | None:
    raw = branches[0].get("sops") if branches else None
    if raw is None:
        return None
    plain = _plain_data(raw)
    return plain if isinstance(plain, dict) else {"": plain}


def _plain_data(node: TreeNode) -> object:
    """Metadata as plain data; a timestamp stays the text it was written as."""
    if isinstance(node, Mapping):
        return {key: _plain_data(value) for key, value in node.entries()}
    if isinstance(node, Sequence):
        return [_plain_data(item) for item in node if not isinstance(item, Comment)]
    if isinstance(node, Timestamp):
        return node.text
    return node


_Container: TypeAlias = Mapping | Sequence
_T = TypeVar("_T")


@dataclass
class _Anchor:
    """Where a block-collection item starts: comments are placed relative to these."""

    line: int
    column: int
    container: _Container  # the Mapping or Sequence being built
    index: int  # position of the item among the container's non-comment items
    document: int
    flow: _Container | None = None  # the value, when it is a flow collection (`[1, 2]`)


@dataclass
class _TreeBuilder:
    track: bool = True  # record item positions; only needed to place comments
    anchors: list[_Anchor] = field(default_factory=list)

    def branch(self, root: Node, document: int) -> Mapping:
        if not isinstance(root, MappingNode):
            raise FormatError(
                f"YAML document {document + 1} is not a mapping at its top level",
                hint="sops stores need a mapping (key: value) at the top of every document",
            )
        self._document = document
        built = self.node(root)
        assert isinstance(built, Mapping)
        return built

    def node(self, node: Node) -> TreeNode:
        if isinstance(node, MappingNode):
            return self._mapping(node)
        if isinstance(node, SequenceNode):
            return self._sequence(node)
        assert isinstance(node, ScalarNode)
        return _type_scalar(node)

    def _mapping(self, node: MappingNode) -> Mapping:
        out = Mapping()
        block = self.track and node.flow_style is not True
        for index, (key_node, value_node) in enumerate(node.value):
            key = self._key(key_node)
            anchor = None
            if block:
                mark = key_node.start_mark
                anchor = _Anchor(mark.line, mark.column, out, index, self._document)
                self.anchors.append(anchor)
            value = self.node(value_node)
            if anchor is not None and _is_flow(value_node):
                assert isinstance(value, Mapping | Sequence)
                anchor.flow = value
            out.append((key, value))
        return out

    def _sequence(self, node: SequenceNode) -> Sequence:
        out = Sequence()
        dash_column = node.start_mark.column
        block = self.track and node.flow_style is not True
        for index, item in enumerate(node.value):
            if block:
                line = _item_line(item)
                self.anchors.append(_Anchor(line, dash_column, out, index, self._document))
            out.append(self.node(item))
        return out

    def _key(self, node: Node) -> str:
        if isinstance(node, ScalarNode):
            value = _type_scalar(node)
            if node.tag == "tag:yaml.org,2002:merge" or node.value == "<<":
                return "<<"
            if isinstance(value, str):
                return value
        line = node.start_mark.line + 1
        raise FormatError(f"YAML key at line {line} is not a string", hint="quote the key")

    # -- comments ---------------------------------------------------------------

    def place_comments(
        self,
        branches: list[Mapping],
        roots: list[Node],
        comments: list[_FoundComment],
        starts: list[int],
    ) -> None:
        plan: dict[int, dict[int, list[Comment]]] = {}  # container id -> index -> comments
        containers: dict[int, _Container] = {id(b): b for b in branches}
        for anchor in self.anchors:
            containers[id(anchor.container)] = anchor.container
            if anchor.flow is not None:
                containers[id(anchor.flow)] = anchor.flow
        lines = [a.line for a in self.anchors]
        for found in comments:
            document = _document_of(found.line, starts, roots)
            container, index = self._target(found, lines, document, branches)
            plan.setdefault(id(container), {}).setdefault(index, []).append(Comment(found.text))
        for container_id, inserts in plan.items():
            _insert_comments(containers[container_id], inserts)

    @staticmethod
    def _inline_target(
        found: _FoundComment, previous: _Anchor, following: _Anchor | None
    ) -> tuple[_Container, int]:
        """An end-of-line comment, placed as sops places it.

        After a key's value: above that key. After a flow collection: its first item
        (even when it is empty). After a bare `- `: before that item.
        """
        if previous.line != found.line and following is not None:
            return following.container, following.index
        if previous.flow is not None:
            return previous.flow, 0
        return previous.container, previous.index

    def _target(
        self, found: _FoundComment, lines: list[int], document: int, branches: list[Mapping]
    ) -> tuple[_Container, int]:
        position = bisect_right(lines, found.line)
        previous = self.anchors[position - 1] if position else None
        following = self.anchors[position] if position < len(self.anchors) else None
        if previous is not None and previous.document != document:
            previous = None
        if following is not None and following.document != document:
            following = None
        if found.inline and previous is not None:
            return self._inline_target(found, previous, following)
        if following is not None and (found.column <= following.column or previous is None):
            return following.container, following.index
        if previous is None:
            return branches[document], len(branches[document])
        if following is None and found.column == 0:
            return branches[document], item_count(branches[document])
        # Indented past the next key: it closes the innermost block above it.
        return previous.container, item_count(previous.container)


def _is_flow(node: Node) -> bool:
    return isinstance(node, MappingNode | SequenceNode) and node.flow_style is True


def _item_line(node: Node) -> int:
    if isinstance(node, MappingNode) and node.value and node.flow_style is not True:
        return int(node.value[0][0].start_mark.line)
    return int(node.start_mark.line)


def item_count(container: _Container) -> int:
    return sum(1 for item in container if not isinstance(item, Comment))


def _document_of(line: int, starts: list[int], roots: list[Node]) -> int:
    if len(roots) == 1:
        return 0
    first_root_line = roots[0].start_mark.line
    explicit_first = bool(starts) and starts[0] <= first_root_line
    index = bisect_right(starts, line) - (1 if explicit_first else 0)
    return max(0, min(index, len(roots) - 1))


def _insert_comments(container: _Container, inserts: dict[int, list[Comment]]) -> None:
    """Insert comments before the n-th item (or at the end) of a comment-free container."""
    if isinstance(container, Mapping):
        container[:] = _interleave(list(container), inserts)
    else:
        container[:] = _interleave(list(container), inserts)


def _interleave(items: list[_T], inserts: dict[int, list[Comment]]) -> list[_T | Comment]:
    rebuilt: list[_T | Comment] = []
    for index, item in enumerate(items):
        rebuilt.extend(inserts.get(index, []))
        rebuilt.append(item)
    rebuilt.extend(inserts.get(len(items), []))
    return rebuilt


# ---------------------------------------------------------------------------- typing

_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_NULL = {"", "~", "null", "Null", "NULL"}
_NAN = {".nan", ".NaN", ".NAN"}
_INF = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"}
_NEG_INF = {"-.inf", "-.Inf", "-.INF"}
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INT_FORMS = (
    (re.compile(r"[-+]?0[xX][0-9a-fA-F]+"), 16, 2),
    (re.compile(r"[-+]?0[oO][0-7]+"), 8, 2),
    (re.compile(r"[-+]?0[bB][01]+"), 2, 2),
    (re.compile(r"[-+]?0[0-7]+"), 8, 1),
    (re.compile(r"[-+]?[0-9]+"), 10, 0),
)
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DATETIME = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt]|[ \t]+)(\d{1,2}):(\d{2}):(\d{2})(\.\d*)?"
    r"(?:[ \t]*(Z|[-+]\d{2}:\d{2}))?"
)


def _type_scalar(node: ScalarNode) -> TreeNode:
    value: str = node.value
    tag: str = node.tag
    if tag == _STR:
        return value
    if tag == _PLAIN:
        return type_plain(value)
    if tag == _YAML_TAG + "binary":
        try:
            raw = base64.b64decode("".join(value.split()), validate=True)
        except binascii.Error as exc:
            line = node.start_mark.line + 1
            raise FormatError(f"YAML !!binary value at line {line} is not base64") from exc
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    if tag == _YAML_TAG + "merge":
        return "<<"
    return type_plain(value)  # !!int, !!float, !!timestamp, custom tags: type by content


def type_plain(value: str) -> TreeNode:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if value in _NULL:
        return None
    if value in _NAN:
        return float("nan")
    if value in _INF:
        return float("inf")
    if value in _NEG_INF:
        return float("-inf")
    first = value[0]
    if first == "." and _FLOAT.fullmatch(value):
        return float(value)
    if not (first.isdigit() or first in "+-"):
        return value
    stamp = _timestamp(value)
    if stamp is not None:
        return stamp
    number = _integer(value.replace("_", ""))
    if number is not None:
        return number
    if _FLOAT.fullmatch(value.replace("_", "")):
        return float(value.replace("_", ""))
    return value


def _integer(text: str) -> int | None:
    for pattern, base, prefix in _INT_FORMS:
        if pattern.fullmatch(text):
            sign = -1 if text[0] == "-" else 1
            digits = text.lstrip("+-")[prefix:]
            number = sign * int(digits, base)
            if number > 2**63 - 1:
                raise FormatError(
                    "YAML integer does not fit in 64 bits", hint="quote it as a string"
                )
            return number if number >= -(2**63) else None
    return None


def _timestamp(value: str) -> Timestamp | None:
    if len(value) < 8 or not value[:4].isdigit() or value[4] != "-":
        return None
    date = _DATE.fullmatch(value)
    if date is not None:
        y, m, d = (int(part) for part in date.groups())
        return _safe_time(f"{y:04d}-{m:02d}-{d:02d}T00:00:00Z")
    match = _DATETIME.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    separator_is_t = value[len(year) + len(month) + len(day) + 2] in "Tt"
    if separator_is_t and zone is None:
        return None
    return _safe_time(
        f"{int(year):04d}-{int(month):02d}-{int(day):02d}T{int(hour):02d}:{minute}:{second}"
        f"{fraction or ''}{zone or 'Z'}"
    )


def _safe_time(text: str) -> Timestamp | None:
    try:
        return Timestamp(canonical_time(text))
    except ValueError:
        return None


# ---------------------------------------------------------------------------- dump


def dump(
    branches: list[Mapping], metadata: dict[str, object] | None, *, indent: int = DEFAULT_INDENT
) -> bytes:
    """The YAML text of the branches (plus the `sops` block in every document when given)."""
    from sopsgen.sops.formats import yaml_emit  # the emitter: only writers pay for it

    return yaml_emit.dump(branches, metadata, indent=indent)
