"""`render --encrypt --out` and `check --flux` with real age keys, sops and kubectl."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pyrage
import pytest
import yaml

from sopsgen.cli.main import main
from tests.conftest import require_sops

SPEC = """\
apiVersion: sopsgen.io/v1alpha1
kind: SecretGenerator
metadata: {name: lightrun}
namespace: lightrun
values:
  encryption-key: {generate: bytes, length: 32, encoding: base64, ring: true}
  db-password: {generate: password, length: 24}
  keycloak-user: {constant: admin}
secrets:
  - name: lightrun-backend
    data:
      SPRING_DATASOURCE_PASSWORD: db-password
      encryption-key-*: encryption-key
  - name: lightrun-keycloak
    data: {DB_PASSWORD: db-password, KEYCLOAK_USER: keycloak-user}
"""

BACKEND = "lightrun.lightrun-backend.yaml"
KEYCLOAK = "lightrun.lightrun-keycloak.yaml"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    identity = pyrage.x25519.Identity.generate()
    key_file = tmp_path / "test.agekey"
    key_file.write_text(f"{identity}\n")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file))
    monkeypatch.chdir(tmp_path)
    recipient = identity.to_public()
    (tmp_path / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: .*\\.yaml$\n    age: {recipient}\n"
    )
    (tmp_path / "sopsgen.yaml").write_text(SPEC)
    assert main(["generate", "sopsgen.yaml"]) == 0
    return tmp_path


def render_flux(out: str = "flux") -> int:
    return main(["render", "--encrypt", "--out", out, "sopsgen.yaml"])


def rendered(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, object]]:
    capsys.readouterr()
    assert main(["render", "sopsgen.yaml"]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    return {f"{d['metadata']['namespace']}.{d['metadata']['name']}.yaml": d for d in docs}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def sops_decrypt(path: Path) -> object:
    exe = require_sops()
    done = subprocess.run([exe, "decrypt", str(path)], capture_output=True, check=True)
    return yaml.safe_load(done.stdout)


def test_sops_decrypts_each_file_to_exactly_the_rendered_secret(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rotate", "encryption-key", "--spec", "sopsgen.yaml"]) == 0
    assert main(["rotate", "encryption-key", "--spec", "sopsgen.yaml"]) == 0
    assert render_flux() == 0
    expected = rendered(capsys)
    files = snapshot(repo / "flux")
    assert set(files) == {BACKEND, KEYCLOAK, "kustomization.yaml"}
    for name, manifest in expected.items():
        assert sops_decrypt(repo / "flux" / name) == manifest
        clear = yaml.safe_load(files[name])
        assert clear["sops"]["encrypted_regex"] == "^(data|stringData)$"
        assert clear["metadata"] == manifest["metadata"]  # readable for kustomize
        assert all(str(v).startswith("ENC[") for v in clear["data"].values())
    keys = [k for k in expected[BACKEND]["data"] if k.startswith("encryption-key-")]  # type: ignore[attr-defined]
    assert keys == ["encryption-key-0", "encryption-key-1", "encryption-key-2"]
    kustomization = yaml.safe_load(files["kustomization.yaml"])
    assert kustomization["resources"] == [BACKEND, KEYCLOAK]


def test_second_run_changes_no_byte(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert render_flux() == 0
    first = snapshot(repo / "flux")
    mtimes = {p.name: p.stat().st_mtime_ns for p in (repo / "flux").iterdir()}
    capsys.readouterr()
    assert render_flux() == 0
    assert snapshot(repo / "flux") == first
    assert {p.name: p.stat().st_mtime_ns for p in (repo / "flux").iterdir()} == mtimes
    assert "nothing written" in capsys.readouterr().err


def test_rotation_changes_only_the_affected_file(repo: Path) -> None:
    assert render_flux() == 0
    before = snapshot(repo / "flux")
    assert main(["rotate", "encryption-key", "--spec", "sopsgen.yaml"]) == 0
    assert render_flux() == 0
    after = snapshot(repo / "flux")
    changed = sorted(name for name in after if after[name] != before[name])
    assert changed == [BACKEND]
    old_lines, new_lines = before[BACKEND].splitlines(), after[BACKEND].splitlines()
    for line in old_lines:  # unchanged values keep their ciphertext
        if line.strip().startswith((b"encryption-key-0:", b"SPRING_DATASOURCE_PASSWORD:")):
            assert line in new_lines
    assert any(line.strip().startswith(b"encryption-key-1:") for line in new_lines)


def test_a_file_written_by_sops_itself_is_kept(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exe = require_sops()
    assert render_flux() == 0
    plain = yaml.safe_dump(rendered(capsys)[KEYCLOAK], sort_keys=False)
    target = repo / "flux" / KEYCLOAK
    target.write_text(plain)
    subprocess.run(
        [exe, "encrypt", "--in-place", "--encrypted-regex", "^(data|stringData)$", str(target)],
        check=True,
        capture_output=True,
    )
    by_sops = target.read_bytes()
    assert render_flux() == 0
    assert target.read_bytes() == by_sops


def test_kubectl_kustomize_passes_the_encrypted_manifests_through(repo: Path) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    assert render_flux() == 0
    done = subprocess.run(
        [kubectl, "kustomize", str(repo / "flux")], capture_output=True, check=True, text=True
    )
    built = {d["metadata"]["name"]: d for d in yaml.safe_load_all(done.stdout)}
    assert set(built) == {"lightrun-backend", "lightrun-keycloak"}
    for name, file in (("lightrun-backend", BACKEND), ("lightrun-keycloak", KEYCLOAK)):
        committed = yaml.safe_load((repo / "flux" / file).read_text())
        assert built[name]["sops"] == committed["sops"]  # metadata intact: Flux can decrypt
        assert built[name]["data"] == committed["data"]


def test_check_flux_names_the_drifting_secret(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert render_flux() == 0
    capsys.readouterr()
    assert main(["check", "--flux", "flux", "sopsgen.yaml"]) == 0
    assert "ok" in capsys.readouterr().out
    secrets = rendered(capsys)
    assert main(["rotate", "encryption-key", "--spec", "sopsgen.yaml"]) == 0
    capsys.readouterr()
    assert main(["check", "--flux", "flux", "sopsgen.yaml"]) == 9
    captured = capsys.readouterr()
    report = captured.out + captured.err
    assert "Secret lightrun/lightrun-backend" in report
    assert "differs from the store" in report
    assert "lightrun-keycloak" not in captured.out
    for manifest in secrets.values():
        for value in manifest["data"].values():  # type: ignore[attr-defined]
            assert value not in report


def test_check_flux_reports_missing_and_extra_files(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert render_flux() == 0
    (repo / "flux" / KEYCLOAK).rename(repo / "flux" / "old.yaml")
    capsys.readouterr()
    assert main(["check", "--flux", "flux", "sopsgen.yaml"]) == 9
    out = capsys.readouterr().out
    assert f"Secret lightrun/lightrun-keycloak: flux/{KEYCLOAK}: missing" in out
    assert "old.yaml: extra encrypted Secret" in out
    assert main(["check", "--flux", "nowhere", "sopsgen.yaml"]) == 9


def test_a_secret_dropped_from_the_spec_is_removed(repo: Path) -> None:
    assert render_flux() == 0
    (repo / "flux" / "notes.yaml").write_text("not ours\n")
    assert main(["render", "--encrypt", "--out", "flux", "--secret", "lightrun-backend"]) == 0
    names = {p.name for p in (repo / "flux").iterdir()}
    assert names == {BACKEND, "kustomization.yaml", "notes.yaml"}


def test_encrypt_needs_out_and_keys(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--encrypt", "sopsgen.yaml"]) == 3
    assert "--encrypt and --out DIR go together" in capsys.readouterr().err
    (repo / ".sops.yaml").write_text("creation_rules:\n  - path_regex: ^elsewhere/\n    age: x\n")
    assert render_flux() == 3
    assert "no creation rule" in capsys.readouterr().err
    assert not (repo / "flux").exists() or not any((repo / "flux").iterdir())


def test_age_flag_overrides_the_rules(repo: Path) -> None:
    other = pyrage.x25519.Identity.generate().to_public()
    own = yaml.safe_load((repo / ".sops.yaml").read_text())["creation_rules"][0]["age"]
    assert (
        main(["render", "--encrypt", "--out", "f", "--age", f"{own},{other}", "sopsgen.yaml"]) == 0
    )
    recipients = yaml.safe_load((repo / "f" / BACKEND).read_text())["sops"]["age"]
    assert sorted(r["recipient"] for r in recipients) == sorted([own, str(other)])


def test_a_tampered_file_is_an_error_not_an_overwrite(repo: Path) -> None:
    assert render_flux() == 0
    path = repo / "flux" / BACKEND
    text = path.read_text().replace("namespace: lightrun", "namespace: evil")
    path.write_text(text)
    assert render_flux() == 5
    assert path.read_text() == text
