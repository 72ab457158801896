"""atomic_write: a failed write leaves the old file and no temp file, with a clear error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sopsgen import fsio
from sopsgen.errors import SopsgenError


def test_atomic_write_keeps_mode_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "store.sops.yaml"
    target.write_bytes(b"old\n")
    target.chmod(0o600)
    fsio.atomic_write(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.sops.yaml"]


def test_failed_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "store.sops.yaml"
    target.write_bytes(b"old\n")

    def no_space(fd: int) -> None:
        raise OSError(28, os.strerror(28))

    monkeypatch.setattr(fsio.os, "fsync", no_space)
    with pytest.raises(SopsgenError, match="previous file is unchanged"):
        fsio.atomic_write(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.sops.yaml"]
