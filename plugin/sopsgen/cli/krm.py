"""`sopsgen krm` (KRM exec function / legacy kustomize plugin) and `sopsgen kustomize-plugin`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from sopsgen.integrations import krm as integration
from sopsgen.keys.base import Identities
from sopsgen.keys.discovery import discover_identities


def _identities() -> Identities:
    return discover_identities(os.environ)


@click.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False, path_type=Path))
def krm(config: Path | None) -> None:
    """KRM function: ResourceList on stdin, the same list plus the Secrets on stdout.

    With CONFIG (how kustomize's legacy exec plugins are called), render that spec and
    print a plain YAML stream instead.
    """
    if config is not None:
        out = integration.run_legacy(config, os.environ, _identities)
        _write(out)
        return
    outcome = integration.run_function(
        sys.stdin.buffer.read(), cwd=Path.cwd(), identities=_identities
    )
    _write(outcome.stdout)
    if outcome.error is not None:
        click.echo(f"sopsgen: error: {outcome.error}", err=True)
        sys.exit(outcome.exit_code)


@click.command("kustomize-plugin")
@click.option(
    "--plugin-home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="plugin folder (default: $KUSTOMIZE_PLUGIN_HOME, else "
    "$XDG_CONFIG_HOME/kustomize/plugin, else ~/.config/kustomize/plugin)",
)
def kustomize_plugin(plugin_home: Path | None) -> None:
    """Install the legacy exec plugin `kubectl kustomize --enable-alpha-plugins` runs."""
    home = plugin_home or _default_plugin_home()
    target = integration.install_legacy_plugin(home, sys.executable)
    click.echo(f"installed {target}")
    click.echo(f"use: KUSTOMIZE_PLUGIN_HOME={home} kubectl kustomize --enable-alpha-plugins DIR")


def _default_plugin_home() -> Path:
    if os.environ.get("KUSTOMIZE_PLUGIN_HOME"):
        return Path(os.environ["KUSTOMIZE_PLUGIN_HOME"])
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "kustomize" / "plugin"


def _write(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
