"""Changes to a store: generate, set, rotate, retire (adopt and the checks have their own
modules).

These functions change a `Store` in memory and report what they did; the caller saves it.
None of them ever changes the value of an existing entry, except `set` on a value the
spec marks `provided` (a human's value, such as a licence, is meant to be replaced).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sopsgen.errors import ConfigError, FormatError, StoreConflictError
from sopsgen.generate.recipes import SYSTEM_RANDOM, RandomSource, make_value, validate
from sopsgen.generate.spec import (
    Spec,
    ValueSpec,
    ring_member_name,
    ring_members,
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


def new_entry(value: ValueSpec, text: str, now: datetime, *, index: int | None = None,
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
            store.entries[name] = new_entry(value, make_value(value, rng), now, index=0)
        elif value.name in store.entries:
            continue
        else:
            name = value.name
            store.entries[name] = new_entry(value, make_value(value, rng), now)
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
    store.entries[name] = new_entry(value, text, now, origin="set")
    return Change("replaced" if previous else "created", name, "provided")


def _format_hint(value: ValueSpec) -> str:
    return f"the spec asks for format {value.format}" if value.format else "check the input"


# ---------------------------------------------------------------------------- rings


def rotate(
    spec: Spec, store: Store, ring: str, *, now: datetime, rng: RandomSource = SYSTEM_RANDOM
) -> Change:
    """Append member N+1 to a ring; every existing member stays as it is.

    Rings are always generated (the spec refuses `ring` on constant and provided values).
    """
    value = _ring(spec, ring)
    members = ring_members(ring, store.names())
    index = members[-1][0] + 1 if members else 0
    name = ring_member_name(ring, index)
    store.entries[name] = new_entry(value, make_value(value, rng), now, index=index)
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
