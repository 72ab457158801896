"""`sopsgen check [SPEC]...`: exit 0 only when every store is complete, valid and unique."""

from __future__ import annotations

import json

import click

from sopsgen.cli.common import now
from sopsgen.cli.storecmd import DEFAULT_SPEC, reading_store
from sopsgen.errors import CheckFailedError, SopsgenError
from sopsgen.generate.keystore import Problem, check_store, shared_values


@click.command()
@click.argument("specs", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="print a JSON report (for CI)")
def check(specs: tuple[str, ...], as_json: bool) -> None:
    """Check stores against their specs; with several SPECs, also that no secret is shared."""
    moment = now()
    problems: list[Problem] = []
    sessions = []
    for spec in specs or (DEFAULT_SPEC,):
        try:
            session = reading_store(spec)
        except SopsgenError as error:  # a MAC failure or a bad spec is a finding too
            problems.append(Problem(spec, "(store)", error.one_line()))
            continue
        sessions.append((session.spec, session.store))
        problems.extend(check_store(session.spec, session.store, now=moment))
    problems.extend(shared_values(sessions))
    _report(problems, [str(s.store_path) for s, _ in sessions], as_json=as_json)
    if problems:
        raise CheckFailedError(f"{len(problems)} problem(s) found")


def _report(problems: list[Problem], stores: list[str], *, as_json: bool) -> None:
    if as_json:
        body = {
            "ok": not problems,
            "stores": stores,
            "problems": [{"store": p.store, "value": p.value, "problem": p.problem} for p in problems],
        }
        click.echo(json.dumps(body, indent=2, sort_keys=True))
        return
    for problem in problems:
        click.echo(problem.describe())
    if not problems:
        click.echo(f"ok: {', '.join(stores)}")
