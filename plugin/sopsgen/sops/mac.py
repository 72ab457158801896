"""The SOPS MAC: SHA-512 over the plaintext bytes of the leaves, stored encrypted."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sopsgen.sops.cipher import ValueCipher, mac_bytes
from sopsgen.sops.tree import Scalar

# Fed first when `mac_only_encrypted` is set, so the two modes never share a digest.
_MAC_ONLY_ENCRYPTED_PREFIX = hashlib.sha256(b"sops").digest()


class MacAccumulator:
    """Collects leaf bytes in walk order."""

    def __init__(self, *, mac_only_encrypted: bool) -> None:
        self._hash = hashlib.sha512()
        if mac_only_encrypted:
            self._hash.update(_MAC_ONLY_ENCRYPTED_PREFIX)

    def add(self, value: Scalar) -> None:
        self._hash.update(mac_bytes(value))

    def hexdigest(self) -> str:
        return self._hash.hexdigest().upper()


def format_lastmodified(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mac_aad(lastmodified: str) -> bytes:
    """sops re-formats `lastmodified` at second precision (keeping its offset) before use."""
    text = lastmodified.strip()
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return text.encode()
    offset = moment.utcoffset()
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if offset is None or not offset:
        return (base + "Z").encode()
    return (base + moment.strftime("%z")[:3] + ":" + moment.strftime("%z")[3:]).encode()


def seal_mac(cipher: ValueCipher, digest: str, lastmodified: str) -> str:
    return cipher.encrypt(digest, mac_aad(lastmodified))


def open_mac(cipher: ValueCipher, sealed: str, lastmodified: str) -> str:
    value = cipher.decrypt(sealed, mac_aad(lastmodified), where="sops.mac")
    return value if isinstance(value, str) else ""
