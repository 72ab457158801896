"""`.sops.yaml` creation rules: find the config, parse it, pick the rule for a file.

Pure: no env vars and no cwd reads. The caller passes the directory to search from
(sops searches from the working directory) and an explicit config path if one was given
(`--config`, `SOPS_CONFIG`); `keys/discovery.py` and the CLI do those reads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sopsgen.errors import ConfigError
from sopsgen.keys.base import Recipient
from sopsgen.sops.selection import SELECTION_FIELDS, Selection

CONFIG_NAME = ".sops.yaml"
MAX_LEVELS = 100  # how far up sops walks

# Flat rule field -> stanza type; each accepts a comma-separated string or a list.
FLAT_KEY_FIELDS: dict[str, str] = {
    "age": "age",
    "pgp": "pgp",
    "kms": "kms",
    "gcp_kms": "gcp_kms",
    "azure_keyvault": "azure_kv",
    "hc_vault_transit_uri": "hc_vault",
}
_RULE_FIELDS = (
    "path_regex",
    *FLAT_KEY_FIELDS,
    "aws_profile",
    "key_groups",
    "shamir_threshold",
    *SELECTION_FIELDS,
    "mac_only_encrypted",
)
_GROUP_FIELDS = ("age", "pgp", "hc_vault", "kms", "gcp_kms", "azure_keyvault", "merge")
_TOP_FIELDS = ("creation_rules", "stores", "destination_rules")
_STORE_NAMES = ("yaml", "json", "json_binary", "dotenv", "ini")


@dataclass(frozen=True)
class CreationRule:
    """The keys and settings a new file gets; `index` is its place in `creation_rules`."""

    index: int
    path_regex: str | None
    key_groups: list[list[Recipient]] = field(hash=False)
    shamir_threshold: int | None
    selection: Selection


@dataclass(frozen=True)
class SopsConfig:
    path: Path
    rules: tuple[CreationRule, ...]
    indents: Mapping[str, int] = field(default_factory=dict, hash=False)  # from `stores`

    @property
    def directory(self) -> Path:
        return self.path.parent

    def rule_for(self, file_path: Path, *, cwd: Path | None = None) -> CreationRule:
        """The first rule whose `path_regex` finds a match in the file's path.

        A relative `file_path` is taken relative to `cwd`, else to the config's directory.
        """
        subject = self.match_subject(file_path, cwd=cwd)
        for rule in self.rules:
            if rule.path_regex is None or re.search(rule.path_regex, subject):
                return rule
        raise ConfigError(
            f"no creation rule in {self.path} matches {file_path}",
            hint=f"path_regex is searched in {subject!r}; add a matching rule "
            "or a catch-all rule without path_regex",
        )

    def match_subject(self, file_path: Path, *, cwd: Path | None = None) -> str:
        """The text path_regex is searched in: the path relative to the config's
        directory when the file is inside it, else the absolute path (as sops does)."""
        base = cwd if cwd is not None else self.directory
        full = Path(os.path.normpath(file_path if file_path.is_absolute() else base / file_path))
        directory = Path(os.path.normpath(self.directory))
        if full.is_relative_to(directory) and full != directory:
            return str(full.relative_to(directory))
        return str(full)


def find_config(start_dir: Path, explicit: Path | None = None) -> Path | None:
    """`explicit` if given; else the first `.sops.yaml` in start_dir or a parent."""
    if explicit is not None:
        return explicit
    current = os.path.normpath(start_dir)
    for _ in range(MAX_LEVELS):
        candidate = Path(current) / CONFIG_NAME
        if candidate.is_file():
            return candidate
        parent = os.path.normpath(os.path.join(current, os.pardir))
        if parent == current:
            break
        current = parent
    return None


def load_rules(path: Path) -> SopsConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}".replace("\n", " ")) from exc
    return parse_rules(path, {} if raw is None else raw)


def parse_rules(path: Path, raw: object) -> SopsConfig:
    """Build a SopsConfig from already-parsed YAML; `path` locates rules and names errors."""
    at = _At(path)
    top = _mapping(at, raw)
    _only(at, top, _TOP_FIELDS)
    rules_raw = top.get("creation_rules") or []
    if not isinstance(rules_raw, list):
        raise (at / "creation_rules").error("must be a list of rules")
    rules = tuple(
        _parse_rule(at / "creation_rules" / i, i, item) for i, item in enumerate(rules_raw)
    )
    return SopsConfig(path=path, rules=rules, indents=_indents(at / "stores", top.get("stores")))


# ---------------------------------------------------------------------------- one rule


def _parse_rule(at: _At, index: int, raw: object) -> CreationRule:
    rule = _mapping(at, raw)
    _only(at, rule, _RULE_FIELDS)
    path_regex = None
    if rule.get("path_regex") not in (None, ""):
        path_regex = _regex(at / "path_regex", rule["path_regex"])
    groups_raw = rule.get("key_groups")
    if groups_raw:  # sops: a present, non-empty key_groups replaces the flat fields
        groups = _groups(at / "key_groups", groups_raw)
    else:
        flat = _flat_keys(at, rule)
        groups = [flat] if flat else []
    return CreationRule(
        index=index,
        path_regex=path_regex,
        key_groups=groups,
        shamir_threshold=_threshold(at / "shamir_threshold", rule.get("shamir_threshold"), groups),
        selection=_selection(at, index, rule),
    )


def _regex(at: _At, raw: object) -> str:
    text = _str(at, raw)
    try:
        re.compile(text)
    except re.error as exc:
        raise at.error(f"not a valid regular expression: {exc}") from exc
    return text


def _flat_keys(at: _At, rule: Mapping[str, Any]) -> list[Recipient]:
    profile = _str(at / "aws_profile", rule["aws_profile"]) if "aws_profile" in rule else ""
    keys: list[Recipient] = []
    for name, stanza_type in FLAT_KEY_FIELDS.items():
        for key in _key_list(at / name, rule.get(name), allow_string=True):
            keys.append(_flat_recipient(stanza_type, key, profile))
    return _dedupe(keys)


def _key_list(at: _At, raw: object, *, allow_string: bool) -> list[str]:
    """A comma-separated string (flat fields only) or a list of strings; spaces trimmed."""
    if raw is None:
        return []
    if isinstance(raw, str) and allow_string:
        return [part.strip() for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list):
        shape = "a comma-separated string or a list" if allow_string else "a list"
        raise at.error(f"must be {shape} of keys")
    return [_str(at / i, item).strip() for i, item in enumerate(raw)]


def _flat_recipient(stanza_type: str, key: str, aws_profile: str) -> Recipient:
    if stanza_type == "pgp":
        return Recipient("pgp", key.replace(" ", ""))
    if stanza_type == "kms":
        arn, _, role = key.partition("+")  # sops's `arn+role_arn` form
        extra = [("role", role)] if role else []
        if aws_profile:
            extra.append(("aws_profile", aws_profile))
        return Recipient("kms", arn, tuple(extra))
    return Recipient(stanza_type, key)


# ---------------------------------------------------------------------------- key groups


def _groups(at: _At, raw: object) -> list[list[Recipient]]:
    if not isinstance(raw, list):
        raise at.error("must be a list of key groups")
    return [_dedupe(_group(at / i, group)) for i, group in enumerate(raw)]


def _group(at: _At, raw: object) -> list[Recipient]:
    group = _mapping(at, raw)
    _only(at, group, _GROUP_FIELDS)
    keys = [
        Recipient("age", k) for k in _key_list(at / "age", group.get("age"), allow_string=False)
    ]
    pgp = _key_list(at / "pgp", group.get("pgp"), allow_string=False)
    keys += [Recipient("pgp", fp.replace(" ", "")) for fp in pgp]
    vault = _key_list(at / "hc_vault", group.get("hc_vault"), allow_string=False)
    keys += [Recipient("hc_vault", uri) for uri in vault]
    keys += [_kms(at / "kms" / i, item) for i, item in enumerate(_list(at / "kms", group))]
    keys += [_gcp(at / "gcp_kms" / i, item) for i, item in enumerate(_list(at / "gcp_kms", group))]
    azure = _list(at / "azure_keyvault", group)
    keys += [_azure(at / "azure_keyvault" / i, item) for i, item in enumerate(azure)]
    merged = _list(at / "merge", group)
    for i, sub in enumerate(merged):  # merge: nested groups flattened into this one
        keys += _group(at / "merge" / i, sub)
    return keys


def _list(at: _At, group: Mapping[str, Any]) -> list[Any]:
    raw = group.get(at.last)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise at.error("must be a list")
    return raw


def _kms(at: _At, raw: object) -> Recipient:
    item = _mapping(at, raw)
    _only(at, item, ("arn", "role", "context", "aws_profile"))
    extra: list[tuple[str, str]] = []
    if item.get("role"):
        extra.append(("role", _str(at / "role", item["role"])))
    if item.get("context"):
        context = _mapping(at / "context", item["context"])
        # The form sops's --encryption-context flag takes: key:value,key:value.
        pairs = [f"{k}:{_str(at / 'context' / k, v)}" for k, v in context.items()]
        extra.append(("context", ",".join(pairs)))
    if item.get("aws_profile"):
        extra.append(("aws_profile", _str(at / "aws_profile", item["aws_profile"])))
    return Recipient("kms", _str(at / "arn", item.get("arn")).strip(), tuple(extra))


def _gcp(at: _At, raw: object) -> Recipient:
    item = _mapping(at, raw)
    _only(at, item, ("resource_id",))
    return Recipient("gcp_kms", _str(at / "resource_id", item.get("resource_id")).strip())


def _azure(at: _At, raw: object) -> Recipient:
    item = _mapping(at, raw)
    _only(at, item, ("vaultUrl", "key", "version"))
    url = _str(at / "vaultUrl", item.get("vaultUrl")).rstrip("/")
    name = _str(at / "key", item.get("key"))
    version = item.get("version") or ""
    if not isinstance(version, str):
        raise (at / "version").error("must be a string")
    extra = (("vault_url", url), ("name", name), ("version", version))
    return Recipient("azure_kv", f"{url}/keys/{name}/{version}".rstrip("/"), extra)


def _dedupe(keys: Iterable[Recipient]) -> list[Recipient]:
    return list(dict.fromkeys(keys))


# ---------------------------------------------------------------------------- settings


def _threshold(at: _At, raw: object, groups: list[list[Recipient]]) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise at.error("must be a whole number, 0 or more")
    if len(groups) > 1 and raw > len(groups):
        raise at.error(
            f"threshold {raw} is more than the {len(groups)} key groups",
            "lower shamir_threshold or add key groups",
        )
    return raw


def _selection(at: _At, index: int, rule: Mapping[str, Any]) -> Selection:
    chosen = [name for name in SELECTION_FIELDS if rule.get(name) is not None]
    if len(chosen) > 1:
        raise at.error(
            f"creation rule {index} sets more than one selection setting: {', '.join(chosen)}",
            "keep one of the suffixes, the regexes or the comment regexes",
        )
    settings: dict[str, Any] = {name: _str(at / name, rule[name]) for name in chosen}
    for name in chosen:
        if name.endswith("regex"):
            _regex(at / name, settings[name])
    mac_only = rule.get("mac_only_encrypted", False)
    if not isinstance(mac_only, bool):
        raise (at / "mac_only_encrypted").error("must be true or false")
    return Selection(mac_only_encrypted=mac_only, **settings)


def _indents(at: _At, raw: object) -> dict[str, int]:
    if raw is None:
        return {}
    stores = _mapping(at, raw)
    _only(at, stores, _STORE_NAMES)
    indents = {}
    for name, options in stores.items():
        opts = _mapping(at / name, options or {})
        _only(at / name, opts, ("indent",))
        if "indent" in opts:
            indent = opts["indent"]
            if isinstance(indent, bool) or not isinstance(indent, int) or indent < 0:
                raise (at / name / "indent").error("must be a whole number, 0 or more")
            indents[name] = indent
    return indents


# ---------------------------------------------------------------------------- field helpers


class _At:
    """A field location in the config, for error messages: `<file>: creation_rules[1].age`."""

    def __init__(self, file: Path, path: str = "", last: str = "") -> None:
        self.file = file
        self.path = path
        self.last = last

    def __truediv__(self, key: str | int) -> _At:
        if isinstance(key, int):
            return _At(self.file, f"{self.path}[{key}]", self.last)
        return _At(self.file, f"{self.path}.{key}" if self.path else key, key)

    def error(self, problem: str, fix: str | None = None) -> ConfigError:
        where = f"{self.file}: {self.path}" if self.path else str(self.file)
        return ConfigError(f"{where}: {problem}", hint=fix)


def _mapping(at: _At, raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict) or not all(isinstance(k, str) for k in raw):
        raise at.error("must be a mapping with string keys")
    return raw


def _str(at: _At, raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise at.error("must be a non-empty string")
    return raw


def _only(at: _At, raw: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in raw:
        if key not in allowed:
            raise (at / key).error(
                "unknown field (a typo here could select the wrong keys)",
                f"allowed: {', '.join(allowed)}",
            )
