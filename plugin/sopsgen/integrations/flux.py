"""Flux output: one SOPS-encrypted Secret manifest per Secret, plus a kustomization.yaml.

Flux's kustomize-controller runs no plugin, but it decrypts any object that carries a
`sops` block. So the Secrets are committed encrypted (only `data`/`stringData`: apiVersion,
kind and metadata stay readable for kustomize and for reviewers) and Flux decrypts them
with `spec.decryption: {provider: sops, secretRef: {name: sops-age}}`.

Zero churn: a file is decrypted and compared with what would be written; when equal, its
bytes are kept; when not, it is re-saved under its own data key, so unchanged values keep
their ciphertext and a rotation changes only the lines of the new key. Stale files that the
previous kustomization.yaml listed are removed; `check_flux` reports any drift by Secret
name, never by value.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from sopsgen.errors import ConfigError, FileAccessError, FormatError, SopsgenError
from sopsgen.fsio import atomic_write
from sopsgen.keys.base import Identities
from sopsgen.render.emit import dump_yaml
from sopsgen.sops.datakey import EncryptionPlan
from sopsgen.sops.document import (
    OpenDocument,
    decrypt_document,
    encrypt_document,
    save_document,
)
from sopsgen.sops.selection import Selection
from sopsgen.sops.tree import Mapping, from_python, to_python

FLUX_SELECTION = Selection(encrypted_regex="^(data|stringData)$")
KUSTOMIZATION = "kustomization.yaml"
HEADER = (
    "# Written by `sopsgen render --encrypt --out`: SOPS-encrypted Secrets that Flux\n"
    "# decrypts itself (spec.decryption.provider: sops). Do not edit: change the store and\n"
    "# run the command again; `sopsgen check --flux DIR` fails when this folder drifts.\n"
)

Manifest = dict[str, Any]
PlanFor = Callable[[Path], EncryptionPlan]


@dataclass(frozen=True)
class FluxFile:
    """Where one rendered Secret goes."""

    file: str  # name inside the output folder
    manifest: Manifest = field(hash=False)

    @property
    def secret(self) -> str:
        meta = self.manifest["metadata"]
        namespace = meta.get("namespace")
        return f"{namespace}/{meta['name']}" if namespace else str(meta["name"])


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def file_name(manifest: Manifest) -> str:
    """`<namespace>.<name>.yaml`, or `<name>.yaml` for a Secret without a namespace."""
    meta = manifest["metadata"]
    namespace = meta.get("namespace")
    return f"{namespace}.{meta['name']}.yaml" if namespace else f"{meta['name']}.yaml"


def plan_files(manifests: Sequence[Manifest]) -> list[FluxFile]:
    files: dict[str, FluxFile] = {}
    for manifest in manifests:
        planned = FluxFile(file_name(manifest), manifest)
        if planned.file == KUSTOMIZATION or planned.file in files:
            other = files[planned.file].secret if planned.file in files else KUSTOMIZATION
            raise ConfigError(
                f"Secrets {other} and {planned.secret} would share the file {planned.file}",
                hint="render them into separate folders",
            )
        files[planned.file] = planned
    return list(files.values())


def kustomization(files: Sequence[FluxFile]) -> bytes:
    body: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [f.file for f in files],
    }
    return HEADER.encode("utf-8") + dump_yaml([body])


def write_encrypted(
    out_dir: Path,
    manifests: Sequence[Manifest],
    *,
    plan_for: PlanFor,
    identities: Identities,
    now: datetime,
) -> WriteReport:
    """Bring `out_dir` in line with `manifests`, touching only files whose content changed."""
    files = plan_files(manifests)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = WriteReport()
    stale = [name for name in listed_resources(out_dir) if name not in {f.file for f in files}]
    for planned in files:
        path = out_dir / planned.file
        data = encrypted_bytes(path, planned.manifest, plan_for, identities, now)
        _write_if_changed(path, data, planned.file, report)
    _write_if_changed(out_dir / KUSTOMIZATION, kustomization(files), KUSTOMIZATION, report)
    for name in stale:
        path = out_dir / name
        if _is_encrypted_secret(path):
            path.unlink()
            report.removed.append(name)
    return report


def encrypted_bytes(
    path: Path, manifest: Manifest, plan_for: PlanFor, identities: Identities, now: datetime
) -> bytes:
    """The bytes `path` should hold: its own bytes when its plaintext already matches."""
    tree = [_tree(manifest)]
    existing = _open_existing(path, identities)
    if existing is not None:
        if to_python(existing.branches[0]) == manifest and len(existing.branches) == 1:
            return existing.raw
        if existing.data_key:
            return save_document(existing, tree, now=now)
    plan = plan_for(path)
    flux_plan = EncryptionPlan(plan.key_groups, plan.shamir_threshold, FLUX_SELECTION)
    return encrypt_document(tree, "yaml", flux_plan, now=now, identities=identities)


def _tree(manifest: Manifest) -> Mapping:
    tree = from_python(manifest)
    assert isinstance(tree, Mapping)
    return tree


def _open_existing(path: Path, identities: Identities) -> OpenDocument | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FileAccessError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return decrypt_document(data, "yaml", identities, name=str(path))
    except SopsgenError as error:
        raise type(error)(
            f"{path}: the committed file cannot be decrypted: {error.message}",
            hint="fix access to its key, or delete the file to write it anew",
        ) from error


def _write_if_changed(path: Path, data: bytes, name: str, report: WriteReport) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.read_bytes() == data:
            report.unchanged.append(name)
            return
    atomic_write(path, data)
    report.written.append(name)


def listed_resources(out_dir: Path) -> list[str]:
    """The `resources` of the folder's kustomization.yaml (empty when there is none)."""
    path = out_dir / KUSTOMIZATION
    try:
        loaded = yaml.safe_load(path.read_bytes())
    except FileNotFoundError:
        return []
    except yaml.YAMLError as exc:
        raise FormatError(f"{path} is not valid YAML", hint="delete it and render again") from exc
    resources = loaded.get("resources") if isinstance(loaded, dict) else None
    return [str(r) for r in resources] if isinstance(resources, list) else []


