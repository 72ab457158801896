"""Reading and validating `sopsgen.yaml` files: YAML, field checks, `extends` layers.

Every error names the file, the field path and the fix. The model it builds lives in
`spec.py`; this module is its only writer.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from sopsgen.errors import ConfigError
from sopsgen.generate.spec import (
    API_VERSION,
    CHARSETS,
    CUSTOM_CHARSET,
    DEFAULT_SECRET_TYPE,
    DEFAULT_STORE,
    ENCODINGS,
    FORMAT_RANGE,
    GENERATED_KINDS,
    KIND,
    LENGTHS,
    MAX_EXTENDS_DEPTH,
    MIN_CUSTOM_CHARS,
    SecretSpec,
    Spec,
    ValueSpec,
    parse_ring_member,
    wildcard_prefix,
)

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
    data_origins: dict[str, _At]  # formatted only when an error needs them
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
        data_origins={key: at / "data" / key for key in data},
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
    draft.data_origins.update({key: at / "data" / key for key in data})


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


def _check_collision(where: _At, key: str, prefix: str | None, prefixes: list[str]) -> None:
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
