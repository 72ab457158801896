"""`sopsgen init`: write a spec (blank or a preset) and a .sops.yaml; never overwrite."""

from __future__ import annotations

from pathlib import Path

import click

from sopsgen.cli.common import identities, split_keys
from sopsgen.errors import ConfigError, StoreConflictError
from sopsgen.fsio import atomic_write
from sopsgen.generate.presets import preset_names, preset_text

_BLANK_SPEC = """\
apiVersion: sopsgen.io/v1alpha1
kind: SecretGenerator
metadata:
  name: app
store: secrets.sops.yaml
values:
  encryption-key: {generate: bytes, length: 32, encoding: base64, ring: true, rotateAfter: 90d}
  db-password: {generate: password, length: 32}
  db-user: {provided: true}
secrets:
  - name: app-secrets
    data:
      DB_PASSWORD: db-password
      DB_USER: db-user
      encryption-key-*: encryption-key
"""


@click.command()
@click.option(
    "--preset", type=click.Choice(preset_names()), help="a complete spec for a known chart"
)
@click.option("--age", multiple=True, help="age recipient(s) for the stores")
@click.option("--pgp", multiple=True, help="pgp fingerprint(s) for the stores")
@click.option(
    "--dir", "folder", default=".", type=click.Path(file_okay=False), help="where to write"
)
def init(preset: str | None, age: tuple[str, ...], pgp: tuple[str, ...], folder: str) -> None:
    """Write sopsgen.yaml and .sops.yaml (refuses to overwrite either)."""
    root = Path(folder)
    spec_path, rules_path = root / "sopsgen.yaml", root / ".sops.yaml"
    if spec_path.exists():
        raise StoreConflictError(f"{spec_path} already exists; refusing to overwrite it")
    if rules_path.exists() and (age or pgp):
        raise StoreConflictError(
            f"{rules_path} already exists; refusing to overwrite it",
            hint="add the recipients to it yourself, then run `sopsgen updatekeys`",
        )
    fingerprints = [fp.replace(" ", "").upper() for fp in split_keys(pgp)]
    recipients = split_keys(age)
    if not rules_path.exists() and not (recipients or fingerprints):
        recipients = _own_age_recipient()
    if not rules_path.exists() and not (recipients or fingerprints):
        raise ConfigError(
            "no recipient for the stores",
            hint="pass --age age1... (make a key with age-keygen) or --pgp FINGERPRINT",
        )
    root.mkdir(parents=True, exist_ok=True)
    if rules_path.exists():
        click.echo(f"kept the existing {rules_path}: its creation_rules pick the recipients")
    else:
        atomic_write(rules_path, _rules_text(recipients, fingerprints).encode())
        click.echo(f"wrote {rules_path}")
    atomic_write(spec_path, (preset_text(preset) if preset else _BLANK_SPEC).encode())
    click.echo(f"wrote {spec_path}")
    click.echo("next: provide the human values with `sopsgen set NAME`, then `sopsgen generate`")


def _own_age_recipient() -> list[str]:
    """With no flag, the public key of the first age identity the user has (said aloud)."""
    from sopsgen.keys.age import X25519_IDENTITY_PREFIX, public_recipient

    for identity in identities().age:
        if identity.startswith(X25519_IDENTITY_PREFIX):
            recipient = public_recipient(identity)
            click.echo(f"using your age identity's recipient {recipient}", err=True)
            return [recipient]
    return []


def _rules_text(age: list[str], pgp: list[str]) -> str:
    lines = ["creation_rules:", "  - path_regex: \\.sops\\.yaml$"]
    if age:
        lines.append("    age: >-")
        lines.append("      " + ",".join(age))
    if pgp:
        lines.append("    pgp: >-")
        lines.append("      " + ",".join(pgp))
    return "\n".join(lines) + "\n"
