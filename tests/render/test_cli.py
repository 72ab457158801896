"""`sopsgen render` failures: non-zero exit, one clear stderr line, no value anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers.example import assert_no_secret, copy_example, demo_env, sopsgen


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


def _one_line(stderr: bytes) -> str:
    lines = stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("sopsgen: error: ")
    return lines[0]


def _stores(example: Path) -> list[Path]:
    return [example / "envs" / env / "secrets.sops.yaml" for env in ("staging", "prod")]


def test_missing_values_fail_naming_the_fix(example: Path) -> None:
    spec = example / "envs" / "staging" / "more.yaml"
    spec.write_text(
        "apiVersion: sopsgen.io/v1alpha1\nkind: SecretGenerator\nmetadata: {name: more}\n"
        "extends: sopsgen.yaml\nstore: secrets.sops.yaml\n"
        "values:\n  smtp-token: {provided: true}\n  api-key: {generate: hex}\n"
        "secretOverrides:\n  lightrun-backend:\n    data: {SMTP: smtp-token, API: api-key}\n"
    )
    done = sopsgen("render", spec)
    assert done.returncode == 8
    assert done.stdout == b""
    line = _one_line(done.stderr)
    assert "smtp-token, api-key missing from the store" in line
    assert "sopsgen generate" in line
    assert "sopsgen set smtp-token" in line
    assert_no_secret(done.stdout + done.stderr, _stores(example))


def test_missing_store_file_fails(example: Path) -> None:
    (example / "envs" / "prod" / "secrets.sops.yaml").rename(example / "elsewhere.yaml")
    done = sopsgen("render", example / "envs" / "prod" / "sopsgen.yaml")
    assert done.returncode == 8
    assert done.stdout == b""
    assert "missing from the store" in _one_line(done.stderr)


@pytest.mark.parametrize("key", ["none", "wrong"])
def test_missing_key_fails(example: Path, tmp_path: Path, key: str) -> None:
    env = demo_env(key=None)
    if key == "wrong":  # only the staging identity: cannot open prod
        lines = (example / "demo-DO-NOT-USE.agekey").read_text().splitlines()
        staging = next(line for line in lines if line.startswith("AGE-SECRET-KEY"))
        (tmp_path / "staging.agekey").write_text(staging + "\n")
        env["SOPS_AGE_KEY_FILE"] = str(tmp_path / "staging.agekey")
    done = sopsgen("render", example / "envs" / "prod" / "sopsgen.yaml", env=env)
    assert done.returncode == 6
    assert done.stdout == b""
    line = _one_line(done.stderr)
    assert "cannot decrypt the data key" in line
    assert "AGE-SECRET-KEY" not in line
    assert_no_secret(done.stderr, _stores(example))


@pytest.mark.parametrize("where", ["value", "meta"])
def test_tampered_store_fails(example: Path, where: str) -> None:
    store = example / "envs" / "prod" / "secrets.sops.yaml"
    text = store.read_text()
    if where == "value":  # flip one character of one ciphertext
        match = re.search(r"db-password: ENC\[AES256_GCM,data:(.)", text)
        assert match
        i = match.start(1)
        text = text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1 :]
    else:  # metadata is clear text but covered by the MAC
        text = text.replace("recipe: password/32/alnum", "recipe: password/12/alnum", 1)
    store.write_text(text)
    done = sopsgen("render", example / "envs" / "prod" / "sopsgen.yaml")
    assert done.returncode == 5
    assert done.stdout == b""
    _one_line(done.stderr)
    assert_no_secret(done.stderr, _stores(example)[:1])


def test_render_never_writes(example: Path) -> None:
    before = {p: p.read_bytes() for p in example.rglob("*") if p.is_file()}
    done = sopsgen("render", "envs/prod/sopsgen.yaml", cwd=example)
    assert done.returncode == 0
    after = {p: p.read_bytes() for p in example.rglob("*") if p.is_file()}
    assert before == after


def test_secret_selection_and_unknown_name(example: Path) -> None:
    done = sopsgen("render", "--secret", "lightrun-keycloak", "envs/prod/sopsgen.yaml", cwd=example)
    assert done.returncode == 0
    assert done.stdout.count(b"kind: Secret") == 1
    done = sopsgen("render", "--secret", "nope", "envs/prod/sopsgen.yaml", cwd=example)
    assert done.returncode == 3
    assert done.stdout == b""
    assert "no secret named nope" in _one_line(done.stderr)


def test_each_store_is_decrypted_once(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sopsgen.generate import store as store_module
    from sopsgen.keys.discovery import discover_identities
    from sopsgen.render.pipeline import load_specs, render_bytes

    calls: list[Path] = []
    real = store_module.open_store

    def counting(path: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(store_module, "open_store", counting)
    spec = example / "envs" / "prod" / "sopsgen.yaml"
    specs = load_specs([spec, spec, spec])
    env = demo_env()
    with pytest.raises(Exception, match="also rendered"):
        render_bytes(specs, discover_identities(env))
    calls.clear()
    other = example / "envs" / "prod" / "copy.yaml"
    other.write_text(spec.read_text().replace("namespace: lightrun-prod", "namespace: x"))
    out = render_bytes(load_specs([spec, other]), discover_identities(env))
    assert out.count(b"kind: Secret") == 4
    assert len(calls) == 1


def test_render_path_imports_stay_small(example: Path) -> None:
    """No python-gnupg for an age-only store, no test or dev libraries, on `sopsgen render`."""
    import subprocess
    import sys

    from tests.helpers.example import demo_env

    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "sopsgen.cli.main",
            "render",
            "envs/prod/sopsgen.yaml",
        ],
        cwd=example,
        env=demo_env(),
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0
    modules = {line.split("|")[-1].strip() for line in done.stderr.decode().splitlines()}
    for heavy in ("gnupg", "hypothesis", "pytest", "sopsgen.integrations.helm", "sopsgen.cli.flux"):
        assert heavy not in modules, heavy
