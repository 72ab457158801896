"""The age backend: armor, wrap/unwrap with X25519 and SSH keys, the spec vector, real sops."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pyrage
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sopsgen import proc
from sopsgen.errors import ConfigError, FormatError, IntegrityError
from sopsgen.keys import load_backends
from sopsgen.keys.age import (
    ARMOR_BEGIN,
    ARMOR_END,
    BACKEND,
    armor,
    dearmor,
    parse_identities,
    public_recipient,
)
from sopsgen.keys.base import BACKENDS, Identities, Recipient, Stanza
from tests.conftest import require_sops
from tests.keys.conftest import (
    VECTOR_DATA_KEY,
    VECTOR_FILE,
    VECTOR_KEY_FILE,
    VECTOR_RECIPIENT,
    make_ssh_key,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def wrap(recipient: str, secret: bytes) -> Stanza:
    return BACKEND.wrap(Recipient("age", recipient), secret, now=NOW)


def vector_stanza() -> Stanza:
    doc = yaml.safe_load(VECTOR_FILE.read_text())
    return Stanza("age", dict(doc["sops"]["age"][0]))


def vector_identities() -> Identities:
    return Identities(age=parse_identities(VECTOR_KEY_FILE.read_text()))


def test_registered() -> None:
    assert load_backends()["age"] is BACKEND
    assert BACKENDS["age"].type_name == "age"


@pytest.mark.parametrize("size", [32, 33])
def test_x25519_round_trip(x25519: tuple[str, str], size: int) -> None:
    identity, recipient = x25519
    secret = os.urandom(size)
    stanza = wrap(recipient, secret)
    assert BACKEND.unwrap(stanza, Identities(age=[identity])) == secret


def test_stanza_fields_in_order_and_recipient_trimmed(x25519: tuple[str, str]) -> None:
    _, recipient = x25519
    stanza = wrap(f"  {recipient}\n", b"k" * 32)
    assert stanza.type == "age"
    assert list(stanza.fields) == ["recipient", "enc"]
    assert stanza.fields["recipient"] == recipient
    assert stanza.label == f"age:{recipient}"


def test_ssh_ed25519_round_trip(ssh_key: tuple[str, str], x25519: tuple[str, str]) -> None:
    private, public = ssh_key
    stanza = wrap(public, b"s" * 32)
    assert stanza.fields["recipient"] == public.strip()
    # the ssh key is found among other identities
    assert BACKEND.unwrap(stanza, Identities(age=[x25519[0], private])) == b"s" * 32


def test_ssh_rsa_round_trip(tmp_path: Path) -> None:
    private, public = make_ssh_key(tmp_path, "rsa")
    stanza = wrap(public, b"r" * 33)
    assert BACKEND.unwrap(stanza, Identities(age=[private])) == b"r" * 33


def test_wrong_identity_gives_none(x25519: tuple[str, str], ssh_key: tuple[str, str]) -> None:
    stanza = wrap(x25519[1], b"k" * 32)
    stranger = str(pyrage.x25519.Identity.generate())
    assert BACKEND.unwrap(stanza, Identities(age=[stranger, ssh_key[0]])) is None


def test_no_identities_gives_none(x25519: tuple[str, str]) -> None:
    assert BACKEND.unwrap(wrap(x25519[1], b"k" * 32), Identities()) is None


def test_unusable_identities_are_skipped(x25519: tuple[str, str]) -> None:
    identity, recipient = x25519
    junk = ["AGE-SECRET-KEY-1NOTAKEY", "-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n", "AGE-PLUGIN-X"]
    stanza = wrap(recipient, b"k" * 32)
    assert BACKEND.unwrap(stanza, Identities(age=[*junk, identity])) == b"k" * 32
    assert BACKEND.unwrap(stanza, Identities(age=junk)) is None


def test_tampered_payload_is_an_integrity_error(x25519: tuple[str, str]) -> None:
    # Pins pyrage's "no matching keys" wording that tells "not ours" from "tampered".
    identity, recipient = x25519
    blob = bytearray(dearmor(str(wrap(recipient, b"k" * 32).fields["enc"])))
    blob[-3] ^= 0x01
    stanza = Stanza("age", {"recipient": recipient, "enc": armor(bytes(blob))})
    with pytest.raises(IntegrityError, match="tampered"):
        BACKEND.unwrap(stanza, Identities(age=[identity]))


def test_invalid_recipient_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="invalid age recipient"):
        wrap("age1notarecipient", b"k" * 32)


def test_missing_enc_is_a_format_error() -> None:
    with pytest.raises(FormatError):
        BACKEND.unwrap(Stanza("age", {"recipient": "age1x"}), Identities())


def test_armor_layout(x25519: tuple[str, str]) -> None:
    enc = str(wrap(x25519[1], b"k" * 32).fields["enc"])
    lines = enc.split("\n")
    assert enc.endswith("\n")
    assert lines[0] == ARMOR_BEGIN
    assert lines[-2] == ARMOR_END
    assert lines[-1] == ""
    body = lines[1:-2]
    assert all(len(line) == 64 for line in body[:-1])
    assert 0 < len(body[-1]) <= 64


@given(st.binary(max_size=400))
def test_armor_round_trip(data: bytes) -> None:
    text = armor(data)
    assert all(len(line) <= 64 for line in text.splitlines())
    assert dearmor(text) == data


@pytest.mark.parametrize(
    "text",
    [
        "not armored",
        f"{ARMOR_BEGIN}\nQUJD\n",
        f"{ARMOR_BEGIN}\n!!!!\n{ARMOR_END}\n",
    ],
)
def test_dearmor_rejects(text: str) -> None:
    with pytest.raises(FormatError):
        dearmor(text)


def test_parse_identities() -> None:
    text = "# created: now\n\n  AGE-SECRET-KEY-1AAA  \n# public key: age1x\nAGE-SECRET-KEY-1BBB\n"
    assert parse_identities(text) == ["AGE-SECRET-KEY-1AAA", "AGE-SECRET-KEY-1BBB"]


def test_public_recipient_of_vector_key() -> None:
    (identity,) = vector_identities().age
    assert public_recipient(identity) == VECTOR_RECIPIENT
    with pytest.raises(ConfigError):
        public_recipient("AGE-SECRET-KEY-1BROKEN")


def test_unwraps_the_spec_vector() -> None:
    """SOPS-FORMAT.md section 12.1: a stanza written by real sops 3.11."""
    stanza = vector_stanza()
    assert stanza.fields["recipient"] == VECTOR_RECIPIENT
    assert BACKEND.unwrap(stanza, vector_identities()) == VECTOR_DATA_KEY


def _vector_with_stanza(stanza: Stanza) -> str:
    """The vector file with its age block replaced by `stanza` (same data key, same MAC)."""
    enc = "".join(f"            {line}\n" for line in str(stanza.fields["enc"]).splitlines())
    block = f"    age:\n        - recipient: {stanza.fields['recipient']}\n          enc: |\n{enc}"
    text, count = re.subn(
        r"    age:\n.*?(?=    lastmodified:)", lambda _: block, VECTOR_FILE.read_text(), flags=re.S
    )
    assert count == 1
    return text


def _sops_decrypt(text: str, tmp_path: Path, **env: str) -> proc.Completed:
    path = tmp_path / "doc.sops.yaml"
    path.write_text(text)
    return proc.run(
        [require_sops(), "decrypt", str(path)],
        env={**os.environ, **env},
        cwd=tmp_path,
        check=False,
    )


@pytest.mark.interop
def test_sops_accepts_our_x25519_stanza(tmp_path: Path, x25519: tuple[str, str]) -> None:
    identity, recipient = x25519
    text = _vector_with_stanza(wrap(recipient, VECTOR_DATA_KEY))
    done = _sops_decrypt(text, tmp_path, SOPS_AGE_KEY=identity)
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout)["db"]["user"] == "admin"
    # and the control: sops refuses it without our identity (exit 128, no data key)
    assert _sops_decrypt(text, tmp_path).returncode == 128


@pytest.mark.interop
def test_sops_accepts_our_ssh_stanza(tmp_path: Path, ssh_key: tuple[str, str]) -> None:
    private, public = ssh_key
    key_file = tmp_path / "ssh_key"
    key_file.write_text(private)
    key_file.chmod(0o600)
    text = _vector_with_stanza(wrap(public, VECTOR_DATA_KEY))
    done = _sops_decrypt(text, tmp_path, SOPS_AGE_SSH_PRIVATE_KEY_FILE=str(key_file))
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout)["db"]["port"] == 5432
