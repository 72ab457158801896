"""AES-256-GCM value codec: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` and the type tags.

`ValueCipher` remembers the ciphertext of every value it decrypted, keyed by path, type
and plaintext, and hands the same text back when that value is encrypted again under
the same data key: re-saving a document changes only what really changed.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sopsgen.errors import FormatError, IntegrityError
from sopsgen.sops.tree import Comment, Scalar, Timestamp

IV_SIZE = 32
TAG_SIZE = 16
ENC_PREFIX = "ENC[AES256_GCM,"
_ENC = re.compile(r"^ENC\[AES256_GCM,data:(.+?),iv:(.+?),tag:(.+?),type:(.+?)\]")

RandomSource = Callable[[int], bytes]


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and value.startswith(ENC_PREFIX)


class ValueCipher:
    """Encrypts and decrypts single values under one data key."""

    def __init__(self, data_key: bytes, *, random: RandomSource = os.urandom) -> None:
        if len(data_key) != 32:
            raise IntegrityError("the data key is not 32 bytes long")
        self._aead = AESGCM(data_key)
        self._random = random
        # Ciphertexts seen per (aad, type, plaintext), in document order: equal values
        # under one key (list elements) each get their own text back, in order.
        self._known: dict[tuple[bytes, str, bytes], list[str]] = {}
        self._used: dict[tuple[bytes, str, bytes], int] = {}

    def start_pass(self) -> None:
        """Begin re-encrypting a whole document: known ciphertexts are handed out anew."""
        self._used.clear()

    def encrypt(self, value: Scalar | Comment, aad: bytes) -> str:
        type_name, plaintext = encode_plaintext(value)
        key = (aad, type_name, plaintext)
        known = self._known.get(key)
        if known:
            used = self._used.get(key, 0)
            if used < len(known):
                self._used[key] = used + 1
                return known[used]
        iv = self._random(IV_SIZE)
        sealed = self._aead.encrypt(iv, plaintext, aad)
        return (
            f"ENC[AES256_GCM,data:{_b64(sealed[:-TAG_SIZE])},iv:{_b64(iv)},"
            f"tag:{_b64(sealed[-TAG_SIZE:])},type:{type_name}]"
        )

    def decrypt(self, text: str, aad: bytes, *, where: str) -> Scalar | Comment:
        """Open one ENC string; `where` names the value in errors (never its content)."""
        type_name, plaintext = self.open(text, aad, where=where)
        known = self._known.setdefault((aad, type_name, plaintext), [])
        if text not in known:
            known.append(text)
        return decode_plaintext(type_name, plaintext, where=where)

    def open(self, text: str, aad: bytes, *, where: str) -> tuple[str, bytes]:
        match = _ENC.match(text)
        if match is None:
            raise IntegrityError(
                f"{where} should be encrypted but is not an ENC[AES256_GCM,...] value",
                hint="the file was edited by hand or is corrupted",
            )
        try:
            data, iv, tag = (base64.b64decode(part, validate=True) for part in match.groups()[:3])
        except binascii.Error as exc:
            raise IntegrityError(f"{where} has a malformed ENC value (bad base64)") from exc
        if len(tag) != TAG_SIZE or not iv:
            raise IntegrityError(f"{where} has a malformed ENC value (bad tag or iv length)")
        try:
            plaintext = self._aead.decrypt(iv, data + tag, aad)
        except InvalidTag as exc:
            raise IntegrityError(
                f"{where} failed authentication: the value was altered, moved to another "
                "key, or encrypted under another data key",
                hint="restore the file from git",
            ) from exc
        return match.group(4), plaintext


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encode_plaintext(value: Scalar | Comment) -> tuple[str, bytes]:
    """The type tag and the canonical plaintext bytes of a value (also the MAC bytes)."""
    if isinstance(value, Comment):
        return "comment", value.text.encode()
    if isinstance(value, bool):
        return "bool", b"True" if value else b"False"
    if isinstance(value, int):
        return "int", str(value).encode()
    if isinstance(value, float):
        return "float", format_float(value).encode()
    if isinstance(value, Timestamp):
        return "time", value.text.encode()
    if isinstance(value, bytes):
        return "str", value
    if isinstance(value, str):
        return "str", value.encode("utf-8", "surrogateescape")
    raise FormatError(f"a {type(value).__name__} value cannot be encrypted")


def mac_bytes(value: Scalar) -> bytes:
    return encode_plaintext(value)[1]


def format_float(value: float) -> str:
    """Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, no exponent."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    from decimal import Decimal  # floats are rare in stores: keep the import off render

    text = format(Decimal(repr(value)).normalize(), "f")
    if text == "0" and str(value).startswith("-"):
        return "-0"
    return text


_INT = re.compile(r"[+-]?[0-9]+")
_BOOLS = {
    "1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
    "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False,
}  # fmt: skip
_FLOAT_SPECIAL = {
    "+inf": float("inf"),
    "inf": float("inf"),
    "-inf": float("-inf"),
    "nan": float("nan"),
}
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def decode_plaintext(type_name: str, plaintext: bytes, *, where: str) -> Scalar | Comment:
    """Turn decrypted text back into a typed value, as sops parses each type tag."""
    try:
        if type_name in ("str", "bytes"):
            try:
                return plaintext.decode("utf-8")
            except UnicodeDecodeError:
                return plaintext
        text = plaintext.decode("utf-8")
        if type_name == "comment":
            return Comment(text)
        if type_name == "int" and _INT.fullmatch(text) and -(2**63) <= int(text) < 2**63:
            return int(text)
        if type_name == "float":
            if text.lower() in _FLOAT_SPECIAL:
                return _FLOAT_SPECIAL[text.lower()]
            if _FLOAT.fullmatch(text):
                return float(text)
        if type_name == "bool" and text in _BOOLS:
            return _BOOLS[text]
        if type_name == "time":
            return Timestamp(canonical_time(text))
    except (UnicodeDecodeError, ValueError) as exc:
        raise IntegrityError(
            f"{where} decrypted to a value that is not a valid {type_name}"
        ) from exc
    raise IntegrityError(f"{where} has an unknown type tag or an invalid {type_name} value")


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|z|[+-]\d{2}:\d{2})"
)


def canonical_time(text: str) -> str:
    """RFC 3339 with nanoseconds, trailing fraction zeros dropped, `Z` for UTC."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError("not an RFC 3339 timestamp")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))  # validates
    frac = (fraction or "")[1:10].rstrip("0")
    zone = "Z" if zone in ("Z", "z", "+00:00") else zone
    return f"{year}-{month}-{day}T{hour}:{minute}:{second}{'.' + frac if frac else ''}{zone}"
