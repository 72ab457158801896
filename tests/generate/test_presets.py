"""The Lightrun preset: complete against the chart's field list, shared values, comments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sopsgen.errors import ConfigError
from sopsgen.generate.presets import preset_names, preset_text
from sopsgen.generate.spec import Spec, load_spec

BACKEND = {
    "SPRING_SECURITY_KEYCLOAK_CLI_PASSWORD": "keycloak-password",
    "SPRING_MAIL_PASSWORD": "mail-password",
    "SPRING_FLYWAY_PASSWORD": "db-password",
    "SPRING_DATASOURCE_PASSWORD": "db-password",
    "SPRING_FLYWAY_USER": "db-user",
    "SPRING_DATASOURCE_USERNAME": "db-user",
    "KEYSTORE_PASSWORD": "keystore-password",
    "LICENSE_CONTENT": "license-content",
    "LICENSE_SIGNATURE": "license-signature",
    "SPRING_RABBITMQ_USERNAME": "rabbitmq-user",
    "SPRING_RABBITMQ_PASSWORD": "rabbitmq-password",
    "encryption-key-*": "encryption-key",
}
KEYCLOAK = {
    "KEYCLOAK_USER": "keycloak-user",
    "KEYCLOAK_PASSWORD": "keycloak-password",
    "DB_USER": "db-user",
    "DB_PASSWORD": "db-password",
}
PROVIDED = {
    "mail-password",
    "db-user",
    "license-content",
    "license-signature",
    "rabbitmq-user",
}
OPTIONAL = [
    "SPRING_REDIS_PASSWORD",
    "INTEGRATIONS_DATADOG_APIKEY",
    "TRACKING_MIXPANEL_TOKEN",
    "LIGHTRUN_INITIAL_SYS_API_KEY",
    "AUTONOMOUS_DEBUGGER_OPEN_AI_ADMIN_API_KEY",
    "SPRING_SECURITY_GOOGLE_CLIENT-ID",
    "SPRING_SECURITY_GOOGLE_CLIENT-SECRET",
    "SALESFORCE_USERNAME",
    "SALESFORCE_CLIENT_ID",
    "SALESFORCE_LOGIN_URL",
    "SALESFORCE_OAUTH_URL",
    "SALESFORCE_JWT_PRIVATE_KEY",
]


def load(tmp_path: Path, text: str) -> Spec:
    path = tmp_path / "sopsgen.yaml"
    path.write_text(text)
    return load_spec(path)


@pytest.fixture
def spec(tmp_path: Path) -> Spec:
    return load(tmp_path, preset_text("lightrun"))


def test_preset_is_listed() -> None:
    assert "lightrun" in preset_names()


def test_unknown_preset() -> None:
    with pytest.raises(ConfigError, match="unknown preset 'nope'") as info:
        preset_text("nope")
    assert "lightrun" in (info.value.hint or "")


def test_top_level(spec: Spec, tmp_path: Path) -> None:
    assert spec.name == "lightrun"
    assert spec.namespace == "lightrun"
    assert spec.store_path == tmp_path / "secrets.sops.yaml"
    assert [s.name for s in spec.secrets] == ["lightrun-backend", "lightrun-keycloak"]
    assert all(s.namespace == "lightrun" and s.type == "Opaque" for s in spec.secrets)


def test_backend_secret_is_complete(spec: Spec) -> None:
    assert dict(spec.secrets[0].data) == BACKEND


def test_keycloak_secret_shares_the_backend_values(spec: Spec) -> None:
    keycloak = dict(spec.secrets[1].data)
    assert keycloak == KEYCLOAK
    backend_values = set(spec.secrets[0].data.values())
    shared = {name for name in keycloak.values() if name != "keycloak-user"}
    assert shared <= backend_values


def test_recipes(spec: Spec) -> None:
    key = spec.values["encryption-key"]
    assert key.is_ring
    assert key.recipe == "bytes/32/base64"
    assert key.rotate_after is not None
    assert key.rotate_after.days == 90
    assert spec.values["keycloak-user"].constant == "admin"
    assert {v.name for v in spec.values.values() if v.kind == "provided"} == PROVIDED
    for name in ("keycloak-password", "db-password", "keystore-password", "rabbitmq-password"):
        assert spec.values[name].kind == "password"
        assert (spec.values[name].length or 0) >= 32


def test_optional_keys_are_present_as_comments() -> None:
    text = preset_text("lightrun")
    for key in OPTIONAL:
        assert re.search(rf"^\s+# {re.escape(key)}: [-a-z]+$", text, re.M), key


def _uncomment(text: str) -> str:
    """Uncomment the commented-out YAML entries (not the prose comments)."""
    return re.sub(r"^(\s+)# (\s*[A-Za-z_][-\w]*:(?: .*)?)$", r"\1\2", text, flags=re.M)


def test_every_optional_key_works_when_uncommented(tmp_path: Path) -> None:
    spec = load(tmp_path, _uncomment(preset_text("lightrun")))
    backend = spec.secrets[0].data
    assert set(OPTIONAL) <= set(backend)
    assert all(backend[key] in spec.values for key in OPTIONAL)
