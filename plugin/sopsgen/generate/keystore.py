"""Every change to a store: generate, set, rotate, retire, adopt; and the checks.

These functions change a `Store` in memory and report what they did; the caller saves it.
None of them ever changes the value of an existing entry, except `set` on a value the
spec marks `provided` (a human's value, such as a licence, is meant to be replaced).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from collections.abc import Mapping as TypingMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sopsgen.errors import ConfigError, FormatError, StoreConflictError
from sopsgen.generate.recipes import SYSTEM_RANDOM, RandomSource, make_value, validate
from sopsgen.generate.spec import (
    Spec,
    ValueSpec,
    expand_secret_keys,
    ring_member_name,
    ring_members,
    wildcard_prefix,
)
from sopsgen.generate.store import Entry, Store, created_stamp


@dataclass(frozen=True)
class Change:
    """One line of what a command did, for the user (never holds a value)."""

    action: str  # created | replaced | removed | unchanged
    name: str
    detail: str = ""

    def describe(self) -> str:
        return f"{self.action} {self.name}" + (f" ({self.detail})" if self.detail else "")


def _new_entry(value: ValueSpec, text: str, now: datetime, *, index: int | None = None,
               origin: str | None = None) -> Entry:  # fmt: skip
    return Entry(
        value=text,
        created=created_stamp(now),
        recipe=value.recipe,
        ring=value.name if value.ring else None,
        index=index,
        origin=origin,
    )


# ---------------------------------------------------------------------------- generate


def generate_missing(
    spec: Spec, store: Store, *, now: datetime, rng: RandomSource = SYSTEM_RANDOM
) -> list[Change]:
    """Create every generated value that is missing; a ring gets member 0."""
    changes = []
    for value in spec.values.values():
        if not value.is_generated:
            continue
        if value.ring:
            if ring_members(value.name, store.names()):
                continue
            name = ring_member_name(value.name, 0)
            store.entries[name] = _new_entry(value, make_value(value, rng), now, index=0)
        elif value.name in store.entries:
            continue
        else:
            name = value.name
            store.entries[name] = _new_entry(value, make_value(value, rng), now)
        changes.append(Change("created", name, value.recipe))
    return changes


def missing_provided(spec: Spec, store: Store) -> list[str]:
    return [
        name for name in spec.missing_values(store.names()) if spec.value(name).kind == "provided"
    ]


# ---------------------------------------------------------------------------- set


def set_provided(spec: Spec, store: Store, name: str, text: str, *, now: datetime) -> Change:
    """Store a human-provided value after checking it against its recipe."""
    value = spec.value(name)
    if value.kind != "provided":
        raise ConfigError(
            f"{name} is a {value.kind} value, not a provided one: sopsgen set only stores "
            "values a human provides",
            hint="generated values are made by `sopsgen generate`; to import an existing "
            "value use `sopsgen adopt`",
        )
    problem = validate(value, text)
    if problem is not None:
        raise FormatError(f"the value given for {name} {problem}", hint=_format_hint(value))
    previous = store.entries.get(name)
    if previous is not None and previous.value == text:
        return Change("unchanged", name)
    store.entries[name] = _new_entry(value, text, now, origin="set")
    return Change("replaced" if previous else "created", name, "provided")


def _format_hint(value: ValueSpec) -> str:
    return f"the spec asks for format {value.format}" if value.format else "check the input"


# ---------------------------------------------------------------------------- rings


def rotate(
    spec: Spec, store: Store, ring: str, *, now: datetime, rng: RandomSource = SYSTEM_RANDOM
) -> Change:
    """Append member N+1 to a ring; every existing member stays as it is."""
    value = _ring(spec, ring)
    members = ring_members(ring, store.names())
    index = members[-1][0] + 1 if members else 0
    name = ring_member_name(ring, index)
    if value.kind == "provided":
        raise ConfigError(f"{ring} is a provided ring: add member {index} with `sopsgen set`")
    store.entries[name] = _new_entry(value, make_value(value, rng), now, index=index)
    return Change("created", name, f"ring {ring} now has {len(members) + 1} members")


def due_rings(spec: Spec, store: Store, *, now: datetime) -> list[str]:
    """Rings whose newest member is older than their `rotateAfter`."""
    due = []
    for value in spec.rings():
        age = newest_member_age(value, store, now=now)
        if value.rotate_after is not None and age is not None and age >= value.rotate_after:
            due.append(value.name)
    return due


def newest_member_age(value: ValueSpec, store: Store, *, now: datetime) -> timedelta | None:
    members = ring_members(value.name, store.names())
    if not members:
        return None
    created = parse_stamp(store.entries[members[-1][1]].created)
    return now - created if created is not None else None


def parse_stamp(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def retire(spec: Spec, store: Store, ring: str, index: int) -> Change:
    """Remove one old member; never the newest, never one that is not there."""
    _ring(spec, ring)
    members = ring_members(ring, store.names())
    name = ring_member_name(ring, index)
    if name not in store.entries:
        present = ", ".join(str(i) for i, _ in members) or "none"
        raise StoreConflictError(f"{ring} has no member {index} (members: {present})")
    if members[-1][0] == index:
        raise StoreConflictError(
            f"refusing to retire {name}: it is the newest member of {ring}, the key that "
            "encrypts new data",
            hint=f"run `sopsgen rotate {ring}` first, then retire {index} once nothing needs it",
        )
    del store.entries[name]
    left = len(members) - 1
    return Change("removed", name, f"{ring} keeps {left} member{'s' if left != 1 else ''}")


def _ring(spec: Spec, ring: str) -> ValueSpec:
    value = spec.value(ring)
    if not value.ring:
        raise ConfigError(f"{ring} is not a ring", hint="add `ring: true` to it in the spec")
    return value


# ---------------------------------------------------------------------------- adopt


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
        store.entries[name] = _new_entry(value, text, now, index=index, origin="adopted")
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


# ---------------------------------------------------------------------------- check


@dataclass(frozen=True)
class Problem:
    store: str
    value: str
    problem: str

    def describe(self) -> str:
        return f"{self.store}: {self.value}: {self.problem}"


def check_store(spec: Spec, store: Store, *, now: datetime) -> list[Problem]:
    """Everything wrong with one store against its spec (values never quoted)."""
    return _missing(spec, store) + _invalid(spec, store) + _overdue(spec, store, now=now)


def _missing(spec: Spec, store: Store) -> list[Problem]:
    return [
        Problem(str(store.path), name, f"missing (create it with {_fix_for(spec.value(name))})")
        for name in spec.missing_values(store.names())
    ]


def _invalid(spec: Spec, store: Store) -> list[Problem]:
    problems = []
    for name, entry in store.entries.items():
        owner = spec.store_key_of(name)
        if owner is None:
            continue  # not declared (any more): kept, reported by nothing
        problem = validate(owner[0], entry.value)
        if problem is not None:
            problems.append(Problem(str(store.path), name, f"value {problem}"))
    return problems


def _overdue(spec: Spec, store: Store, *, now: datetime) -> list[Problem]:
    """Rings past rotateAfter, and rings whose age cannot be told (no valid `created`)."""
    problems = []
    for value in spec.rings():
        if value.rotate_after is None or not ring_members(value.name, store.names()):
            continue
        age = newest_member_age(value, store, now=now)
        fix = f"run `sopsgen rotate {value.name}`"
        if age is None:
            problem = (
                f"newest member has no valid `created` time in meta, so its age is unknown; {fix}"
            )
        elif age >= value.rotate_after:
            problem = (
                f"newest member is {_days(age)} old, past rotateAfter "
                f"{_days(value.rotate_after)}; {fix}"
            )
        else:
            continue
        problems.append(Problem(str(store.path), value.name, problem))
    return problems


def _days(span: timedelta | None) -> str:
    """A duration as the spec writes it: whole days, or hours below one day."""
    if span is None:
        return "unknown"
    if span >= timedelta(days=1):
        return f"{span.days}d"
    return f"{int(span.total_seconds() // 3600)}h"


def _fix_for(value: ValueSpec) -> str:
    if value.kind == "provided":
        return f"`sopsgen set {value.name}`"
    return "`sopsgen generate`"


def shared_values(stores: list[tuple[Spec, Store]]) -> list[Problem]:
    """Secret values that appear in two different stores (compared in memory only)."""
    seen: dict[str, tuple[str, str]] = {}
    problems = []
    for spec, store in stores:
        for name, entry in store.entries.items():
            owner = spec.store_key_of(name)
            if owner is not None and owner[0].kind in ("constant",):
                continue
            if owner is not None and owner[0].kind == "provided" and not owner[0].ring:
                continue  # a human may reuse a user name or licence across environments
            other = seen.get(entry.value)
            if other is not None and other[0] != str(store.path):
                problems.append(
                    Problem(
                        str(store.path),
                        name,
                        f"same value as {other[1]} in {other[0]}; "
                        "environments must not share secrets",
                    )
                )
            else:
                seen.setdefault(entry.value, (str(store.path), name))
    return problems


def expanded_keys(spec: Spec, store: Store) -> dict[str, dict[str, str]]:
    """Secret name -> data key -> store name, for every declared Secret."""
    return {s.name: expand_secret_keys(s, store.names()) for s in spec.secrets}
