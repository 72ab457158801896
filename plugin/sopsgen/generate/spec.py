"""The generator spec (`sopsgen.yaml`): the model, its ring helpers, and `load_spec`.

The spec is plaintext and never holds a secret. It declares *values* (how each one is
made) and the Kubernetes *Secrets* built from them. This module imports no crypto so
that rendering stays fast; the value makers live in `recipes.py`.

Schema (every field is checked; unknown fields are errors)::

    apiVersion: sopsgen.io/v1alpha1
    kind: SecretGenerator
    metadata: {name: lightrun}          # labels/annotations accepted (KRM), ignored
    extends: ../base/sopsgen.yaml       # optional; relative to this file
    store: secrets.sops.yaml            # relative to the spec file being loaded
    namespace: lightrun                 # default for secrets without their own
    namePrefix: prod-                   # applied to every secret name at this level
    nameSuffix: ""
    values:
      encryption-key: {generate: bytes, length: 32, encoding: base64, ring: true,
                       rotateAfter: 90d}
      db-password: {generate: password, length: 32, charset: alnum}
      api-token: {generate: hex, length: 40}
      instance-id: {generate: uuid}
      keycloak-user: {constant: admin}
      license: {provided: true, format: base64-32}
    secrets:
      - name: lightrun-backend
        namespace: lightrun
        type: Opaque
        labels: {app: lightrun}
        annotations: {}
        needsHash: false                 # KRM/kustomize only: ask for a content-hash name suffix
        data:
          SPRING_DATASOURCE_PASSWORD: db-password
          encryption-key-*: encryption-key   # one key per ring member
    secretOverrides:                    # only with extends; keyed by the base's names
      lightrun-backend: {name: backend, namespace: other, labels: {}, annotations: {},
                         type: Opaque, data: {EXTRA: api-token}}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sopsgen.errors import ConfigError

API_VERSION = "sopsgen.io/v1alpha1"
KIND = "SecretGenerator"
DEFAULT_STORE = "secrets.sops.yaml"
DEFAULT_SECRET_TYPE = "Opaque"  # noqa: S105 - a Kubernetes type name
MAX_EXTENDS_DEPTH = 16

GENERATED_KINDS = ("bytes", "password", "hex", "uuid")
ENCODINGS = ("base64", "hex")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# Symbols that survive shells, URLs in JDBC strings, YAML and .env files unquoted.
_SYMBOLS = "!#%+-.:=?@^_~"
CHARSETS: dict[str, str] = {"alnum": _ALNUM, "alnum-symbols": _ALNUM + _SYMBOLS}
CUSTOM_CHARSET = "custom"
MIN_CUSTOM_CHARS = 10

# (min, max, default) length per generated kind: bytes in bytes, the others in characters.
LENGTHS: dict[str, tuple[int, int, int]] = {
    "bytes": (16, 1024, 32),
    "password": (12, 1024, 32),
    "hex": (16, 2048, 32),
}
FORMAT_RANGE = (1, 4096)  # byte counts accepted in a `provided` format such as base64-32

_MEMBER = re.compile(r"^(.+)-(0|[1-9][0-9]*)$")

# ---------------------------------------------------------------------------- model


@dataclass(frozen=True)
class ValueSpec:
    """One declared value: how it is made, and whether it is a ring of members."""

    name: str
    kind: str  # bytes | password | hex | uuid | constant | provided
    length: int | None = None
    encoding: str | None = None  # bytes only
    charset: str | None = None  # password only: a CHARSETS name or "custom"
    alphabet: str | None = None  # password only: the characters drawn from
    constant: str | None = None
    format: str | None = None  # provided only, e.g. base64-32
    ring: bool = False
    rotate_after: timedelta | None = None
    description: str | None = None
    origin: str = field(default="", compare=False)  # "file: values.NAME", for errors

    @property
    def is_ring(self) -> bool:
        return self.ring

    @property
    def is_generated(self) -> bool:
        return self.kind in GENERATED_KINDS

    @property
    def recipe(self) -> str:
        """The recipe as stored in the store's metadata, e.g. `bytes/32/base64`."""
        if self.kind == "bytes":
            return f"bytes/{self.length}/{self.encoding}"
        if self.kind == "password":
            return f"password/{self.length}/{self.charset}"
        if self.kind == "hex":
            return f"hex/{self.length}"
        if self.kind == "provided" and self.format:
            return f"provided/{self.format}"
        return self.kind


