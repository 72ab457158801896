"""`sopsgen render [SPEC]...`: the Secrets of one or more specs, to stdout.

Render never generates and never writes: a missing value is an error naming the command
that creates it. Output bytes depend only on the specs and the stores' plaintext.
"""

from __future__ import annotations

import os

import click

from sopsgen.keys.discovery import discover_identities
from sopsgen.render.pipeline import load_specs, render_bytes


@click.command()
@click.argument("specs", nargs=-1, metavar="[SPEC]...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="yaml: a `---` stream; json: a stream of JSON objects",
)
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    metavar="NAME",
    help="render only this Secret (repeatable; default: every Secret)",
)
def render(specs: tuple[str, ...], fmt: str, secrets: tuple[str, ...]) -> None:
    """Print the Secret manifests of SPEC (default ./sopsgen.yaml), in spec order."""
    out = render_bytes(
        load_specs(list(specs)), discover_identities(os.environ), fmt=fmt, names=secrets
    )
    click.get_binary_stream("stdout").write(out)
