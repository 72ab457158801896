"""Spec + decrypted values -> Kubernetes Secret manifests (plain dicts in a fixed order).

Pure: no file, clock, environment or crypto. A value the selected Secrets need but the
store lacks is a `MissingValueError` that names it and the command that creates it.
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Mapping
from typing import Any

from sopsgen.errors import ConfigError, MissingValueError
from sopsgen.generate.spec import SecretSpec, Spec, expand_secret_keys

NEEDS_HASH = "kustomize.config.k8s.io/needs-hash"

Manifest = dict[str, Any]


def select_secrets(spec: Spec, names: Collection[str] | None) -> list[SecretSpec]:
    """The spec's Secrets in spec order, restricted to `names` when given (all must exist)."""
    if not names:
        return list(spec.secrets)
    known = {secret.name for secret in spec.secrets}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ConfigError(
            f"{spec.path}: no secret named {', '.join(unknown)}",
            hint=f"secrets in this spec: {', '.join(sorted(known)) or 'none'}",
        )
    return [secret for secret in spec.secrets if secret.name in names]


def missing_values(
    spec: Spec, secrets: Collection[SecretSpec], stored: Collection[str]
) -> list[str]:
    """Value names the `secrets` refer to that the store cannot supply, in spec order."""
    wanted = {name for secret in secrets for name in secret.data.values()}
    return [name for name in spec.missing_values(stored) if name in wanted]


def missing_error(spec: Spec, missing: list[str]) -> MissingValueError:
    """One line: which values, which store, and the command that creates each one."""
    generated = [name for name in missing if spec.values[name].is_generated]
    provided = [name for name in missing if not spec.values[name].is_generated]
    fixes = [f"sopsgen set {name}" for name in provided]
    if generated:
        fixes.insert(0, "sopsgen generate")
    what = "value" if len(missing) == 1 else "values"
    return MissingValueError(
        f"{spec.path}: {what} {', '.join(missing)} missing from the store {spec.store_path}",
        hint=f"create with: {'; '.join(fixes)}; render never generates",
    )


def build_secrets(
    spec: Spec,
    stored: Mapping[str, str],
    *,
    names: Collection[str] | None = None,
    needs_hash: bool = False,
) -> list[Manifest]:
    """One Secret manifest per selected SecretSpec, in spec order.

    `stored` maps store names (`db-password`, `encryption-key-0`) to plaintext. With
    `needs_hash`, Secrets whose spec asks for it carry kustomize's needs-hash annotation.
    """
    secrets = select_secrets(spec, names)
    missing = missing_values(spec, secrets, stored)
    if missing:
        raise missing_error(spec, missing)
    return [_manifest(spec, secret, stored, needs_hash=needs_hash) for secret in secrets]


def _manifest(
    spec: Spec, secret: SecretSpec, stored: Mapping[str, str], *, needs_hash: bool
) -> Manifest:
    metadata: Manifest = {"name": secret.name}
    if secret.namespace:
        metadata["namespace"] = secret.namespace
    if secret.labels:
        metadata["labels"] = dict(sorted(secret.labels.items()))
    annotations = dict(secret.annotations)
    if needs_hash and secret.needs_hash:
        annotations[NEEDS_HASH] = "true"
    if annotations:
        metadata["annotations"] = dict(sorted(annotations.items()))
    data = {}
    for key, store_name in expand_secret_keys(secret, stored).items():
        data[key] = _b64(_plaintext(spec, store_name, stored))
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": secret.type,
        "data": dict(sorted(data.items())),
    }


def _plaintext(spec: Spec, store_name: str, stored: Mapping[str, str]) -> str:
    value = spec.values.get(store_name)
    if value is not None and value.kind == "constant" and value.constant is not None:
        return value.constant
    return stored[store_name]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")
