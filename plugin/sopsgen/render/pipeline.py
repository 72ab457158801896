"""Specs -> decrypted stores -> Secret manifests: what `render`, `krm` and `argocd` share.

Every store is decrypted at most once per call (through `StoreCache`), whatever the number
of specs that share it; a spec whose Secrets need only constants opens no store. Nothing
is written anywhere; an empty result is an error, never an empty stream.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from sopsgen.errors import ConfigError
from sopsgen.generate.spec import Spec, load_spec
from sopsgen.generate.store import StoreCache
from sopsgen.keys.base import Identities
from sopsgen.render.emit import dump
from sopsgen.render.secret import Manifest, build_secrets, select_secrets

DEFAULT_SPEC = "sopsgen.yaml"


def load_specs(paths: Sequence[str | Path]) -> list[Spec]:
    return [load_spec(Path(path)) for path in paths or [DEFAULT_SPEC]]


def render_specs(
    specs: Sequence[Spec],
    cache: StoreCache,
    *,
    names: Collection[str] | None = None,
    needs_hash: bool = False,
) -> list[Manifest]:
    """All Secrets of `specs`, in order; `names` selects Secrets by name across specs."""
    manifests: list[Manifest] = []
    seen: dict[tuple[str, str], Path] = {}
    chosen = set(names) if names else None
    _check_selection(specs, chosen)
    for spec in specs:
        own = _own_names(spec, chosen)
        if chosen is not None and not own:
            continue
        stored = _stored_values(spec, cache, own)
        for manifest in build_secrets(spec, stored, names=own, needs_hash=needs_hash):
            _check_unique(manifest, spec, seen)
            manifests.append(manifest)
    if not manifests:
        where = ", ".join(str(spec.path) for spec in specs)
        raise ConfigError(
            f"nothing to render: no Secret in {where}",
            hint="add secrets to the spec (an empty output would make Argo CD prune everything)",
        )
    return manifests


def render_bytes(
    specs: Sequence[Spec],
    identities: Identities,
    *,
    fmt: str = "yaml",
    names: Collection[str] | None = None,
) -> bytes:
    return dump(render_specs(specs, StoreCache(identities), names=names), fmt)


def _own_names(spec: Spec, chosen: set[str] | None) -> list[str] | None:
    if chosen is None:
        return None
    return [secret.name for secret in spec.secrets if secret.name in chosen]


def _stored_values(spec: Spec, cache: StoreCache, names: list[str] | None) -> dict[str, str]:
    """The store's plaintext, or nothing when the selected Secrets use only constants."""
    secrets = select_secrets(spec, names)
    needed = {value for secret in secrets for value in secret.data.values()}
    if all(spec.values[name].kind == "constant" for name in needed):
        return {}
    return cache.get(spec.store_path).values()


def _check_unique(manifest: Manifest, spec: Spec, seen: dict[tuple[str, str], Path]) -> None:
    meta = manifest["metadata"]
    key = (str(meta.get("namespace", "")), str(meta["name"]))
    if key in seen:
        raise ConfigError(
            f"{spec.path}: Secret {key[1]!r} (namespace {key[0] or 'unset'}) is also "
            f"rendered by {seen[key]}",
            hint="give each Secret its own name, or render the specs separately",
        )
    seen[key] = spec.path


def _check_selection(specs: Sequence[Spec], chosen: set[str] | None) -> None:
    if chosen is None:
        return
    known = {secret.name for spec in specs for secret in spec.secrets}
    unknown = sorted(chosen - known)
    if unknown:
        raise ConfigError(
            f"no secret named {', '.join(unknown)} in {', '.join(str(s.path) for s in specs)}",
            hint=f"known secrets: {', '.join(sorted(known)) or 'none'}",
        )
