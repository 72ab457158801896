"""`sopsgen updatekeys PATH...`: bring recipients in line with .sops.yaml, values untouched."""

from __future__ import annotations

from pathlib import Path

import click

from sopsgen.cli.common import encryption_plan, file_format, identities, now, read_input
from sopsgen.errors import FileAccessError
from sopsgen.fsio import atomic_write, locked_directory
from sopsgen.sops.datakey import EncryptionPlan
from sopsgen.sops.document import (
    current_plan,
    decrypt_document,
    is_sops_document,
    rewrap_document,
    rotate_data_key,
)


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--dry-run", is_flag=True, help="print what would change, change nothing")
@click.option(
    "--rotate-data-key", is_flag=True, help="also re-encrypt every value under a new data key"
)
@click.option("--config", "config", help="path of .sops.yaml (default: search from cwd)")
def updatekeys(
    paths: tuple[str, ...], dry_run: bool, rotate_data_key: bool, config: str | None
) -> None:
    """Re-wrap the data key of each file (or every SOPS file in a folder) for its rule's keys."""
    files = [f for p in paths for f in _sops_files(Path(p))]
    if not files:
        raise FileAccessError("no SOPS-encrypted file found in " + ", ".join(paths))
    for file in files:
        _update_one(file, dry_run=dry_run, rotate=rotate_data_key, config=config)


def _sops_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileAccessError(f"{path} does not exist")
    found = []
    for candidate in sorted(p for p in path.rglob("*") if p.is_file() and ".git" not in p.parts):
        fmt = file_format(str(candidate), None)
        if fmt != "binary" and is_sops_document(candidate.read_bytes(), fmt):
            found.append(candidate)
    return found


def _update_one(file: Path, *, dry_run: bool, rotate: bool, config: str | None) -> None:
    fmt = file_format(str(file), None)
    with locked_directory(file):
        doc = decrypt_document(read_input(str(file)), fmt, identities(), name=str(file))
        wanted = encryption_plan(str(file), config=config)
        plan = EncryptionPlan(wanted.key_groups, wanted.shamir_threshold, doc.metadata.selection)
        added, removed = _recipient_changes(current_plan(doc.metadata), plan)
        regroup = _shape(current_plan(doc.metadata)) != _shape(plan)
        _report(file, added, removed, regroup, rotate, dry_run)
        if dry_run or not (added or removed or regroup or rotate):
            return
        data = rewrap_document(doc, plan, now=now(), identities=identities())
        if rotate:
            doc = decrypt_document(data, fmt, identities(), name=str(file))
            data = rotate_data_key(doc, now=now(), identities=identities())
        atomic_write(file, data)


def _recipient_changes(old: EncryptionPlan, new: EncryptionPlan) -> tuple[list[str], list[str]]:
    before, after = set(old.recipient_labels()), set(new.recipient_labels())
    return sorted(after - before), sorted(before - after)


def _shape(plan: EncryptionPlan) -> tuple[object, ...]:
    groups = [sorted(f"{r.type}:{r.id}" for r in group) for group in plan.key_groups]
    return (groups, plan.shamir_threshold if len(groups) > 1 else None)


def _report(
    file: Path, added: list[str], removed: list[str], regroup: bool, rotate: bool, dry_run: bool
) -> None:
    verb = "would" if dry_run else "will"
    if not (added or removed or regroup or rotate):
        click.echo(f"{file}: recipients already match .sops.yaml")
        return
    click.echo(f"{file}:")
    for label in added:
        click.echo(f"  + {label}")
    for label in removed:
        click.echo(f"  - {label}")
    if regroup and not (added or removed):
        click.echo("  ~ key groups or threshold change")
    if rotate:
        click.echo(f"  {verb} re-encrypt every value under a new data key")
    if dry_run:
        click.echo("  (dry run: nothing written)")
