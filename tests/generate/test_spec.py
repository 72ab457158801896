"""sopsgen.yaml: model, every validation error, extends/overrides and ring expansion."""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from sopsgen.errors import ConfigError
from sopsgen.generate.spec import (
    SecretSpec,
    expand_secret_keys,
    load_spec,
    parse_ring_member,
    ring_member_name,
)

BASE: dict[str, Any] = {
    "apiVersion": "sopsgen.io/v1alpha1",
    "kind": "SecretGenerator",
    "metadata": {"name": "lightrun"},
    "store": "secrets.sops.yaml",
    "namespace": "lightrun",
    "values": {
        "encryption-key": {
            "generate": "bytes",
            "length": 32,
            "encoding": "base64",
            "ring": True,
            "rotateAfter": "90d",
        },
        "db-password": {"generate": "password", "length": 32},
        "db-user": {"provided": True},
        "keycloak-user": {"constant": "admin"},
        "token": {"generate": "hex", "length": 40},
        "id": {"generate": "uuid"},
    },
    "secrets": [
        {
            "name": "lightrun-backend",
            "data": {
                "SPRING_DATASOURCE_PASSWORD": "db-password",
                "SPRING_DATASOURCE_USERNAME": "db-user",
                "encryption-key-*": "encryption-key",
            },
        },
        {
            "name": "lightrun-keycloak",
            "namespace": "auth",
            "type": "kubernetes.io/basic-auth",
            "labels": {"app": "keycloak"},
            "annotations": {"example.com/owner": "team-a"},
            "data": {"DB_PASSWORD": "db-password", "KEYCLOAK_USER": "keycloak-user"},
        },
    ],
}


