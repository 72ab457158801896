"""The post-renderer as Helm 3 runs it: an executable with no argument, stdin to stdout."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pyrage
import pytest
import yaml

from sopsgen.cli.main import main
from sopsgen.integrations.helm import DIGEST_ANNOTATION

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = ROOT / "manifests" / "helm-plugin" / "sopsgen-post-render"
CHART = (Path(__file__).parent / "data" / "lightrun-chart.yaml").read_bytes()
SPEC = """\
apiVersion: sopsgen.io/v1alpha1
kind: SecretGenerator
metadata: {name: lightrun}
namespace: lightrun
values:
  encryption-key: {generate: bytes, length: 32, encoding: base64, ring: true}
secrets:
  - name: lightrun-backend
    data: {encryption-key-*: encryption-key}
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    identity = pyrage.x25519.Identity.generate()
    key_file = tmp_path / "test.agekey"
    key_file.write_text(f"{identity}\n")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file))
    monkeypatch.chdir(tmp_path)
    rules = f"creation_rules:\n  - age: {identity.to_public()}\n"
    (tmp_path / ".sops.yaml").write_text(rules)
    (tmp_path / "sopsgen.yaml").write_text(SPEC)
    assert main(["generate", "sopsgen.yaml"]) == 0
    for _ in range(2):
        assert main(["rotate", "encryption-key", "--spec", "sopsgen.yaml"]) == 0
    if shutil.which("sopsgen") is None:
        pytest.skip("the sopsgen entry point is not on PATH")
    return {
        **os.environ,
        "SOPSGEN_SPEC": str(tmp_path / "sopsgen.yaml"),
        "SOPSGEN_FIX_RING_MOUNTS": "1",
        "SOPSGEN_ROLLOUT_ON_CHANGE": "1",
    }


def post_render(env: dict[str, str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(WRAPPER)], input=stdin, env=env, capture_output=True, check=False)


def test_helm3_executable_with_settings_from_the_environment(env: dict[str, str]) -> None:
    done = post_render(env, CHART)
    assert done.returncode == 0, done.stderr
    docs = [d for d in yaml.safe_load_all(done.stdout) if d]
    crons = next(d for d in docs if d["metadata"]["name"] == "lightrun-crons")
    template = crons["spec"]["template"]
    items = template["spec"]["volumes"][0]["secret"]["items"]
    assert [i["key"] for i in items] == [f"encryption-key-{i}" for i in range(3)]
    assert DIGEST_ANNOTATION in template["metadata"]["annotations"]
    assert docs[-1]["kind"] == "Secret"
    assert post_render(env, CHART).stdout == done.stdout


def test_bad_input_fails_helm_with_one_line(env: dict[str, str]) -> None:
    for stdin, message in (
        (b"", b"no manifests on stdin"),
        (b"kind: [x\n", b"document 1 is not valid YAML"),
    ):
        done = post_render(env, stdin)
        assert done.returncode == 4
        assert done.stdout == b""
        assert message in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_plugin_yaml_is_a_helm4_postrenderer() -> None:
    plugin = yaml.safe_load((WRAPPER.parent / "plugin.yaml").read_text())
    assert plugin["apiVersion"] == "v1"
    assert plugin["type"] == "postrenderer/v1"
    assert plugin["runtime"] == "subprocess"
    command = plugin["runtimeConfig"]["platformCommand"][0]["command"]
    assert command == "${HELM_PLUGIN_DIR}/" + WRAPPER.name
