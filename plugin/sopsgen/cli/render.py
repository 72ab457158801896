"""`sopsgen render [SPEC]...`: the Secrets of one or more specs, to stdout.

Render never generates and never writes: a missing value is an error naming the command
that creates it. Output bytes depend only on the specs and the stores' plaintext.
"""

from __future__ import annotations

import click

from sopsgen.cli.fast import render_command


@click.command()
@click.argument("specs", nargs=-1, metavar="[SPEC]...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="yaml: a `---` stream; json: a stream of JSON objects",
)
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    metavar="NAME",
    help="render only this Secret (repeatable; default: every Secret)",
)
@click.option("--encrypt", is_flag=True, help="Flux: write SOPS-encrypted files (with --out)")
@click.option("--out", "out_dir", metavar="DIR", help="Flux: the folder for the encrypted Secrets")
@click.option("--age", multiple=True, help="with --encrypt: age recipients (else .sops.yaml)")
@click.option("--pgp", multiple=True, help="with --encrypt: PGP fingerprints (else .sops.yaml)")
@click.option("--config", "sops_config", metavar="FILE", help="with --encrypt: the .sops.yaml")
def render(
    specs: tuple[str, ...],
    fmt: str,
    secrets: tuple[str, ...],
    encrypt: bool = False,
    out_dir: str | None = None,
    age: tuple[str, ...] = (),
    pgp: tuple[str, ...] = (),
    sops_config: str | None = None,
) -> None:
    """Print the Secret manifests of SPEC (default ./sopsgen.yaml), in spec order.

    With --encrypt --out DIR: write one SOPS-encrypted file per Secret and a
    kustomization.yaml into DIR for Flux, rewriting only files whose content changed.
    """
    if encrypt or out_dir is not None:
        from sopsgen.cli import flux  # only the Flux path pays for the crypto imports

        folder = flux.require_out(encrypt, out_dir)
        assert folder is not None
        flux.write_flux_folder(specs, folder, names=secrets, age=age, pgp=pgp, config=sops_config)
        return
    render_command(specs, fmt, secrets)
