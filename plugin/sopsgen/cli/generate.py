"""`sopsgen generate`: create the values that are missing; never touch existing ones."""

from __future__ import annotations

import click

from sopsgen.cli.common import now
from sopsgen.cli.storecmd import changing_store, chosen_spec, echo_changes, spec_argument
from sopsgen.generate.keystore import generate_missing, missing_provided


@click.command()
@spec_argument
@click.option("--config", help="path of .sops.yaml for a new store (default: search upwards)")
def generate(spec: str, spec_option: str | None, config: str | None) -> None:
    """Generate every missing value of SPEC into its store (default ./sopsgen.yaml)."""
    with changing_store(chosen_spec(spec, spec_option), config=config) as session:
        changes = generate_missing(session.spec, session.store, now=now())
        pending = missing_provided(session.spec, session.store)
    echo_changes(
        [change.describe() for change in changes],
        nothing=f"nothing to generate: {session.spec.store_path} left untouched",
    )
    for name in pending:
        click.echo(f"still missing {name}: a provided value, set it with `sopsgen set {name}`")
