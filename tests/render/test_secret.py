from __future__ import annotations

import base64
from pathlib import Path

import pytest

from sopsgen.errors import ConfigError, MissingValueError
from sopsgen.generate.spec import load_spec
from sopsgen.render.secret import NEEDS_HASH, build_secrets

SPEC = """\
apiVersion: sopsgen.io/v1alpha1
kind: SecretGenerator
metadata: {name: t}
namespace: ns
values:
  key: {generate: bytes, ring: true}
  pw: {generate: password}
  user: {provided: true}
  admin: {constant: admin}
secrets:
  - name: b
    labels: {z: "1", a: "2"}
    needsHash: true
    data: {PW: pw, USER: user, key-*: key, ADMIN: admin}
  - name: c
    namespace: other
    data: {ADMIN: admin}
"""


@pytest.fixture
def spec(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "sopsgen.yaml"
    path.write_text(SPEC)
    return load_spec(path)


def _dec(text: str) -> str:
    return base64.b64decode(text).decode()


def test_builds_sorted_secrets_with_every_ring_member(spec) -> None:  # type: ignore[no-untyped-def]
    stored = {"key-1": "k1", "key-0": "k0", "key-10": "k10", "pw": "p", "user": "u"}
    b, c = build_secrets(spec, stored)
    assert list(b["data"]) == sorted(b["data"])
    assert {k: _dec(v) for k, v in b["data"].items()} == {
        "ADMIN": "admin",
        "PW": "p",
        "USER": "u",
        "key-0": "k0",
        "key-1": "k1",
        "key-10": "k10",
    }
    assert b["metadata"] == {"name": "b", "namespace": "ns", "labels": {"a": "2", "z": "1"}}
    assert c["metadata"] == {"name": "c", "namespace": "other"}
    assert list(b) == ["apiVersion", "kind", "metadata", "type", "data"]


def test_needs_hash_only_when_asked(spec) -> None:  # type: ignore[no-untyped-def]
    stored = {"key-0": "k", "pw": "p", "user": "u"}
    b, c = build_secrets(spec, stored, needs_hash=True)
    assert b["metadata"]["annotations"] == {NEEDS_HASH: "true"}
    assert "annotations" not in c["metadata"]


def test_missing_values_name_the_command(spec) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MissingValueError) as info:
        build_secrets(spec, {"pw": "p"})
    line = info.value.one_line()
    assert "key, user" in line
    assert "sopsgen generate" in line
    assert "sopsgen set user" in line
    assert info.value.exit_code == 8


def test_constant_only_secret_needs_no_store(spec) -> None:  # type: ignore[no-untyped-def]
    (c,) = build_secrets(spec, {}, names=["c"])
    assert c["data"] == {"ADMIN": "YWRtaW4="}
    with pytest.raises(ConfigError, match="no secret named nope"):
        build_secrets(spec, {}, names=["nope"])


def test_needs_hash_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SPEC.replace("needsHash: true", "needsHash: yes-please"))
    with pytest.raises(ConfigError, match="needsHash"):
        load_spec(path)
