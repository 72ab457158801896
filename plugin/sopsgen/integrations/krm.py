"""Kustomize and kpt: a KRM exec function, and the legacy exec-plugin protocol.

KRM function (`sopsgen krm`, ResourceList on stdin, ResourceList on stdout):

- `functionConfig` is a `SecretGenerator` spec (kustomize sends the `generators:` file, and
  also passes it as the only item, marked local-config) or a ConfigMap whose `data.spec`
  names spec files (kpt's `-- spec=envs/prod/sopsgen.yaml`; `data.secrets` selects names);
- relative `store`/`extends` paths of an inline spec resolve against the process's working
  directory: kustomize runs functions in the kustomization's folder, kpt in the caller's;
- items are echoed untouched (kpt deletes files whose items disappear) and the Secrets are
  appended, with `kustomize.config.k8s.io/needs-hash: "true"` where the spec says
  `needsHash: true`;
- on failure: items unchanged, one `results` entry with severity error, one line on stderr,
  and a non-zero exit (kustomize does not fail a build on results alone).

Legacy exec plugin (`sopsgen krm CONFIG_FILE`, what `kubectl kustomize
--enable-alpha-plugins` runs from `$KUSTOMIZE_PLUGIN_HOME/sopsgen.io/v1alpha1/
secretgenerator/SecretGenerator`): CONFIG_FILE is a temp copy of the spec, so relative paths
resolve against `$KUSTOMIZE_PLUGIN_CONFIG_ROOT` (the kustomization folder); stdout is a plain
YAML stream of the Secrets.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sopsgen.errors import ConfigError, FormatError, SopsgenError
from sopsgen.generate.spec import API_VERSION, KIND, Spec, load_spec
from sopsgen.generate.store import StoreCache
from sopsgen.keys.base import Identities
from sopsgen.render.emit import dump_yaml
from sopsgen.render.pipeline import render_specs

RESOURCE_LIST_VERSION = "config.kubernetes.io/v1"
_RESOURCE_LIST_VERSIONS = (RESOURCE_LIST_VERSION, "config.kubernetes.io/v1beta1")
FUNCTION_CONFIG_NAME = "functionConfig"

IdentitySource = Callable[[], Identities]


@dataclass(frozen=True)
class Outcome:
    """What an entry point prints: stdout bytes, an optional stderr line, the exit code."""

    stdout: bytes
    exit_code: int = 0
    error: str | None = None


# ---------------------------------------------------------------------------- KRM function


def run_function(stdin: bytes, *, cwd: Path, identities: IdentitySource) -> Outcome:
    """Process one ResourceList; never raises a SopsgenError (it becomes a result)."""
    try:
        resource_list = parse_resource_list(stdin)
    except SopsgenError as error:
        return _failed({"apiVersion": RESOURCE_LIST_VERSION, "kind": "ResourceList"}, error)
    try:
        specs, names = specs_from_function_config(resource_list.get("functionConfig"), cwd)
        secrets = render_specs(specs, StoreCache(identities()), names=names, needs_hash=True)
    except SopsgenError as error:
        return _failed(resource_list, error)
    out = dict(resource_list)
    out["items"] = [*resource_list["items"], *secrets]
    out.pop("results", None)
    return Outcome(_dump_list(out))


def parse_resource_list(stdin: bytes) -> dict[str, Any]:
    try:
        data = yaml.load(stdin, Loader=_ItemLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise FormatError(
            "stdin is not a YAML or JSON ResourceList", hint="run through kustomize or kpt"
        ) from exc
    if not isinstance(data, dict) or data.get("kind") != "ResourceList":
        raise FormatError(
            "stdin is not a ResourceList (kind: ResourceList)",
            hint="for `kubectl kustomize` use the legacy plugin: sopsgen kustomize-plugin",
        )
    if data.get("apiVersion") not in _RESOURCE_LIST_VERSIONS:
        raise FormatError(f"unsupported ResourceList apiVersion {data.get('apiVersion')!r}")
    items = data.get("items")
    if items is None:
        data["items"] = []
    elif not isinstance(items, list):
        raise FormatError("ResourceList items must be a list")
    return dict(data)


def specs_from_function_config(config: object, cwd: Path) -> tuple[list[Spec], list[str] | None]:
    """An inline SecretGenerator, or a ConfigMap naming spec files (`spec`, `secrets`)."""
    if not isinstance(config, dict):
        raise ConfigError(
            "the ResourceList has no functionConfig",
            hint="pass a SecretGenerator spec (kustomize generators:, kpt --fn-config) "
            "or kpt `-- spec=PATH`",
        )
    if config.get("kind") == "ConfigMap":
        return _specs_from_config_map(config, cwd)
    if config.get("apiVersion") != API_VERSION or config.get("kind") != KIND:
        raise ConfigError(
            f"functionConfig must be a {API_VERSION} {KIND} or a ConfigMap, "
            f"got {config.get('apiVersion')} {config.get('kind')}"
        )
    return [inline_spec(config, cwd)], None


def inline_spec(config: Mapping[str, Any], base: Path) -> Spec:
    """A spec given as data; relative paths resolve against `base`."""
    return load_spec(base / FUNCTION_CONFIG_NAME, document=_spec_document(config))


def _spec_document(config: Mapping[str, Any]) -> dict[str, Any]:
    """The spec without the orchestrator's metadata (kpt/kustomize add ids, paths)."""
    document = dict(config)
    metadata = document.get("metadata")
    if isinstance(metadata, dict):
        document["metadata"] = {k: v for k, v in metadata.items() if k in ("name", "labels")}
    return document


