"""`sopsgen encrypt FILE`: a new SOPS document from a plaintext file."""

from __future__ import annotations

import os
from pathlib import Path

import click

from sopsgen.cli.common import (
    FORMAT_CHOICE,
    encryption_plan,
    file_format,
    identities,
    now,
    read_input,
    selection_from,
    selection_options,
    write_stdout,
)
from sopsgen.errors import ConfigError
from sopsgen.fsio import atomic_write
from sopsgen.keys.sops_binary import encrypt_with_sops
from sopsgen.sops.datakey import EncryptionPlan
from sopsgen.sops.document import dump_plaintext, encrypt_document, load_plaintext


@click.command()
@click.argument("file")
@click.option("--age", multiple=True, help="age recipient(s), comma-separated or repeated")
@click.option("--pgp", multiple=True, help="pgp fingerprint(s), comma-separated or repeated")
@click.option("--input-type", type=FORMAT_CHOICE, help="format of FILE (default: by extension)")
@click.option("--output-type", type=FORMAT_CHOICE, help="format to write (default: input's)")
@click.option("--in-place", "-i", is_flag=True, help="replace FILE with the encrypted document")
@click.option("--output", type=click.Path(dir_okay=False), help="write to this file")
@click.option("--config", "config", help="path of .sops.yaml (default: search from cwd)")
@click.option("--filename-override", help="path used to pick the format and the creation rule")
@click.option("--shamir-secret-sharing-threshold", "threshold", type=click.IntRange(1, 255))
@selection_options
def encrypt(
    file: str,
    age: tuple[str, ...],
    pgp: tuple[str, ...],
    input_type: str | None,
    output_type: str | None,
    in_place: bool,
    output: str | None,
    config: str | None,
    filename_override: str | None,
    threshold: int | None,
    **selection: object,
) -> None:
    """Encrypt FILE for the given recipients, or for the matching .sops.yaml rule."""
    if in_place and output:
        raise ConfigError("--in-place and --output cannot be used together")
    name = filename_override or file
    fmt = file_format(name, input_type)
    out_fmt = output_type or fmt
    plan = encryption_plan(
        name, age=age, pgp=pgp, config=config, selection=selection_from(selection),
        threshold=threshold,
    )  # fmt: skip
    branches = load_plaintext(read_input(file), fmt, name=file)
    if plan.non_native_types():
        encrypted = _through_sops(dump_plaintext(branches, out_fmt), out_fmt, name, plan, config)
    else:
        encrypted = encrypt_document(branches, out_fmt, plan, now=now(), identities=identities())
    if in_place or output:
        atomic_write(Path(output or file), encrypted)
    else:
        write_stdout(encrypted)


def _through_sops(
    plaintext: bytes, fmt: str, name: str, plan: EncryptionPlan, config: str | None
) -> bytes:
    """Cloud KMS and Vault keys: the sops binary wraps the data key, reading the same rules.

    `--config` is a global sops flag (`sops --config F encrypt`, not `sops encrypt --config
    F`), so the config path travels as SOPS_CONFIG, which sops reads in either case.
    """
    env = dict(os.environ)
    if config:
        env["SOPS_CONFIG"] = str(Path(config).resolve())
    return encrypt_with_sops(
        plaintext,
        fmt,
        identities().sops_exec,
        ["--filename-override", name],
        key_type=", ".join(plan.non_native_types()),
        env=env,
    )
