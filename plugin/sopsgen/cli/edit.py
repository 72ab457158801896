"""`sopsgen edit FILE`: $EDITOR on a private plaintext copy, then a zero-churn re-encrypt."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import tempfile
from pathlib import Path

import click

from sopsgen import proc
from sopsgen.cli.common import encryption_plan, file_format, identities, now, read_input
from sopsgen.errors import CancelledError, ConfigError, FormatError
from sopsgen.fsio import atomic_write, locked_directory, private_temp_dir
from sopsgen.sops.document import (
    decrypt_document,
    dump_plaintext,
    encrypt_document,
    load_plaintext,
    save_document,
)
from sopsgen.sops.tree import Mapping

_NEW_FILE_TEMPLATE = {
    "yaml": b"# new file: add keys and values, save and quit\nexample_key: example_value\n",
    "json": b'{\n\t"example_key": "example_value"\n}\n',
    "dotenv": b"EXAMPLE_KEY=example_value\n",
    "ini": b"[section]\nexample_key = example_value\n",
    "binary": b"",
}


@click.command()
@click.argument("file")
@click.option("--age", multiple=True, help="recipients for a new file (else .sops.yaml)")
@click.option("--pgp", multiple=True, help="pgp fingerprints for a new file (else .sops.yaml)")
@click.option("--config", "config", help="path of .sops.yaml (default: search from cwd)")
def edit(file: str, age: tuple[str, ...], pgp: tuple[str, ...], config: str | None) -> None:
    """Edit FILE decrypted in $EDITOR; unchanged values keep their ciphertext."""
    path = Path(file)
    fmt = file_format(file, None)
    with locked_directory(path):
        if path.exists():
            doc = decrypt_document(read_input(file), fmt, identities(), name=file)
            original = dump_plaintext(doc.branches, fmt)
            edited = _edit_until_valid(original, fmt, path.suffix)
            if edited is None:
                click.echo(f"sopsgen: {file} not changed", err=True)
                return
            atomic_write(path, save_document(doc, edited, now=now()))
        else:
            plan = encryption_plan(file, age=age, pgp=pgp, config=config)
            edited = _edit_until_valid(_NEW_FILE_TEMPLATE[fmt], fmt, path.suffix, new=True)
            if edited is None:
                return
            atomic_write(
                path, encrypt_document(edited, fmt, plan, now=now(), identities=identities())
            )


def _edit_until_valid(
    plaintext: bytes, fmt: str, suffix: str, *, new: bool = False
) -> list[Mapping] | None:
    """Open the editor until the text parses; None when nothing changed."""
    text = plaintext
    while True:
        changed = _run_editor(text, suffix)
        if changed == plaintext and not new:
            return None
        try:
            return load_plaintext(changed, fmt, name="the edited text")
        except FormatError as error:
            click.echo(f"sopsgen: error: {error.one_line()}", err=True)
            if not click.confirm("Edit again? (No discards your changes)", default=True):
                raise CancelledError("edit abandoned: the file was not changed") from error
            text = changed


def _run_editor(plaintext: bytes, suffix: str) -> bytes:
    editor = shlex.split(os.environ.get("SOPS_EDITOR") or os.environ.get("EDITOR") or "")
    if not editor:
        found = next((e for e in ("vim", "nano", "vi") if shutil.which(e)), None)
        if found is None:
            raise ConfigError("no editor found", hint="set EDITOR (e.g. EDITOR=nano)")
        editor = [found]
    folder = tempfile.mkdtemp(prefix="sopsgen-edit-", dir=private_temp_dir())
    os.chmod(folder, 0o700)
    temp = Path(folder) / f"plaintext{suffix}"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(plaintext)
        code = proc.run_interactive([*editor, str(temp)])
        if code != 0:
            raise CancelledError(f"the editor exited with code {code}; the file was not changed")
        return temp.read_bytes()
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        with contextlib.suppress(OSError):
            os.rmdir(folder)
