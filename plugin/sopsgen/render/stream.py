"""Append rendered Secrets to a manifest stream (`helm template` / `kustomize build` output).

The stream is passed through byte for byte; the Secrets follow after a `---`. A Secret the
stream already holds under the same name is an error: two owners of one Secret means the
chart still creates it (for Lightrun: `general.deploy_secrets.enabled: false` is missing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from sopsgen.errors import ConfigError, FormatError
from sopsgen.render.emit import dump_yaml
from sopsgen.render.secret import Manifest


def append_secrets(stream: bytes, secrets: Sequence[Manifest]) -> bytes:
    """`stream`, then `---`, then the Secrets as YAML; refuses duplicate Secrets."""
    refuse_duplicates(stream, secrets)
    head = stream.rstrip(b"\n")
    rendered = dump_yaml(secrets)
    if not head.strip():
        return rendered
    return head + b"\n---\n" + rendered


def secret_ids(stream: bytes) -> set[tuple[str, str]]:
    """(namespace or "", name) of every Secret in a YAML/JSON manifest stream."""
    try:
        documents = list(yaml.load_all(stream, Loader=_Loader))
    except yaml.YAMLError as exc:
        raise FormatError("the manifests to wrap are not valid YAML") from exc
    return {_id(doc) for doc in _objects(documents) if doc.get("kind") == "Secret"}


def _objects(documents: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for doc in documents:
        if not isinstance(doc, dict):
            continue
        if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            yield from (item for item in doc["items"] if isinstance(item, dict))
        else:
            yield doc


def _id(doc: dict[str, Any]) -> tuple[str, str]:
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def refuse_duplicates(stream: bytes, secrets: Sequence[Manifest]) -> None:
    """A Secret both in `stream` and in `secrets` (same name, same or unset namespace)."""
    existing = secret_ids(stream)
    for secret in secrets:
        namespace, name = _id(secret)
        if any(n == name and (ns == namespace or not ns or not namespace) for ns, n in existing):
            raise ConfigError(
                f"the wrapped manifests already contain Secret {name!r}",
                hint="let sopsgen own it: stop the chart or kustomization from creating it "
                "(Lightrun: general.deploy_secrets.enabled: false)",
            )


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader for reading other tools' output."""
