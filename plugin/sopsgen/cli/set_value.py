"""`sopsgen set NAME`: store a value a human provides, read from stdin or a file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sopsgen.cli.common import now, read_input
from sopsgen.cli.storecmd import DEFAULT_SPEC, changing_store, chosen_spec, spec_argument
from sopsgen.errors import ConfigError, FormatError
from sopsgen.generate.keystore import set_provided


@click.command(name="set")
@click.argument("name")
@spec_argument
@click.option(
    "--from-file",
    type=click.Path(dir_okay=False),
    help="read the value from this file",
)
@click.option("--keep-trailing-newline", is_flag=True, help="do not strip one trailing newline")
def set_value(
    name: str,
    spec: str,
    spec_option: str | None,
    from_file: str | None,
    keep_trailing_newline: bool,
) -> None:
    """Set the provided value NAME from stdin (or --from-file); never from the command line."""
    _refuse_value_as_spec(spec)
    spec = chosen_spec(spec, spec_option)
    if from_file:
        raw = read_input(from_file)
    else:
        if sys.stdin.isatty():
            click.echo(f"enter the value for {name}, then Ctrl-D:", err=True)
        raw = sys.stdin.buffer.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"the value for {name} is not UTF-8 text") from exc
    if not keep_trailing_newline and text.endswith("\n"):
        text = text[:-1].removesuffix("\r")
    with changing_store(spec) as session:
        change = set_provided(session.spec, session.store, name, text, now=now())
    click.echo(change.describe())


def _refuse_value_as_spec(spec: str) -> None:
    """`sopsgen set NAME VALUE` would put VALUE in shell history: refuse without echoing it."""
    if spec == DEFAULT_SPEC or Path(spec).is_file():
        return
    raise ConfigError(
        "the second argument of `sopsgen set` must be an existing spec file, and it is not "
        "(not repeated here in case it is the value); sopsgen set never takes a value on the "
        "command line",
        hint="pipe the value on stdin (`sopsgen set NAME < file`) or use --from-file, and "
        "remove it from your shell history",
    )
