"""`sopsgen adopt --from SECRET.yaml`: keep the keys a cluster already runs with."""

from __future__ import annotations

import click
import yaml

from sopsgen.cli.common import now, read_input
from sopsgen.cli.storecmd import DEFAULT_SPEC, changing_store, echo_changes
from sopsgen.errors import FormatError
from sopsgen.generate.adopt import adopt


@click.command(name="adopt")
@click.option(
    "--from",
    "source",
    required=True,
    help="Secret manifest(s) as `kubectl get secret -o yaml` prints them; - for stdin",
)
@click.option("--spec", default=DEFAULT_SPEC, show_default=True, help="the generator spec")
def adopt_secrets(source: str, spec: str) -> None:
    """Import values from existing Secrets, mapping their keys back through the spec."""
    raw = read_input(source)
    try:
        documents = [d for d in yaml.safe_load_all(raw) if d is not None]
    except yaml.YAMLError as exc:
        raise FormatError(f"{source} is not valid YAML") from exc
    if not all(isinstance(d, dict) for d in documents):
        raise FormatError(f"{source} does not hold Secret manifests")
    with changing_store(spec) as session:
        changes = adopt(session.spec, session.store, documents, now=now())
    echo_changes([c.describe() for c in changes], nothing="no value adopted")
