"""`sopsgen argocd generate|parameters`: the commands of the Argo CD CMP sidecar.

stdout carries only manifests (or the parameters JSON); any failure is one stderr line and
a non-zero exit, so Argo CD never sees an empty stream as success (it would prune).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from sopsgen.cli.fast import argocd_generate, write_stdout
from sopsgen.integrations import argocd as integration


@click.group()
def argocd() -> None:
    """Argo CD Config Management Plugin commands (run by argocd-cmp-server)."""


@argocd.command()
def generate() -> None:
    """Print the app's manifests: its Secrets, or helm/kustomize output plus the Secrets."""
    argocd_generate()


@argocd.command()
def parameters() -> None:
    """Print the dynamic parameter announcements (JSON array) for the Argo CD UI."""
    request = integration.request_from_env(os.environ, Path.cwd())
    write_stdout(integration.parameters_json(request))
