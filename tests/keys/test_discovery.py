"""Identity discovery: every sops 3.11 source, the default path, and the `tried` list."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from sopsgen.keys.age import BACKEND as AGE
from sopsgen.keys.base import Recipient
from sopsgen.keys.discovery import (
    default_age_key_file,
    discover_identities,
    find_sops,
    recipients_from_env,
)
from tests.keys.conftest import VECTOR_DATA_KEY, VECTOR_KEY_FILE
from tests.keys.test_age import vector_stanza

KEY_A = "AGE-SECRET-KEY-1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
KEY_B = "AGE-SECRET-KEY-1BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def base_env(home: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), "PATH": os.environ.get("PATH", ""), **extra}


def tried_text(env: dict[str, str]) -> str:
    return "\n".join(discover_identities(env).tried)


def test_nothing_found_lists_every_place(home: Path) -> None:
    ids = discover_identities(base_env(home))
    assert ids.age == []
    text = "\n".join(ids.tried)
    for expected in (
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE (not set)",
        f"{home}/.ssh/id_ed25519 (not found)",
        f"{home}/.ssh/id_rsa (not found)",
        "SOPS_AGE_KEY (not set)",
        "SOPS_AGE_KEY_FILE (not set)",
        "SOPS_AGE_KEY_CMD (not set)",
        f"{home}/.config/sops/age/keys.txt (not found)",
        f"GNUPGHOME={home}/.gnupg (not found)",
    ):
        assert expected in text


def test_sops_age_key(home: Path) -> None:
    ids = discover_identities(base_env(home, SOPS_AGE_KEY=f"# c\n\n{KEY_A}\n  {KEY_B}\n"))
    assert ids.age == [KEY_A, KEY_B]
    assert ids.age_sources == ["SOPS_AGE_KEY", "SOPS_AGE_KEY"]
    assert "SOPS_AGE_KEY (2 identities)" in ids.tried


def test_sops_age_key_file(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text(f"# public key: age1…\n{KEY_A}\n")
    ids = discover_identities(base_env(home, SOPS_AGE_KEY_FILE=str(path)))
    assert ids.age == [KEY_A]
    assert f"SOPS_AGE_KEY_FILE={path} (1 identity)" in ids.tried


def test_missing_key_file_is_recorded(home: Path) -> None:
    text = tried_text(base_env(home, SOPS_AGE_KEY_FILE="/nonexistent/k.txt"))
    assert "SOPS_AGE_KEY_FILE=/nonexistent/k.txt (not found)" in text


def test_encrypted_identity_file_is_reported(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "keys.age"
    path.write_text("-----BEGIN AGE ENCRYPTED FILE-----\nxx\n-----END AGE ENCRYPTED FILE-----\n")
    ids = discover_identities(base_env(home, SOPS_AGE_KEY_FILE=str(path)))
    assert ids.age == []
    assert "passphrase-protected" in "\n".join(ids.tried)


def test_default_file_under_home_config(home: Path) -> None:
    path = home / ".config" / "sops" / "age" / "keys.txt"
    path.parent.mkdir(parents=True)
    path.write_text(KEY_B + "\n")
    ids = discover_identities(base_env(home))
    assert ids.age == [KEY_B]
    assert ids.age_sources == [str(path)]


def test_default_file_under_xdg_config_home(home: Path, tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    env = base_env(home, XDG_CONFIG_HOME=str(xdg))
    assert default_age_key_file(env) == xdg / "sops" / "age" / "keys.txt"
    default_age_key_file(env).parent.mkdir(parents=True)
    default_age_key_file(env).write_text(KEY_A)
    assert discover_identities(env).age == [KEY_A]


def test_all_sources_are_merged(home: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "k.txt"
    key_file.write_text(KEY_B)
    default = home / ".config" / "sops" / "age" / "keys.txt"
    default.parent.mkdir(parents=True)
    default.write_text(KEY_A)
    env = base_env(home, SOPS_AGE_KEY=KEY_A, SOPS_AGE_KEY_FILE=str(key_file))
    assert discover_identities(env).age == [KEY_A, KEY_B, KEY_A]


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "keycmd.py"
    path.write_text(body)
    return path


def test_sops_age_key_cmd(home: Path, tmp_path: Path) -> None:
    script = _script(
        tmp_path, f"import sys\nprint('# from cmd')\nprint(sys.argv[1] + '{KEY_A[-4:]}')\n"
    )
    command = f"'{sys.executable}' {script} '{KEY_A[:-4]}'"
    ids = discover_identities(base_env(home, SOPS_AGE_KEY_CMD=command))
    assert ids.age == [KEY_A]
    assert ids.age_sources == [f"SOPS_AGE_KEY_CMD={command}"]


def test_sops_age_key_cmd_failure_is_recorded(home: Path, tmp_path: Path) -> None:
    script = _script(tmp_path, f"import sys\nprint('{KEY_A}', file=sys.stderr)\nsys.exit(3)\n")
    ids = discover_identities(base_env(home, SOPS_AGE_KEY_CMD=f"{sys.executable} {script}"))
    assert ids.age == []
    text = "\n".join(ids.tried)
    assert "failed with exit code 3" in text
    assert KEY_A not in text  # the command's stderr is never copied


@pytest.mark.parametrize(
    ("command", "reason"),
    [("/nonexistent/keycmd", "not installed"), ("'unbalanced", "cannot be split"), ("  ", "empty")],
)
def test_sops_age_key_cmd_unusable(home: Path, command: str, reason: str) -> None:
    assert reason in tried_text(base_env(home, SOPS_AGE_KEY_CMD=command))


def test_sops_age_key_cmd_gets_the_environment(home: Path, tmp_path: Path) -> None:
    script = _script(tmp_path, "import os\nprint(os.environ['MY_KEY'])\n")
    env = base_env(home, SOPS_AGE_KEY_CMD=f"{sys.executable} {script}", MY_KEY=KEY_B)
    assert discover_identities(env).age == [KEY_B]


def test_ssh_default_keys(home: Path) -> None:
    ssh = home / ".ssh"
    ssh.mkdir()
    (ssh / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\ned\n")
    (ssh / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nrsa\n")
    ids = discover_identities(base_env(home))
    assert [text.split("\n")[1] for text in ids.age] == ["ed", "rsa"]
    assert f"{ssh}/id_rsa (ssh key)" in ids.tried


def test_ssh_key_file_variable_replaces_defaults(home: Path, tmp_path: Path) -> None:
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_ed25519").write_text("default")
    chosen = tmp_path / "deploy_key"
    chosen.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nchosen\n")
    ids = discover_identities(base_env(home, SOPS_AGE_SSH_PRIVATE_KEY_FILE=str(chosen)))
    assert ids.age == [chosen.read_text()]
    assert ids.age_sources == [f"SOPS_AGE_SSH_PRIVATE_KEY_FILE={chosen}"]


def test_gpg_settings(home: Path, tmp_path: Path) -> None:
    defaults = discover_identities(base_env(home))
    assert defaults.gnupg_home == str(home / ".gnupg")
    assert defaults.gpg_exec == "gpg"
    env = base_env(home, GNUPGHOME=str(tmp_path), SOPS_GPG_EXEC="/opt/gpg2")
    ids = discover_identities(env)
    assert (ids.gnupg_home, ids.gpg_exec) == (str(tmp_path), "/opt/gpg2")
    assert f"GNUPGHOME={tmp_path}" in ids.tried
    assert "SOPS_GPG_EXEC=/opt/gpg2" in ids.tried


def test_sops_binary(home: Path, tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "sops"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    assert discover_identities({"HOME": str(home), "PATH": str(fake.parent)}).sops_exec == str(fake)
    assert discover_identities({"HOME": str(home), "PATH": str(home)}).sops_exec is None
    tried: list[str] = []
    assert find_sops({"SOPS_BINARY": str(fake), "PATH": ""}, tried) == str(fake)
    assert find_sops({"SOPS_BINARY": "/nonexistent/sops"}, tried) is None
    assert tried[-1] == "SOPS_BINARY=/nonexistent/sops (not found)"


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY", KEY_A)
    assert discover_identities().age == [KEY_A]


def test_discovered_identities_unwrap_the_vector(home: Path) -> None:
    ids = discover_identities(base_env(home, SOPS_AGE_KEY_FILE=str(VECTOR_KEY_FILE)))
    assert AGE.unwrap(vector_stanza(), ids) == VECTOR_DATA_KEY


def test_recipients_from_env() -> None:
    env = {
        "SOPS_AGE_RECIPIENTS": "age1aaa, ssh-ed25519 AAAAC3 me@host ,",
        "SOPS_PGP_FP": "ab12 cd34,EF56",
    }
    assert recipients_from_env(env) == [
        Recipient("age", "age1aaa"),
        Recipient("age", "ssh-ed25519 AAAAC3 me@host"),
        Recipient("pgp", "ab12cd34"),
        Recipient("pgp", "EF56"),
    ]
    assert recipients_from_env({}) == []
