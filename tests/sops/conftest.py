"""Fixtures for engine tests: fixed age identities, a throwaway gpg key, sops runners."""

from __future__ import annotations

from pathlib import Path

import pyrage
import pytest

from sopsgen.keys.base import Identities
from tests.helpers.sops import AgePair, SopsRunner
from tests.keys.conftest import gpg_key

__all__ = ["gpg_key"]


@pytest.fixture(scope="session")
def age_keys() -> list[AgePair]:
    """Three fixed (per session) age identities."""
    out = []
    for _ in range(3):
        identity = pyrage.x25519.Identity.generate()
        out.append(AgePair(str(identity), str(identity.to_public())))
    return out


@pytest.fixture(scope="session")
def empty_gnupg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GNUPGHOME without any key: pgp stanzas cannot be opened with it."""
    home = tmp_path_factory.mktemp("gnupg-empty")
    home.chmod(0o700)
    return home


@pytest.fixture
def sops_runner(tmp_path: Path) -> SopsRunner:
    return SopsRunner.create(tmp_path)


def age_identities(*keys: AgePair, gnupg_home: Path | None = None) -> Identities:
    return Identities(
        age=[k.identity for k in keys],
        age_sources=["test"] * len(keys),
        gnupg_home=str(gnupg_home) if gnupg_home else None,
        tried=["test identities"],
    )