@dataclass(frozen=True)
class SecretSpec:
    """One Kubernetes Secret: `data` maps a Secret key (maybe `prefix-*`) to a value name."""

    name: str
    namespace: str | None
    type: str = DEFAULT_SECRET_TYPE
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)
    data: Mapping[str, str] = field(default_factory=dict, hash=False)
    origin: str = field(default="", compare=False)
    needs_hash: bool = False  # kustomize: add the needs-hash annotation (KRM/legacy output)


@dataclass(frozen=True)
class Spec:
    """A loaded, validated and fully resolved spec (extends already applied)."""

    path: Path
    name: str
    store_path: Path
    namespace: str | None
    values: Mapping[str, ValueSpec] = field(hash=False)  # in declaration order
    secrets: tuple[SecretSpec, ...]
    files: tuple[Path, ...] = ()  # this file, then each base it extends

    def value(self, name: str) -> ValueSpec:
        try:
            return self.values[name]
        except KeyError:
            raise ConfigError(
                f"{self.path}: no value named {name!r}",
                hint=f"declared values: {', '.join(self.values) or 'none'}",
            ) from None

    def rings(self) -> list[ValueSpec]:
        return [v for v in self.values.values() if v.ring]

    def ring_member_name(self, value: str | ValueSpec, index: int) -> str:
        return ring_member_name(value if isinstance(value, str) else value.name, index)

    def store_key_of(self, store_name: str) -> tuple[ValueSpec, int | None] | None:
        """Which declared value a store entry belongs to: (value, ring index or None)."""
        plain = self.values.get(store_name)
        if plain is not None and not plain.ring:
            return plain, None
        member = parse_ring_member(store_name)
        if member is not None:
            ring = self.values.get(member[0])
            if ring is not None and ring.ring:
                return ring, member[1]
        return None

    def missing_values(self, present_names: Iterable[str]) -> list[str]:
        """Declared stored values absent from the store (a ring needs at least one member)."""
        present = set(present_names)
        missing = []
        for value in self.values.values():
            if value.kind == "constant":
                continue  # constants come from the spec, never from the store
            if value.ring:
                if not ring_members(value.name, present):
                    missing.append(value.name)
            elif value.name not in present:
                missing.append(value.name)
        return missing


def ring_member_name(value_name: str, index: int) -> str:
    """The store name of member `index` of a ring: `encryption-key-3`."""
    if index < 0:
        raise ConfigError(f"ring index of {value_name} must be 0 or more, got {index}")
    return f"{value_name}-{index}"


def parse_ring_member(name: str) -> tuple[str, int] | None:
    """Split `encryption-key-3` into ("encryption-key", 3); None when it is not a member name."""
    match = _MEMBER.match(name)
    if match is None:
        return None
    return match.group(1), int(match.group(2))


def ring_members(ring_name: str, present_names: Iterable[str]) -> list[tuple[int, str]]:
    """(index, store name) of each member of `ring_name` present, sorted by index."""
    found = []
    for name in present_names:
        member = parse_ring_member(name)
        if member is not None and member[0] == ring_name:
            found.append((member[1], name))
    return sorted(found)


def wildcard_prefix(key: str) -> str | None:
    """`encryption-key-` for the data key `encryption-key-*`; None for a plain key."""
    return key[:-1] if key.endswith("*") else None


def expand_secret_keys(secret: SecretSpec, present_names: Iterable[str]) -> dict[str, str]:
    """Secret key -> store name, with each wildcard expanded to every ring member present.

    Plain keys map to their value name whether present or not (the caller reports missing
    ones); a wildcard `prefix*` maps `prefixN` to member N, in index order.
    """
    present = list(present_names)
    out: dict[str, str] = {}
    for key, value_name in secret.data.items():
        prefix = wildcard_prefix(key)
        if prefix is None:
            out[key] = value_name
            continue
        for index, store_name in ring_members(value_name, present):
            out[f"{prefix}{index}"] = store_name
    return out


def load_spec(path: Path, *, document: dict[str, Any] | None = None) -> Spec:
    """Load `path`, apply its `extends` chain and validate the result (see `spec_loader`).

    `document` is the already-parsed content of `path` (a KRM functionConfig, a kustomize
    plugin config): `path` then only anchors relative `store` and `extends` paths.
    """
    from sopsgen.generate import spec_loader  # the loader imports this model: load it late

    return spec_loader.load_spec(path, document=document)
