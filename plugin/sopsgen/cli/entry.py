"""The `sopsgen` console script.

Plain invocations of the hot commands (`render SPEC... [--format F] [--secret N]`,
`argocd generate`, `krm [CONFIG]`) go straight to their bodies in `cli.fast`; everything
else, `--help` included, goes through the click group in `cli.main`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from sopsgen.cli.outcome import exit_code_of

_FORMATS = ("yaml", "json")


def run() -> None:
    argv = sys.argv[1:]
    body = fast_body(argv)
    if body is None:
        from sopsgen.cli.main import main

        sys.exit(main(argv))
    sys.exit(exit_code_of(body))


def fast_body(argv: list[str]) -> Callable[[], int | None] | None:
    """A click-free body for plain hot-path arguments, or None to let click parse them."""
    from sopsgen.cli import fast

    if argv == ["argocd", "generate"]:
        return fast.argocd_generate
    if argv[:1] == ["krm"] and len(argv) <= 2 and not any(a.startswith("-") for a in argv):
        config = Path(argv[1]) if len(argv) == 2 else None
        return lambda: fast.krm_command(config)
    if argv[:1] == ["render"]:
        parsed = _plain_render_args(argv[1:])
        if parsed is not None:
            specs, fmt, names = parsed
            return lambda: fast.render_command(specs, fmt, names)
    return None


def _plain_render_args(args: list[str]) -> tuple[list[str], str, list[str]] | None:
    specs: list[str] = []
    names: list[str] = []
    fmt = "yaml"
    rest = iter(args)
    for arg in rest:
        if arg in ("--format", "--secret"):
            value = next(rest, None)
            if value is None or value.startswith("-"):
                return None
            arg = f"{arg}={value}"
        if arg.startswith("--format="):
            fmt = arg.partition("=")[2]
            if fmt not in _FORMATS:
                return None
        elif arg.startswith("--secret="):
            names.append(arg.partition("=")[2])
        elif arg.startswith("-"):
            return None  # help, Flux output, a typo: click explains
        else:
            specs.append(arg)
    return specs, fmt, names
