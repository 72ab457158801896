"""JSON store: key order and duplicate keys kept, every number a float, Go-style output.

sops (up to 3.13.1) reads every JSON number as a 64-bit float and writes with Go's
encoding/json conventions, which this module reproduces byte for byte so a file
re-saved here diffs cleanly against one written by sops.
"""

from __future__ import annotations

import json as _json
import math
from typing import Final

from sopsgen.errors import FormatError
from sopsgen.sops.cipher import format_float
from sopsgen.sops.formats.base import Loaded
from sopsgen.sops.tree import Comment, Mapping, Node, Sequence, Timestamp, from_python

NAME: Final = "json"
name: str = NAME  # lets the module satisfy the `Format` protocol

METADATA_KEY: Final = "sops"
DEFAULT_INDENT: Final = "\t"

# Characters Go's encoder escapes beyond `"` and `\`: `<>&` for HTML safety, the two
# JavaScript line separators, and the control range (short forms where Go has them).
_SHORT_ESCAPES: Final = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_HEX_ESCAPED: Final = frozenset("<>&\u2028\u2029")


# --- reading ---------------------------------------------------------------------------


def load(data: bytes) -> Loaded:
    branch = parse_object(data)
    metadata = _take_metadata(branch)
    return Loaded([branch.without(METADATA_KEY)], metadata)


def parse_object(data: bytes) -> Mapping:
    """Parse a JSON document whose top level must be an object."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"JSON input is not valid UTF-8 (byte {exc.start})") from exc
    try:
        value = _json.loads(
            text,
            object_pairs_hook=Mapping,
            parse_int=float,  # sops <= 3.13.1: every number is a float
            parse_float=float,
            parse_constant=_reject_constant,
        )
    except _json.JSONDecodeError as exc:
        raise FormatError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(value, Mapping):
        raise FormatError("the top level of a JSON file must be an object")
    return _as_tree(value)


def _reject_constant(token: str) -> float:
    # Go's decoder has no NaN/Infinity literals; refuse them as sops does.
    raise FormatError(f"invalid JSON: {token} is not a JSON value")


def _as_tree(mapping: Mapping) -> Mapping:
    """Arrays come back from the stdlib as lists; make them `Sequence`s throughout."""
    return Mapping((key, _node(value)) for key, value in mapping.entries())


def _node(value: object) -> Node:
    if isinstance(value, Mapping):
        return _as_tree(value)
    if isinstance(value, list):
        return Sequence(_node(item) for item in value)
    if value is None or isinstance(value, str | bool | float):
        return value
    raise TypeError(f"unexpected JSON value {type(value).__name__}")


def _take_metadata(branch: Mapping) -> dict[str, object] | None:
    found: list[Node] = [value for key, value in branch.entries() if key == METADATA_KEY]
    if not found:
        return None
    block = found[-1]  # Go's decoder lets a later duplicate win
    if not isinstance(block, Mapping):
        raise FormatError("the top-level 'sops' entry of the JSON file is not an object")
    return metadata_from_tree(block)


def metadata_from_tree(block: Mapping) -> dict[str, object]:
    """A plain dict view of the metadata; whole-number floats become ints (thresholds)."""
    result = _plain(block)
    assert isinstance(result, dict)
    return result


def _plain(node: Node) -> object:
    if isinstance(node, Mapping):
        return {key: _plain(value) for key, value in node.entries()}
    if isinstance(node, Sequence):
        return [_plain(item) for item in node if not isinstance(item, Comment)]
    if isinstance(node, float) and node.is_integer():
        return int(node)
    return node


# --- writing ---------------------------------------------------------------------------


def dump(
    branches: list[Mapping], metadata: dict[str, object] | None, *, indent: str = DEFAULT_INDENT
) -> bytes:
    branch = _single_branch(branches)
    if metadata is not None:
        branch = Mapping(branch)
        branch.append((METADATA_KEY, from_python(metadata)))
    return (encode(branch, indent=indent) + "\n").encode("utf-8")


def _single_branch(branches: list[Mapping]) -> Mapping:
    if len(branches) != 1:
        raise FormatError(
            f"a JSON file holds exactly one document, got {len(branches)}",
            hint="write multi-document YAML as YAML",
        )
    return branches[0]


def encode(node: Node, *, indent: str = DEFAULT_INDENT, level: int = 0) -> str:
    """One value in Go's indented JSON form (no trailing newline)."""
    if isinstance(node, Mapping):
        items = [
            f"{encode_string(k)}: {encode(v, indent=indent, level=level + 1)}"
            for k, v in node.entries()
        ]
        return _block("{", items, "}", indent, level)
    if isinstance(node, Sequence):
        values = [
            encode(v, indent=indent, level=level + 1) for v in node if not isinstance(v, Comment)
        ]
        return _block("[", values, "]", indent, level)
    return encode_scalar(node)


def _block(open_: str, items: list[str], close: str, indent: str, level: int) -> str:
    if not items:
        return open_ + close  # Go keeps empty containers inline
    inner = "\n" + indent * (level + 1)
    return open_ + inner + ("," + inner).join(items) + "\n" + indent * level + close


def encode_scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return encode_float(value)
    if isinstance(value, str):
        return encode_string(value)
    if isinstance(value, bytes):
        return encode_string(value.decode("utf-8", errors="replace"))
    if isinstance(value, Timestamp):
        return encode_string(value.text)
    raise FormatError(f"cannot write a {type(value).__name__} value as JSON")


def encode_float(value: float) -> str:
    """Go encoding/json: 'f' format unless the exponent is < -6 or >= 21, then tidy 'e'."""
    if math.isnan(value) or math.isinf(value):
        raise FormatError("JSON cannot hold NaN or infinite numbers")
    magnitude = abs(value)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        return format_float(value)
    return _exponent_form(value)


def _exponent_form(value: float) -> str:
    text = exponent_form(value)
    return text.replace("e-0", "e-")  # Go's JSON encoder trims e-07 to e-7


def exponent_form(value: float) -> str:
    """Go's shortest 'e' form: d.ddde+XX, exponent padded to two digits."""
    digits, point = shortest_digits(abs(value))
    sign = "-" if value < 0 else ""
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exp = point - 1
    return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def shortest_digits(magnitude: float) -> tuple[str, int]:
    """Shortest significant digits of a positive float and its point position.

    The value equals 0.DIGITS * 10**point; repr already gives the shortest round-trip digits.
    """
    mantissa, _, exp_text = repr(magnitude).partition("e")
    whole, _, frac = mantissa.partition(".")
    joined = whole + frac
    stripped = joined.lstrip("0")
    point = len(whole) + int(exp_text or 0) - (len(joined) - len(stripped))
    return stripped.rstrip("0") or "0", point


def encode_string(text: str) -> str:
    out = ['"']
    for char in text:
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif char < " " or char in _HEX_ESCAPED:
            out.append(f"\\u{ord(char):04x}")
        elif "\ud800" <= char <= "\udfff":
            out.append("\ufffd")  # lone surrogates are not UTF-8; Go writes U+FFFD
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