def _specs_from_config_map(
    config: Mapping[str, Any], cwd: Path
) -> tuple[list[Spec], list[str] | None]:
    data = config.get("data") or {}
    raw = data.get("spec", "sopsgen.yaml") if isinstance(data, dict) else None
    if not isinstance(raw, str):
        raise ConfigError("functionConfig ConfigMap: data.spec must be a string")
    paths = [part.strip() for part in raw.split(",") if part.strip()]
    selected = str(data.get("secrets", "")) if isinstance(data, dict) else ""
    names = [part.strip() for part in selected.split(",") if part.strip()] or None
    return [load_spec(cwd / path) for path in paths], names


def _failed(resource_list: Mapping[str, Any], error: SopsgenError) -> Outcome:
    out = dict(resource_list)
    out.setdefault("items", [])
    out["results"] = [{"message": error.one_line(), "severity": "error"}]
    return Outcome(_dump_list(out), error.exit_code, error.one_line())


def _dump_list(resource_list: Mapping[str, Any]) -> bytes:
    """Block YAML with fixed settings (kpt keeps the style it is given when it writes the
    package back, so JSON here would reformat users' files)."""
    text = yaml.dump(
        dict(resource_list),
        Dumper=_ItemDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 30,
        indent=2,
    )
    return text.encode("utf-8")


class _ItemLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that keeps timestamps as text, so items echo back exactly."""


class _ItemDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """SafeDumper; a separate class so settings never leak into other dumpers."""


_ItemLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


# ---------------------------------------------------------------------------- legacy plugin


def run_legacy(config_file: Path, environ: Mapping[str, str], identities: IdentitySource) -> bytes:
    """The Secrets of the spec kustomize copied to `config_file`, as a YAML stream."""
    try:
        text = config_file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the plugin config {config_file}: {exc.strerror}") from exc
    try:
        config = yaml.load(text, Loader=_ItemLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise FormatError(f"{config_file}: not valid YAML") from exc
    if not isinstance(config, dict):
        raise FormatError(f"{config_file}: the plugin config must be a mapping")
    root = Path(environ.get("KUSTOMIZE_PLUGIN_CONFIG_ROOT") or os.getcwd())
    spec = inline_spec(config, root)
    return dump_yaml(render_specs([spec], StoreCache(identities()), needs_hash=True))


LEGACY_API_GROUP_PATH = Path("sopsgen.io") / "v1alpha1" / KIND.lower() / KIND


def legacy_plugin_script(python: str) -> str:
    """The executable kustomize runs: this Python, this sopsgen, the `krm` command."""
    quoted = "'" + python.replace("'", "'\\''") + "'"
    return (
        "#!/bin/sh\n"
        "# kustomize legacy exec plugin for sopsgen.io/v1alpha1 SecretGenerator.\n"
        "# Written by `sopsgen kustomize-plugin`; kustomize calls it with the path of a copy\n"
        "# of the spec. Plaintext goes to stdout only.\n"
        f'exec {quoted} -m sopsgen krm "$@"\n'
    )


def install_legacy_plugin(plugin_home: Path, python: str) -> Path:
    """Write `<home>/sopsgen.io/v1alpha1/secretgenerator/SecretGenerator` (mode 0755)."""
    target = plugin_home / LEGACY_API_GROUP_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(legacy_plugin_script(python), encoding="utf-8")
    target.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return target
