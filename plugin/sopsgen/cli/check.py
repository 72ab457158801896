"""`sopsgen check [SPEC]...`: exit 0 only when every store is complete, valid and unique."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sopsgen.cli.common import identities, now
from sopsgen.cli.storecmd import DEFAULT_SPEC, Session
from sopsgen.errors import CheckFailedError, SopsgenError
from sopsgen.generate.checks import Problem, check_store, shared_values
from sopsgen.generate.spec import Spec, load_spec
from sopsgen.generate.store import Store, open_store


@click.command()
@click.argument("specs", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="print a JSON report (for CI)")
@click.option("--flux", "flux_dir", metavar="DIR", help="check Flux's encrypted Secrets in DIR")
def check(specs: tuple[str, ...], as_json: bool, flux_dir: str | None = None) -> None:
    """Check stores against their specs; with several SPECs, also that no secret is shared."""
    if flux_dir is not None:  # the committed encrypted Secrets against the stores
        from sopsgen.cli.flux import check_flux_folder

        check_flux_folder(specs, flux_dir)
        return
    moment = now()
    problems: list[Problem] = []
    sessions: list[tuple[Spec, Store]] = []
    for spec_path in specs or (DEFAULT_SPEC,):
        session = _open(spec_path, problems)
        if session is None or any(session.store.path == s.path for _, s in sessions):
            continue  # a broken spec or store is already a problem; a repeated store once
        sessions.append((session.spec, session.store))
        problems.extend(check_store(session.spec, session.store, now=moment))
    problems.extend(shared_values(sessions))
    _report(problems, [str(s.store_path) for s, _ in sessions], as_json=as_json)
    if problems:
        raise CheckFailedError(f"{len(problems)} problem(s) found")


def _open(spec_path: str, problems: list[Problem]) -> Session | None:
    """Load a spec and decrypt its store; a bad spec or a MAC failure is a finding too."""
    try:
        spec = load_spec(Path(spec_path))
    except SopsgenError as error:
        problems.append(Problem(spec_path, "(spec)", error.one_line()))
        return None
    try:
        store = open_store(spec.store_path, identities())
    except SopsgenError as error:
        problems.append(Problem(str(spec.store_path), "(store)", error.one_line()))
        return None
    return Session(spec, store)


def _report(problems: list[Problem], stores: list[str], *, as_json: bool) -> None:
    if as_json:
        body = {
            "ok": not problems,
            "stores": stores,
            "problems": [
                {"store": p.store, "value": p.value, "problem": p.problem} for p in problems
            ],
        }
        click.echo(json.dumps(body, indent=2, sort_keys=True))
        return
    for problem in problems:
        click.echo(problem.describe())
    if not problems:
        click.echo(f"ok: {', '.join(stores)}")
