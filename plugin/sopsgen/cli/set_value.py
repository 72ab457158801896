"""`sopsgen set NAME`: store a value a human provides, read from stdin or a file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sopsgen.cli.common import now
from sopsgen.cli.storecmd import changing_store, spec_argument
from sopsgen.errors import SopsgenError
from sopsgen.generate.keystore import set_provided


@click.command(name="set")
@click.argument("name")
@spec_argument
@click.option("--from-file", type=click.Path(dir_okay=False, exists=True), help="read the value from this file")
@click.option("--keep-trailing-newline", is_flag=True, help="do not strip one trailing newline")
def set_value(name: str, spec: str, from_file: str | None, keep_trailing_newline: bool) -> None:
    """Set the provided value NAME from stdin (or --from-file); never from the command line."""
    if from_file:
        raw = Path(from_file).read_bytes()
    else:
        if sys.stdin.isatty():
            click.echo(f"enter the value for {name}, then Ctrl-D:", err=True)
        raw = sys.stdin.buffer.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SopsgenError(f"the value for {name} is not UTF-8 text") from exc
    if not keep_trailing_newline and text.endswith("\n"):
        text = text[:-1].removesuffix("\r")
    with changing_store(spec) as session:
        change = set_provided(session.spec, session.store, name, text, now=now())
    click.echo(change.describe())
