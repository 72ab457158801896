"""A harness that runs the CMP exactly as argocd-cmp-server would, from manifests/argocd.

What it reproduces (see shared/PROTOCOLS.md §1): plugin.yaml read from the ConfigMap; the
repository unpacked into a fresh folder with files 0644 (preserveFileMode off); discovery by
`discover.fileName` glob in the app folder; commands run with cwd = app folder, the sidecar's
own env plus ARGOCD_APP_*, KUBE_*, ARGOCD_ENV_<name> and ARGOCD_APP_PARAMETERS/PARAM_*.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.example import EXAMPLE, ROOT, assert_no_secret, demo_env

PLUGIN_CM = ROOT / "manifests" / "argocd" / "cmp-plugin.yaml"
GOLDEN = ROOT / "tests" / "golden" / "lightrun" / "expected.yaml"


def plugin_config() -> dict[str, Any]:
    cm = yaml.safe_load(PLUGIN_CM.read_text())
    config = yaml.safe_load(cm["data"]["plugin.yaml"])
    assert config["kind"] == "ConfigManagementPlugin"
    assert config["metadata"]["name"]
    assert config["spec"]["generate"]["command"]
    return config


def unpack(repo: Path, work: Path) -> Path:
    """Like the repo-server's tar stream: a fresh dir, files 0644, dirs 0755, no .git."""
    dest = work / "_cmp_server" / os.urandom(4).hex()
    shutil.copytree(repo, dest, ignore=shutil.ignore_patterns(".git"))
    for path in dest.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


def param_env(params: list[dict[str, Any]]) -> dict[str, str]:
    env = {"ARGOCD_APP_PARAMETERS": json.dumps(params)}
    for p in params:
        name = re.sub(r"[^A-Z0-9_]", "_", p["name"].upper())
        if "string" in p:
            env[f"PARAM_{name}"] = p["string"]
        for i, item in enumerate(p.get("array", [])):
            env[f"PARAM_{name}_{i}"] = item
        for k, v in p.get("map", {}).items():
            env[f"PARAM_{name}_{re.sub(r'[^A-Z0-9_]', '_', k.upper())}"] = v
    return env


class Cmp:
    def __init__(self, sidecar_env: dict[str, str]) -> None:
        self.config = plugin_config()
        self.sidecar_env = sidecar_env

    def discovers(self, app_dir: Path) -> bool:
        pattern = self.config["spec"]["discover"]["fileName"]
        return bool(glob.glob(os.path.join(app_dir, pattern)))

    def env(
        self,
        app: str,
        namespace: str,
        plugin_env: dict[str, str],
        params: list[dict[str, Any]],
        revision: str,
    ) -> dict[str, str]:
        env = dict(self.sidecar_env)
        env.update(
            {
                "ARGOCD_APP_NAME": app,
                "ARGOCD_APP_NAMESPACE": namespace,
                "ARGOCD_APP_PROJECT_NAME": "default",
                "ARGOCD_APP_REVISION": revision,
                "ARGOCD_APP_REVISION_SHORT": revision[:7],
                "ARGOCD_APP_REVISION_SHORT_8": revision[:8],
                "ARGOCD_APP_SOURCE_PATH": "envs/prod",
                "ARGOCD_APP_SOURCE_REPO_URL": "https://git.example.com/gitops.git",
                "ARGOCD_APP_SOURCE_TARGET_REVISION": "main",
                "KUBE_VERSION": "1.32.4",
                "KUBE_API_VERSIONS": "v1,apps/v1,batch/v1",
            }
        )
        env.update({f"ARGOCD_ENV_{k}": v for k, v in plugin_env.items()})
        env.update(param_env(params))
        return env

    def run(
        self,
        which: str,
        app_dir: Path,
        *,
        app: str = "lightrun-prod",
        namespace: str = "lightrun-prod",
        plugin_env: dict[str, str] | None = None,
        params: list[dict[str, Any]] | None = None,
        revision: str = "0123456789abcdef0123456789abcdef01234567",
    ) -> subprocess.CompletedProcess[bytes]:
        spec = self.config["spec"]
        command = spec["parameters"]["dynamic"] if which == "parameters" else spec[which]
        argv = [*command["command"], *command.get("args", [])]
        return subprocess.run(
            argv,
            cwd=app_dir,
            env=self.env(app, namespace, plugin_env or {}, params or [], revision),
            capture_output=True,
            check=False,
            timeout=60,
        )


@pytest.fixture
def sidecar_env() -> dict[str, str]:
    env = demo_env()
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"  # sopsgen on PATH
    return env


@pytest.fixture
def cmp(sidecar_env: dict[str, str]) -> Cmp:
    return Cmp(sidecar_env)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return unpack(EXAMPLE, tmp_path)


def _golden(namespace: str) -> list[dict[str, Any]]:
    return [
        d
        for d in yaml.safe_load_all(GOLDEN.read_bytes())
        if d["metadata"]["namespace"] == namespace
    ]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_discovery_matches_only_apps_with_a_spec(cmp: Cmp, repo: Path) -> None:
    assert cmp.discovers(repo / "envs" / "prod")
    assert cmp.discovers(repo / "envs" / "staging")
    assert not cmp.discovers(repo / "argocd")


def test_generate_renders_the_app_secrets(cmp: Cmp, repo: Path) -> None:
    app = repo / "envs" / "prod"
    before = _snapshot(repo)
    done = cmp.run("generate", app)
    assert done.returncode == 0, done.stderr
    assert list(yaml.safe_load_all(done.stdout)) == _golden("lightrun-prod")
    assert _snapshot(repo) == before  # nothing written to the checkout
    # a pure function of the repository: app name, namespace and revision do not matter
    other = cmp.run("generate", app, app="x", namespace="y", revision="f" * 40)
    assert other.stdout == done.stdout


