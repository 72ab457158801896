"""The engine commands through the real `sopsgen` console script: decrypt, encrypt, edit,
updatekeys, and their errors (one line, right exit code, never a secret, never a traceback)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pyrage
import pytest

from tests.helpers.sops import AgePair, SopsRunner
from tests.keys.conftest import GpgKey

SECRET = "hunter2-s3cr3t"
PLAIN_YAML = f"""\
# settings
db:
    user: admin
    password: {SECRET}
    port: 5432
api_token: tok-{SECRET}
""".encode()


def sopsgen_exe() -> list[str]:
    exe = shutil.which("sopsgen", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "sopsgen.cli.main"]


@pytest.fixture(scope="module")
def ages() -> list[AgePair]:
    out = []
    for _ in range(2):
        identity = pyrage.x25519.Identity.generate()
        out.append(AgePair(str(identity), str(identity.to_public())))
    return out


def run(
    *args: str,
    cwd: Path,
    age: list[AgePair] = (),  # type: ignore[assignment]
    gnupg: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env["SOPS_AGE_KEY"] = "\n".join(a.identity for a in age)
    if gnupg is not None:
        env["GNUPGHOME"] = str(gnupg)
    env.update(extra_env or {})
    return subprocess.run(
        [*sopsgen_exe(), *args], cwd=cwd, env=env, capture_output=True, check=False
    )


def ok(*args: str, **kwargs: object) -> bytes:
    done = run(*args, **kwargs)  # type: ignore[arg-type]
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def assert_clean_error(done: subprocess.CompletedProcess[bytes], code: int) -> str:
    err = done.stderr.decode()
    assert done.returncode == code, err
    assert "Traceback" not in err
    assert SECRET not in err
    assert SECRET not in done.stdout.decode()
    assert len(err.strip().splitlines()) == 1, err
    return err


@pytest.fixture
def sops(tmp_path: Path) -> SopsRunner:
    return SopsRunner.create(tmp_path)


@pytest.fixture
def store(tmp_path: Path, sops: SopsRunner, ages: list[AgePair]) -> Path:
    """A YAML store encrypted by the real sops for ages[0]."""
    plain = tmp_path / "plain.yaml"
    plain.write_bytes(PLAIN_YAML)
    path = tmp_path / "store.yaml"
    path.write_bytes(sops.ok("encrypt", "--age", ages[0].recipient, str(plain)))
    plain.unlink()
    return path


# --- decrypt ---------------------------------------------------------------------------


@pytest.mark.interop
def test_decrypt_prints_what_sops_prints(
    store: Path, sops: SopsRunner, ages: list[AgePair], tmp_path: Path
) -> None:
    theirs = sops.ok("decrypt", str(store), age=[ages[0].identity])
    assert ok("decrypt", str(store), cwd=tmp_path, age=[ages[0]]) == theirs == PLAIN_YAML
    as_json = ok("decrypt", "--output-type", "json", str(store), cwd=tmp_path, age=[ages[0]])
    theirs_json = sops.ok("decrypt", "--output-type", "json", str(store), age=[ages[0].identity])
    assert as_json == theirs_json
    assert json.loads(as_json)["db"]["password"] == SECRET


# --- encrypt ---------------------------------------------------------------------------


@pytest.mark.interop
def test_encrypt_with_age_and_pgp_flags(
    tmp_path: Path, sops: SopsRunner, ages: list[AgePair], gpg_key: GpgKey
) -> None:
    plain = tmp_path / "p.yaml"
    plain.write_bytes(PLAIN_YAML)
    out = ok("encrypt", "--age", ages[0].recipient, str(plain), cwd=tmp_path)
    assert SECRET.encode() not in out
    (tmp_path / "a.yaml").write_bytes(out)
    assert sops.ok("decrypt", str(tmp_path / "a.yaml"), age=[ages[0].identity]) == PLAIN_YAML
    out = ok("encrypt", "--pgp", gpg_key.fp, str(plain), cwd=tmp_path, gnupg=gpg_key.home)
    (tmp_path / "g.yaml").write_bytes(out)
    assert sops.ok("decrypt", str(tmp_path / "g.yaml"), gnupg_home=gpg_key.home) == PLAIN_YAML


@pytest.mark.interop
def test_encrypt_from_rules_found_from_cwd_in_place(
    tmp_path: Path, sops: SopsRunner, ages: list[AgePair]
) -> None:
    (tmp_path / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: {ages[1].recipient}\n"
        "    encrypted_regex: ^password$\n"
    )
    folder = tmp_path / "secrets"
    folder.mkdir()
    target = folder / "app.yaml"
    target.write_bytes(PLAIN_YAML)
    target.chmod(0o640)
    ok("encrypt", "--in-place", "secrets/app.yaml", cwd=tmp_path)
    data = target.read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in folder.iterdir()) == ["app.yaml"]  # no temp file left
    assert b"user: admin" in data
    assert b"password: ENC[" in data
    assert b"encrypted_regex: ^password$" in data
    assert sops.ok("decrypt", str(target), age=[ages[1].identity]) == PLAIN_YAML


@pytest.mark.interop
def test_encrypt_selection_flags(tmp_path: Path, sops: SopsRunner, ages: list[AgePair]) -> None:
    plain = tmp_path / "p.yaml"
    plain.write_bytes(PLAIN_YAML)
    for flags, clear in [
        (["--encrypted-regex", "^password$"], [b"user: admin", b"port: 5432"]),
        (["--unencrypted-suffix", "_token"], [b"api_token: tok-"]),
        (["--encrypted-comment-regex", "nomatch", "--mac-only-encrypted"], [b"user: admin"]),
    ]:
        out = ok("encrypt", "--age", ages[0].recipient, *flags, str(plain), cwd=tmp_path)
        for line in clear:
            assert line in out
        (tmp_path / "s.yaml").write_bytes(out)
        assert sops.ok("decrypt", str(tmp_path / "s.yaml"), age=[ages[0].identity]) == PLAIN_YAML


# --- edit ------------------------------------------------------------------------------

EDITOR = """\
import json, os, stat, sys
path = sys.argv[1]
info = os.stat(path)
with open(os.environ["EDIT_LOG"], "w") as log:
    json.dump({"path": path, "mode": stat.S_IMODE(info.st_mode),
               "dir_mode": stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)}, log)
