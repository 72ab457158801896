"""The console script's fast path: plain hot-path calls skip click, everything else uses it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sopsgen.cli.entry import fast_body

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lightrun"


@pytest.mark.parametrize(
    "argv",
    [
        ["render"],
        ["render", "a/sopsgen.yaml", "b/sopsgen.yaml"],
        ["render", "--format", "json", "--secret", "x", "s.yaml"],
        ["render", "--format=yaml", "--secret=x"],
        ["argocd", "generate"],
        ["krm"],
        ["krm", "config.yaml"],
    ],
)
def test_plain_hot_calls_take_the_fast_path(argv: list[str]) -> None:
    assert fast_body(argv) is not None


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["render", "--help"],
        ["render", "--encrypt", "--out", "dir"],
        ["render", "--format", "xml"],
        ["render", "--format"],
        ["argocd", "parameters"],
        ["krm", "--help"],
        ["generate"],
    ],
)
def test_everything_else_goes_through_click(argv: list[str]) -> None:
    assert fast_body(argv) is None


def test_render_does_not_import_click_and_matches_the_click_path() -> None:
    env_key = EXAMPLE / "demo-DO-NOT-USE.agekey"
    spec = str(EXAMPLE / "envs" / "staging" / "sopsgen.yaml")
    probe = (
        "import sys; sys.argv = ['sopsgen', 'render', sys.argv[1]]\n"
        "from sopsgen.cli.entry import fast_body\n"
        "from sopsgen.cli.outcome import exit_code_of\n"
        "code = exit_code_of(fast_body(sys.argv[1:]))\n"
        "sys.stderr.write('click loaded' if 'click' in sys.modules else 'click absent')\n"
        "sys.exit(code)\n"
    )
    env = {"SOPS_AGE_KEY_FILE": str(env_key), "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    fast = subprocess.run(
        [sys.executable, "-c", probe, spec], capture_output=True, env=env, check=True
    )
    assert fast.stderr == b"click absent"
    slow = subprocess.run(
        [sys.executable, "-m", "sopsgen.cli.main", "render", spec],
        capture_output=True,
        env=env,
        check=True,
    )
    assert fast.stdout == slow.stdout
    assert fast.stdout.startswith(b"apiVersion: v1\nkind: Secret\n")


def test_fast_path_errors_are_one_line_with_the_documented_code(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sopsgen", "render", str(tmp_path / "missing.yaml")],
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 3
    assert done.stdout == b""
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("sopsgen: error: cannot read spec")
