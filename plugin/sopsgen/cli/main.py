"""The `sopsgen` command: a click group whose commands load on demand.

Errors become stderr lines and exit codes in `cli.outcome`. Commands are imported lazily,
so each pays only for its own imports; the console script (`cli.entry`) skips click
altogether for plain render/argocd/krm calls.
"""

from __future__ import annotations

import importlib
import sys

import click

from sopsgen import __version__
from sopsgen.cli.outcome import exit_code_of

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
    """Run the click group; exit codes are documented in README.md (see sopsgen.errors)."""
    return exit_code_of(lambda: _click_main(argv))


def _click_main(argv: list[str] | None) -> int:
    try:
        cli.main(args=argv, prog_name="sopsgen", standalone_mode=False)
    except click.exceptions.Abort:
        raise KeyboardInterrupt from None
    except click.ClickException as error:
        error.show()
        return 2 if isinstance(error, click.UsageError) else error.exit_code
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
