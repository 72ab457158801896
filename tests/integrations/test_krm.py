"""KRM function contract (kustomize exec runner, kpt) and the legacy kustomize plugin."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers.example import assert_no_secret, copy_example, demo_env, sopsgen

FUNCTION = "config.kubernetes.io/function"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


def _kustomize_input(config: dict[str, object]) -> bytes:
    """What kustomize's exec runner writes to a generator's stdin: the config as
    functionConfig, and a copy of it as the only item, marked local-config and with ids."""
    item = yaml.safe_load(yaml.safe_dump(config))
    annotations = item["metadata"].setdefault("annotations", {})
    annotations["config.kubernetes.io/local-config"] = "true"
    annotations["internal.config.kubernetes.io/id"] = "1"
    annotations["config.k8s.io/id"] = "1"
    return yaml.safe_dump(
        {
            "apiVersion": "config.kubernetes.io/v1",
            "kind": "ResourceList",
            "items": [item],
            "functionConfig": config,
        },
        sort_keys=False,
    ).encode()


def _generator(example: Path) -> dict[str, object]:
    return yaml.safe_load((example / "kustomize" / "prod-krm" / "secrets.yaml").read_text())


def test_resource_list_contract_for_kustomize_exec(example: Path) -> None:
    kdir = example / "kustomize" / "prod-krm"
    config = _generator(example)
    config["secretOverrides"] = {"lightrun-keycloak": {"needsHash": True}}
    sent = _kustomize_input(config)
    done = sopsgen("krm", stdin=sent, cwd=kdir)  # kustomize runs it in the kustomization dir
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    out = yaml.safe_load(done.stdout)
    assert out["apiVersion"] == "config.kubernetes.io/v1"
    assert out["kind"] == "ResourceList"
    assert out["functionConfig"] == config
    assert out["items"][0] == yaml.safe_load(sent)["items"][0]  # echoed untouched
    secrets = out["items"][1:]
    assert [(s["kind"], s["metadata"]["name"]) for s in secrets] == [
        ("Secret", "lightrun-backend"),
        ("Secret", "lightrun-keycloak"),
    ]
    assert "annotations" not in secrets[0]["metadata"]
    assert secrets[1]["metadata"]["annotations"] == {"kustomize.config.k8s.io/needs-hash": "true"}
    assert "results" not in out
    assert "encryption-key-1" in secrets[0]["data"]


def test_relative_store_resolves_against_cwd_not_the_caller(example: Path, tmp_path: Path) -> None:
    sent = _kustomize_input(_generator(example))
    done = sopsgen("krm", stdin=sent, cwd=tmp_path)  # ../../envs/prod/... does not exist here
    assert done.returncode == 3
    out = yaml.safe_load(done.stdout)
    (result,) = out["results"]
    assert result["severity"] == "error"
    assert "cannot read spec" in result["message"]
    assert len(out["items"]) == 1  # items unchanged
    assert done.stderr.decode().count("\n") == 1


def test_function_failure_reports_results_without_values(example: Path) -> None:
    kdir = example / "kustomize" / "prod-krm"
    done = sopsgen(
        "krm", stdin=_kustomize_input(_generator(example)), cwd=kdir, env=demo_env(key=None)
    )
    assert done.returncode == 6
    out = yaml.safe_load(done.stdout)
    assert out["results"][0]["severity"] == "error"
    assert "cannot decrypt the data key" in out["results"][0]["message"]
    assert_no_secret(done.stdout + done.stderr, [example / "envs/prod/secrets.sops.yaml"])


@pytest.mark.parametrize("stdin", [b"not: [yaml", b"kind: ConfigMap\n", b""])
def test_bad_input_is_a_result_too(stdin: bytes, tmp_path: Path) -> None:
    done = sopsgen("krm", stdin=stdin, cwd=tmp_path)
    assert done.returncode == 4
    assert yaml.safe_load(done.stdout)["results"][0]["severity"] == "error"


def test_kpt_fn_eval_exec(example: Path, tmp_path: Path) -> None:
    kpt = shutil.which("kpt")
    if kpt is None:
        pytest.skip("kpt is not installed: cannot run `kpt fn eval --exec`")
    import subprocess

    pkg = tmp_path / "pkg"
    pkg.mkdir()
    shutil.copy(example / "kustomize" / "prod" / "backend-deployment.yaml", pkg)
    before = sorted(p.name for p in pkg.iterdir())
    env = demo_env()
    venv_bin = str(Path(__import__("sys").executable).parent)
    env["PATH"] = venv_bin + ":" + env.get("PATH", "")
    done = subprocess.run(
        [
            kpt,
            "fn",
            "eval",
            "pkg",
            "--exec",
            "sopsgen krm",
            "-o",
            "unwrap",
            "--",
            f"spec={example}/envs/staging/sopsgen.yaml",
            "secrets=lightrun-keycloak",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    docs = list(yaml.safe_load_all(done.stdout))
    assert [d["kind"] for d in docs] == ["Deployment", "Secret"]
    assert docs[1]["metadata"] == {"name": "lightrun-keycloak", "namespace": "lightrun-staging"}
    assert sorted(p.name for p in pkg.iterdir()) == before  # -o unwrap: nothing written
    failed = subprocess.run(
        [kpt, "fn", "eval", "pkg", "--exec", "sopsgen krm", "-o", "unwrap", "--", "spec=nope.yaml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert failed.returncode != 0
    assert b"cannot read spec" in failed.stderr


def test_kubectl_kustomize_legacy_plugin(example: Path, tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: cannot run `kubectl kustomize`")
    import subprocess

    home = tmp_path / "plugins"
    done = sopsgen("kustomize-plugin", "--plugin-home", home)
    assert done.returncode == 0, done.stderr
    plugin = home / "sopsgen.io/v1alpha1/secretgenerator/SecretGenerator"
    assert plugin.stat().st_mode & 0o111
    env = demo_env({"KUSTOMIZE_PLUGIN_HOME": str(home)})
    build = subprocess.run(
        [kubectl, "kustomize", "--enable-alpha-plugins", str(example / "kustomize" / "prod")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert build.returncode == 0, build.stderr
    docs = {d["metadata"]["name"]: d for d in yaml.safe_load_all(build.stdout)}
    hashed = [name for name in docs if name.startswith("lightrun-keycloak-")]
    assert len(hashed) == 1
    assert "lightrun-backend" in docs
    container = docs["keycloak-demo"]["spec"]["template"]["spec"]["containers"][0]
    assert container["envFrom"][0]["secretRef"]["name"] == hashed[0]
    assert "annotations" not in docs[hashed[0]]["metadata"]  # kustomize consumed needs-hash
    golden = Path(__file__).parents[1] / "golden" / "lightrun" / "expected.yaml"
    prod = [
        d
        for d in yaml.safe_load_all(golden.read_bytes())
        if d["metadata"]["namespace"] == "lightrun-prod"
    ]
    assert docs["lightrun-backend"]["data"] == prod[0]["data"]
    # a failing plugin fails the build, with one line from sopsgen
    broken = subprocess.run(
        [kubectl, "kustomize", "--enable-alpha-plugins", str(example / "kustomize" / "prod")],
        cwd=tmp_path,
        env=demo_env({"KUSTOMIZE_PLUGIN_HOME": str(home)}, key=None),
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert broken.returncode != 0
    assert b"sopsgen: error: cannot decrypt the data key" in broken.stderr
    assert_no_secret(broken.stdout + broken.stderr, [example / "envs/prod/secrets.sops.yaml"])
