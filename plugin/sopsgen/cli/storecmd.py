"""What the store commands share: spec loading, locked read-modify-write, the store plan."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import click

from sopsgen.cli.common import identities, now
from sopsgen.errors import ConfigError
from sopsgen.fsio import atomic_write, locked_directory
from sopsgen.generate.spec import Spec, load_spec
from sopsgen.generate.store import Store, open_store
from sopsgen.sops.datakey import EncryptionPlan
from sopsgen.sops.rules import find_config, load_rules

DEFAULT_SPEC = "sopsgen.yaml"

F = TypeVar("F", bound=Callable[..., object])


def spec_argument(command: F) -> F:
    """[SPEC] as an argument, and `--spec FILE` as every store command spells it."""
    command = click.option(
        "--spec", "spec_option", metavar="FILE", help="the generator spec (same as SPEC)"
    )(command)
    return click.argument("spec", required=False, default=DEFAULT_SPEC, metavar="[SPEC]")(command)


def chosen_spec(spec: str, spec_option: str | None) -> str:
    if spec_option and spec != DEFAULT_SPEC and spec != spec_option:
        raise ConfigError("give the spec either as SPEC or as --spec, not both")
    return spec_option or spec


def store_plan(store_path: Path, config: str | None = None) -> EncryptionPlan:
    """Recipients of a new store: the .sops.yaml rule for its path (searched from its folder)."""
    found = find_config(store_path.parent, Path(config) if config else None)
    if found is None:
        raise ConfigError(
            f"no .sops.yaml found above {store_path.parent} to pick recipients for "
            f"{store_path.name}",
            hint="run `sopsgen init --age RECIPIENT`, or add a .sops.yaml with creation_rules",
        )
    rule = load_rules(found).rule_for(store_path.resolve())
    return EncryptionPlan(rule.key_groups, rule.shamir_threshold)


@dataclass
class Session:
    spec: Spec
    store: Store


@contextlib.contextmanager
def changing_store(spec_path: str, *, config: str | None = None) -> Iterator[Session]:
    """Lock the store's folder, open the store, let the caller change it, save if changed."""
    spec = load_spec(Path(spec_path))
    path = spec.store_path
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = identities()
    with locked_directory(path):
        store = open_store(path, ids)
        session = Session(spec, store)
        yield session
        if not store.exists and not store.entries:
            return
        plan = None if store.exists else store_plan(path, config)
        data = store.encoded(now=now(), plan=plan, identities=ids)
        if store.document is None or data != store.document.raw:
            atomic_write(path, data)


def reading_store(spec_path: str) -> Session:
    spec = load_spec(Path(spec_path))
    return Session(spec, open_store(spec.store_path, identities()))


def echo_changes(lines: list[str], *, nothing: str) -> None:
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo(nothing)
