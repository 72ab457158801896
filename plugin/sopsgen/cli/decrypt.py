"""`sopsgen decrypt FILE`: plaintext to stdout in the file's format, like `sops -d`."""

from __future__ import annotations

import click

from sopsgen.cli.common import FORMAT_CHOICE, file_format, identities, read_input, write_stdout
from sopsgen.sops.document import decrypt_document, dump_plaintext


@click.command()
@click.argument("file")
@click.option("--input-type", type=FORMAT_CHOICE, help="format of FILE (default: by extension)")
@click.option("--output-type", type=FORMAT_CHOICE, help="format to print (default: input's)")
@click.option(
    "--ignore-mac", is_flag=True, help="skip the integrity check: for recovering damaged files only"
)
def decrypt(file: str, input_type: str | None, output_type: str | None, ignore_mac: bool) -> None:
    """Print the decrypted FILE (`-` reads stdin) to stdout."""
    fmt = file_format(file, input_type)
    if ignore_mac:
        click.echo(
            "sopsgen: WARNING: --ignore-mac: the MAC is NOT checked; the output may have been "
            "tampered with. Use this only to recover a damaged file.",
            err=True,
        )
    doc = decrypt_document(read_input(file), fmt, identities(), name=file, ignore_mac=ignore_mac)
    write_stdout(dump_plaintext(doc.branches, output_type or fmt))
