"""Value makers (one per recipe) and the check that a stored value fits its recipe.

Randomness comes from the OS CSPRNG through `secrets`; tests inject a `RandomSource`.
`validate` describes a problem without ever quoting the value.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import uuid
from collections.abc import Callable
from typing import Protocol

from sopsgen.errors import ConfigError
from sopsgen.generate.spec import ValueSpec

_HEX = re.compile(r"^[0-9a-fA-F]*$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class RandomSource(Protocol):
    """What the makers need from a random source; `secrets` is the default."""

    def token_bytes(self, count: int) -> bytes: ...

    def randbelow(self, upper: int) -> int: ...


class SystemRandomSource:
    """The OS CSPRNG, via the `secrets` module."""

    def token_bytes(self, count: int) -> bytes:
        return secrets.token_bytes(count)

    def randbelow(self, upper: int) -> int:
        return secrets.randbelow(upper)


SYSTEM_RANDOM = SystemRandomSource()


def recipe_string(value: ValueSpec) -> str:
    """The recipe as written to the store's metadata, e.g. `bytes/32/base64`."""
    return value.recipe


def make_value(value: ValueSpec, rng: RandomSource = SYSTEM_RANDOM) -> str:
    """A fresh value for a generated recipe, as the text stored and rendered."""
    maker = _MAKERS.get(value.kind)
    if maker is None:
        raise ConfigError(
            f"{value.origin}: a {value.kind} value is not generated",
            hint="constant values come from the spec; set provided ones with `sopsgen set`",
        )
    return maker(value, rng)


def make_bytes(value: ValueSpec, rng: RandomSource) -> str:
    """N random bytes as standard padded base64 (like `openssl rand -base64 N`) or hex."""
    raw = rng.token_bytes(_length(value))
    if value.encoding == "hex":
        return raw.hex()
    return base64.b64encode(raw).decode("ascii")


def make_password(value: ValueSpec, rng: RandomSource) -> str:
    # randbelow is unbiased, so every character of the alphabet is equally likely.
    alphabet = value.alphabet or ""
    return "".join(alphabet[rng.randbelow(len(alphabet))] for _ in range(_length(value)))


def make_hex(value: ValueSpec, rng: RandomSource) -> str:
    length = _length(value)
    return rng.token_bytes((length + 1) // 2).hex()[:length]


def make_uuid(value: ValueSpec, rng: RandomSource) -> str:
    return str(uuid.UUID(bytes=rng.token_bytes(16), version=4))


_MAKERS: dict[str, Callable[[ValueSpec, RandomSource], str]] = {
    "bytes": make_bytes,
    "password": make_password,
    "hex": make_hex,
    "uuid": make_uuid,
}


def _length(value: ValueSpec) -> int:
    if value.length is None:
        raise ConfigError(f"{value.origin}: the recipe has no length")
    return value.length


# ---------------------------------------------------------------------------- validation


def validate(value: ValueSpec, text: str) -> str | None:
    """A description of why `text` does not fit the recipe, or None when it fits."""
    if text == "":
        return "is empty"
    if text != text.strip():
        return "has leading or trailing whitespace"
    if value.kind == "bytes":
        return _check_bytes(text, _length(value), value.encoding or "base64")
    if value.kind == "password":
        return _check_password(value, text)
    if value.kind == "hex":
        return _check_hex_text(text, _length(value))
    if value.kind == "uuid":
        return None if _UUID.match(text) else "is not a UUID (8-4-4-4-12 hex digits)"
    if value.kind == "constant":
        return None if text == value.constant else "differs from the constant in the spec"
    return _check_format(value.format, text)


def _check_bytes(text: str, count: int, encoding: str) -> str | None:
    if encoding == "hex":
        return _check_hex_text(text, 2 * count)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return "is not standard base64"
    if base64.b64encode(raw).decode("ascii") != text:
        return "is not canonical padded base64"
    if len(raw) != count:
        return f"decodes to {len(raw)} bytes, expected {count}"
    return None


def _check_hex_text(text: str, length: int) -> str | None:
    if not _HEX.match(text):
        return "contains characters other than hex digits"
    if len(text) != length:
        return f"has {len(text)} hex digits, expected {length}"
    return None


def _check_password(value: ValueSpec, text: str) -> str | None:
    if len(text) != value.length:
        return f"has {len(text)} characters, expected {value.length}"
    alphabet = set(value.alphabet or "")
    if any(char not in alphabet for char in text):
        return f"contains characters outside the {value.charset} charset"
    return None


def _check_format(fmt: str | None, text: str) -> str | None:
    """Checks of a `provided` value's optional format: base64-N, hex-N (N bytes) or uuid."""
    if fmt is None:
        return None
    if fmt == "uuid":
        return None if _UUID.match(text) else "is not a UUID (8-4-4-4-12 hex digits)"
    encoding, _, count = fmt.partition("-")
    return _check_bytes(text, int(count), encoding)
