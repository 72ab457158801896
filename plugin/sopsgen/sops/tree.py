"""The ordered tree every store parses into, and the one leaf walk over it.

A document is a list of branches (one per YAML document; one for every other format).
A branch is a `Mapping`: an ordered list of `(key, value)` entries and `Comment` nodes,
duplicates allowed (JSON and INI keep them). A `Sequence` holds values and comments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeAlias, Union


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment line; `text` is everything after the `#` (or `;` in INI)."""

    text: str


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A YAML timestamp, kept as its canonical RFC 3339 text (nanosecond precision)."""

    text: str


Scalar: TypeAlias = str | bytes | bool | int | float | Timestamp | None
Node: TypeAlias = Union["Mapping", "Sequence", Scalar, Comment]
Entry: TypeAlias = tuple[str, Node]


class Mapping(list[Entry | Comment]):
    """An ordered map that keeps duplicate keys and comment nodes in place."""

    def get(self, key: str, default: Node = None) -> Node:
        for item in self:
            if not isinstance(item, Comment) and item[0] == key:
                return item[1]
        return default

    def keys(self) -> list[str]:
        return [item[0] for item in self if not isinstance(item, Comment)]

    def entries(self) -> Iterator[Entry]:
        for item in self:
            if not isinstance(item, Comment):
                yield item

    def without(self, key: str) -> Mapping:
        return Mapping(i for i in self if isinstance(i, Comment) or i[0] != key)

    def set(self, key: str, value: Node) -> None:
        """Replace the first entry named `key` in place, or append a new one."""
        for index, item in enumerate(self):
            if not isinstance(item, Comment) and item[0] == key:
                self[index] = (key, value)
                return
        self.append((key, value))


class Sequence(list[Node]):
    """An ordered list of values; may hold `Comment` nodes."""


# The comment stack: one list of comment texts per open container (see `walk`).
CommentStack: TypeAlias = list[list[str]]


@dataclass(slots=True)
class Leaf:
    """One scalar or comment met by the walk, with what the selection rules need."""

    path: tuple[str, ...]
    value: Scalar | Comment
    comments: CommentStack
    in_sequence: bool

    @property
    def aad(self) -> bytes:
        """Additional authenticated data: map keys joined by ':', plus a trailing ':'."""
        return ("".join(part + ":" for part in self.path) or ":").encode()


Visitor: TypeAlias = Callable[[Leaf], Node]


def walk(branches: list[Mapping], visit: Visitor) -> list[Mapping]:
    """Rebuild every branch, replacing each non-null scalar and comment by `visit(leaf)`.

    Depth-first, in document order. The comment stack gets a new level per container;
    a comment joins the current level before it is visited, and the level is cleared
    after each non-comment item, so a leaf sees the comments right above it and above
    each of its ancestors.
    """
    return [_walk_mapping(branch, (), [], visit) for branch in branches]


def _walk_mapping(
    mapping: Mapping, path: tuple[str, ...], stack: CommentStack, visit: Visitor
) -> Mapping:
    stack.append([])
    out = Mapping()
    for item in mapping:
        if isinstance(item, Comment):
            stack[-1].append(item.text)
            out.append(_as_comment(visit(Leaf(path, item, stack, False))))
        else:
            key, value = item
            out.append((key, _walk_node(value, (*path, key), stack, visit, False)))
            stack[-1] = []
    stack.pop()
    return out


def _walk_sequence(
    sequence: Sequence, path: tuple[str, ...], stack: CommentStack, visit: Visitor
) -> Sequence:
    stack.append([])
    out = Sequence()
    for item in sequence:
        if isinstance(item, Comment):
            stack[-1].append(item.text)
            out.append(visit(Leaf(path, item, stack, True)))
        else:
            out.append(_walk_node(item, path, stack, visit, True))
            stack[-1] = []
    stack.pop()
    return out


def _walk_node(
    node: Node, path: tuple[str, ...], stack: CommentStack, visit: Visitor, in_sequence: bool
) -> Node:
    if isinstance(node, Mapping):
        return _walk_mapping(node, path, stack, visit)
    if isinstance(node, Sequence):
        return _walk_sequence(node, path, stack, visit)
    if node is None:
        return None
    return visit(Leaf(path, node, stack, in_sequence))


def _as_comment(node: Node) -> Comment:
    if not isinstance(node, Comment):
        raise TypeError("a comment inside a mapping must stay a comment")
    return node


def to_python(node: Node) -> object:
    """A plain dict/list view (comments dropped, later duplicate keys win) for comparisons."""
    if isinstance(node, Mapping):
        return {key: to_python(value) for key, value in node.entries()}
    if isinstance(node, Sequence):
        return [to_python(item) for item in node if not isinstance(item, Comment)]
    return node


def from_python(value: object) -> Node:
    """Build a tree from plain dicts, lists and scalars (dict order kept)."""
    if isinstance(value, dict):
        return Mapping((str(key), from_python(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return Sequence(from_python(item) for item in value)
    if value is None or isinstance(value, str | bytes | bool | int | float | Timestamp | Comment):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a SOPS tree")
