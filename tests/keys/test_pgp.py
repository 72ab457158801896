"""The pgp backend against real gpg (throwaway keyring) and real sops."""

from __future__ import annotations

import os
import re
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from sopsgen import proc
from sopsgen.errors import FormatError, IntegrityError, KeyUnavailableError
from sopsgen.keys import load_backends
from sopsgen.keys.base import Identities, Recipient, Stanza
from sopsgen.keys.pgp import BACKEND, normalize_fingerprint, rfc3339_utc
from tests.conftest import require_sops
from tests.keys.conftest import GpgKey

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def ids_for(key: GpgKey, **kw: str) -> Identities:
    return Identities(gnupg_home=str(key.home), **kw)  # type: ignore[arg-type]


def wrap(key: GpgKey, secret: bytes, fp: str | None = None) -> Stanza:
    recipient = Recipient("pgp", fp or key.fp)
    return BACKEND.wrap(recipient, secret, now=NOW, identities=ids_for(key))


def test_registered() -> None:
    assert load_backends()["pgp"] is BACKEND


def test_round_trip(gpg_key: GpgKey) -> None:
    secret = os.urandom(32)
    assert BACKEND.unwrap(wrap(gpg_key, secret), ids_for(gpg_key)) == secret


def test_stanza_shape(gpg_key: GpgKey) -> None:
    spaced = " ".join(re.findall("....", gpg_key.fp.lower()))
    stanza = wrap(gpg_key, b"k" * 33, fp=spaced)
    assert list(stanza.fields) == ["created_at", "enc", "fp"]
    assert stanza.fields["created_at"] == "2026-01-02T03:04:05Z"
    assert stanza.fields["fp"] == gpg_key.fp
    enc = str(stanza.fields["enc"])
    assert enc.startswith("-----BEGIN PGP MESSAGE-----")
    assert enc.endswith("-----END PGP MESSAGE-----")  # trimmed: YAML shows `enc: |-`


def test_rfc3339_utc() -> None:
    plus2 = timezone(timedelta(hours=2))
    assert rfc3339_utc(datetime(2026, 5, 1, 12, 0, 0, 999, tzinfo=plus2)) == "2026-05-01T10:00:00Z"
    assert rfc3339_utc(datetime(2026, 5, 1, 12, 0, 0)) == "2026-05-01T12:00:00Z"


def test_normalize_fingerprint() -> None:
    assert normalize_fingerprint(" ab12 cd34\t") == "AB12CD34"


def test_no_secret_key_gives_none(gpg_key: GpgKey, tmp_path: Path) -> None:
    empty = tmp_path / "gnupg"
    empty.mkdir(mode=0o700)
    stanza = wrap(gpg_key, b"k" * 32)
    assert BACKEND.unwrap(stanza, Identities(gnupg_home=str(empty))) is None


def test_unknown_recipient_is_key_unavailable(gpg_key: GpgKey) -> None:
    with pytest.raises(KeyUnavailableError, match="cannot encrypt the data key to pgp key 0123"):
        wrap(gpg_key, b"k" * 32, fp="0123456789ABCDEF0123456789ABCDEF01234567")


def test_damaged_message_is_an_integrity_error(gpg_key: GpgKey) -> None:
    enc = str(wrap(gpg_key, b"k" * 32).fields["enc"])
    i = len(enc) // 2
    damaged = enc[:i] + ("A" if enc[i] != "A" else "B") + enc[i + 1 :]
    with pytest.raises(IntegrityError):
        BACKEND.unwrap(Stanza("pgp", {"enc": damaged, "fp": gpg_key.fp}), ids_for(gpg_key))


def test_non_armored_enc_is_a_format_error(gpg_key: GpgKey) -> None:
    with pytest.raises(FormatError):
        BACKEND.unwrap(Stanza("pgp", {"enc": "abc", "fp": gpg_key.fp}), ids_for(gpg_key))


def test_secret_goes_through_stdin_not_argv(gpg_key: GpgKey, tmp_path: Path) -> None:
    """A gpg wrapper logs its argv: the secret (raw or hex) must never appear there."""
    log = tmp_path / "argv.log"
    wrapper = tmp_path / "gpg-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec gpg "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    secret = b"SECRET-" + os.urandom(25).hex().encode()[:25]
    ids = ids_for(gpg_key, gpg_exec=str(wrapper))
    stanza = BACKEND.wrap(Recipient("pgp", gpg_key.fp), secret, now=NOW, identities=ids)
    assert BACKEND.unwrap(stanza, ids) == secret
    logged = log.read_text()
    assert "--encrypt" in logged
    assert "SECRET" not in logged
    assert secret.hex() not in logged


def test_gpg_decrypts_our_wrap(gpg_key: GpgKey) -> None:
    secret = os.urandom(32)
    enc = str(wrap(gpg_key, secret).fields["enc"])
    done = proc.run(
        ["gpg", "--homedir", str(gpg_key.home), "--batch", "--quiet", "-d"], stdin=enc.encode()
    )
    assert done.stdout == secret


def _sops_encrypted(gpg_key: GpgKey, tmp_path: Path) -> tuple[str, Path]:
    plain = tmp_path / "plain.yaml"
    plain.write_text("password: hunter2\n")
    env = {**os.environ, "GNUPGHOME": str(gpg_key.home)}
    done = proc.run(
        [require_sops(), "encrypt", "--pgp", gpg_key.fp, str(plain)], env=env, cwd=tmp_path
    )
    return done.stdout.decode(), plain


@pytest.mark.interop
def test_unwraps_what_sops_wrote(gpg_key: GpgKey, tmp_path: Path) -> None:
    text, _ = _sops_encrypted(gpg_key, tmp_path)
    raw = yaml.safe_load(text)["sops"]["pgp"][0]
    assert raw["fp"] == gpg_key.fp
    data_key = BACKEND.unwrap(Stanza("pgp", dict(raw)), ids_for(gpg_key))
    assert data_key is not None
    assert len(data_key) == 32


@pytest.mark.interop
def test_sops_accepts_our_stanza(gpg_key: GpgKey, tmp_path: Path) -> None:
    """Re-wrap sops's own data key with our backend, put it in the file: sops still decrypts."""
    text, _ = _sops_encrypted(gpg_key, tmp_path)
    raw = yaml.safe_load(text)["sops"]["pgp"][0]
    data_key = BACKEND.unwrap(Stanza("pgp", dict(raw)), ids_for(gpg_key))
    assert data_key is not None
    ours = str(wrap(gpg_key, data_key).fields["enc"])
    assert ours != raw["enc"]
    tree = yaml.safe_load(text)
    tree["sops"]["pgp"][0]["enc"] = ours
    doc = tmp_path / "ours.sops.yaml"
    doc.write_text(yaml.safe_dump(tree, sort_keys=False))
    env = {**os.environ, "GNUPGHOME": str(gpg_key.home)}
    done = proc.run([require_sops(), "decrypt", str(doc)], env=env, cwd=tmp_path)
    assert yaml.safe_load(done.stdout) == {"password": "hunter2"}
