"""Golden render of the example: byte for byte, whatever the hash seed, TZ, locale or cwd."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.helpers.example import ENV_SPECS, demo_env, sopsgen

HERE = Path(__file__).parent / "lightrun"


@pytest.mark.parametrize(("fmt", "name"), [("yaml", "expected.yaml"), ("json", "expected.json")])
def test_render_matches_golden(fmt: str, name: str) -> None:
    done = sopsgen("render", "--format", fmt, *ENV_SPECS)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (HERE / name).read_bytes()
    assert done.stderr == b""


@pytest.mark.parametrize(
    "variation",
    [
        {"PYTHONHASHSEED": "12345"},
        {"PYTHONHASHSEED": "random"},
        {"TZ": "Pacific/Kiritimati"},
        {"TZ": "America/St_Johns", "LANG": "tr_TR.UTF-8", "LC_ALL": "tr_TR.UTF-8"},
        {"LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": "latin-1"},
    ],
)
def test_same_bytes_under_other_environment(variation: dict[str, str], tmp_path: Path) -> None:
    done = sopsgen("render", *ENV_SPECS, env=demo_env(variation), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (HERE / "expected.yaml").read_bytes()


def test_relative_paths_from_another_cwd() -> None:
    example = ENV_SPECS[0].parents[2]
    done = sopsgen("render", "envs/staging/sopsgen.yaml", "envs/prod/sopsgen.yaml", cwd=example)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (HERE / "expected.yaml").read_bytes()


def test_golden_is_well_formed() -> None:
    text = (HERE / "expected.yaml").read_bytes()
    assert text.endswith(b"\n")
    assert not text.endswith(b"\n\n")
    docs = list(yaml.safe_load_all(text))
    assert [(d["metadata"]["namespace"], d["metadata"]["name"]) for d in docs] == [
        ("lightrun-staging", "lightrun-backend"),
        ("lightrun-staging", "lightrun-keycloak"),
        ("lightrun-prod", "lightrun-backend"),
        ("lightrun-prod", "lightrun-keycloak"),
    ]
    for doc in docs:
        assert list(doc["data"]) == sorted(doc["data"])
    assert {"encryption-key-0", "encryption-key-1"} <= set(docs[2]["data"])
    assert "encryption-key-1" not in docs[0]["data"]
    assert _json_stream((HERE / "expected.json").read_text()) == docs


def _json_stream(text: str) -> list[object]:
    """A stream of JSON objects, as `kubectl apply -f` and `jq` read it."""
    decoder, pos, out = json.JSONDecoder(), 0, []
    while pos < len(text.rstrip()):
        obj, end = decoder.raw_decode(text, pos)
        out.append(obj)
        pos = end + 1
    return out
