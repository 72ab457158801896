"""`python -m sopsgen`: the same as the `sopsgen` console script."""

from sopsgen.cli.entry import run

run()
