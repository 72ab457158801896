"""The store commands end to end: real age keys, the real CLI, the real sops binary."""

from __future__ import annotations

import base64
import difflib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyrage
import pytest
import yaml
from click.testing import CliRunner

from sopsgen.cli.main import main
from sopsgen.fsio import atomic_write
from sopsgen.generate.keystore import generate_missing
from sopsgen.generate.spec import load_spec
from sopsgen.generate.store import Store, open_store
from sopsgen.keys.base import Identities, Recipient
from sopsgen.sops.datakey import EncryptionPlan
from tests.conftest import require_sops

SPEC = """\
apiVersion: sopsgen.io/v1alpha1
kind: SecretGenerator
metadata: {name: app}
store: secrets.sops.yaml
values:
  encryption-key: {generate: bytes, length: 32, encoding: base64, ring: true, rotateAfter: 90d}
  session-key: {generate: hex, length: 32, ring: true}
  db-password: {generate: password, length: 24}
  db-user: {provided: true}
  api-key: {provided: true, format: base64-32}
  admin-user: {constant: admin}
secrets:
  - name: app-secrets
    namespace: app
    data:
      DB_PASSWORD: db-password
      DATASOURCE_PASSWORD: db-password
      DB_USER: db-user
      API_KEY: api-key
      ADMIN: admin-user
      encryption-key-*: encryption-key
"""

API_KEY = base64.b64encode(bytes(range(32))).decode()
SHORT_KEY = base64.b64encode(bytes(range(31))).decode()


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Project:
    root: Path
    identity: str
    recipient: str

    @property
    def spec(self) -> Path:
        return self.root / "sopsgen.yaml"

    @property
    def store(self) -> Path:
        return self.root / "secrets.sops.yaml"

    @property
    def ids(self) -> Identities:
        return Identities(age=[self.identity])

    def values(self, store: Path | None = None) -> dict[str, str]:
        return open_store(store or self.store, self.ids).values()

    def rewrite(self, change: Any, store: Path | None = None) -> None:
        """Change a store through the store API (no validation), as a buggy tool might."""
        opened = open_store(store or self.store, self.ids)
        change(opened)
        atomic_write(opened.path, opened.encoded(now=_now(), plan=None, identities=self.ids))


def _now() -> datetime:
    return datetime.now(UTC)


def run(*args: str, stdin: bytes = b"") -> Result:
    """`sopsgen ARGS` in process, through `main` so errors become exit codes."""
    runner = CliRunner()
    with runner.isolation(input=stdin) as (out, err, _):
        code = main(list(args))
        sys.stdout.flush()
        sys.stderr.flush()
        return Result(code, out.getvalue().decode(), err.getvalue().decode())