old, new = os.environ.get("EDIT_FROM"), os.environ.get("EDIT_TO")
if old is not None:
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace(old, new))
"""


def edit_env(tmp_path: Path, change: tuple[str, str] | None) -> dict[str, str]:
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    env = {"EDITOR": f"{sys.executable} {script}", "EDIT_LOG": str(tmp_path / "edit.json")}
    if change:
        env.update(EDIT_FROM=change[0], EDIT_TO=change[1])
    return env


def test_edit_changes_one_value_with_zero_churn(
    store: Path, tmp_path: Path, ages: list[AgePair]
) -> None:
    before = store.read_bytes()
    env = edit_env(tmp_path, ("port: 5432", "port: 6543"))
    ok("edit", str(store), cwd=tmp_path, age=[ages[0]], extra_env=env)
    log = json.loads((tmp_path / "edit.json").read_text())
    assert log["mode"] == 0o600
    assert log["dir_mode"] == 0o700
    assert log["path"].startswith(("/dev/shm/", os.environ.get("XDG_RUNTIME_DIR") or "/dev/shm/"))
    assert not Path(log["path"]).exists()
    assert not Path(log["path"]).parent.exists()
    old, new = before.decode().splitlines(), store.read_bytes().decode().splitlines()
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    assert len(old) == len(new)
    names = [a.split(":")[0].strip() for a, _ in changed]
    # lastmodified changes too, unless the edit ran within the second the file was made
    assert names in (["port", "lastmodified", "mac"], ["port", "mac"])
    shown = ok("decrypt", str(store), cwd=tmp_path, age=[ages[0]])
    assert b"port: 6543" in shown
    assert SECRET.encode() in shown


def test_edit_without_change_leaves_the_file_untouched(
    store: Path, tmp_path: Path, ages: list[AgePair]
) -> None:
    before, mtime = store.read_bytes(), store.stat().st_mtime_ns
    done = run("edit", str(store), cwd=tmp_path, age=[ages[0]], extra_env=edit_env(tmp_path, None))
    assert done.returncode == 0, done.stderr.decode()
    assert store.read_bytes() == before
    assert store.stat().st_mtime_ns == mtime


# --- updatekeys ------------------------------------------------------------------------


def _rules(tmp_path: Path, *recipients: str) -> None:
    (tmp_path / ".sops.yaml").write_text("creation_rules:\n  - age: " + ",".join(recipients) + "\n")


def _meta_lines(data: bytes) -> dict[str, str]:
    return {
        line.split(":")[0].strip(): line
        for line in data.decode().splitlines()
        if line.strip().startswith(("lastmodified:", "mac:"))
    }


@pytest.mark.interop
def test_updatekeys_adds_a_recipient_without_touching_values(
    store: Path, tmp_path: Path, ages: list[AgePair], sops: SopsRunner
) -> None:
    _rules(tmp_path, ages[0].recipient, ages[1].recipient)
    before = store.read_bytes()
    plan = ok("updatekeys", "--dry-run", str(store), cwd=tmp_path, age=[ages[0]]).decode()
    assert str(store) in plan
    assert f"+ age:{ages[1].recipient}" in plan
    assert store.read_bytes() == before
    ok("updatekeys", str(store), cwd=tmp_path, age=[ages[0]])
    after = store.read_bytes()
    assert after.count(b"recipient: age1") == 2
    value_lines = [line for line in before.splitlines() if b"ENC[" in line]
    assert all(line in after.splitlines() for line in value_lines)
    assert _meta_lines(after) == _meta_lines(before)
    shown = ok("decrypt", str(store), cwd=tmp_path, age=[ages[1]])
    assert shown == sops.ok("decrypt", str(store), age=[ages[1].identity]) == PLAIN_YAML
    # and removing it again
    _rules(tmp_path, ages[1].recipient)
    out = ok("updatekeys", str(tmp_path), cwd=tmp_path, age=[ages[1]]).decode()
    assert f"- age:{ages[0].recipient}" in out
    failed = run("decrypt", str(store), cwd=tmp_path, age=[ages[0]])
    assert_clean_error(failed, 6)


@pytest.mark.interop
def test_updatekeys_folder_and_rotate_data_key(
    store: Path, tmp_path: Path, ages: list[AgePair], sops: SopsRunner
) -> None:
    _rules(tmp_path, ages[0].recipient)
    sub = tmp_path / "more"
    sub.mkdir()
    second = sub / "two.yaml"
    second.write_bytes(store.read_bytes())
    (sub / "notes.txt").write_text("not a sops file")
    before = {p: p.read_bytes() for p in (store, second)}
    out = ok("updatekeys", str(tmp_path), cwd=tmp_path, age=[ages[0]]).decode()
    assert out.count("recipients already match") == 2
    assert all(p.read_bytes() == data for p, data in before.items())
    ok("updatekeys", "--rotate-data-key", str(tmp_path), cwd=tmp_path, age=[ages[0]])
    for path, old in before.items():
        new = path.read_bytes()
        old_enc = {line for line in old.splitlines() if b"ENC[" in line}
        assert not old_enc & set(new.splitlines())  # every value re-encrypted
        assert sops.ok("decrypt", str(path), age=[ages[0].identity]) == PLAIN_YAML


# --- errors ----------------------------------------------------------------------------


def test_wrong_key_is_exit_6_listing_places_and_recipients(
    store: Path, tmp_path: Path, ages: list[AgePair]
) -> None:
    err = assert_clean_error(run("decrypt", str(store), cwd=tmp_path, age=[ages[1]]), 6)
    assert ages[0].recipient in err
    assert "SOPS_AGE_KEY" in err
    assert "keys.txt" in err


def test_tampered_is_exit_5(store: Path, tmp_path: Path, ages: list[AgePair]) -> None:
    data = store.read_bytes().replace(b"# settings", b"# settings")
    lines = data.decode().splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("port:"))
    head, _, rest = lines[index].partition("data:")
    lines[index] = head + "data:" + ("A" if rest[0] != "A" else "B") + rest[1:]
    store.write_text("\n".join(lines) + "\n")
    assert_clean_error(run("decrypt", str(store), cwd=tmp_path, age=[ages[0]]), 5)


def test_not_encrypted_is_exit_4(tmp_path: Path, ages: list[AgePair]) -> None:
    plain = tmp_path / "p.yaml"
    plain.write_bytes(PLAIN_YAML)
    assert_clean_error(run("decrypt", str(plain), cwd=tmp_path, age=[ages[0]]), 4)


def test_missing_file_is_one_clear_line(tmp_path: Path, ages: list[AgePair]) -> None:
    for command in (["decrypt"], ["encrypt", "--age", ages[0].recipient], ["updatekeys"]):
        err = assert_clean_error(run(*command, "nope.yaml", cwd=tmp_path, age=[ages[0]]), 11)
        assert "nope.yaml" in err
        assert "does not exist" in err


def test_encrypt_without_keys_is_a_config_error(tmp_path: Path) -> None:
    plain = tmp_path / "p.yaml"
    plain.write_bytes(PLAIN_YAML)
    err = assert_clean_error(run("encrypt", str(plain), cwd=tmp_path), 3)
    assert "--age" in err


@pytest.mark.parametrize(
    ("name", "plaintext", "change", "expected"),
    [
        (
            "app.json",
            b'{\n\t"port": "5432",\n\t"password": "x"\n}\n',
            ('"5432"', '"6543"'),
            b"6543",
        ),
        ("app.env", b"PORT=5432\nPASSWORD=x\n", ("PORT=5432", "PORT=6543"), b"PORT=6543"),
        ("app.ini", b"[db]\nport = 5432\npassword = x\n", ("5432", "6543"), b"6543"),
    ],
)
def test_edit_other_formats_changes_only_the_edited_value(
    tmp_path: Path,
    ages: list[AgePair],
    name: str,
    plaintext: bytes,
    change: tuple[str, str],
    expected: bytes,
) -> None:
    plain = tmp_path / name
    plain.write_bytes(plaintext)
    ok("encrypt", "--age", ages[0].recipient, "-i", str(plain), cwd=tmp_path, age=[ages[0]])
    before = plain.read_bytes()
    password_line = next(line for line in before.splitlines() if b"password" in line.lower())
    ok("edit", str(plain), cwd=tmp_path, age=[ages[0]], extra_env=edit_env(tmp_path, change))
    after = plain.read_bytes()
    assert after != before
    assert password_line in after.splitlines()  # the untouched value kept its ciphertext
    assert expected in ok("decrypt", str(plain), cwd=tmp_path, age=[ages[0]])
