"""The store checks behind `sopsgen check`: complete, valid, not overdue, not shared.

Problems name the store and the value, never the value's content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sopsgen.generate.keystore import newest_member_age
from sopsgen.generate.recipes import validate
from sopsgen.generate.spec import Spec, ValueSpec, ring_members
from sopsgen.generate.store import Store


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