def _is_encrypted_secret(path: Path) -> bool:
    """A SOPS-encrypted Secret manifest: only such files are ever removed or reported."""
    try:
        loaded = yaml.safe_load(path.read_bytes())
    except (OSError, yaml.YAMLError):
        return False
    return (
        isinstance(loaded, dict)
        and loaded.get("kind") == "Secret"
        and isinstance(loaded.get("sops"), dict)
        and "mac" in loaded["sops"]
    )


# ---------------------------------------------------------------------------- check


def check_flux(out_dir: Path, manifests: Sequence[Manifest], identities: Identities) -> list[str]:
    """One line per drift between `out_dir` and the rendered Secrets; [] when in sync."""
    files = plan_files(manifests)
    if not out_dir.is_dir():
        return [f"{out_dir}: the folder does not exist (run sopsgen render --encrypt --out)"]
    problems = [_check_file(out_dir, planned, identities) for planned in files]
    expected = {f.file for f in files}
    for path in sorted(out_dir.glob("*.y*ml")):
        if path.name not in expected and _is_encrypted_secret(path):
            problems.append(f"{path}: extra encrypted Secret that the spec no longer renders")
    kustomization_path = out_dir / KUSTOMIZATION
    if not kustomization_path.is_file():
        problems.append(f"{kustomization_path}: missing")
    elif kustomization_path.read_bytes() != kustomization(files):
        problems.append(f"{kustomization_path}: differs from the list of rendered Secrets")
    return [p for p in problems if p]


def _check_file(out_dir: Path, planned: FluxFile, identities: Identities) -> str:
    path = out_dir / planned.file
    where = f"Secret {planned.secret}: {path}"
    if not path.is_file():
        return f"{where}: missing"
    try:
        document = decrypt_document(path.read_bytes(), "yaml", identities, name=str(path))
    except SopsgenError as error:
        return f"{where}: cannot be decrypted ({error.message})"
    if len(document.branches) != 1 or to_python(document.branches[0]) != planned.manifest:
        return f"{where}: differs from the store"
    return ""
