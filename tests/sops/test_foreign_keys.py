"""Key types sopsgen cannot use itself (cloud KMS, Vault): kept verbatim, or left to `sops`."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from sopsgen.errors import KeyUnavailableError
from sopsgen.keys.base import Identities, Recipient
from sopsgen.sops.datakey import EncryptionPlan
from sopsgen.sops.document import decrypt_document, encrypt_document, save_document
from sopsgen.sops.tree import Mapping
from tests.helpers.sops import AgePair, SopsRunner
from tests.sops.conftest import age_identities

NOW = datetime(2026, 12, 4, 19, 0, 0, tzinfo=UTC)
KMS_STANZA = (
    "    kms:\n"
    "        - arn: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\n"
    '          created_at: "2026-12-04T18:00:00Z"\n'
    "          enc: AQICAHhIbm90LWEtcmVhbC1jaXBoZXJ0ZXh0LWZvci10ZXN0cw==\n"
    '          aws_profile: ""\n'
)


def _with_kms(encrypted: bytes) -> bytes:
    """Add an AWS KMS stanza to a single-group file, where sops 3.11 writes it."""
    text = encrypted.decode()
    assert "\nsops:\n    age:\n" in text
    return text.replace("\nsops:\n    age:\n", "\nsops:\n" + KMS_STANZA + "    age:\n").encode()


def _kms_only(encrypted: bytes) -> bytes:
    """The same file with its age stanza removed: only the KMS key could open it."""
    doc = _with_kms(encrypted).decode()
    start = doc.index("    age:\n")
    end = doc.index("    lastmodified:")
    return (doc[:start] + doc[end:]).encode()


@pytest.fixture
def age_file(age_keys: list[AgePair]) -> bytes:
    plan = EncryptionPlan([[Recipient("age", age_keys[0].recipient)]])
    tree = [Mapping([("db", Mapping([("user", "admin"), ("password", "s3cr3t-value")]))])]
    return encrypt_document(tree, "yaml", plan, now=NOW)


def test_kms_stanza_survives_a_resave_byte_for_byte(
    age_file: bytes, age_keys: list[AgePair], sops_runner: SopsRunner, tmp_path: Path
) -> None:
    mixed = _with_kms(age_file)
    ids = age_identities(age_keys[0])
    doc = decrypt_document(mixed, "yaml", ids, name="mixed.yaml")
    assert [s.type for s in doc.metadata.key_groups[0]] == ["kms", "age"]
    changed = doc.branches[0].get("db")
    assert isinstance(changed, Mapping)
    changed.set("user", "root")
    saved = save_document(doc, doc.branches, now=NOW)
    assert KMS_STANZA.encode() in saved
    assert yaml.safe_load(saved)["sops"]["kms"] == yaml.safe_load(mixed)["sops"]["kms"]
    path = tmp_path / "mixed.yaml"
    path.write_bytes(saved)
    done = sops_runner.run("decrypt", str(path), age=[age_keys[0].identity])
    assert done.returncode == 0, done.stderr.decode()
    assert yaml.safe_load(done.stdout) == {"db": {"user": "root", "password": "s3cr3t-value"}}


def test_kms_only_file_without_sops_binary_names_the_key_type(
    age_file: bytes, age_keys: list[AgePair]
) -> None:
    ids = Identities(age=[age_keys[0].identity], sops_exec=None)
    with pytest.raises(KeyUnavailableError) as caught:
        decrypt_document(_kms_only(age_file), "yaml", ids, name="kms.yaml")
    message = caught.value.one_line()
    assert "kms" in message
    assert "sops" in message
    assert "s3cr3t" not in message


def test_kms_only_file_is_handed_to_the_sops_binary(
    age_file: bytes, age_keys: list[AgePair], tmp_path: Path
) -> None:
    # A stand-in for sops with cloud credentials: it records its arguments (never the
    # document) and prints the plaintext a real sops would print for this file.
    log = tmp_path / "argv.log"
    fake = tmp_path / "sops"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {log}\n'
        "cat > /dev/null\n"
        "printf 'db:\\n    user: admin\\n    password: s3cr3t-value\\n'\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    ids = Identities(age=[age_keys[0].identity], sops_exec=str(fake))
    doc = decrypt_document(_kms_only(age_file), "yaml", ids, name="kms.yaml")
    db = doc.branches[0].get("db")
    assert isinstance(db, Mapping)
    assert db.get("password") == "s3cr3t-value"
    assert log.read_text().split()[:1] == ["decrypt"]
    assert "s3cr3t" not in log.read_text()
    with pytest.raises(KeyUnavailableError, match="only be decrypted through the sops binary"):
        save_document(doc, doc.branches, now=NOW)
    assert os.environ.get("SOPS_AGE_KEY") is None  # the fixture environment stays clean


def test_encrypt_for_a_kms_rule_goes_through_the_sops_binary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    from sopsgen.cli.main import main

    log = tmp_path / "argv.log"
    fake = tmp_path / "fake-sops"
    fake.write_text(f'#!/bin/sh\necho "$@" > {log}\ncat > /dev/null\necho "sops: encrypted"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    (tmp_path / ".sops.yaml").write_text(
        "creation_rules:\n  - kms: arn:aws:kms:eu-west-1:111122223333:key/abcd\n"
    )
    (tmp_path / "p.yaml").write_text("password: s3cr3t-value\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOPS_BINARY", str(fake))
    assert main(["encrypt", "p.yaml"]) == 0
    assert capsysbinary.readouterr().out == b"sops: encrypted\n"
    argv = log.read_text()
    assert argv.startswith("encrypt ")
    assert "--filename-override p.yaml" in argv
    assert "s3cr3t" not in argv
