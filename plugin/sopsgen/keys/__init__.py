"""Master-key backends. `keys.base` is import-light; the backends load on demand."""

from __future__ import annotations

import importlib

from sopsgen.keys.base import BACKENDS, KeyBackend

# Modules whose import registers a native backend (they pull in pyrage / python-gnupg).
_NATIVE_MODULES = {"age": "sopsgen.keys.age", "pgp": "sopsgen.keys.pgp"}


def load_backends(*types: str) -> dict[str, KeyBackend]:
    """Import the native backends so they register; returns the registry.

    With `types`, only those backends are imported (decrypting an age-only file must not
    pay for python-gnupg); without, all of them.
    """
    for key_type, name in _NATIVE_MODULES.items():
        if not types or key_type in types:
            importlib.import_module(name)
    return BACKENDS


__all__ = ["load_backends"]
