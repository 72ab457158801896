"""`sopsgen krm` (KRM exec function / legacy kustomize plugin) and `sopsgen kustomize-plugin`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from sopsgen.cli.fast import krm_command
from sopsgen.integrations import krm as integration


@click.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False, path_type=Path))
def krm(config: Path | None) -> None:
    """KRM function: ResourceList on stdin, the same list plus the Secrets on stdout.

    With CONFIG (how kustomize's legacy exec plugins are called), render that spec and
    print a plain YAML stream instead.
    """
    code = krm_command(config)
    if code:
        sys.exit(code)


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
