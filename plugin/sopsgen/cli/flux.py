"""The Flux side of `sopsgen render --encrypt --out DIR` and `sopsgen check --flux DIR`.

Kept apart from render.py and check.py so that those commands only grow a few option lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from sopsgen.cli.common import encryption_plan, identities, now
from sopsgen.errors import CheckFailedError, ConfigError
from sopsgen.generate.store import StoreCache
from sopsgen.integrations.flux import FLUX_SELECTION, check_flux, write_encrypted
from sopsgen.render.pipeline import load_specs, render_specs
from sopsgen.sops.datakey import EncryptionPlan
from sopsgen.sops.rules import find_config


def write_flux_folder(
    specs: Sequence[str],
    out: str,
    *,
    names: Sequence[str] = (),
    age: tuple[str, ...] = (),
    pgp: tuple[str, ...] = (),
    config: str | None = None,
) -> None:
    """Render, encrypt into OUT, report per file on stderr (stdout stays empty)."""
    ids = identities()
    manifests = render_specs(load_specs(list(specs)), StoreCache(ids), names=names)
    out_dir = Path(out)

    def plan_for(path: Path) -> EncryptionPlan:
        found = find_config(out_dir.resolve(), Path(config) if config else None)
        return encryption_plan(
            str(path.resolve()),
            age=age,
            pgp=pgp,
            config=str(found) if found else None,
            selection=FLUX_SELECTION,
        )

    report = write_encrypted(out_dir, manifests, plan_for=plan_for, identities=ids, now=now())
    for name in report.written:
        click.echo(f"wrote {out_dir / name}", err=True)
    for name in report.removed:
        click.echo(f"removed {out_dir / name} (no longer rendered)", err=True)
    if not report.written and not report.removed:
        click.echo(f"{out_dir}: up to date, nothing written", err=True)


def check_flux_folder(specs: Sequence[str], out: str) -> None:
    """Exit non-zero, one line per Secret, when OUT no longer matches the stores."""
    ids = identities()
    manifests = render_specs(load_specs(list(specs)), StoreCache(ids))
    problems = check_flux(Path(out), manifests, ids)
    for problem in problems:
        click.echo(problem)
    if problems:
        raise CheckFailedError(
            f"{len(problems)} problem(s) in {out}",
            hint=f"run: sopsgen render --encrypt --out {out} {' '.join(specs)}".rstrip(),
        )
    click.echo(f"ok: {out} matches the store")


def require_out(encrypt: bool, out: str | None) -> str | None:
    """`--encrypt` and `--out` go together; returns OUT when Flux output is asked for."""
    if encrypt != (out is not None):
        raise ConfigError(
            "--encrypt and --out DIR go together",
            hint="sopsgen render --encrypt --out DIR [SPEC]... writes SOPS-encrypted files",
        )
    return out
