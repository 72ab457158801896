"""`sopsgen rotate RING` / `--due`, and `sopsgen retire RING INDEX`."""

from __future__ import annotations

import click

from sopsgen.cli.common import now
from sopsgen.cli.storecmd import DEFAULT_SPEC, changing_store, echo_changes
from sopsgen.errors import ConfigError
from sopsgen.generate.keystore import due_rings, retire, rotate


@click.command(name="rotate")
@click.argument("ring", required=False)
@click.option("--spec", default=DEFAULT_SPEC, show_default=True, help="the generator spec")
@click.option("--due", is_flag=True, help="rotate every ring older than its rotateAfter")
def rotate_ring(ring: str | None, spec: str, due: bool) -> None:
    """Append a new member to RING; every existing member is kept unchanged."""
    if bool(ring) == due:
        raise ConfigError(
            "give either a RING name or --due", hint="e.g. sopsgen rotate encryption-key"
        )
    moment = now()
    with changing_store(spec) as session:
        rings = due_rings(session.spec, session.store, now=moment) if due else [ring or ""]
        changes = [rotate(session.spec, session.store, name, now=moment) for name in rings]
    echo_changes([c.describe() for c in changes], nothing="no ring is due for rotation")


@click.command(name="retire")
@click.argument("ring")
@click.argument("index", type=click.IntRange(min=0))
@click.option("--spec", default=DEFAULT_SPEC, show_default=True, help="the generator spec")
def retire_member(ring: str, index: int, spec: str) -> None:
    """Remove member INDEX of RING (never the newest one)."""
    with changing_store(spec) as session:
        change = retire(session.spec, session.store, ring, index)
    click.echo(change.describe())
