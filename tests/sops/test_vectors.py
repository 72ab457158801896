"""Known answers: the SOPS-FORMAT.md section 12.1 vector (made by sops 3.11.0) and how
sopsgen's errors line up with sops's exit codes for the same damaged files."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopsgen.errors import FormatError, IntegrityError, KeyUnavailableError, SopsgenError
from sopsgen.keys.base import Identities
from sopsgen.keys.discovery import parse_identities
from sopsgen.sops.document import decrypt_document, dump_plaintext, load_plaintext
from tests.helpers.sops import AgePair, SopsRunner, normalise_all
from tests.keys.conftest import VECTOR_DATA_KEY, VECTOR_FILE, VECTOR_KEY_FILE
from tests.sops.conftest import age_identities

VECTOR_PLAINTEXT = b"""\
# db settings
db:
    user: admin
    port: 5432
    ratio: 0.75
    enabled: true
    tags:
        - a
        - 7
    note: |
        line1
        line2
    pw_unencrypted: open
"""
VECTOR_MAC = (
    "56641F513C691259BAD4FD5C8446C75415E1111650C655CD2FE35621EF86436E"
    "EC89DBB39FB6506B602730C08F017BBAF8D6ABF1C225B8D854022D8FA9DA45A5"
)


def vector_identities() -> Identities:
    return Identities(age=parse_identities(VECTOR_KEY_FILE.read_text()), tried=["vector key"])


def test_vector_decrypts_to_the_exact_plaintext_and_mac() -> None:
    doc = decrypt_document(VECTOR_FILE.read_bytes(), "yaml", vector_identities())
    assert doc.data_key == VECTOR_DATA_KEY
    assert doc.digest == VECTOR_MAC
    assert doc.metadata.lastmodified == "2026-12-04T19:40:31Z"
    assert dump_plaintext(doc.branches, "yaml") == VECTOR_PLAINTEXT
    assert normalise_all(doc.branches, comments=True) == normalise_all(
        load_plaintext(VECTOR_PLAINTEXT, "yaml"), comments=True
    )


def test_vector_wrong_key_lists_places_and_recipients(age_keys: list[AgePair]) -> None:
    with pytest.raises(KeyUnavailableError) as err:
        decrypt_document(VECTOR_FILE.read_bytes(), "yaml", age_identities(age_keys[0]))
    message = err.value.one_line()
    assert "age1xd369jn5q8sqnrrtg0kfylnk9lrxm29px3v7xkg45r5wglypd3kqsl4mq6" in message
    assert "test identities" in message


def _replace_line(data: bytes, start: str, new: str) -> bytes:
    lines = data.decode().split("\n")
    index = next(i for i, line in enumerate(lines) if line.strip().startswith(start))
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index] = indent + new
    return "\n".join(lines).encode()


def _swap_user_port(data: bytes) -> bytes:
    lines = data.decode().split("\n")
    u = next(i for i, line in enumerate(lines) if line.strip().startswith("user:"))
    p = next(i for i, line in enumerate(lines) if line.strip().startswith("port:"))
    user, port = lines[u].split(": ", 1)[1], lines[p].split(": ", 1)[1]
    lines[u], lines[p] = f"    user: {port}", f"    port: {user}"
    return "\n".join(lines).encode()


DAMAGE = {
    # name: (how, sops exit code, our error)
    "clear value changed": (
        lambda d: d.replace(b"pw_unencrypted: open", b"pw_unencrypted: shut"),
        51,
        IntegrityError,
    ),
    "mac removed": (lambda d: _replace_line(d, "mac:", 'mac: ""'), 51, IntegrityError),
    "lastmodified changed": (
        lambda d: d.replace(b"2026-12-04T19:40:31Z", b"2026-12-04T19:40:32Z"),
        51,
        IntegrityError,
    ),
    "values swapped": (_swap_user_port, 25, IntegrityError),
    "value not encrypted": (lambda d: _replace_line(d, "user:", "user: admin"), 25, IntegrityError),
    "version not semver": (
        lambda d: d.replace(b"version: 3.11.0", b"version: pysops-0.1"),
        1,
        FormatError,
    ),
}


@pytest.mark.interop
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_vector_fails_like_sops(
    damage: str, sops_runner: SopsRunner, tmp_path: Path
) -> None:
    how, sops_code, error = DAMAGE[damage]
    data = how(VECTOR_FILE.read_bytes())
    assert data != VECTOR_FILE.read_bytes()
    path = tmp_path / "damaged.yaml"
    path.write_bytes(data)
    done = sops_runner.run("decrypt", str(path), age=vector_identities().age)
    assert done.returncode == sops_code, done.stderr.decode()
    with pytest.raises(error) as err:
        decrypt_document(data, "yaml", vector_identities())
    assert "admin" not in err.value.one_line()


@pytest.mark.interop
def test_exit_codes_for_keys_and_inputs(
    sops_runner: SopsRunner, tmp_path: Path, age_keys: list[AgePair]
) -> None:
    # wrong identity: sops 128, ours KeyUnavailableError
    done = sops_runner.run("decrypt", str(VECTOR_FILE), age=[age_keys[0].identity])
    assert done.returncode == 128
    with pytest.raises(KeyUnavailableError):
        decrypt_document(VECTOR_FILE.read_bytes(), "yaml", age_identities(age_keys[0]))
    # already encrypted: sops 203, ours FormatError
    done = sops_runner.run("encrypt", "--age", age_keys[0].recipient, str(VECTOR_FILE))
    assert done.returncode == 203
    with pytest.raises(FormatError, match="already"):
        load_plaintext(VECTOR_FILE.read_bytes(), "yaml")
    # not encrypted: sops 1 ("metadata not found"), ours FormatError
    plain = tmp_path / "plain.yaml"
    plain.write_bytes(VECTOR_PLAINTEXT)
    assert sops_runner.run("decrypt", str(plain)).returncode == 1
    with pytest.raises(FormatError, match="not encrypted"):
        decrypt_document(VECTOR_PLAINTEXT, "yaml", vector_identities())
    # ignore_mac recovers a file whose MAC no longer matches
    damaged = VECTOR_FILE.read_bytes().replace(b"pw_unencrypted: open", b"pw_unencrypted: shut")
    doc = decrypt_document(damaged, "yaml", vector_identities(), ignore_mac=True)
    assert b"pw_unencrypted: shut" in dump_plaintext(doc.branches, "yaml")
    assert issubclass(IntegrityError, SopsgenError)
