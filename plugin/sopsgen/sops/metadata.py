"""The `sops` block: raw JSON-like data <-> a typed `Metadata`, in the order sops writes it.

Stanzas of every key type are kept field-for-field, so key types sopsgen cannot use
itself (cloud KMS, Vault) survive a read and a write unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from sopsgen.errors import FormatError
from sopsgen.keys.base import KEY_TYPES, Stanza
from sopsgen.sops.selection import SELECTION_FIELDS, Selection

WRITER_VERSION = "3.11.0"
_SEMVER = re.compile(r"v?\d+\.\d+\.\d+")
# Inside each group, sops always writes these two lists, even when empty.
_GROUP_ALWAYS = ("hc_vault", "age")
_GROUP_ORDER = ("pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age")
_TOP_BEFORE = ("kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age")
_KNOWN = {
    "shamir_threshold", "key_groups", "lastmodified", "mac", "version",
    "mac_only_encrypted", *KEY_TYPES, *SELECTION_FIELDS,
}  # fmt: skip


@dataclass(frozen=True)
class Metadata:
    key_groups: list[list[Stanza]]
    lastmodified: str
    mac: str
    selection: Selection = field(default_factory=Selection)
    shamir_threshold: int | None = None
    version: str = WRITER_VERSION
    extra: dict[str, object] = field(default_factory=dict)  # fields of newer sops, kept

    def with_keys(self, groups: list[list[Stanza]], threshold: int | None) -> Metadata:
        return replace(self, key_groups=groups, shamir_threshold=threshold)

    def recipients(self) -> list[str]:
        return [stanza.label for group in self.key_groups for stanza in group]


def parse_metadata(raw: object, *, where: str) -> Metadata:
    if not isinstance(raw, dict):
        raise FormatError(f"{where}: the sops metadata is not a mapping")
    version = str(raw.get("version") or "")
    if not _SEMVER.match(version):
        raise FormatError(
            f"{where}: sops.version {version!r} is not a Major.Minor.Patch version",
            hint="files from sops 1.x must be migrated with a current sops first",
        )
    lastmodified = raw.get("lastmodified")
    mac = raw.get("mac")
    threshold = raw.get("shamir_threshold")
    return Metadata(
        key_groups=_parse_groups(raw, where),
        lastmodified=str(lastmodified or ""),
        mac=str(mac or ""),
        selection=_parse_selection(raw, where),
        shamir_threshold=int(float(str(threshold))) if threshold not in (None, "", 0) else None,
        version=version,
        extra={k: v for k, v in raw.items() if k not in _KNOWN},
    )


def _parse_groups(raw: dict[str, object], where: str) -> list[list[Stanza]]:
    groups_raw = raw.get("key_groups")
    if groups_raw:
        if not isinstance(groups_raw, list):
            raise FormatError(f"{where}: sops.key_groups is not a list")
        return [
            _parse_group(group, f"{where}: sops.key_groups[{i}]")
            for i, group in enumerate(groups_raw)
        ]
    return [_parse_group(raw, f"{where}: sops")]


def _parse_group(raw: object, where: str) -> list[Stanza]:
    if not isinstance(raw, dict):
        raise FormatError(f"{where} is not a mapping")
    stanzas: list[Stanza] = []
    for key_type in _GROUP_ORDER:
        entries = raw.get(key_type) or []
        if not isinstance(entries, list):
            raise FormatError(f"{where}.{key_type} is not a list")
        for entry in entries:
            if not isinstance(entry, dict):
                raise FormatError(f"{where}.{key_type} holds an entry that is not a mapping")
            stanzas.append(Stanza(key_type, {str(k): v for k, v in entry.items()}))
    return stanzas


def _parse_selection(raw: dict[str, object], where: str) -> Selection:
    chosen = {name: str(raw[name]) for name in SELECTION_FIELDS if raw.get(name) not in (None, "")}
    mac_only = raw.get("mac_only_encrypted") in (True, "true")
    try:
        return Selection.from_fields(chosen, mac_only_encrypted=mac_only).with_default()
    except Exception as exc:
        raise FormatError(
            f"{where}: invalid selection settings in the sops metadata: {exc}"
        ) from exc


def serialize_metadata(meta: Metadata, *, write_selection: bool = True) -> dict[str, object]:
    """The `sops` block in sops 3.11's field order."""
    out: dict[str, object] = {}
    groups = meta.key_groups
    if len(groups) > 1:
        out["shamir_threshold"] = meta.shamir_threshold or len(groups)
        out["key_groups"] = [_group_dict(group, always=_GROUP_ALWAYS) for group in groups]
        single: dict[str, list[dict[str, object]]] = {}
    else:
        single = _group_dict(groups[0] if groups else [], always=())
    for key_type in _TOP_BEFORE:
        if single.get(key_type):
            out[key_type] = single[key_type]
    out["lastmodified"] = meta.lastmodified
    out["mac"] = meta.mac
    if single.get("pgp"):
        out["pgp"] = single["pgp"]
    if write_selection:
        out.update(meta.selection.as_dict())
    out.update(meta.extra)
    out["version"] = meta.version
    return out


def _group_dict(
    group: list[Stanza], *, always: tuple[str, ...]
) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {}
    for key_type in _GROUP_ORDER:
        entries = [dict(s.fields) for s in group if s.type == key_type]
        if entries or key_type in always:
            out[key_type] = entries
    return out
