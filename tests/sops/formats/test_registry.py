from __future__ import annotations

import pytest

from sopsgen.errors import ConfigError
from sopsgen.sops.formats import registry


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("a.yaml", "yaml"),
        ("dir/a.yml", "yaml"),
        ("a.json", "json"),
        (".env", "dotenv"),
        ("prod.env", "dotenv"),
        ("a.ini", "ini"),
        ("a.bin", "binary"),
        ("a.env.enc", "binary"),
        ("A.JSON", "binary"),
    ],
)
def test_format_for_path(path: str, name: str) -> None:
    assert registry.format_for_path(path, None) == name


def test_override_wins_but_must_be_known() -> None:
    assert registry.format_for_path("a.yaml", "json") == "json"
    with pytest.raises(ConfigError):
        registry.format_for_path("a.yaml", "toml")


@pytest.mark.parametrize("name", ["json", "dotenv", "ini", "binary"])
def test_get_format(name: str) -> None:
    module = registry.get_format(name)
    assert module.name == name
    assert registry.FORMATS[name] is module


def test_unknown_format_is_an_error() -> None:
    with pytest.raises(ConfigError, match="toml"):
        registry.get_format("toml")
    assert set(registry.FORMATS) == {"yaml", "json", "dotenv", "ini", "binary"}
