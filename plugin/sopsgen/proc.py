"""The one subprocess wrapper. Secrets travel on stdin, never in argv."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sopsgen.errors import BackendError


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: bytes
    stderr: bytes


def run(
    argv: Sequence[str],
    *,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    check: bool = True,
    timeout: float | None = 120,
) -> Completed:
    """Run a program; raise BackendError naming it (never its input) when it fails."""
    try:
        done = subprocess.run(
            list(argv),
            input=stdin if stdin is not None else b"",
            capture_output=True,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise BackendError(
            f"cannot run {argv[0]}: not installed or not on PATH", hint=f"install {argv[0]}"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise BackendError(f"{argv[0]} did not finish within {timeout} s") from exc
    result = Completed(done.returncode, done.stdout, done.stderr)
    if check and done.returncode != 0:
        raise BackendError(
            f"{os.path.basename(argv[0])} {argv[1] if len(argv) > 1 else ''} failed "
            f"with exit code {done.returncode}: {stderr_tail(done.stderr)}"
        )
    return result


def stderr_tail(stderr: bytes, limit: int = 300) -> str:
    """The last line(s) of a program's stderr, shortened, for an error message."""
    text = stderr.decode("utf-8", "replace").strip().replace("\n", " | ")
    return text[-limit:] if text else "(no message)"


def run_interactive(argv: Sequence[str]) -> int:
    """Run a program attached to the user's terminal (an editor); returns its exit code."""
    try:
        return subprocess.call(list(argv))
    except FileNotFoundError as exc:
        raise BackendError(
            f"cannot run the editor {argv[0]}", hint="set EDITOR to an installed editor"
        ) from exc
