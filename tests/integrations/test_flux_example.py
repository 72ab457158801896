"""examples/lightrun/flux is in sync with the example stores and builds with kustomize."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from sopsgen.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lightrun"
ENVS = ("staging", "prod")


@pytest.fixture
def demo_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(EXAMPLE / "demo-DO-NOT-USE.agekey"))
    monkeypatch.chdir(EXAMPLE)


@pytest.mark.parametrize("env", ENVS)
def test_committed_flux_files_match_the_store(demo_key: None, env: str) -> None:
    # After examples/lightrun/regenerate.sh, refresh with the commands in flux/README.md.
    assert main(["check", "--flux", f"flux/{env}", f"envs/{env}/sopsgen.yaml"]) == 0


@pytest.mark.parametrize("env", ENVS)
def test_flux_kustomization_points_at_the_folder_and_decrypts(env: str) -> None:
    path = EXAMPLE / "flux" / "cluster" / f"lightrun-{env}-secrets.yaml"
    kustomization = yaml.safe_load(path.read_text())
    assert kustomization["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
    assert kustomization["spec"]["path"] == f"./examples/lightrun/flux/{env}"
    assert kustomization["spec"]["decryption"] == {
        "provider": "sops",
        "secretRef": {"name": "sops-age"},
    }


@pytest.mark.parametrize("env", ENVS)
def test_kubectl_kustomize_builds_the_encrypted_folder(env: str) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    folder = EXAMPLE / "flux" / env
    done = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for doc in yaml.safe_load_all(done.stdout):
        assert doc["kind"] == "Secret"
        assert doc["metadata"]["namespace"] == f"lightrun-{env}"
        assert "mac" in doc["sops"]
        assert all(value.startswith("ENC[") for value in doc["data"].values())
