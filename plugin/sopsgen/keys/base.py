"""What a master-key backend is, and the registry the format engine reaches backends through.

A *stanza* is one entry of the `sops` metadata (an `age:` item, a `pgp:` item, a `kms:`
item, ...) with the fields exactly as sops writes them. The engine never branches on key
types: it looks the stanza's type up in `BACKENDS`. Types with no native backend (cloud
KMS, Vault) are carried verbatim and handled through the `sops` binary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# Order sops tries key types in, within one group: age first, then pgp, then the rest.
DECRYPTION_ORDER = ("age", "pgp")

# Every key type sops 3.11 knows, in the order its metadata block lists them.
KEY_TYPES = ("kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age", "pgp")


@dataclass(frozen=True)
class Stanza:
    """One wrapped copy of the data key (or of a Shamir share) for one master key."""

    type: str
    fields: dict[str, object]

    @property
    def label(self) -> str:
        """Who this stanza is for, as a user would name it (never the wrapped key)."""
        for name in ("recipient", "fp", "arn", "resource_id", "vault_url", "key_name", "key_id"):
            if name in self.fields:
                return f"{self.type}:{self.fields[name]}"
        return self.type


@dataclass(frozen=True)
class Recipient:
    """A master key to encrypt to: `type` is a stanza type, `id` its identifier."""

    type: str
    id: str
    extra: tuple[tuple[str, str], ...] = ()  # e.g. kms role/context, kept for the sops binary


@dataclass
class Identities:
    """Everything that may unwrap a data key; built by `keys.discovery` at the edges."""

    age: list[str] = field(default_factory=list)  # age X25519 identity lines or ssh private keys
    age_sources: list[str] = field(default_factory=list)  # where those came from, for errors
    gnupg_home: str | None = None
    gpg_exec: str = "gpg"
    sops_exec: str | None = None  # path of a usable sops binary, if any
    tried: list[str] = field(default_factory=list)  # every place looked at, for errors


class KeyBackend(Protocol):
    """A native master-key type."""

    type_name: str

    def wrap(
        self,
        recipient: Recipient,
        secret: bytes,
        *,
        now: datetime,
        identities: Identities | None = None,
    ) -> Stanza:
        """Encrypt `secret` (a data key or a Shamir share) for `recipient`.

        `identities` gives the environment some backends need to encrypt (pgp: the gpg home
        and binary); backends that need nothing ignore it, and None means the defaults.
        """
        ...

    def unwrap(self, stanza: Stanza, identities: Identities) -> bytes | None:
        """The secret, or None when no identity at hand fits this stanza."""
        ...


BACKENDS: dict[str, KeyBackend] = {}


def register(backend: KeyBackend) -> KeyBackend:
    BACKENDS[backend.type_name] = backend
    return backend
