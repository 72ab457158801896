"""Wrapping the data key for master keys, and getting it back (with Shamir key groups)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sopsgen.errors import KeyUnavailableError, SopsgenError
from sopsgen.keys import load_backends
from sopsgen.keys.base import DECRYPTION_ORDER, Identities, Recipient, Stanza
from sopsgen.sops.metadata import Metadata
from sopsgen.sops.selection import Selection

DATA_KEY_SIZE = 32


@dataclass(frozen=True)
class EncryptionPlan:
    """Who a document is encrypted for, and which leaves are encrypted."""

    key_groups: list[list[Recipient]]
    shamir_threshold: int | None = None
    selection: Selection = field(default_factory=Selection)

    def non_native_types(self) -> list[str]:
        native = load_backends()
        return sorted({r.type for group in self.key_groups for r in group if r.type not in native})

    def recipient_labels(self) -> list[str]:
        return [f"{r.type}:{r.id}" for group in self.key_groups for r in group]


def new_data_key(random: Callable[[int], bytes] = os.urandom) -> bytes:
    return random(DATA_KEY_SIZE)


def wrap_data_key(
    data_key: bytes,
    plan: EncryptionPlan,
    *,
    now: datetime,
    identities: Identities | None = None,
    random: Callable[[int], bytes] = os.urandom,
) -> tuple[list[list[Stanza]], int | None]:
    """One stanza per recipient; with several groups each group wraps its Shamir share."""
    groups = [group for group in plan.key_groups if group]
    if not groups:
        raise KeyUnavailableError(
            "no recipient to encrypt the data key for",
            hint="pass --age or --pgp, or add a creation rule with keys to .sops.yaml",
        )
    if len(groups) == 1:
        secrets_per_group = [data_key]
        threshold = None
    else:
        threshold = plan.shamir_threshold or len(groups)
        threshold = min(threshold, len(groups))
        from sopsgen.keys.shamir import split  # key groups only

        secrets_per_group = split(data_key, len(groups), threshold, random_bytes=random)
    wrapped: list[list[Stanza]] = []
    for group, secret in zip(groups, secrets_per_group):
        wrapped.append([wrap_for(r, secret, now=now, identities=identities) for r in group])
    return wrapped, threshold


def wrap_for(
    recipient: Recipient, secret: bytes, *, now: datetime, identities: Identities | None
) -> Stanza:
    backend = load_backends(recipient.type).get(recipient.type)
    if backend is None:
        raise KeyUnavailableError(
            f"cannot encrypt for {recipient.type} key {recipient.id}: sopsgen wraps only "
            "age and pgp keys itself",
            hint="encrypt such files with the sops binary (sopsgen does so when it is installed)",
        )
    return backend.wrap(recipient, secret, now=now, identities=identities)


def recipient_of(stanza: Stanza) -> Recipient:
    """The recipient a stanza was made for, in the spelling .sops.yaml uses."""
    f = stanza.fields
    if stanza.type == "age":
        return Recipient("age", str(f.get("recipient", "")).strip())
    if stanza.type == "pgp":
        return Recipient("pgp", str(f.get("fp", "")).replace(" ", "").upper())
    if stanza.type == "azure_kv":
        return Recipient(
            "azure_kv", f"{f.get('vault_url')}/keys/{f.get('name')}/{f.get('version')}"
        )
    if stanza.type == "hc_vault":
        address, engine, name = f.get("vault_address"), f.get("engine_path"), f.get("key_name")
        return Recipient("hc_vault", f"{address}/v1/{engine}/keys/{name}")
    for name in ("arn", "resource_id", "key_id"):
        if name in f:
            return Recipient(stanza.type, str(f[name]))
    return Recipient(stanza.type, "")


def unwrap_data_key(metadata: Metadata, identities: Identities, *, where: str) -> bytes:
    """The data key, from any one key per group and at least `shamir_threshold` groups."""
    groups = metadata.key_groups
    found: list[bytes] = []
    for group in groups:
        secret = _unwrap_group(group, identities)
        if secret is not None:
            found.append(secret)
            if len(groups) == 1:
                return _checked(secret, where)
            if len(found) >= (metadata.shamir_threshold or len(groups)):
                from sopsgen.keys.shamir import combine  # key groups only

                return _checked(combine(found), where)
    raise _no_key_error(metadata, identities, where, len(found))


def _unwrap_group(group: list[Stanza], identities: Identities) -> bytes | None:
    order = {name: index for index, name in enumerate(DECRYPTION_ORDER)}
    for stanza in sorted(group, key=lambda s: order.get(s.type, len(order))):
        backend = load_backends(stanza.type).get(stanza.type)
        if backend is None:
            continue
        try:
            secret = backend.unwrap(stanza, identities)
        except SopsgenError:
            continue  # a broken stanza for one key must not hide a working one
        if secret is not None:
            return secret
    return None


def _checked(data_key: bytes, where: str) -> bytes:
    if len(data_key) != DATA_KEY_SIZE:
        raise KeyUnavailableError(f"{where}: the recovered data key is not 32 bytes long")
    return data_key


def _no_key_error(
    metadata: Metadata, identities: Identities, where: str, shares: int
) -> KeyUnavailableError:
    tried = "; ".join(identities.tried) or "nothing"
    recipients = ", ".join(metadata.recipients()) or "none"
    groups = len(metadata.key_groups)
    shamir = (
        f" (got {shares} of the {metadata.shamir_threshold or groups} key groups needed)"
        if groups > 1
        else ""
    )
    return KeyUnavailableError(
        f"cannot decrypt the data key of {where}{shamir}: no available identity matches "
        f"a recipient. Recipients: {recipients}. Looked in: {tried}",
        hint="set SOPS_AGE_KEY_FILE to an age identity for one of the recipients, "
        "or import the pgp secret key into GNUPGHOME",
    )


def non_native_types(metadata: Metadata) -> list[str]:
    native = load_backends()
    return sorted({s.type for group in metadata.key_groups for s in group if s.type not in native})
