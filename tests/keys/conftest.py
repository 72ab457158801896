"""Fixtures for the key backends: a throwaway gpg keyring, test vector paths, identities."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyrage
import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
VECTOR_FILE = DATA / "vector_age.sops.yaml"
VECTOR_KEY_FILE = DATA / "vector_age.agekey"
VECTOR_RECIPIENT = "age1xd369jn5q8sqnrrtg0kfylnk9lrxm29px3v7xkg45r5wglypd3kqsl4mq6"
VECTOR_DATA_KEY = bytes.fromhex("56f0979496e1071500915dd2b54a504e54fc9a2e575234eb04f11023c2eb0eff")


@dataclass(frozen=True)
class GpgKey:
    home: Path
    fp: str


def _gpg(home: Path, *args: str, stdin: bytes = b"") -> bytes:
    done = subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", *args],
        input=stdin,
        capture_output=True,
        check=True,
    )
    return done.stdout


@pytest.fixture(scope="session")
def gpg_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GpgKey]:
    """One passphrase-less ed25519/cv25519 key in its own throwaway GNUPGHOME."""
    if shutil.which("gpg") is None:
        pytest.skip("gpg is not installed")
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    _gpg(
        home,
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "",
        "--quick-gen-key",
        "sopsgen test <t@example.com>",
        "future-default",
        "default",
        "never",
    )
    listing = _gpg(home, "--with-colons", "--list-secret-keys").decode()
    fp = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    yield GpgKey(home, fp)
    # gpg starts an agent per home: stop ours so nothing outlives the session.
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


@pytest.fixture
def x25519() -> tuple[str, str]:
    """A fresh (identity, recipient) pair."""
    identity = pyrage.x25519.Identity.generate()
    return str(identity), str(identity.to_public())


@pytest.fixture
def ssh_key(tmp_path: Path) -> tuple[str, str]:
    """A fresh passphrase-less ssh-ed25519 key: (private PEM text, public line)."""
    return make_ssh_key(tmp_path, "ed25519")


def make_ssh_key(tmp_path: Path, kind: str) -> tuple[str, str]:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed")
    path = tmp_path / f"id_{kind}"
    extra = ["-b", "2048"] if kind == "rsa" else []
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, *extra, "-N", "", "-C", "test", "-f", str(path)],
        check=True,
    )
    return path.read_text(), path.with_suffix(".pub").read_text()
