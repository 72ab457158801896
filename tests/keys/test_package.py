"""Importing `sopsgen.keys.base` stays light: no pyrage or python-gnupg until backends load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sopsgen

PLUGIN = str(Path(sopsgen.__file__).resolve().parent.parent)

CHECK = """
import sys
import sopsgen.keys, sopsgen.keys.base, sopsgen.keys.shamir, sopsgen.keys.sops_binary
import sopsgen.keys.discovery
assert "pyrage" not in sys.modules and "gnupg" not in sys.modules, "eager import"
backends = sopsgen.keys.load_backends()
assert sorted(backends) == ["age", "pgp"], backends
assert "pyrage" in sys.modules and "gnupg" in sys.modules
"""


def test_base_import_is_light_and_load_backends_registers() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK],
        env={"PYTHONPATH": PLUGIN},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
