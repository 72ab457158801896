"""`adopt`: import values from Secrets a cluster already runs with, mapped through the spec.

How a team running chart-generated keys keeps them: base64 `data` and `stringData` of
`kubectl get secret -o yaml` output, ring members recognised by their index. Never
overwrites a different existing value.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from collections.abc import Mapping as TypingMapping
from datetime import datetime

from sopsgen.errors import ConfigError, FormatError, StoreConflictError
from sopsgen.generate.keystore import Change, new_entry
from sopsgen.generate.recipes import validate
from sopsgen.generate.spec import Spec, ValueSpec, ring_member_name, wildcard_prefix
from sopsgen.generate.store import Store


def adopt(
    spec: Spec, store: Store, secrets: Iterable[dict[str, object]], *, now: datetime
) -> list[Change]:
    """Import the values of existing Secret manifests (as `kubectl get secret -o yaml`).

    All or nothing: the first conflict raises before the caller saves anything.
    """
    found, ignored = _values_from_manifests(spec, _flatten(secrets))
    changes = [
        _adopt_one(spec, store, name, text, where, now) for name, (text, where) in found.items()
    ]
    changes += [Change("ignored", key, "the spec maps no value to it") for key in ignored]
    return [change for change in changes if change.action != "skipped"]


def _adopt_one(spec: Spec, store: Store, name: str, text: str, where: str, now: datetime) -> Change:
    value, index = _owner(spec, name)
    if value.kind == "constant":
        return Change("skipped", name)  # constants come from the spec
    problem = validate(value, text)
    if problem is not None:
        raise FormatError(
            f"{where} {problem}, so it cannot be adopted as {name}",
            hint=f"the spec asks for {value.recipe}",
        )
    existing = store.entries.get(name)
    if existing is None:
        store.entries[name] = new_entry(value, text, now, index=index, origin="adopted")
        return Change("created", name, f"adopted from {where}")
    if existing.value != text:
        raise StoreConflictError(
            f"{where} differs from {name} already in {store.path}; refusing to overwrite it",
            hint="adopt before `sopsgen generate` creates values, or remove "
            f"{name} from the store with `sopsgen edit` if the cluster value must win",
        )
    return Change("unchanged", name)


def _owner(spec: Spec, store_name: str) -> tuple[ValueSpec, int | None]:
    owner = spec.store_key_of(store_name)
    assert owner is not None
    return owner


def _flatten(manifests: Iterable[dict[str, object]]) -> list[dict[str, object]]:
    """`kubectl get secret -o yaml` prints one Secret, or a `List` of them for several."""
    out: list[dict[str, object]] = []
    for manifest in manifests:
        if manifest.get("kind") != "List":
            out.append(manifest)
            continue
        items = manifest.get("items")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise FormatError("the input List has no `items` list of manifests")
        out.extend(_flatten(items))
    return out


def _values_from_manifests(
    spec: Spec, manifests: list[dict[str, object]]
) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Store name -> (plaintext, where it came from), and the Secret keys the spec ignores.

    Two Secret keys that map to the same value must hold the same text.
    """
    found: dict[str, tuple[str, str]] = {}
    ignored: list[str] = []
    matched = False
    for manifest in manifests:
        name = _manifest_name(manifest)
        for secret in (s for s in spec.secrets if s.name == name):
            matched = True
            for key, text in _manifest_data(manifest, name).items():
                store_name = _store_name_for(secret.data, key)
                if store_name is None:
                    ignored.append(f"Secret {name} key {key}")
                    continue
                _remember(found, store_name, text, f"Secret {name} key {key}")
    if not matched:
        names = ", ".join(s.name for s in spec.secrets)
        raise ConfigError(
            "no Secret in the input has a name the spec declares", hint=f"spec Secrets: {names}"
        )
    return found, ignored


def _remember(found: dict[str, tuple[str, str]], store_name: str, text: str, where: str) -> None:
    earlier = found.get(store_name)
    if earlier is not None and earlier[0] != text:
        raise StoreConflictError(
            f"{where} and {earlier[1]} both map to {store_name} but hold different values",
            hint="fix the Secret or the spec mapping, then adopt again",
        )
    found.setdefault(store_name, (text, where))


def _store_name_for(data: TypingMapping[str, str], key: str) -> str | None:
    """The store name a Secret key maps to (`encryption-key-3` for a ring wildcard)."""
    for secret_key, value_name in data.items():
        prefix = wildcard_prefix(secret_key)
        if prefix is None:
            if secret_key == key:
                return value_name
            continue
        suffix = key[len(prefix) :] if key.startswith(prefix) else ""
        if suffix.isdigit() and str(int(suffix)) == suffix:
            return ring_member_name(value_name, int(suffix))
    return None


def _manifest_name(manifest: dict[str, object]) -> str:
    metadata = manifest.get("metadata")
    if manifest.get("kind") != "Secret" or not isinstance(metadata, dict):
        raise FormatError("the input is not a Secret manifest (kind: Secret with metadata)")
    return str(metadata.get("name", ""))


def _manifest_data(manifest: dict[str, object], name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    data = manifest.get("data") or {}
    if not isinstance(data, dict):
        raise FormatError(f"Secret {name}: data is not a mapping")
    for key, encoded in data.items():
        try:
            out[str(key)] = base64.b64decode(str(encoded), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise FormatError(f"Secret {name} key {key} is not base64 of UTF-8 text") from exc
    string_data = manifest.get("stringData") or {}
    if not isinstance(string_data, dict):
        raise FormatError(f"Secret {name}: stringData is not a mapping")
    out.update({str(k): str(v) for k, v in string_data.items()})
    return out