def spec_file(directory: Path, doc: dict[str, Any], name: str = "sopsgen.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def base() -> dict[str, Any]:
    return copy.deepcopy(BASE)


# ---------------------------------------------------------------------------- model


def test_load_full_spec(tmp_path: Path) -> None:
    spec = load_spec(spec_file(tmp_path, base()))
    assert spec.name == "lightrun"
    assert spec.store_path == tmp_path / "secrets.sops.yaml"
    assert spec.store_path.is_absolute()
    assert list(spec.values) == list(BASE["values"])
    key = spec.values["encryption-key"]
    assert key.is_ring
    assert key.rotate_after == timedelta(days=90)
    assert key.recipe == "bytes/32/base64"
    assert spec.values["db-password"].recipe == "password/32/alnum"
    assert spec.values["token"].recipe == "hex/40"
    assert spec.values["id"].recipe == "uuid"
    assert spec.values["keycloak-user"].constant == "admin"
    backend, keycloak = spec.secrets
    assert backend.namespace == "lightrun"  # the top-level default
    assert backend.type == "Opaque"
    assert keycloak.namespace == "auth"  # its own wins
    assert keycloak.type == "kubernetes.io/basic-auth"
    assert keycloak.labels == {"app": "keycloak"}
    assert keycloak.annotations == {"example.com/owner": "team-a"}
    assert spec.files == (tmp_path / "sopsgen.yaml",)


def test_defaults(tmp_path: Path) -> None:
    doc = base()
    del doc["store"], doc["namespace"]
    doc["values"]["db-password"] = {"generate": "password"}
    doc["values"]["raw"] = {"generate": "bytes"}
    spec = load_spec(spec_file(tmp_path, doc))
    assert spec.store_path.name == "secrets.sops.yaml"
    assert spec.secrets[0].namespace is None
    assert spec.values["db-password"].recipe == "password/32/alnum"
    assert spec.values["raw"].recipe == "bytes/32/base64"


def test_custom_charset_and_provided_format(tmp_path: Path) -> None:
    doc = base()
    doc["values"]["pin"] = {"generate": "password", "length": 12, "charset": "abcdefghijkk"}
    doc["values"]["license"] = {"provided": True, "format": "base64-32"}
    spec = load_spec(spec_file(tmp_path, doc))
    assert spec.values["pin"].alphabet == "abcdefghijk"
    assert spec.values["pin"].recipe == "password/12/custom"
    assert spec.values["license"].recipe == "provided/base64-32"


def test_ring_member_names() -> None:
    assert ring_member_name("encryption-key", 3) == "encryption-key-3"
    assert parse_ring_member("encryption-key-3") == ("encryption-key", 3)
    assert parse_ring_member("encryption-key-12") == ("encryption-key", 12)
    assert parse_ring_member("encryption-key") is None
    assert parse_ring_member("key-01") is None
    assert parse_ring_member("-3") is None


def test_spec_ring_helpers(tmp_path: Path) -> None:
    spec = load_spec(spec_file(tmp_path, base()))
    assert spec.ring_member_name(spec.values["encryption-key"], 2) == "encryption-key-2"
    assert [v.name for v in spec.rings()] == ["encryption-key"]
    assert spec.store_key_of("encryption-key-4") == (spec.values["encryption-key"], 4)
    assert spec.store_key_of("db-password") == (spec.values["db-password"], None)
    assert spec.store_key_of("db-password-1") is None
    assert spec.store_key_of("encryption-key") is None
    assert spec.missing_values(["db-password", "encryption-key-0"]) == ["db-user", "token", "id"]
    assert spec.missing_values(["db-password", "db-user", "token", "id"]) == ["encryption-key"]


def test_expand_secret_keys_sorted_by_index() -> None:
    secret = SecretSpec(
        name="s",
        namespace=None,
        data={"PASSWORD": "db-password", "encryption-key-*": "encryption-key", "K_*": "other"},
    )
    present = ["encryption-key-10", "encryption-key-2", "encryption-key-0", "other-1", "x-0"]
    expanded = expand_secret_keys(secret, present)
    assert list(expanded.items()) == [
        ("PASSWORD", "db-password"),
        ("encryption-key-0", "encryption-key-0"),
        ("encryption-key-2", "encryption-key-2"),
        ("encryption-key-10", "encryption-key-10"),
        ("K_1", "other-1"),
    ]


def test_spec_import_does_not_load_crypto() -> None:
    code = (
        "import sys, sopsgen.generate.spec; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('cryptography', 'pyrage', 'gnupg')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


# ---------------------------------------------------------------------------- extends


def write_env(tmp_path: Path, overlay: dict[str, Any]) -> Path:
    spec_file(tmp_path / "base", base())
    doc = {
        "apiVersion": "sopsgen.io/v1alpha1",
        "kind": "SecretGenerator",
        "extends": "../../base/sopsgen.yaml",
        **overlay,
    }
    return spec_file(tmp_path / "envs" / "prod", doc)


def test_extends_inherits_and_resolves_store_next_to_overlay(tmp_path: Path) -> None:
    spec = load_spec(write_env(tmp_path, {}))
    assert spec.name == "lightrun"
    assert spec.store_path == tmp_path / "envs" / "prod" / "secrets.sops.yaml"
    assert [s.name for s in spec.secrets] == ["lightrun-backend", "lightrun-keycloak"]
    assert spec.files == (tmp_path / "envs/prod/sopsgen.yaml", tmp_path / "base/sopsgen.yaml")


def test_extends_overrides(tmp_path: Path) -> None:
    overlay = {
        "metadata": {"name": "lightrun-prod"},
        "store": "prod.sops.yaml",
        "namespace": "lightrun-prod",
        "namePrefix": "prod-",
        "nameSuffix": "-v1",
        "values": {
            "db-password": {"generate": "password", "length": 48, "charset": "alnum-symbols"},
            "extra": {"provided": True},
        },
        "secretOverrides": {
            "lightrun-keycloak": {
                "name": "keycloak",
                "namespace": "kc",
                "labels": {"env": "prod"},
                "data": {"EXTRA": "extra"},
            }
        },
        "secrets": [{"name": "more", "data": {"X": "extra"}}],
    }
    spec = load_spec(write_env(tmp_path, overlay))
    assert spec.name == "lightrun-prod"
    assert spec.store_path == tmp_path / "envs" / "prod" / "prod.sops.yaml"
    names = [(s.name, s.namespace) for s in spec.secrets]
    assert names == [
        ("prod-lightrun-backend-v1", "lightrun-prod"),
        ("keycloak", "kc"),  # renamed: the affixes do not apply
        ("prod-more-v1", "lightrun-prod"),
    ]
    keycloak = spec.secrets[1]
    assert keycloak.labels == {"app": "keycloak", "env": "prod"}
    assert keycloak.data["EXTRA"] == "extra"
    assert keycloak.data["DB_PASSWORD"] == "db-password"
    assert spec.values["db-password"].recipe == "password/48/alnum-symbols"
    assert list(spec.values)[-1] == "extra"  # new values go last; overridden keep their place
    assert list(spec.values)[1] == "db-password"


def test_extends_chain_of_three(tmp_path: Path) -> None:
    write_env(tmp_path, {"namePrefix": "a-"})
    doc = {
        "apiVersion": "sopsgen.io/v1alpha1",
        "kind": "SecretGenerator",
        "extends": "../prod/sopsgen.yaml",
        "namePrefix": "b-",
        "secretOverrides": {"a-lightrun-backend": {"name": "backend"}},
    }
    spec = load_spec(spec_file(tmp_path / "envs" / "stage", doc))
    assert [s.name for s in spec.secrets] == ["backend", "b-a-lightrun-keycloak"]


def test_extends_cycle(tmp_path: Path) -> None:
    doc = base()
    doc["extends"] = "other.yaml"
    spec_file(tmp_path, doc)
    other = base()
    other["extends"] = "sopsgen.yaml"
    spec_file(tmp_path, other, "other.yaml")
    with pytest.raises(ConfigError, match="extends loops back"):
        load_spec(tmp_path / "sopsgen.yaml")


def test_extends_missing_base(tmp_path: Path) -> None:
    doc = base()
    doc["extends"] = "nope/sopsgen.yaml"
    with pytest.raises(ConfigError, match=r"cannot read spec .*nope/sopsgen\.yaml"):
        load_spec(spec_file(tmp_path, doc))


def test_override_of_unknown_secret(tmp_path: Path) -> None:
    path = write_env(tmp_path, {"secretOverrides": {"nope": {"name": "x"}}})
    with pytest.raises(ConfigError) as info:
        load_spec(path)
    assert f"{path}: secretOverrides.nope: no inherited secret" in info.value.message
    assert "lightrun-backend" in (info.value.hint or "")


def test_overlay_error_names_the_overlay_file(tmp_path: Path) -> None:
    path = write_env(tmp_path, {"secrets": [{"name": "more", "data": {"X": "missing"}}]})
    with pytest.raises(ConfigError) as info:
        load_spec(path)
    assert f"{path}: secrets[0].data.X: refers to undeclared value 'missing'" in info.value.message


def test_overlay_duplicate_name_after_prefix(tmp_path: Path) -> None:
    path = write_env(
        tmp_path, {"secretOverrides": {"lightrun-keycloak": {"name": "lightrun-backend"}}}
    )
    with pytest.raises(ConfigError, match="duplicate secret name 'lightrun-backend'"):
        load_spec(path)


# ---------------------------------------------------------------------------- errors


def _set(doc: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split("/")
    target: Any = doc
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    last = keys[-1]
    if value is _DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


_DELETE = object()

ERRORS = [
    # (field to change, new value, expected "field path: problem" and hint fragment)
    ("values/x", {"generate": "pasword"}, "values.x.generate: unknown recipe 'pasword'", "bytes"),
    ("values/x", {"generate": "uuid", "lenght": 3}, "values.x.lenght: unknown field", "allowed"),
    ("values/x", {"generat": "bytes"}, "values.x.generat: unknown field", "allowed"),
    ("values/x", {"constant": "a", "provided": True}, "values.x: needs exactly one", None),
    ("values/x", {}, "values.x: needs exactly one", "generate"),
    ("values/x", "bytes", "values.x: must be a mapping", None),
    (
        "values/x",
        {"generate": "bytes", "length": 8},
        "values.x.length: length 8 is out of range",
        "16 to 1024 bytes",
    ),
    (
        "values/x",
        {"generate": "password", "length": 5000},
        "values.x.length: length 5000",
        "12 to 1024",
    ),
    (
        "values/x",
        {"generate": "hex", "length": "40"},
        "values.x.length: must be a whole number",
        None,
    ),
    (
        "values/x",
        {"generate": "bytes", "encoding": "b64"},
        "values.x.encoding: unknown encoding",
        "base64 or hex",
    ),
    (
        "values/x",
        {"generate": "password", "charset": "abc"},
        "values.x.charset: charset must be",
        None,
    ),
    (
        "values/x",
        {"generate": "bytes", "ring": True, "rotateAfter": "90 days"},
        "values.x.rotateAfter: bad duration",
        "90d",
    ),
    (
        "values/x",
        {"generate": "bytes", "ring": True, "rotateAfter": "0d"},
        "values.x.rotateAfter: bad duration",
        None,
    ),
    (
        "values/x",
        {"generate": "bytes", "ring": True, "rotateAfter": 90},
        "values.x.rotateAfter: bad duration",
        None,
    ),
    (
        "values/x",
        {"generate": "bytes", "rotateAfter": "9d"},
        "values.x.rotateAfter: rotateAfter applies only to rings",
        "ring: true",
    ),
    (
        "values/x",
        {"generate": "bytes", "ring": "yes"},
        "values.x.ring: must be true or false",
        None,
    ),
    (
        "values/x",
        {"constant": "a", "ring": True},
        "values.x.ring: unknown field for a constant value",
        None,
    ),
    ("values/x", {"provided": False}, "values.x.provided: must be true", None),
    (
        "values/x",
        {"provided": True, "format": "base64"},
        "values.x.format: unknown format",
        "base64-N",
    ),
    ("values/x", {"constant": 5}, "values.x.constant: must be a string", None),
    ("values/-bad", {"generate": "uuid"}, "values.-bad: value names use", None),
    (
        "values/encryption-key-1",
        {"provided": True},
        "values.encryption-key-1: the name is taken",
        None,
    ),
    (
        "secrets/0/data/X",
        "nope",
        "secrets[0].data.X: refers to undeclared value 'nope'",
        "db-password",
    ),
    (
        "secrets/0/data/KEY",
        "encryption-key",
        "secrets[0].data.KEY: 'encryption-key' is a ring",
        "KEY-*",
    ),
    (
        "secrets/0/data/PW-*",
        "db-password",
        "secrets[0].data.PW-*: a wildcard key needs a ring",
        "ring: true",
    ),
    (
        "secrets/0/data/encryption-key-2",
        "db-password",
        "secrets[0].data.encryption-key-2: clashes",
        None,
    ),
    ("secrets/0/data/encryption-key-1*", "encryption-key", "clashes with the ring keys", None),
    ("secrets/0/data/a*b", "db-password", "secrets[0].data.a*b: Secret keys use", None),
    ("secrets/0/data/a b", "db-password", 'secrets[0].data["a b"]: Secret keys use', None),
    ("secrets/0/data", _DELETE, "secrets[0]: a secret needs data", None),
    ("secrets/0/name", _DELETE, "secrets[0]: a secret needs a name", None),
    ("secrets/0/name", "Bad_Name", "secrets[0].name: 'Bad_Name' is not a valid Secret name", None),
    (
        "secrets/1/name",
        "lightrun-backend",
        "secrets[1].name: duplicate secret name",
        "secretOverrides",
    ),
    ("secrets/0/namespace", "Bad", "secrets[0].namespace: 'Bad' is not a valid namespace", None),
    ("secrets/0/labels", {"a": 1}, "secrets[0].labels.a: must be a string", None),
    ("secrets/0/annotations", ["a"], "secrets[0].annotations: must be a mapping", None),
    ("secrets/0/stringData", {}, "secrets[0].stringData: unknown field for a secret", None),
    ("secrets", {"a": 1}, "secrets: must be a list", None),
    ("apiVersion", "v1", "apiVersion: expected sopsgen.io/v1alpha1", "set apiVersion"),
    ("kind", "Secret", "kind: expected SecretGenerator", None),
    ("metadata", _DELETE, "metadata.name: missing", None),
    ("metadata/nam", "x", "metadata.nam: unknown field", None),
    ("stores", "x", "stores: unknown field for a SecretGenerator", "allowed fields"),
    ("store", 3, "store: must be a non-empty string", None),
    ("namespace", "Not Valid", "namespace: 'Not Valid' is not a valid namespace", None),
    (
        "namePrefix",
        "UP-",
        "secrets[0].name: 'UP-lightrun-backend' is not a valid Secret name",
        "namePrefix",
    ),
    ("secretOverrides", {}, "secretOverrides: secretOverrides needs extends", None),
]


@pytest.mark.parametrize(("field", "value", "expected", "hint"), ERRORS)
def test_validation_errors(
    tmp_path: Path, field: str, value: Any, expected: str, hint: str | None
) -> None:
    doc = base()
    _set(doc, field, value)
    path = spec_file(tmp_path, doc)
    with pytest.raises(ConfigError) as info:
        load_spec(path)
    assert info.value.message.startswith(f"{path}: ")
    assert expected in info.value.message
    assert info.value.hint, "every error says how to fix it"
    if hint:
        assert hint in info.value.hint


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "must be a mapping"),
        ("- a\n", "must be a mapping"),
        ("values: [\n", "not valid YAML"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
    ],
)
def test_unparseable_files(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "sopsgen.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=expected):
        load_spec(path)


def test_duplicate_value_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sopsgen.yaml"
    text = yaml.safe_dump(base(), sort_keys=False)
    path.write_text(text.replace("values:\n", "values:\n  db-user: {provided: true}\n", 1))
    with pytest.raises(ConfigError, match="duplicate key 'db-user'"):
        load_spec(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read spec") as info:
        load_spec(tmp_path / "sopsgen.yaml")
    assert "sopsgen init" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("text", "delta"),
    [("12h", timedelta(hours=12)), ("90d", timedelta(days=90)), ("2w", timedelta(weeks=2))],
)
def test_durations(tmp_path: Path, text: str, delta: timedelta) -> None:
    doc = base()
    doc["values"]["encryption-key"]["rotateAfter"] = text
    spec = load_spec(spec_file(tmp_path, doc))
    assert spec.values["encryption-key"].rotate_after == delta


def test_value_lookup_error(tmp_path: Path) -> None:
    spec = load_spec(spec_file(tmp_path, base()))
    with pytest.raises(ConfigError, match="no value named 'nope'"):
        spec.value("nope")
    assert spec.value("db-user").kind == "provided"