def run_process(*args: str, stdin: bytes = b"", cwd: Path | None = None) -> Result:
    """`sopsgen ARGS` as its own process, as a user runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "sopsgen.cli.main", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        check=False,
        timeout=120,
    )
    return Result(done.returncode, done.stdout.decode(), done.stderr.decode())


def new_age_pair() -> tuple[str, str]:
    identity = pyrage.x25519.Identity.generate()
    return str(identity), str(identity.to_public())


def write_rules(folder: Path, recipient: str) -> None:
    (folder / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: \\.sops\\.yaml$\n    age: {recipient}\n"
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    identity, recipient = new_age_pair()
    monkeypatch.setenv("SOPS_AGE_KEY", identity)
    monkeypatch.chdir(tmp_path)
    write_rules(tmp_path, recipient)
    (tmp_path / "sopsgen.yaml").write_text(SPEC)
    return Project(tmp_path, identity, recipient)


@pytest.fixture
def complete(project: Project) -> Project:
    """A store with every value present and valid."""
    assert run("generate").code == 0
    assert run("set", "db-user", stdin=b"app\n").code == 0
    assert run("set", "api-key", stdin=API_KEY.encode()).code == 0
    assert run("check").code == 0
    return project


def assert_no_secret(project: Project, *texts: str) -> None:
    for name, value in project.values().items():
        if name != "db-user":  # a short, non-secret user name could appear by chance
            for text in texts:
                assert value not in text, f"the value of {name} was printed"
    for text in texts:
        assert "Traceback" not in text


# ---------------------------------------------------------------------------- generate


def test_generate_twice_writes_nothing_the_second_time(project: Project) -> None:
    first = run("generate")
    assert first.code == 0
    assert "created encryption-key-0 (bytes/32/base64)" in first.out
    assert "still missing db-user" in first.out
    before = (project.store.read_bytes(), project.store.stat().st_mtime_ns)
    time.sleep(0.02)
    second = run("generate")
    assert second.code == 0
    assert second.out.startswith("nothing to generate:")
    assert "left untouched" in second.out
    assert (project.store.read_bytes(), project.store.stat().st_mtime_ns) == before
    assert_no_secret(project, first.out, first.err, second.out)


def test_generate_keeps_the_store_file_mode(project: Project) -> None:
    run("generate")
    project.store.chmod(0o600)
    assert run("set", "db-user", stdin=b"app").code == 0
    assert project.store.stat().st_mode & 0o777 == 0o600


# ---------------------------------------------------------------------------- rotate / retire


def _diff(before: str, after: str) -> tuple[list[str], list[str]]:
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), n=0))[2:]
    removed = [line[1:] for line in lines if line.startswith("-")]
    added = [line[1:] for line in lines if line.startswith("+")]
    return removed, added


def _is_sops_stamp(line: str) -> bool:
    return line.strip().startswith(("lastmodified:", "mac:"))


def test_rotate_keeps_every_old_ciphertext(complete: Project) -> None:
    assert run("rotate", "encryption-key").code == 0
    before_text = complete.store.read_text()
    before_values = complete.values()
    result = run("rotate", "encryption-key")
    assert result.out.strip() == "created encryption-key-2 (ring encryption-key now has 3 members)"
    after_text = complete.store.read_text()
    old, new = yaml.safe_load(before_text), yaml.safe_load(after_text)
    for name, ciphertext in old["values"].items():
        assert new["values"][name] == ciphertext, f"{name} was re-encrypted"
    assert set(new["values"]) - set(old["values"]) == {"encryption-key-2"}
    assert {k: v for k, v in new["meta"].items() if k != "encryption-key-2"} == old["meta"]
    assert new["meta"]["encryption-key-2"]["index"] == 2
    removed, added = _diff(before_text, after_text)
    assert all(_is_sops_stamp(line) for line in removed), removed
    new_member = [line for line in added if not _is_sops_stamp(line)]
    assert new_member[0].startswith("    encryption-key-2: ENC[AES256_GCM,")
    assert new_member[1] == "    encryption-key-2:"
    assert [line.split(":")[0].strip() for line in new_member[2:]] == [
        "created",
        "recipe",
        "ring",
        "index",
    ]
    values = complete.values()
    assert {k: values[k] for k in before_values} == before_values


def test_rotate_due_rotates_only_rings_past_rotate_after(project: Project) -> None:
    spec = load_spec(project.spec)
    store = Store(project.store)
    long_ago = _now() - timedelta(days=200)
    generate_missing(spec, store, now=long_ago)
    plan = EncryptionPlan([[Recipient("age", project.recipient)]])
    project.store.write_bytes(store.encoded(now=long_ago, plan=plan, identities=project.ids))
    result = run("rotate", "--due")
    assert result.code == 0
    assert result.out.strip() == "created encryption-key-1 (ring encryption-key now has 2 members)"
    names = set(project.values())
    assert "encryption-key-1" in names
    assert "session-key-1" not in names  # no rotateAfter: never due
    again = run("rotate", "--due")
    assert (again.code, again.out.strip()) == (0, "no ring is due for rotation")


def test_rotate_due_with_an_injected_clock(
    complete: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sopsgen.cli.rotate.now", lambda: _now() + timedelta(days=89))
    assert run("rotate", "--due").out.strip() == "no ring is due for rotation"
    monkeypatch.setattr("sopsgen.cli.rotate.now", lambda: _now() + timedelta(days=91))
    assert "created encryption-key-1" in run("rotate", "--due").out


def test_rotate_needs_a_ring_or_due(complete: Project) -> None:
    assert run("rotate").code == 3
    assert run("rotate", "encryption-key", "--due").code == 3
    assert run("rotate", "db-password").code == 3


def test_retire_refusals(complete: Project) -> None:
    before = complete.store.read_bytes()
    newest = run("retire", "encryption-key", "0")
    assert newest.code == 10
    assert "refusing to retire encryption-key-0: it is the newest member" in newest.err
    missing = run("retire", "encryption-key", "7")
    assert missing.code == 10
    assert "encryption-key has no member 7 (members: 0)" in missing.err
    not_ring = run("retire", "db-password", "0")
    assert not_ring.code == 3
    assert "db-password is not a ring" in not_ring.err
    assert complete.store.read_bytes() == before
    assert_no_secret(complete, newest.err, missing.err, not_ring.err)


def _ciphertexts(path: Path) -> dict[str, str]:
    values: dict[str, str] = yaml.safe_load(path.read_text())["values"]
    return values


def test_retire_and_set_touch_only_their_own_value(complete: Project) -> None:
    run("rotate", "encryption-key")
    before = _ciphertexts(complete.store)
    assert run("retire", "encryption-key", "0").code == 0
    after = _ciphertexts(complete.store)
    assert after == {k: v for k, v in before.items() if k != "encryption-key-0"}
    assert run("set", "db-user", stdin=b"renamed").code == 0
    changed = _ciphertexts(complete.store)
    assert {k for k in after if changed[k] != after[k]} == {"db-user"}


def test_retire_says_what_it_removed(complete: Project) -> None:
    run("rotate", "encryption-key")
    run("rotate", "encryption-key")
    kept = complete.values()
    result = run("retire", "encryption-key", "1")
    assert result.code == 0
    assert result.out.strip() == "removed encryption-key-1 (encryption-key keeps 2 members)"
    after = complete.values()
    assert "encryption-key-1" not in after
    assert after["encryption-key-0"] == kept["encryption-key-0"]
    assert after["encryption-key-2"] == kept["encryption-key-2"]


# ---------------------------------------------------------------------------- check


def _one_problem(result: Result, store: Path, value: str) -> str:
    assert result.code == 9, result
    lines = result.out.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{store}: {value}: "), lines[0]
    assert "Traceback" not in result.err
    return lines[0]


def test_check_clean_store(complete: Project) -> None:
    result = run("check")
    assert (result.code, result.out.strip()) == (0, f"ok: {complete.store}")


def test_check_missing_generated_value(complete: Project) -> None:
    complete.rewrite(lambda s: s.entries.pop("db-password"))
    line = _one_problem(run("check"), complete.store, "db-password")
    assert "missing (create it with `sopsgen generate`)" in line


def test_check_missing_provided_value(complete: Project) -> None:
    complete.rewrite(lambda s: s.entries.pop("db-user"))
    line = _one_problem(run("check"), complete.store, "db-user")
    assert "missing (create it with `sopsgen set db-user`)" in line


@pytest.mark.parametrize("name", ["api-key", "encryption-key-0"])
def test_check_key_of_31_bytes(complete: Project, name: str) -> None:
    def shorten(store: Store) -> None:
        store.entries[name].value = SHORT_KEY

    complete.rewrite(shorten)
    result = run("check")
    line = _one_problem(result, complete.store, name)
    assert "decodes to 31 bytes, expected 32" in line
    assert SHORT_KEY not in result.out + result.err


def test_check_ring_past_rotate_after(complete: Project) -> None:
    def age(store: Store) -> None:
        store.entries["encryption-key-0"].created = "2020-01-01T00:00:00Z"

    complete.rewrite(age)
    line = _one_problem(run("check"), complete.store, "encryption-key")
    assert "past rotateAfter 90d; run `sopsgen rotate encryption-key`" in line
    assert run("rotate", "--due").code == 0
    assert run("check").code == 0


def test_check_ring_without_a_created_time(complete: Project) -> None:
    def forget(store: Store) -> None:
        store.entries["encryption-key-0"].created = ""

    complete.rewrite(forget)
    line = _one_problem(run("check"), complete.store, "encryption-key")
    assert "no valid `created` time in meta" in line


def test_check_reports_a_store_given_twice_once(complete: Project) -> None:
    complete.rewrite(lambda s: s.entries.pop("db-user"))
    _one_problem(run("check", "sopsgen.yaml", "./sopsgen.yaml"), complete.store, "db-user")


def test_check_tampered_store(complete: Project) -> None:
    text = complete.store.read_text()
    complete.store.write_text(text.replace("recipe: password/24/alnum", "recipe: password/8/alnum"))
    result = run("check")
    line = _one_problem(result, complete.store, "(store)")
    assert "MAC" in line
    assert "Traceback" not in result.err


def test_check_shared_value_between_two_stores(complete: Project) -> None:
    other = complete.root / "prod"
    other.mkdir()
    (other / "sopsgen.yaml").write_text(SPEC)
    shutil.copy(complete.root / ".sops.yaml", other / ".sops.yaml")
    assert run("generate", str(other / "sopsgen.yaml")).code == 0
    run("set", "db-user", str(other / "sopsgen.yaml"), stdin=b"app")
    run("set", "api-key", str(other / "sopsgen.yaml"), stdin=base64.b64encode(b"k" * 32))
    assert run("check", "sopsgen.yaml", str(other / "sopsgen.yaml")).code == 0
    shared = complete.values()["db-password"]
    complete.rewrite(
        lambda s: setattr(s.entries["db-password"], "value", shared), other / "secrets.sops.yaml"
    )
    result = run("check", "sopsgen.yaml", str(other / "sopsgen.yaml"))
    line = _one_problem(result, other / "secrets.sops.yaml", "db-password")
    assert str(complete.store) in line
    assert "must not share secrets" in line
    assert shared not in result.out + result.err
    as_json = run("check", "--json", "sopsgen.yaml", str(other / "sopsgen.yaml"))
    assert shared not in as_json.out


def test_check_json_shape(complete: Project) -> None:
    clean = json.loads(run("check", "--json").out)
    assert clean == {"ok": True, "problems": [], "stores": [str(complete.store)]}
    complete.rewrite(lambda s: s.entries.pop("db-user"))
    result = run("check", "--json")
    assert result.code == 9
    body = json.loads(result.out)
    assert body["ok"] is False
    assert body["problems"] == [
        {
            "store": str(complete.store),
            "value": "db-user",
            "problem": "missing (create it with `sopsgen set db-user`)",
        }
    ]


def test_check_of_a_store_not_yet_generated(project: Project) -> None:
    result = run("check")
    assert result.code == 9
    assert len(result.out.strip().splitlines()) == 5


# ---------------------------------------------------------------------------- set


def test_set_from_stdin_and_from_file(project: Project) -> None:
    assert run("set", "db-user", stdin=b"app\n").out.strip() == "created db-user (provided)"
    (project.root / "key.txt").write_text(API_KEY + "\n")
    assert run("set", "api-key", "--from-file", "key.txt").code == 0
    assert project.values() == {"db-user": "app", "api-key": API_KEY}
    again = run("set", "db-user", stdin=b"app")
    assert again.out.strip() == "unchanged db-user"
    replaced = run("set", "db-user", stdin=b"other")
    assert replaced.out.strip() == "replaced db-user (provided)"


def test_set_never_takes_the_value_from_argv(project: Project) -> None:
    result = run("set", "db-user", "s3cr3t-from-argv")
    assert result.code == 3
    assert "never takes a value on the command line" in result.err
    assert "s3cr3t-from-argv" not in result.out + result.err
    assert not project.store.exists()


def test_set_checks_the_recipe(project: Project) -> None:
    result = run("set", "api-key", stdin=SHORT_KEY.encode())
    assert result.code == 4
    assert "the value given for api-key decodes to 31 bytes, expected 32" in result.err
    assert SHORT_KEY not in result.out + result.err
    assert not project.store.exists()


def test_set_refuses_a_generated_value(complete: Project) -> None:
    before = complete.store.read_bytes()
    result = run("set", "db-password", stdin=b"x" * 24)
    assert result.code == 3
    assert "db-password is a password value, not a provided one" in result.err
    assert complete.store.read_bytes() == before


def test_set_missing_file_is_a_clear_error(project: Project) -> None:
    result = run("set", "db-user", "--from-file", "nope.txt")
    assert result.code == 11
    assert "nope.txt does not exist" in result.err


# ---------------------------------------------------------------------------- adopt


def _kubectl_secret(data: dict[str, str], string_data: dict[str, str] | None = None) -> str:
    """A Secret as `kubectl get secret app-secrets -o yaml` prints it, noise included."""
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in sorted(data.items())}
    manifest: dict[str, Any] = {
        "apiVersion": "v1",
        "data": encoded,
        "kind": "Secret",
        "metadata": {
            "annotations": {
                "meta.helm.sh/release-name": "app",
                "meta.helm.sh/release-namespace": "app",
            },
            "creationTimestamp": "2025-03-01T10:00:00Z",
            "labels": {"app.kubernetes.io/managed-by": "Helm"},
            "managedFields": [
                {
                    "apiVersion": "v1",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:data": {".": {}, **{f"f:{k}": {} for k in encoded}}},
                    "manager": "helm",
                    "operation": "Update",
                    "time": "2025-03-01T10:00:00Z",
                }
            ],
            "name": "app-secrets",
            "namespace": "app",
            "resourceVersion": "123456",
            "uid": "0d1b7c55-7f4e-4bb5-9a7d-3c2d0f6a1e11",
        },
        "type": "Opaque",
    }
    if string_data:
        manifest["stringData"] = string_data
    return yaml.safe_dump(manifest)


def _cluster_keys() -> dict[str, str]:
    return {f"encryption-key-{i}": base64.b64encode(bytes([i]) * 32).decode() for i in range(3)}


def test_adopt_a_real_looking_secret(project: Project) -> None:
    data = {"DB_PASSWORD": "p" * 24, "DATASOURCE_PASSWORD": "p" * 24, "ADMIN": "admin"}
    data |= _cluster_keys()
    (project.root / "secret.yaml").write_text(
        _kubectl_secret(data, {"DB_USER": "app", "API_KEY": API_KEY})
    )
    result = run("adopt", "--from", "secret.yaml")
    assert result.code == 0, result
    assert "created encryption-key-2 (adopted from Secret app-secrets key encryption-key-2)" in (
        result.out
    )
    values = project.values()
    assert values == {
        "db-password": "p" * 24,
        "db-user": "app",
        "api-key": API_KEY,
        **_cluster_keys(),
    }
    assert_no_secret(project, result.out, result.err)
    meta = yaml.safe_load(project.store.read_text())["meta"]
    assert meta["encryption-key-1"]["index"] == 1
    assert meta["encryption-key-1"]["origin"] == "adopted"
    # generate fills in what the cluster did not have, and only that
    generated = run("generate")
    assert "created session-key-0" in generated.out
    assert "encryption-key" not in generated.out
    assert run("check").code == 0
    rotated = run("rotate", "encryption-key")
    assert "created encryption-key-3" in rotated.out


def test_adopt_the_same_values_again_is_unchanged(project: Project) -> None:
    (project.root / "secret.yaml").write_text(_kubectl_secret({"DB_USER": "app"}))
    run("adopt", "--from", "secret.yaml")
    before = project.store.read_bytes()
    result = run("adopt", "--from", "secret.yaml")
    assert (result.code, result.out.strip()) == (0, "unchanged db-user")
    assert project.store.read_bytes() == before


def test_adopt_refuses_to_overwrite_a_different_value(complete: Project) -> None:
    before = complete.store.read_bytes()
    (complete.root / "secret.yaml").write_text(
        _kubectl_secret({"DB_USER": "someone-else", **_cluster_keys()})
    )
    result = run("adopt", "--from", "secret.yaml")
    assert result.code == 10
    assert "refusing to overwrite" in result.err
    assert complete.store.read_bytes() == before
    assert_no_secret(complete, result.out, result.err)
    assert "someone-else" not in result.err


def test_adopt_two_keys_of_one_value_must_agree(project: Project) -> None:
    (project.root / "secret.yaml").write_text(
        _kubectl_secret({"DB_PASSWORD": "a" * 24, "DATASOURCE_PASSWORD": "b" * 24})
    )
    result = run("adopt", "--from", "secret.yaml")
    assert result.code == 10
    assert "both map to db-password but hold different values" in result.err
    assert "a" * 24 not in result.err
    assert not project.store.exists()


def test_adopt_from_stdin_and_bad_input(project: Project) -> None:
    manifest = _kubectl_secret({"DB_USER": "app"}).encode()
    assert run("adopt", "--from", "-", stdin=manifest).code == 0
    assert run("adopt", "--from", "missing.yaml").code == 11
    assert run("adopt", "--from", "-", stdin=b"a: [").code == 4


# ---------------------------------------------------------------------------- init / preset


LIGHTRUN_PROVIDED = {
    "db-user": b"lightrun",
    "mail-password": b"mail-pw",
    "license-content": b"LICENSE-CONTENT",
    "license-signature": b"LICENSE-SIGNATURE",
    "rabbitmq-user": b"rabbit",
}


def test_init_lightrun_then_generate_set_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity, recipient = new_age_pair()
    monkeypatch.setenv("SOPS_AGE_KEY", identity)
    monkeypatch.chdir(tmp_path)
    assert run("init", "--preset", "lightrun", "--age", recipient).code == 0
    generated = run("generate")
    assert generated.code == 0
    assert generated.out.count("created ") == 5
    assert generated.out.count("still missing ") == 5
    assert run("check").code == 9
    for name, value in LIGHTRUN_PROVIDED.items():
        assert run("set", name, stdin=value).code == 0
    assert run("check").code == 0
    values = open_store(tmp_path / "secrets.sops.yaml", Identities(age=[identity])).values()
    assert len(base64.b64decode(values["encryption-key-0"])) == 32


def test_init_refuses_to_overwrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, recipient = new_age_pair()
    monkeypatch.chdir(tmp_path)
    assert run("init", "--age", recipient).code == 0
    spec, rules = (tmp_path / "sopsgen.yaml").read_bytes(), (tmp_path / ".sops.yaml").read_bytes()
    again = run("init", "--preset", "lightrun", "--age", recipient)
    assert again.code == 10
    assert "sopsgen.yaml already exists; refusing to overwrite it" in again.err
    (tmp_path / "sopsgen.yaml").unlink()
    rules_again = run("init", "--age", recipient)
    assert rules_again.code == 10
    assert ".sops.yaml already exists; refusing to overwrite it" in rules_again.err
    assert not (tmp_path / "sopsgen.yaml").exists()
    assert (tmp_path / ".sops.yaml").read_bytes() == rules
    kept = run("init")
    assert kept.code == 0
    assert "kept the existing .sops.yaml" in kept.out
    assert (tmp_path / "sopsgen.yaml").read_bytes() == spec


def test_init_without_any_recipient(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("init")
    assert result.code == 3
    assert "no recipient" in result.err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- safety

_SLOW_WRITER = """
import os, sys, time
from pathlib import Path
import sopsgen.fsio as fsio