def test_parameters_select_spec_and_secrets(cmp: Cmp, repo: Path) -> None:
    done = cmp.run(
        "generate",
        repo,
        params=[
            {"name": "spec", "array": ["envs/staging/sopsgen.yaml"]},
            {"name": "secrets", "array": ["lightrun-keycloak"]},
        ],
    )
    assert done.returncode == 0, done.stderr
    assert list(yaml.safe_load_all(done.stdout)) == _golden("lightrun-staging")[1:]
    by_env = cmp.run(
        "generate",
        repo,
        plugin_env={
            "SOPSGEN_SPEC": "envs/staging/sopsgen.yaml",
            "SOPSGEN_SECRETS": "lightrun-keycloak",
        },
    )
    assert by_env.stdout == done.stdout


def test_dynamic_parameters_announcement(cmp: Cmp, repo: Path) -> None:
    done = cmp.run("parameters", repo / "envs" / "prod")
    assert done.returncode == 0, done.stderr
    announced = json.loads(done.stdout)
    assert isinstance(announced, list)
    by_name = {a["name"]: a for a in announced}
    assert by_name["secrets"]["array"] == ["lightrun-backend", "lightrun-keycloak"]
    for item in announced:
        kind = item.get("collectionType", "string")
        assert kind in ("string", "array", "map")
        assert (kind == "string") == ("string" in item)
        assert set(item) <= {
            "name",
            "title",
            "tooltip",
            "required",
            "itemType",
            "collectionType",
            "string",
            "array",
            "map",
        }


def _fake_tool(bin_dir: Path, name: str, output: str) -> Path:
    bin_dir.mkdir(exist_ok=True)
    log = bin_dir / f"{name}.argv"
    script = bin_dir / name
    script.write_text(
        f"#!/bin/sh\nprintf '%s\\n' \"$PWD\" \"$@\" > '{log}'\ncat <<'EOF'\n{output}EOF\n"
    )
    script.chmod(0o755)
    return log


CHART_OUTPUT = """---
# Source: lightrun/templates/backend.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: lightrun-backend
"""


def test_wrap_helm_appends_secrets(cmp: Cmp, repo: Path, tmp_path: Path) -> None:
    log = _fake_tool(tmp_path / "bin", "helm", CHART_OUTPUT)
    cmp.sidecar_env["PATH"] = f"{tmp_path / 'bin'}:{cmp.sidecar_env['PATH']}"
    app = repo / "envs" / "prod"
    done = cmp.run(
        "generate",
        app,
        plugin_env={"SOPSGEN_WRAP": "helm"},
        params=[{"name": "helm-values", "array": ["values.yaml"]}],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(CHART_OUTPUT.rstrip("\n").encode())
    docs = list(yaml.safe_load_all(done.stdout))
    assert [d["kind"] for d in docs] == ["Deployment", "Secret", "Secret"]
    argv = log.read_text().splitlines()
    assert argv[0] == str(app)
    assert argv[1:6] == ["template", "lightrun-prod", ".", "--include-crds", "--namespace"]
    assert "--kube-version" in argv
    assert f"{app}/values.yaml" in argv
    assert "--api-versions" in argv


def test_wrap_refuses_a_secret_the_chart_also_makes(cmp: Cmp, repo: Path, tmp_path: Path) -> None:
    _fake_tool(
        tmp_path / "bin",
        "kustomize",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: lightrun-backend\n",
    )
    cmp.sidecar_env["PATH"] = f"{tmp_path / 'bin'}:{cmp.sidecar_env['PATH']}"
    done = cmp.run("generate", repo / "envs" / "prod", plugin_env={"SOPSGEN_WRAP": "kustomize"})
    assert done.returncode == 3
    assert done.stdout == b""
    assert b"already contain Secret 'lightrun-backend'" in done.stderr
    assert done.stderr.count(b"\n") == 1


@pytest.mark.parametrize("problem", ["no-key", "bad-param", "no-spec", "missing-tool"])
def test_failures_are_one_line_and_non_zero(cmp: Cmp, repo: Path, problem: str) -> None:
    app = repo / "envs" / "prod"
    kwargs: dict[str, Any] = {}
    if problem == "no-key":
        del cmp.sidecar_env["SOPS_AGE_KEY_FILE"]
    elif problem == "bad-param":
        kwargs["plugin_env"] = {"SOPSGEN_WRAP": "jsonnet"}
    elif problem == "no-spec":
        app = repo / "argocd"
    else:
        cmp.sidecar_env["PATH"] = str(Path(sys.executable).parent)
        kwargs["plugin_env"] = {"SOPSGEN_WRAP": "helm"}
    done = cmp.run("generate", app, **kwargs)
    assert done.returncode != 0
    assert done.stdout == b""
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("sopsgen: error: ")
    assert_no_secret(done.stderr, [repo / "envs" / "prod" / "secrets.sops.yaml"])


def test_concurrent_generates_are_independent(cmp: Cmp, tmp_path: Path) -> None:
    repos = [unpack(EXAMPLE, tmp_path / str(i)) for i in range(6)]
    apps = [r / "envs" / ("prod" if i % 2 else "staging") for i, r in enumerate(repos)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda a: cmp.run("generate", a), apps))
    for app, done in zip(apps, results):
        assert done.returncode == 0, done.stderr
        assert list(yaml.safe_load_all(done.stdout)) == _golden(f"lightrun-{app.name}")
