"""Shared shapes of the format modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sopsgen.sops.tree import Mapping


@dataclass
class Loaded:
    branches: list[Mapping]
    metadata: dict[str, object] | None  # the raw `sops` block, None for a plaintext file


class Format(Protocol):
    name: str

    def load(self, data: bytes) -> Loaded: ...

    def dump(self, branches: list[Mapping], metadata: dict[str, object] | None) -> bytes: ...