store, marker, size = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
real_fsync = os.fsync

def stalled_fsync(fd):
    marker.write_text("writing")
    time.sleep(120)  # killed here: data written to the temp file, not yet renamed
    real_fsync(fd)

fsio.os.fsync = stalled_fsync
fsio.atomic_write(store, b"values: {half: written}\\n" + b"#" * size)
"""


def _wait_for(marker: Path, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        assert time.monotonic() < deadline, "the writer never started writing"
        time.sleep(0.02)


def test_kill_during_write_leaves_the_old_store(complete: Project) -> None:
    old_bytes, old_values = complete.store.read_bytes(), complete.values()
    marker = complete.root / "marker"
    child = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, str(complete.store), str(marker), str(50_000_000)],
        stderr=subprocess.PIPE,
    )
    _wait_for(marker, child)
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL
    assert complete.store.read_bytes() == old_bytes
    assert complete.values() == old_values
    temps = list(complete.root.glob(".secrets.sops.yaml.*.tmp"))
    assert all(t.stat().st_size > 0 for t in temps)  # a leftover temp file at most
    assert run("check").code == 0


_SLOW_SET = """
import os, sys, time
from pathlib import Path
import sopsgen.fsio as fsio
from sopsgen.cli.main import main

marker = Path(sys.argv[1])

