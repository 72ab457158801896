"""The store: one SOPS YAML document per environment holding the generated values.

Layout (readable with `sops -d`, editable with `sops edit`)::

    values:                       # encrypted
        encryption-key-0: ENC[...]
    meta:                         # in the clear, covered by the MAC
        encryption-key-0: {created: "2026-12-04T19:00:00Z", recipe: bytes/32/base64,
                           ring: encryption-key, index: 0}
    sops: {..., encrypted_regex: ^values$}

Only `values` is encrypted, whatever the creation rule says about selection: metadata must
stay readable for `check` and `rotate --due` and still be tamper-evident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sopsgen.errors import FileAccessError, FormatError, KeyUnavailableError
from sopsgen.keys.base import Identities
from sopsgen.sops.datakey import EncryptionPlan
from sopsgen.sops.document import (
    OpenDocument,
    decrypt_document,
    encrypt_document,
    save_document,
)
from sopsgen.sops.mac import format_lastmodified
from sopsgen.sops.selection import Selection
from sopsgen.sops.tree import Mapping, Node

STORE_FORMAT = "yaml"
STORE_SELECTION = Selection(encrypted_regex="^values$")
META_FIELDS = ("created", "recipe", "ring", "index", "origin")


@dataclass
class Entry:
    """One stored value with its clear-text metadata."""

    value: str
    created: str
    recipe: str
    ring: str | None = None
    index: int | None = None
    origin: str | None = None  # "adopted" or "set"; absent for generated values

    def meta(self) -> Mapping:
        out = Mapping([("created", self.created), ("recipe", self.recipe)])
        if self.ring is not None:
            out.append(("ring", self.ring))
            out.append(("index", self.index))
        if self.origin is not None:
            out.append(("origin", self.origin))
        return out


@dataclass
class Store:
    """The decrypted content of a store file (or an empty store not yet written)."""

    path: Path
    entries: dict[str, Entry] = field(default_factory=dict)
    document: OpenDocument | None = None

    @property
    def exists(self) -> bool:
        return self.document is not None

    def names(self) -> list[str]:
        return list(self.entries)

    def values(self) -> dict[str, str]:
        return {name: entry.value for name, entry in self.entries.items()}

    def tree(self) -> list[Mapping]:
        values = Mapping((name, e.value) for name, e in self.entries.items())
        meta = Mapping((name, e.meta()) for name, e in self.entries.items())
        return [Mapping([("values", values), ("meta", meta)])]

    def encoded(
        self, *, now: datetime, plan: EncryptionPlan | None, identities: Identities
    ) -> bytes:
        """The bytes to write: a zero-churn re-save, or a new document for `plan`."""
        if self.document is not None:
            return save_document(self.document, self.tree(), now=now)
        if plan is None:
            raise KeyUnavailableError(f"{self.path} does not exist and no recipients were given")
        store_plan = EncryptionPlan(plan.key_groups, plan.shamir_threshold, STORE_SELECTION)
        return encrypt_document(
            self.tree(), STORE_FORMAT, store_plan, now=now, identities=identities
        )


def open_store(path: Path, identities: Identities, *, ignore_mac: bool = False) -> Store:
    """Decrypt a store; a missing file is an empty store (it is created on first save)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Store(path)
    except OSError as exc:
        raise FileAccessError(f"cannot read the store {path}: {exc.strerror}") from exc
    document = decrypt_document(
        data, STORE_FORMAT, identities, name=str(path), ignore_mac=ignore_mac
    )
    return Store(path, _entries(document.branches, path), document)


def _entries(branches: list[Mapping], path: Path) -> dict[str, Entry]:
    if len(branches) != 1:
        raise FormatError(f"{path}: a store holds exactly one YAML document")
    root = branches[0]
    values = root.get("values")
    meta = root.get("meta")
    if values is None:
        values = Mapping()
    if not isinstance(values, Mapping) or not isinstance(meta, Mapping | None):
        raise FormatError(f"{path}: `values` and `meta` must be mappings", hint=_STORE_HINT)
    entries = {}
    for name, value in values.entries():
        if not isinstance(value, str):
            raise FormatError(f"{path}: values.{name} is not a string", hint=_STORE_HINT)
        entries[name] = _entry(value, meta.get(name) if meta else None)
    return entries


_STORE_HINT = "the store was edited by hand into a shape sopsgen does not know"


def _entry(value: str, meta: Node) -> Entry:
    fields = dict(meta.entries()) if isinstance(meta, Mapping) else {}
    index = fields.get("index")
    return Entry(
        value=value,
        created=str(fields.get("created") or ""),
        recipe=str(fields.get("recipe") or ""),
        ring=str(fields["ring"]) if fields.get("ring") is not None else None,
        index=index if isinstance(index, int) and not isinstance(index, bool) else None,
        origin=str(fields["origin"]) if fields.get("origin") is not None else None,
    )


def created_stamp(now: datetime) -> str:
    return format_lastmodified(now)


class StoreCache:
    """Decrypts each store once per process, however many specs share it."""

    def __init__(self, identities: Identities) -> None:
        self.identities = identities
        self._stores: dict[Path, Store] = {}

    def get(self, path: Path) -> Store:
        key = path.resolve()
        if key not in self._stores:
            self._stores[key] = open_store(path, self.identities)
        return self._stores[key]
