"""manifests/argocd builds with kubectl's kustomize, and its patch adds a correct sidecar."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers.example import EXAMPLE, ROOT

ARGOCD = ROOT / "manifests" / "argocd"

# Just the parts of the stock argocd-repo-server Deployment the patch relies on.
REPO_SERVER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: argocd-repo-server}
  template:
    metadata:
      labels: {app.kubernetes.io/name: argocd-repo-server}
    spec:
      containers:
        - name: argocd-repo-server
          image: quay.io/argoproj/argocd:v3.2.0
      volumes:
        - name: var-files
          emptyDir: {}
        - name: plugins
          emptyDir: {}
        - name: tmp
          emptyDir: {}
"""


def _kubectl() -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: cannot run `kubectl kustomize`")
    return kubectl


def test_manifests_argocd_builds() -> None:
    done = subprocess.run([_kubectl(), "kustomize", str(ARGOCD)], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    (cm,) = list(yaml.safe_load_all(done.stdout))
    assert cm["kind"] == "ConfigMap"
    assert cm["metadata"]["namespace"] == "argocd"
    plugin = yaml.safe_load(cm["data"]["plugin.yaml"])
    assert plugin["spec"]["generate"]["command"] == ["sopsgen", "argocd", "generate"]
    assert plugin["spec"]["discover"]["fileName"] == "./sopsgen.yaml"


def test_patch_adds_the_sidecar(tmp_path: Path) -> None:
    kubectl = _kubectl()
    work = tmp_path / "argocd"
    shutil.copytree(ARGOCD, work)
    (work / "repo-server.yaml").write_text(REPO_SERVER)
    kustomization = work / "kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text().replace("resources:\n", "resources:\n  - repo-server.yaml\n")
    )
    done = subprocess.run([kubectl, "kustomize", str(work)], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    deploy = next(d for d in yaml.safe_load_all(done.stdout) if d["kind"] == "Deployment")
    pod = deploy["spec"]["template"]["spec"]
    sidecar = next(c for c in pod["containers"] if c["name"] == "sopsgen")
    assert sidecar["command"] == ["/var/run/argocd/argocd-cmp-server"]
    assert sidecar["securityContext"]["runAsUser"] == 999
    assert sidecar["securityContext"]["runAsNonRoot"] is True
    mounts = {m["name"]: m for m in sidecar["volumeMounts"]}
    assert mounts["var-files"]["mountPath"] == "/var/run/argocd"
    assert mounts["plugins"]["mountPath"] == "/home/argocd/cmp-server/plugins"
    assert mounts["sopsgen-cmp-plugin"]["mountPath"] == "/home/argocd/cmp-server/config/plugin.yaml"
    assert mounts["sopsgen-cmp-plugin"]["subPath"] == "plugin.yaml"
    assert mounts["sopsgen-tmp"]["mountPath"] == "/tmp"  # its own tmp, not the repo-server's
    assert "tmp" not in mounts
    key = mounts["sopsgen-age-key"]
    assert key["readOnly"] is True
    env = {e["name"]: e["value"] for e in sidecar["env"]}
    assert env["SOPS_AGE_KEY_FILE"].startswith(key["mountPath"] + "/")
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["sopsgen-age-key"]["secret"]["secretName"] == "sopsgen-age-key"
    assert volumes["sopsgen-cmp-plugin"]["configMap"]["name"] == "sopsgen-cmp-plugin"
    assert {"var-files", "plugins", "tmp", "sopsgen-tmp"} <= set(volumes)


def test_example_application_uses_the_rendered_secrets() -> None:
    apps = list(yaml.safe_load_all((EXAMPLE / "argocd" / "application-prod.yaml").read_text()))
    app = apps[0]
    sources = app["spec"]["sources"]
    chart = next(s for s in sources if "chart" in s)
    values = chart["helm"]["valuesObject"]
    deploy = values["general"]["deploy_secrets"]
    assert deploy["enabled"] is False
    assert deploy["existing_secrets"]["backend"] == "lightrun-backend"
    assert deploy["existing_secrets"]["keycloak"] == "lightrun-keycloak"
    plugin = next(s for s in sources if "plugin" in s)
    assert plugin["path"] == "examples/lightrun/envs/prod"
    assert plugin["plugin"]["name"] == "sopsgen"
    assert app["spec"]["destination"]["namespace"] == "lightrun-prod"