def stalled_fsync(fd):
    marker.write_text("writing")
    time.sleep(120)

fsio.os.fsync = stalled_fsync
sys.exit(main(["set", "db-user"]))
"""


def test_kill_during_set_keeps_the_store_and_releases_the_lock(complete: Project) -> None:
    old_bytes = complete.store.read_bytes()
    marker = complete.root / "marker"
    child = subprocess.Popen(
        [sys.executable, "-c", _SLOW_SET, str(marker)],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdin is not None
    child.stdin.write(b"new-user")
    child.stdin.close()
    _wait_for(marker, child)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert complete.store.read_bytes() == old_bytes
    assert complete.values()["db-user"] == "app"
    after = run_process("set", "db-user", stdin=b"next-user")
    assert after.code == 0, after
    assert complete.values()["db-user"] == "next-user"


_ROTATOR = """
import sys
from sopsgen.cli.main import main

ring, times = sys.argv[1], int(sys.argv[2])
for _ in range(times):
    code = main(["rotate", ring])
    if code:
        sys.exit(code)
"""


def test_two_writers_at_once_lose_no_update(complete: Project) -> None:
    times = 8
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _ROTATOR, ring, str(times)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for ring in ("encryption-key", "session-key")
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err.decode()
    names = set(complete.values())
    for ring in ("encryption-key", "session-key"):
        assert {f"{ring}-{i}" for i in range(times + 1)} <= names
    assert run("check").code == 0


def test_sops_decrypt_shows_values_and_meta(complete: Project) -> None:
    sops = require_sops()
    env = {**os.environ, "SOPS_AGE_KEY": complete.identity}
    done = subprocess.run(
        [sops, "decrypt", str(complete.store)], env=env, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    view = yaml.safe_load(done.stdout)
    assert view["values"] == complete.values()
    assert view["values"]["db-user"] == "app"
    assert view["meta"]["encryption-key-0"] == {
        "created": view["meta"]["encryption-key-0"]["created"],
        "recipe": "bytes/32/base64",
        "ring": "encryption-key",
        "index": 0,
    }
    assert datetime.fromisoformat(view["meta"]["db-password"]["created"]).tzinfo is not None
    assert view["meta"]["db-user"]["origin"] == "set"
    assert "sops" not in view


def test_hand_edited_meta_is_refused_by_sopsgen_and_sops(complete: Project) -> None:
    sops = require_sops()
    text = complete.store.read_text()
    created = yaml.safe_load(text)["meta"]["encryption-key-0"]["created"]
    forged = text.replace(f'created: "{created}"', 'created: "2099-01-01T00:00:00Z"', 1)
    assert forged != text
    complete.store.write_text(forged)
    for args in (("generate",), ("rotate", "encryption-key"), ("set", "db-user")):
        result = run_process(*args, stdin=b"x", cwd=complete.root)
        assert result.code == 5, result
        assert "MAC" in result.err
        assert "Traceback" not in result.err
    assert complete.store.read_text() == forged
    env = {**os.environ, "SOPS_AGE_KEY": complete.identity}
    done = subprocess.run(
        [sops, "decrypt", str(complete.store)], env=env, capture_output=True, check=False
    )
    assert done.returncode != 0
    assert b"MAC" in done.stderr


def test_errors_show_no_traceback_and_no_value(complete: Project) -> None:
    (complete.root / "secret.yaml").write_text(_kubectl_secret({"DB_USER": "intruder"}))
    (complete.root / "bad.txt").write_text(SHORT_KEY)
    commands: list[tuple[tuple[str, ...], bytes]] = [
        (("retire", "encryption-key", "0"), b""),
        (("adopt", "--from", "secret.yaml"), b""),
        (("set", "api-key", "--from-file", "bad.txt"), b""),
        (("set", "db-password"), b"x"),
        (("set", "no-such-value"), b"x"),
        (("rotate", "--due", "--spec", "missing.yaml"), b""),
        (("check", "sopsgen.yaml", "missing.yaml"), b""),
    ]
    for args, stdin in commands:
        result = run_process(*args, stdin=stdin, cwd=complete.root)
        assert result.code not in (0, 1), (args, result)
        assert result.err.startswith("sopsgen: error: "), (args, result.err)
        assert len(result.err.strip().splitlines()) == 1, result.err
        assert_no_secret(complete, result.out, result.err)
        assert SHORT_KEY not in result.err


def test_every_store_command_takes_spec_as_an_option(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    spec = str(project.spec)
    assert run("generate", "--spec", spec).code == 0
    assert run("set", "db-user", "--spec", spec, stdin=b"app\n").code == 0
    assert run("set", "api-key", "--spec", spec, stdin=API_KEY.encode()).code == 0
    assert run("rotate", "encryption-key", "--spec", spec).code == 0
    assert run("check", spec).code == 0
    assert project.values()["db-user"] == "app"
    both = run("generate", spec, "--spec", str(elsewhere / "other.yaml"))
    assert both.code == 3
    assert "either as SPEC or as --spec" in both.err
