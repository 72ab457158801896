"""The generator spec (`sopsgen.yaml`): load, validate and resolve `extends`.

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

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

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

_FIELDS: dict[str, tuple[str, ...]] = {
    "bytes": ("generate", "length", "encoding", "ring", "rotateAfter", "description"),
    "password": ("generate", "length", "charset", "ring", "rotateAfter", "description"),
    "hex": ("generate", "length", "ring", "rotateAfter", "description"),
    "uuid": ("generate", "ring", "rotateAfter", "description"),
    "constant": ("constant", "description"),
    "provided": ("provided", "format", "description"),
}
_TOP_FIELDS = (
    "apiVersion",
    "kind",
    "metadata",
    "extends",
    "store",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "values",
    "secrets",
    "secretOverrides",
)
_SECRET_FIELDS = ("name", "namespace", "type", "labels", "annotations", "needsHash", "data")
_OVERRIDE_FIELDS = ("name", "namespace", "type", "labels", "annotations", "needsHash", "data")

_VALUE_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DURATION = re.compile(r"^([1-9][0-9]*)([hdw])$")
_DURATION_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_FORMAT = re.compile(r"^(base64|hex)-([1-9][0-9]*)$")
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


# ---------------------------------------------------------------------------- YAML


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """safe_load that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: Any, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return dict(yaml.SafeLoader.construct_mapping(loader, node, deep=deep))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# Parsed spec files by (path, text): a base shared by many environments is parsed once per
# process. The parsed data is never mutated by the loader.
_PARSED: dict[tuple[str, str], dict[str, Any]] = {}


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read spec {path}: {exc.strerror or exc}",
            hint="check the path, or create one with `sopsgen init`",
        ) from exc
    key = (str(_absolute(path)), text)
    cached = _PARSED.get(key)
    if cached is not None:
        return cached
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}".replace("\n", " ")) from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the spec must be a mapping with apiVersion, kind, values and secrets",
            hint="start from `sopsgen init --preset lightrun`",
        )
    _PARSED[key] = data
    return data


# ---------------------------------------------------------------------------- field checks


class _At:
    """A field location: the file and the path inside it, formatted only for errors."""

    def __init__(self, file: Path, parts: tuple[str | int, ...] = ()) -> None:
        self.file = file
        self.parts = parts

    def __truediv__(self, key: str | int) -> _At:
        return _At(self.file, (*self.parts, key))

    @property
    def path(self) -> str:
        text = ""
        for part in self.parts:
            if isinstance(part, int):
                text += f"[{part}]"
            elif _PLAIN_KEY.fullmatch(part):
                text += f".{part}"
            else:
                text += f'["{part}"]'
        return text.lstrip(".")

    def __str__(self) -> str:
        return f"{self.file}: {self.path}" if self.parts else str(self.file)

    def error(self, problem: str, fix: str | None = None) -> ConfigError:
        return ConfigError(f"{self}: {problem}", hint=fix)


_PLAIN_KEY = re.compile(r"[-\w*]+")


