"""The `sopsgen` command: a click group whose commands load on demand.

This is the one place that turns a `SopsgenError` into a stderr line and an exit code.
Commands are imported lazily so that `sopsgen render` does not pay for crypto imports.
"""

from __future__ import annotations

import importlib
import sys

import click

from sopsgen import __version__
from sopsgen.errors import SopsgenError

# command name -> "module:attribute"
COMMANDS: dict[str, str] = {
    "decrypt": "sopsgen.cli.decrypt:decrypt",
    "encrypt": "sopsgen.cli.encrypt:encrypt",
    "edit": "sopsgen.cli.edit:edit",
    "updatekeys": "sopsgen.cli.updatekeys:updatekeys",
    "render": "sopsgen.cli.render:render",
    "post-render": "sopsgen.cli.post_render:post_render_command",
    "krm": "sopsgen.cli.krm:krm",
    "kustomize-plugin": "sopsgen.cli.krm:kustomize_plugin",
    "argocd": "sopsgen.cli.argocd:argocd",
    "init": "sopsgen.cli.init:init",
    "generate": "sopsgen.cli.generate:generate",
    "set": "sopsgen.cli.set_value:set_value",
    "rotate": "sopsgen.cli.rotate:rotate_ring",
    "retire": "sopsgen.cli.rotate:retire_member",
    "check": "sopsgen.cli.check:check",
    "adopt": "sopsgen.cli.adopt:adopt_secrets",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sopsgen")
def cli() -> None:
    """Generate secrets once, keep them SOPS-encrypted in git, render them deterministically."""


def main(argv: list[str] | None = None) -> int:
    """Entry point: exit codes are documented in README.md (see sopsgen.errors)."""
    try:
        cli.main(args=argv, prog_name="sopsgen", standalone_mode=False)
    except SopsgenError as error:
        click.echo(f"sopsgen: error: {error.one_line()}", err=True)
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("sopsgen: interrupted", err=True)
        return 130
    except click.ClickException as error:
        error.show()
        return 2 if isinstance(error, click.UsageError) else error.exit_code
    except KeyboardInterrupt:
        click.echo("sopsgen: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
