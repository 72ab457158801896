"""`sopsgen argocd generate|parameters`: the commands of the Argo CD CMP sidecar.

stdout carries only manifests (or the parameters JSON); any failure is one stderr line and
a non-zero exit, so Argo CD never sees an empty stream as success (it would prune).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from sopsgen.errors import SopsgenError
from sopsgen.integrations import argocd as integration
from sopsgen.keys.base import Identities
from sopsgen.keys.discovery import discover_identities


def _identities() -> Identities:
    return discover_identities(os.environ)


@click.group()
def argocd() -> None:
    """Argo CD Config Management Plugin commands (run by argocd-cmp-server)."""


@argocd.command()
def generate() -> None:
    """Print the app's manifests: its Secrets, or helm/kustomize output plus the Secrets."""
    request = integration.request_from_env(os.environ, Path.cwd())
    try:
        out = integration.generate(request, _identities)
    except SopsgenError:
        raise
    except Exception as exc:  # one line for Argo CD's UI, never a traceback with data
        raise SopsgenError(
            f"internal error ({type(exc).__name__}) while generating {request.app_name or 'app'}",
            hint="a bug: please report it with the sopsgen version",
        ) from exc
    _write(out)


@argocd.command()
def parameters() -> None:
    """Print the dynamic parameter announcements (JSON array) for the Argo CD UI."""
    request = integration.request_from_env(os.environ, Path.cwd())
    _write(integration.parameters_json(request))


def _write(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
