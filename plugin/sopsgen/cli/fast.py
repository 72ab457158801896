"""Click-free bodies of the commands machines run on every sync: render, argocd generate, krm.

`cli.entry.run` calls them directly when the arguments are plain, so an Argo CD or kustomize
render does not pay for importing click (a third of a cold render); the click commands
call these same functions, so there is one implementation of each.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sopsgen.errors import SopsgenError
from sopsgen.keys.base import Identities
from sopsgen.keys.discovery import discover_identities


def identities() -> Identities:
    return discover_identities(os.environ)


def write_stdout(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def render_command(specs: Sequence[str], fmt: str, names: Sequence[str]) -> None:
    """`sopsgen render`: the Secrets of the specs, to stdout."""
    from sopsgen.render.pipeline import load_specs, render_bytes

    write_stdout(render_bytes(load_specs(list(specs)), identities(), fmt=fmt, names=names))


def argocd_generate() -> None:
    """`sopsgen argocd generate`, run by argocd-cmp-server in the app's folder."""
    from sopsgen.integrations import argocd

    request = argocd.request_from_env(os.environ, Path.cwd())
    try:
        out = argocd.generate(request, identities)
    except SopsgenError:
        raise
    except Exception as exc:  # one line for Argo CD's UI, never a traceback with data
        raise SopsgenError(
            f"internal error ({type(exc).__name__}) while generating {request.app_name or 'app'}",
            hint="a bug: please report it with the sopsgen version",
        ) from exc
    write_stdout(out)


def krm_command(config: Path | None) -> int:
    """`sopsgen krm [CONFIG]`: a KRM function, or kustomize's legacy exec plugin with CONFIG."""
    from sopsgen.integrations import krm

    if config is not None:
        write_stdout(krm.run_legacy(config, os.environ, identities))
        return 0
    outcome = krm.run_function(sys.stdin.buffer.read(), cwd=Path.cwd(), identities=identities)
    write_stdout(outcome.stdout)
    if outcome.error is not None:
        sys.stderr.write(f"sopsgen: error: {outcome.error}\n")
        return outcome.exit_code
    return 0
