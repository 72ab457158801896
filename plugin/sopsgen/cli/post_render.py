"""`sopsgen post-render [SPEC]`: a Helm post-renderer (manifests on stdin, on stdout).

Helm 3 runs the post-renderer with no argument of its own, so every option can also come
from the environment (`SOPSGEN_SPEC`, `SOPSGEN_FIX_RING_MOUNTS=1`, ...); see docs/helm.md.
"""

from __future__ import annotations

import os
import sys

import click

from sopsgen.cli.common import write_stdout
from sopsgen.generate.store import StoreCache
from sopsgen.integrations.helm import PostRenderOptions, describe_secrets, post_render
from sopsgen.keys.discovery import discover_identities
from sopsgen.render.emit import dump_yaml
from sopsgen.render.pipeline import DEFAULT_SPEC, load_specs, render_specs


@click.command("post-render")
@click.argument("specs", nargs=-1, metavar="[SPEC]...", envvar="SOPSGEN_SPEC")
@click.option(
    "--secret",
    "names",
    multiple=True,
    metavar="NAME",
    envvar="SOPSGEN_SECRETS",
    help="append only this Secret (repeatable; env SOPSGEN_SECRETS, space-separated)",
)
@click.option(
    "--fix-ring-mounts",
    is_flag=True,
    envvar="SOPSGEN_FIX_RING_MOUNTS",
    help="make secret volumes whose items list ring keys project every ring member",
)
@click.option(
    "--rollout-on-change",
    is_flag=True,
    envvar="SOPSGEN_ROLLOUT_ON_CHANGE",
    help="annotate pod templates with a digest of the Secrets they use",
)
@click.option(
    "--append/--no-append",
    default=True,
    envvar="SOPSGEN_APPEND",
    show_default=True,
    help="append the Secrets (--no-append: only rewrite, e.g. when Flux applies them)",
)
@click.option(
    "--allow-empty",
    is_flag=True,
    envvar="SOPSGEN_ALLOW_EMPTY",
    help="accept an empty manifest stream (default: refuse, to protect against pruning)",
)
def post_render_command(
    specs: tuple[str, ...],
    names: tuple[str, ...],
    fix_ring_mounts: bool,
    rollout_on_change: bool,
    append: bool,
    allow_empty: bool,
) -> None:
    """Read manifests on stdin, append the Secrets of SPEC, print the result.

    SPEC defaults to $SOPSGEN_SPEC, then ./sopsgen.yaml. Everything that is not edited
    passes through byte for byte.
    """
    stream = sys.stdin.buffer.read()
    loaded = load_specs(list(specs) or [DEFAULT_SPEC])
    manifests = render_specs(loaded, StoreCache(discover_identities(os.environ)), names=names)
    options = PostRenderOptions(
        fix_ring_mounts=fix_ring_mounts,
        rollout_on_change=rollout_on_change,
        append=append,
        allow_empty=allow_empty,
    )
    out = post_render(stream, describe_secrets(loaded, manifests), dump_yaml(manifests), options)
    write_stdout(out)
