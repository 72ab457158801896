"""Master-key backends. `keys.base` is import-light; the backends load on demand."""

from __future__ import annotations

import importlib

from sopsgen.keys.base import BACKENDS, KeyBackend

# Modules whose import registers a native backend (they pull in pyrage / python-gnupg).
_NATIVE_MODULES = ("sopsgen.keys.age", "sopsgen.keys.pgp")


def load_backends() -> dict[str, KeyBackend]:
    """Import the native backends so they register; returns the registry."""
    for name in _NATIVE_MODULES:
        importlib.import_module(name)
    return BACKENDS


__all__ = ["load_backends"]
