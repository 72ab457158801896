"""The Lightrun example repository, its demo key, and running sopsgen as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "lightrun"
DEMO_KEY = EXAMPLE / "demo-DO-NOT-USE.agekey"
ENV_SPECS = [
    EXAMPLE / "envs" / "staging" / "sopsgen.yaml",
    EXAMPLE / "envs" / "prod" / "sopsgen.yaml",
]
SOPSGEN = [sys.executable, "-m", "sopsgen.cli.main"]


def copy_example(target: Path) -> Path:
    """A private copy of the example (tests must not touch the committed one)."""
    dest = target / "lightrun"
    shutil.copytree(EXAMPLE, dest)
    return dest


def demo_env(
    extra: Mapping[str, str] | None = None, *, key: Path | None = DEMO_KEY
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "ARGOCD_"))}
    if key is not None:
        env["SOPS_AGE_KEY_FILE"] = str(key)
    env.update(extra or {})
    return env


def sopsgen(
    *args: str | Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: bytes = b"",
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*SOPSGEN, *map(str, args)],
        input=stdin,
        capture_output=True,
        env=dict(env) if env is not None else demo_env(),
        cwd=cwd,
        check=False,
        timeout=120,
    )


def store_plaintexts(store: Path) -> list[str]:
    """Every value in a store, via the real sops binary when present, else sopsgen."""
    sops = shutil.which("sops")
    argv = [sops, "-d", str(store)] if sops else [*SOPSGEN, "decrypt", str(store)]
    done = subprocess.run(argv, capture_output=True, env=demo_env(), check=True)
    values = yaml.safe_load(done.stdout)["values"]
    return [str(v) for v in values.values()]


def assert_no_secret(output: bytes, stores: list[Path]) -> None:
    """No stored value (nor its base64) appears in `output`."""
    import base64

    text = output.decode("utf-8", "replace")
    for store in stores:
        for value in store_plaintexts(store):
            if len(value) < 16:  # short demo placeholders also name namespaces
                continue
            assert value not in text, "a secret value leaked"
            assert base64.b64encode(value.encode()).decode() not in text, "a secret leaked"
