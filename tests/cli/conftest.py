"""CLI tests reuse the throwaway gpg keyring of the key tests."""

from __future__ import annotations

from tests.keys.conftest import gpg_key

__all__ = ["gpg_key"]