def _mapping(at: _At, raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise at.error(f"must be a mapping, got {_kind(raw)}", "write it as `key: value` lines")
    for key in raw:
        if not isinstance(key, str):
            raise at.error(f"keys must be strings, got {_kind(key)} {key!r}", "quote the key")
    return raw


def _str(at: _At, raw: object) -> str:
    if not isinstance(raw, str) or raw == "":
        raise at.error(f"must be a non-empty string, got {_kind(raw)}", "quote the value")
    return raw


def _int(at: _At, raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise at.error(f"must be a whole number, got {_kind(raw)}", "write a number without quotes")
    return raw


def _bool(at: _At, raw: object) -> bool:
    if not isinstance(raw, bool):
        raise at.error(f"must be true or false, got {_kind(raw)}", "write true or false")
    return raw


def _string_map(at: _At, raw: object) -> dict[str, str]:
    out = {}
    for key, value in _mapping(at, raw).items():
        if not isinstance(value, str):
            raise (at / key).error(f"must be a string, got {_kind(value)}", "quote the value")
        out[key] = value
    return out


def _only(at: _At, raw: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> None:
    for key in raw:
        if key not in allowed:
            raise (at / key).error(
                f"unknown field for {what}", f"allowed fields: {', '.join(allowed)}"
            )


def _kind(raw: object) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(raw), "nothing" if raw is None else type(raw).__name__)


def _length(at: _At, kind: str, raw: Mapping[str, Any]) -> int:
    low, high, default = LENGTHS[kind]
    if "length" not in raw:
        return default
    length = _int(at / "length", raw["length"])
    if not low <= length <= high:
        unit = "bytes" if kind == "bytes" else "characters"
        raise (at / "length").error(
            f"length {length} is out of range for {kind}",
            f"use {low} to {high} {unit}",
        )
    return length


def parse_duration(at: _At, raw: object) -> timedelta:
    """`90d`, `12h`, `2w` -> timedelta."""
    text = raw if isinstance(raw, str) else ""
    match = _DURATION.match(text)
    if match is None:
        raise at.error(
            f"bad duration {raw!r}",
            "write a positive whole number and a unit: h, d or w (e.g. 90d, 12h, 2w)",
        )
    return int(match.group(1)) * _DURATION_UNITS[match.group(2)]


# ---------------------------------------------------------------------------- values


def _parse_value(at: _At, name: str, raw: object) -> ValueSpec:
    if not _VALUE_NAME.match(name):
        raise at.error(
            "value names use letters, digits, '-', '_' and '.', and start and end "
            "with a letter or digit",
            "rename the value",
        )
    body = _mapping(at, raw)
    kind = _recipe_kind(at, body)
    _only(at, body, _FIELDS[kind], f"a {kind} value")
    common: dict[str, Any] = {"name": name, "kind": kind, "origin": str(at)}
    if "description" in body:
        common["description"] = _str(at / "description", body["description"])
    if kind in GENERATED_KINDS:
        return _generated(at, body, common)
    if kind == "constant":
        constant = body["constant"]
        if not isinstance(constant, str):
            raise (at / "constant").error(f"must be a string, got {_kind(constant)}", "quote it")
        return ValueSpec(constant=constant, **common)
    return _provided(at, body, common)


def _recipe_kind(at: _At, body: Mapping[str, Any]) -> str:
    chosen = [key for key in ("generate", "constant", "provided") if key in body]
    if not chosen:
        _only(at, body, tuple(dict.fromkeys(f for fs in _FIELDS.values() for f in fs)), "a value")
    if len(chosen) != 1:
        raise at.error(
            f"needs exactly one of generate, constant, provided (found {len(chosen)})",
            "e.g. {generate: password, length: 32} or {provided: true}",
        )
    if chosen[0] != "generate":
        return chosen[0]
    kind = body["generate"]
    if kind not in GENERATED_KINDS:
        raise (at / "generate").error(
            f"unknown recipe {kind!r}", f"use one of {', '.join(GENERATED_KINDS)}"
        )
    return str(kind)


def _generated(at: _At, body: Mapping[str, Any], common: dict[str, Any]) -> ValueSpec:
    kind = common["kind"]
    ring = _bool(at / "ring", body["ring"]) if "ring" in body else False
    rotate_after = None
    if "rotateAfter" in body:
        if not ring:
            raise (at / "rotateAfter").error(
                "rotateAfter applies only to rings", "add ring: true or drop rotateAfter"
            )
        rotate_after = parse_duration(at / "rotateAfter", body["rotateAfter"])
    extra: dict[str, Any] = {}
    if kind != "uuid":
        extra["length"] = _length(at, kind, body)
    if kind == "bytes":
        extra["encoding"] = body.get("encoding", "base64")
        if extra["encoding"] not in ENCODINGS:
            raise (at / "encoding").error(
                f"unknown encoding {extra['encoding']!r}", "use base64 or hex"
            )
    if kind == "password":
        extra["charset"], extra["alphabet"] = _charset(at / "charset", body.get("charset"))
    return ValueSpec(ring=ring, rotate_after=rotate_after, **common, **extra)


def _charset(at: _At, raw: object) -> tuple[str, str]:
    """A named set, or an explicit string of at least MIN_CUSTOM_CHARS distinct characters."""
    if raw is None:
        return "alnum", CHARSETS["alnum"]
    text = _str(at, raw)
    if text in CHARSETS:
        return text, CHARSETS[text]
    alphabet = "".join(dict.fromkeys(text))  # drop repeats, keep order: each char equally likely
    if len(alphabet) < MIN_CUSTOM_CHARS or not all(c.isprintable() and c != " " for c in text):
        raise at.error(
            f"charset must be {', '.join(CHARSETS)} or at least {MIN_CUSTOM_CHARS} distinct "
            "printable characters without spaces",
            "e.g. charset: alnum-symbols",
        )
    return CUSTOM_CHARSET, alphabet


def _provided(at: _At, body: Mapping[str, Any], common: dict[str, Any]) -> ValueSpec:
    if body["provided"] is not True:
        raise (at / "provided").error("must be true", "write provided: true")
    fmt = None
    if "format" in body:
        fmt = _str(at / "format", body["format"])
        match = _FORMAT.match(fmt)
        if fmt != "uuid" and (match is None or not _in_range(int(match.group(2)))):
            raise (at / "format").error(
                f"unknown format {fmt!r}",
                f"use base64-N or hex-N (N bytes, {FORMAT_RANGE[0]} to {FORMAT_RANGE[1]}) or uuid",
            )
    return ValueSpec(format=fmt, **common)


def _in_range(count: int) -> bool:
    return FORMAT_RANGE[0] <= count <= FORMAT_RANGE[1]


# ---------------------------------------------------------------------------- secrets


@dataclass
class _Draft:
    """A secret while layers are merged; `origins` tells errors which file said what."""

    name: str
    namespace: str | None
    type: str
    labels: dict[str, str]
    annotations: dict[str, str]
    data: dict[str, str]
    origin: str
    data_origins: dict[str, str]
    renamed: bool = False
    needs_hash: bool = False


def _parse_secret(at: _At, raw: object) -> _Draft:
    body = _mapping(at, raw)
    _only(at, body, _SECRET_FIELDS, "a secret")
    if "name" not in body:
        raise at.error("a secret needs a name", "add name: <secret name>")
    if "data" not in body:
        raise at.error("a secret needs data", "add data: {SECRET_KEY: value-name}")
    data = _data(at / "data", body["data"])
    return _Draft(
        name=_str(at / "name", body["name"]),
        namespace=_namespace(at / "namespace", body["namespace"]) if "namespace" in body else None,
        type=_str(at / "type", body["type"]) if "type" in body else DEFAULT_SECRET_TYPE,
        labels=_string_map(at / "labels", body.get("labels", {})),
        annotations=_string_map(at / "annotations", body.get("annotations", {})),
        data=data,
        origin=str(at),
        data_origins={key: str(at / "data" / key) for key in data},
        needs_hash=_bool(at / "needsHash", body["needsHash"]) if "needsHash" in body else False,
    )


def _data(at: _At, raw: object) -> dict[str, str]:
    out = {}
    for key, value_name in _mapping(at, raw).items():
        prefix = wildcard_prefix(key)
        bare = key if prefix is None else prefix + "0"
        if not _DATA_KEY.match(bare) or (prefix is not None and "*" in prefix):
            raise (at / key).error(
                "Secret keys use letters, digits, '-', '_' and '.'; a ring wildcard has "
                "one '*' at the end",
                "e.g. DB_PASSWORD or encryption-key-*",
            )
        out[key] = _str(at / key, value_name)
    return out


def _namespace(at: _At, raw: object) -> str:
    text = _str(at, raw)
    if len(text) > 63 or not _DNS_LABEL.match(text):
        raise at.error(
            f"{text!r} is not a valid namespace", "use lowercase letters, digits and '-'"
        )
    return text


# ---------------------------------------------------------------------------- layers


@dataclass
class _Merged:
    name: str | None = None
    store: str | None = None
    namespace: str | None = None
    values: dict[str, ValueSpec] = field(default_factory=dict)
    secrets: list[_Draft] = field(default_factory=list)


def load_spec(path: Path, *, document: dict[str, Any] | None = None) -> Spec:
    """Load `path`, apply its `extends` chain and validate the result.

    `document` is the already-parsed content of `path` (a KRM functionConfig, a kustomize
    plugin config): `path` then only anchors relative `store` and `extends` paths.
    """
    chain = _load_chain(path, document)
    merged = _Merged()
    for file, raw in reversed(chain):
        _apply_layer(merged, file, raw, is_base=file == chain[-1][0])
    leaf = chain[0][0]
    if merged.name is None:
        raise _At(leaf, ("metadata", "name")).error("missing", "add metadata: {name: <name>}")
    _check_member_names(merged.values)
    _check_secrets(merged)
    return Spec(
        path=leaf,
        name=merged.name,
        store_path=_absolute(leaf.parent / (merged.store or DEFAULT_STORE)),
        namespace=merged.namespace,
        values=dict(merged.values),
        secrets=tuple(_finish(draft, merged.namespace) for draft in merged.secrets),
        files=tuple(file for file, _ in chain),
    )


def _absolute(path: Path) -> Path:
    # Why normpath and not resolve(): keep symlinked checkouts' paths as the user sees them.
    return Path(os.path.normpath(path if path.is_absolute() else Path.cwd() / path))


def _load_chain(
    path: Path, document: dict[str, Any] | None = None
) -> list[tuple[Path, dict[str, Any]]]:
    """[(file, raw)] from `path` up to the root base."""
    chain: list[tuple[Path, dict[str, Any]]] = []
    seen: set[Path] = set()
    current: Path | None = path
    while current is not None:
        if _absolute(current) in seen:
            raise _At(chain[-1][0], ("extends",)).error(
                f"extends loops back to {current}", "remove the cycle"
            )
        if len(chain) >= MAX_EXTENDS_DEPTH:
            raise _At(current).error(
                f"extends chain is deeper than {MAX_EXTENDS_DEPTH} files", "flatten the chain"
            )
        seen.add(_absolute(current))
        raw = document if document is not None and not chain else _read_yaml(current)
        _check_header(_At(current), raw)
        chain.append((current, raw))
        current = _extends(current, raw)
    return chain


def _extends(file: Path, raw: Mapping[str, Any]) -> Path | None:
    if "extends" not in raw:
        return None
    target = _str(_At(file, ("extends",)), raw["extends"])
    return Path(os.path.normpath(file.parent / target))


def _check_header(at: _At, raw: Mapping[str, Any]) -> None:
    _only(at, raw, _TOP_FIELDS, "a SecretGenerator")
    if raw.get("apiVersion") != API_VERSION:
        raise (at / "apiVersion").error(
            f"expected {API_VERSION}, got {raw.get('apiVersion')!r}",
            f"set apiVersion: {API_VERSION}",
        )
    if raw.get("kind") != KIND:
        raise (at / "kind").error(f"expected {KIND}, got {raw.get('kind')!r}", f"set kind: {KIND}")


def _apply_layer(merged: _Merged, file: Path, raw: Mapping[str, Any], *, is_base: bool) -> None:
    at = _At(file)
    if "metadata" in raw:
        meta = _mapping(at / "metadata", raw["metadata"])
        _only(at / "metadata", meta, ("name", "labels", "annotations"), "metadata")
        if "name" in meta:
            merged.name = _str(at / "metadata" / "name", meta["name"])
    if "store" in raw:
        merged.store = _str(at / "store", raw["store"])
    if "namespace" in raw:
        merged.namespace = _namespace(at / "namespace", raw["namespace"])
    for name, body in _mapping(at / "values", raw.get("values", {})).items():
        merged.values[name] = _parse_value(at / "values" / name, name, body)
    if "secretOverrides" in raw:
        if is_base:
            raise (at / "secretOverrides").error(
                "secretOverrides needs extends", "rename the secret itself in this file"
            )
        _apply_overrides(at / "secretOverrides", merged.secrets, raw["secretOverrides"])
    own = raw.get("secrets", [])
    if not isinstance(own, list):
        raise (at / "secrets").error(
            f"must be a list, got {_kind(own)}", "start each secret with '- name: ...'"
        )
    merged.secrets.extend(_parse_secret(at / "secrets" / i, s) for i, s in enumerate(own))
    _apply_affixes(at, merged.secrets, raw)


def _apply_overrides(at: _At, drafts: list[_Draft], raw: object) -> None:
    by_name = {draft.name: draft for draft in drafts}
    for name, body in _mapping(at, raw).items():
        here = at / name
        draft = by_name.get(name)
        if draft is None:
            raise here.error(
                "no inherited secret has this name",
                f"inherited secrets: {', '.join(by_name) or 'none'}",
            )
        _override(here, draft, _mapping(here, body))


def _override(at: _At, draft: _Draft, body: Mapping[str, Any]) -> None:
    _only(at, body, _OVERRIDE_FIELDS, "a secret override")
    if "name" in body:
        draft.name, draft.renamed = _str(at / "name", body["name"]), True
    if "namespace" in body:
        draft.namespace = _namespace(at / "namespace", body["namespace"])
    if "type" in body:
        draft.type = _str(at / "type", body["type"])
    if "needsHash" in body:
        draft.needs_hash = _bool(at / "needsHash", body["needsHash"])
    draft.labels.update(_string_map(at / "labels", body.get("labels", {})))
    draft.annotations.update(_string_map(at / "annotations", body.get("annotations", {})))
    data = _data(at / "data", body.get("data", {}))
    draft.data.update(data)
    draft.data_origins.update({key: str(at / "data" / key) for key in data})


def _apply_affixes(at: _At, drafts: list[_Draft], raw: Mapping[str, Any]) -> None:
    """namePrefix/nameSuffix apply to every secret at this level except renamed ones."""
    prefix = _affix(at / "namePrefix", raw.get("namePrefix", ""))
    suffix = _affix(at / "nameSuffix", raw.get("nameSuffix", ""))
    for draft in drafts:
        if not draft.renamed:
            draft.name = f"{prefix}{draft.name}{suffix}"
        draft.renamed = False  # a rename is final only for the level that made it


def _affix(at: _At, raw: object) -> str:
    if not isinstance(raw, str):
        raise at.error(f"must be a string, got {_kind(raw)}", "quote it")
    return raw


# ---------------------------------------------------------------------------- cross checks


def _check_member_names(values: Mapping[str, ValueSpec]) -> None:
    """A value may not be named like a ring member (`encryption-key-1`): the store could
    not tell them apart."""
    for value in values.values():
        member = parse_ring_member(value.name)
        ring = values.get(member[0]) if member else None
        if ring is not None and ring.ring:
            raise ConfigError(
                f"{value.origin}: the name is taken by member {member[1] if member else ''} "
                f"of the ring {ring.name!r}",
                hint="rename the value",
            )


def _check_secrets(merged: _Merged) -> None:
    seen: dict[str, str] = {}
    for draft in merged.secrets:
        if len(draft.name) > 253 or not _DNS_SUBDOMAIN.match(draft.name):
            raise ConfigError(
                f"{draft.origin}.name: {draft.name!r} is not a valid Secret name",
                hint="use lowercase letters, digits, '-' and '.' (check namePrefix/nameSuffix)",
            )
        if draft.name in seen:
            raise ConfigError(
                f"{draft.origin}.name: duplicate secret name {draft.name!r} "
                f"(also {seen[draft.name]})",
                hint="give each secret its own name (secretOverrides can rename inherited ones)",
            )
        seen[draft.name] = draft.origin
        _check_data(draft, merged.values)


def _check_data(draft: _Draft, values: Mapping[str, ValueSpec]) -> None:
    prefixes = [p for p in map(wildcard_prefix, draft.data) if p is not None]
    for key, value_name in draft.data.items():
        where = draft.data_origins[key]
        value = values.get(value_name)
        if value is None:
            raise ConfigError(
                f"{where}: refers to undeclared value {value_name!r}",
                hint=f"declare it under values, or use one of: {', '.join(values) or 'none'}",
            )
        prefix = wildcard_prefix(key)
        if prefix is None and value.ring:
            raise ConfigError(
                f"{where}: {value_name!r} is a ring, so the key needs a wildcard",
                hint=f"write {key}-*: {value_name} (one key per member)",
            )
        if prefix is not None and not value.ring:
            raise ConfigError(
                f"{where}: a wildcard key needs a ring value, but {value_name!r} is not a ring",
                hint=f"add ring: true to {value_name}, or drop the '*' from the key",
            )
        _check_collision(where, key, prefix, prefixes)


def _check_collision(where: str, key: str, prefix: str | None, prefixes: list[str]) -> None:
    """No key may fall among another wildcard's members: `key-*` owns every `key-<digits>`."""
    stem = key if prefix is None else prefix  # a wildcard clashes when its prefix is owned
    for other in prefixes:
        if other == prefix or not stem.startswith(other):
            continue
        rest = stem[len(other) :]
        if rest.isdigit() or (prefix is not None and rest == ""):
            raise ConfigError(
                f"{where}: clashes with the ring keys of {other}*",
                hint="rename one of the keys",
            )


def _finish(draft: _Draft, default_namespace: str | None) -> SecretSpec:
    return SecretSpec(
        name=draft.name,
        namespace=draft.namespace or default_namespace,
        type=draft.type,
        labels=dict(draft.labels),
        annotations=dict(draft.annotations),
        data=dict(draft.data),
        origin=draft.origin,
        needs_hash=draft.needs_hash,
    )
