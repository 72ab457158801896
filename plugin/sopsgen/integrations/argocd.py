"""Argo CD Config Management Plugin (sidecar) commands: generate and parameters.

argocd-cmp-server runs the commands with cwd = the application's folder in a fresh copy of
the repository, `ARGOCD_APP_*` / `KUBE_*` variables, the Application's `plugin.env` as
`ARGOCD_ENV_<NAME>` and its parameters as JSON in `ARGOCD_APP_PARAMETERS`.

Settings (a parameter wins over the env entry of the same meaning):

- `spec` / `SOPSGEN_SPEC` (comma list): spec files, relative to the app folder
  (default `sopsgen.yaml`);
- `secrets` / `SOPSGEN_SECRETS` (comma list): render only these Secrets (default: all);
- `wrap` / `SOPSGEN_WRAP`: `none` (default), `helm` or `kustomize`;
- `helm-values` / `SOPSGEN_HELM_VALUES`: values files for `helm template` (wrap=helm);
- `release` / `SOPSGEN_HELM_RELEASE`: release name (default: `ARGOCD_APP_NAME`);
- `fix-ring-mounts` / `SOPSGEN_FIX_RING_MOUNTS`: wrap: secret volumes list every ring member;
- `rollout-on-change` / `SOPSGEN_ROLLOUT_ON_CHANGE`: wrap: pod templates get a Secret digest.

In wrap mode the tool's output goes through the helm post-renderer
(`sopsgen.integrations.helm.post_render`, the same code as `sopsgen post-render`).

Output is a pure function of the repository content and the keys: no revision, app name
or time in it (Argo CD caches the output by commit). Nothing is written to the checkout;
`helm` gets private cache/config folders in a temp dir that is removed afterwards.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sopsgen import proc
from sopsgen.errors import BackendError, ConfigError, FormatError, SopsgenError
from sopsgen.generate.spec import Spec, load_spec
from sopsgen.generate.store import StoreCache
from sopsgen.keys.base import Identities
from sopsgen.render.emit import dump_yaml
from sopsgen.render.pipeline import DEFAULT_SPEC, render_specs
from sopsgen.render.secret import Manifest
from sopsgen.render.stream import refuse_duplicates

ENV_PREFIX = "ARGOCD_ENV_"
WRAP_MODES = ("none", "helm", "kustomize")
_TRUE = ("1", "true", "yes", "on")

Runner = Callable[..., proc.Completed]
ParamValue = str | list[str] | dict[str, str]


@dataclass(frozen=True)
class Request:
    """One CMP call, read from the environment argocd-cmp-server sets."""

    app_dir: Path
    app_name: str = ""
    namespace: str = ""
    kube_version: str = ""
    api_versions: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)  # plugin.env, prefix removed
    parameters: Mapping[str, ParamValue] = field(default_factory=dict)

    def setting(self, parameter: str, env_name: str) -> list[str]:
        """A list setting: the parameter (array or comma string), else the env entry."""
        raw = self.parameters.get(parameter)
        if isinstance(raw, list):
            return [item for item in raw if item]
        if isinstance(raw, dict):
            raise ConfigError(f"parameter {parameter!r} must be a string or an array, not a map")
        text = raw if raw is not None else self.env.get(env_name, "")
        return [part.strip() for part in text.split(",") if part.strip()]

    def single(self, parameter: str, env_name: str, default: str) -> str:
        values = self.setting(parameter, env_name)
        if len(values) > 1:
            raise ConfigError(f"parameter {parameter!r} takes one value, got {len(values)}")
        return values[0] if values else default


def request_from_env(environ: Mapping[str, str], cwd: Path) -> Request:
    return Request(
        app_dir=cwd,
        app_name=environ.get("ARGOCD_APP_NAME", ""),
        namespace=environ.get("ARGOCD_APP_NAMESPACE", ""),
        kube_version=environ.get("KUBE_VERSION", ""),
        api_versions=tuple(v for v in environ.get("KUBE_API_VERSIONS", "").split(",") if v),
        env={k[len(ENV_PREFIX) :]: v for k, v in environ.items() if k.startswith(ENV_PREFIX)},
        parameters=parse_parameters(environ.get("ARGOCD_APP_PARAMETERS", "")),
    )


def parse_parameters(text: str) -> dict[str, ParamValue]:
    """`[{"name": "spec", "string": "x"}, {"name": "secrets", "array": [...]}, ...]`."""
    if not text.strip():
        return {}
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise FormatError("ARGOCD_APP_PARAMETERS is not JSON") from exc
    if not isinstance(raw, list):
        raise FormatError("ARGOCD_APP_PARAMETERS must be a JSON array")
    out: dict[str, ParamValue] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise FormatError("each Argo CD parameter needs a name")
        out[item["name"]] = _parameter_value(item)
    return out


def _parameter_value(item: Mapping[str, Any]) -> ParamValue:
    if isinstance(item.get("array"), list):
        return [str(v) for v in item["array"]]
    if isinstance(item.get("map"), dict):
        return {str(k): str(v) for k, v in item["map"].items()}
    return str(item.get("string", ""))


# ---------------------------------------------------------------------------- generate


def generate(
    request: Request, identities: Callable[[], Identities], *, runner: Runner = proc.run
) -> bytes:
    """The manifests for one app: the Secrets, or wrapped tool output plus the Secrets."""
    wrap = request.single("wrap", "SOPSGEN_WRAP", "none")
    if wrap not in WRAP_MODES:
        raise ConfigError(f"unknown wrap mode {wrap!r}", hint=f"use one of {', '.join(WRAP_MODES)}")
    specs = _specs(request)
    names = request.setting("secrets", "SOPSGEN_SECRETS") or None
    secrets = render_specs(specs, StoreCache(identities()), names=names)
    if wrap == "none":
        return dump_yaml(secrets)
    stream = helm_template(request, runner) if wrap == "helm" else kustomize_build(request, runner)
    return wrap_stream(stream, specs, secrets, request)


def wrap_stream(
    stream: bytes, specs: Sequence[Spec], secrets: Sequence[Manifest], request: Request
) -> bytes:
    """Tool output + Secrets, through the helm post-renderer (imported only in wrap mode)."""
    from sopsgen.integrations import helm

    refuse_duplicates(stream, secrets)
    options = helm.PostRenderOptions(
        fix_ring_mounts=_flag(request, "fix-ring-mounts", "SOPSGEN_FIX_RING_MOUNTS"),
        rollout_on_change=_flag(request, "rollout-on-change", "SOPSGEN_ROLLOUT_ON_CHANGE"),
    )
    described = helm.describe_secrets(specs, secrets)
    return helm.post_render(stream, described, dump_yaml(secrets), options)


def _flag(request: Request, parameter: str, env_name: str) -> bool:
    return request.single(parameter, env_name, "false").lower() in _TRUE


def _specs(request: Request) -> list[Spec]:
    paths = request.setting("spec", "SOPSGEN_SPEC") or [DEFAULT_SPEC]
    return [load_spec(_inside(request.app_dir, path)) for path in paths]


def _inside(app_dir: Path, path: str) -> Path:
    if os.path.isabs(path):
        raise ConfigError(f"spec {path!r} must be relative to the application folder")
    return app_dir / path


def helm_template(request: Request, runner: Runner) -> bytes:
    release = request.single("release", "SOPSGEN_HELM_RELEASE", request.app_name)
    if not release:
        raise ConfigError("no release name", hint="set ARGOCD_ENV_SOPSGEN_HELM_RELEASE")
    argv = ["helm", "template", release, ".", "--include-crds"]
    if request.namespace:
        argv += ["--namespace", request.namespace]
    if request.kube_version:
        argv += ["--kube-version", request.kube_version]
    for api_version in request.api_versions:
        argv += ["--api-versions", api_version]
    for values in request.setting("helm-values", "SOPSGEN_HELM_VALUES"):
        argv += ["--values", str(_inside(request.app_dir, values))]
    return _run_tool(argv, request, runner)


def kustomize_build(request: Request, runner: Runner) -> bytes:
    return _run_tool(["kustomize", "build", "."], request, runner)


def _run_tool(argv: list[str], request: Request, runner: Runner) -> bytes:
    """Run helm/kustomize in the app folder with private, throwaway cache/config dirs."""
    with tempfile.TemporaryDirectory(prefix="sopsgen-cmp-") as scratch:
        env = dict(os.environ)
        for var, sub in (
            ("HELM_CACHE_HOME", "cache"),
            ("HELM_CONFIG_HOME", "config"),
            ("HELM_DATA_HOME", "data"),
        ):
            env.setdefault(var, os.path.join(scratch, sub))
        done = runner(argv, env=env, cwd=request.app_dir, timeout=50)
    if not done.stdout.strip():
        raise BackendError(f"{argv[0]} {argv[1]} printed nothing for {request.app_dir.name}")
    return done.stdout


# ---------------------------------------------------------------------------- parameters


def parameters(request: Request) -> list[dict[str, Any]]:
    """The announcements Argo CD shows in the UI (dynamic parameters)."""
    spec_paths = request.setting("spec", "SOPSGEN_SPEC") or [DEFAULT_SPEC]
    secret_names: list[str] = []
    for path in spec_paths:
        try:
            spec = load_spec(_inside(request.app_dir, path))
        except SopsgenError:
            continue  # the UI still gets the other announcements
        secret_names += [secret.name for secret in spec.secrets]
    return [
        {
            "name": "spec",
            "title": "sopsgen spec files",
            "tooltip": "SecretGenerator specs to render, relative to the app folder",
            "collectionType": "array",
            "array": spec_paths,
        },
        {
            "name": "secrets",
            "title": "Secrets to render",
            "tooltip": "leave empty to render every Secret of the specs",
            "collectionType": "array",
            "array": secret_names,
        },
        {
            "name": "wrap",
            "title": "Wrap a tool's output",
            "tooltip": "none: only the Secrets; helm: helm template of the app folder plus "
            "the Secrets; kustomize: kustomize build plus the Secrets",
            "string": request.single("wrap", "SOPSGEN_WRAP", "none"),
        },
        {
            "name": "helm-values",
            "title": "Helm values files",
            "tooltip": "values files for wrap=helm, relative to the app folder",
            "collectionType": "array",
            "array": request.setting("helm-values", "SOPSGEN_HELM_VALUES"),
        },
    ]


def parameters_json(request: Request) -> bytes:
    return (json.dumps(parameters(request), indent=2, ensure_ascii=True) + "\n").encode("ascii")
