"""What several commands share: the clock, identities, input reading, encryption plans."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import click

from sopsgen.errors import ConfigError, FileAccessError
from sopsgen.keys.base import Identities, Recipient
from sopsgen.keys.discovery import discover_identities
from sopsgen.sops.datakey import EncryptionPlan
from sopsgen.sops.formats.registry import format_for_path
from sopsgen.sops.rules import SopsConfig, find_config, load_rules
from sopsgen.sops.selection import Selection

_F = TypeVar("_F", bound=Callable[..., object])

FORMAT_CHOICE = click.Choice(["yaml", "json", "dotenv", "ini", "binary"])


def now() -> datetime:
    return datetime.now(UTC)


def identities() -> Identities:
    return discover_identities(os.environ)


def read_input(path: str) -> bytes:
    """Bytes of a file, or of stdin for `-`; a clear error when the file is missing."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise FileAccessError(f"{path} does not exist", hint="check the path") from exc
    except IsADirectoryError as exc:
        raise FileAccessError(f"{path} is a folder, not a file") from exc
    except PermissionError as exc:
        raise FileAccessError(f"{path} cannot be read: permission denied") from exc


def file_format(path: str, override: str | None) -> str:
    return override or format_for_path(path, None)


def write_stdout(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def sops_config(explicit: str | None) -> SopsConfig | None:
    """The .sops.yaml sops would use: --config, then SOPS_CONFIG, then a walk up from cwd."""
    chosen = explicit or os.environ.get("SOPS_CONFIG")
    path = find_config(Path.cwd(), Path(chosen) if chosen else None)
    if path is None:
        return None
    if not path.is_file():
        raise ConfigError(f"the sops config {path} does not exist")
    return load_rules(path)


def split_keys(values: tuple[str, ...]) -> list[str]:
    """Flags may repeat and each may hold a comma-separated list, as sops accepts."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def encryption_plan(
    file_path: str,
    *,
    age: tuple[str, ...] = (),
    pgp: tuple[str, ...] = (),
    config: str | None = None,
    selection: Selection | None = None,
    threshold: int | None = None,
) -> EncryptionPlan:
    """Keys from flags replace the rule's keys; other settings still come from the rule."""
    flag_keys = [Recipient("age", a) for a in split_keys(age)] + [
        Recipient("pgp", p.replace(" ", "").upper()) for p in split_keys(pgp)
    ]
    loaded = sops_config(config)
    rule = loaded.rule_for(Path(file_path), cwd=Path.cwd()) if loaded else None
    if not flag_keys and rule is None:
        raise ConfigError(
            f"no keys to encrypt {file_path} for: no --age/--pgp flag and no .sops.yaml found",
            hint="pass --age RECIPIENT, or create .sops.yaml with creation_rules",
        )
    groups = [flag_keys] if flag_keys else (rule.key_groups if rule else [])
    return EncryptionPlan(
        key_groups=groups,
        shamir_threshold=threshold or (rule.shamir_threshold if rule else None),
        selection=_merged_selection(selection or Selection(), rule.selection if rule else None),
    )


def _merged_selection(flags: Selection, rule: Selection | None) -> Selection:
    """A selection flag replaces the rule's setting; mac_only_encrypted from either."""
    source = flags if flags.chosen() or rule is None else rule
    mac_only = flags.mac_only_encrypted or bool(rule and rule.mac_only_encrypted)
    return Selection.from_fields(_selection_fields(source), mac_only_encrypted=mac_only)


def _selection_fields(selection: Selection) -> dict[str, str]:
    return {k: v for k, v in selection.as_dict().items() if isinstance(v, str)}


def selection_options(command: _F) -> _F:
    """The selection flags, spelled as sops spells them."""
    for name in (
        "unencrypted-suffix",
        "encrypted-suffix",
        "unencrypted-regex",
        "encrypted-regex",
        "unencrypted-comment-regex",
        "encrypted-comment-regex",
    ):
        command = click.option(f"--{name}", default=None, help=f"sops {name} setting")(command)
    return click.option(
        "--mac-only-encrypted", is_flag=True, help="compute the MAC over encrypted values only"
    )(command)


def selection_from(options: dict[str, object]) -> Selection:
    fields = {
        key: str(value)
        for key, value in options.items()
        if key.endswith(("_suffix", "_regex")) and value is not None
    }
    return Selection.from_fields(fields, mac_only_encrypted=bool(options.get("mac_only_encrypted")))
