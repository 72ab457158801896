"""keystore: generate / set / rotate / retire / adopt / check on real age-encrypted stores."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyrage
import pytest
import yaml

from sopsgen.errors import ConfigError, FormatError, StoreConflictError
from sopsgen.generate.adopt import adopt
from sopsgen.generate.checks import check_store, shared_values
from sopsgen.generate.keystore import (
    due_rings,
    generate_missing,
    retire,
    rotate,
    set_provided,
)
from sopsgen.generate.spec import Spec, load_spec
from sopsgen.generate.store import Entry, Store, open_store
from sopsgen.keys.base import Identities, Recipient
from sopsgen.sops.datakey import EncryptionPlan

T0 = datetime(2026, 1, 1, tzinfo=UTC)

SPEC: dict[str, Any] = {
    "apiVersion": "sopsgen.io/v1alpha1",
    "kind": "SecretGenerator",
    "metadata": {"name": "app"},
    "store": "secrets.sops.yaml",
    "values": {
        "encryption-key": {
            "generate": "bytes",
            "length": 32,
            "ring": True,
            "rotateAfter": "90d",
        },
        "session-key": {"generate": "hex", "length": 32, "ring": True},
        "db-password": {"generate": "password", "length": 24},
        "db-user": {"provided": True},
        "api-key": {"provided": True, "format": "base64-32"},
        "admin-user": {"constant": "admin"},
    },
    "secrets": [
        {
            "name": "app-secrets",
            "namespace": "app",
            "data": {
                "DB_PASSWORD": "db-password",
                "DATASOURCE_PASSWORD": "db-password",
                "DB_USER": "db-user",
                "API_KEY": "api-key",
                "ADMIN": "admin-user",
                "encryption-key-*": "encryption-key",
            },
        }
    ],
}


class Keys:
    def __init__(self) -> None:
        identity = pyrage.x25519.Identity.generate()
        self.identity = str(identity)
        self.recipient = str(identity.to_public())
        self.ids = Identities(age=[self.identity])
        self.plan = EncryptionPlan([[Recipient("age", self.recipient)]])


@pytest.fixture
def keys() -> Keys:
    return Keys()


def make_spec(folder: Path, name: str = "sopsgen.yaml", **overrides: Any) -> Spec:
    path = folder / name
    path.write_text(yaml.safe_dump({**SPEC, **overrides}, sort_keys=False))
    return load_spec(path)


def save(store: Store, keys: Keys, now: datetime = T0) -> Store:
    store.path.write_bytes(store.encoded(now=now, plan=keys.plan, identities=keys.ids))
    return open_store(store.path, keys.ids)


def b64(count: int, fill: int = 7) -> str:
    return base64.b64encode(bytes([fill]) * count).decode()


def test_generate_creates_only_missing_values(tmp_path: Path, keys: Keys) -> None:
    spec = make_spec(tmp_path)
    store = Store(spec.store_path)
    changes = generate_missing(spec, store, now=T0)
    assert [c.name for c in changes] == ["encryption-key-0", "session-key-0", "db-password"]
    assert all(c.action == "created" for c in changes)
    assert len(base64.b64decode(store.entries["encryption-key-0"].value)) == 32
    assert store.entries["encryption-key-0"].ring == "encryption-key"
    assert store.entries["encryption-key-0"].index == 0
    reopened = save(store, keys)
    before = reopened.values()
    assert generate_missing(spec, reopened, now=T0 + timedelta(days=1)) == []
    assert reopened.values() == before


def test_generated_values_never_appear_in_change_lines(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    store = Store(spec.store_path)
    for change in generate_missing(spec, store, now=T0):
        for value in store.values().values():
            assert value not in change.describe()


def test_store_metadata_is_readable_and_round_trips(tmp_path: Path, keys: Keys) -> None:
    spec = make_spec(tmp_path)
    store = Store(spec.store_path)
    generate_missing(spec, store, now=T0)
    reopened = save(store, keys)
    entry = reopened.entries["encryption-key-0"]
    assert (entry.created, entry.recipe, entry.ring, entry.index) == (
        "2026-01-01T00:00:00Z",
        "bytes/32/base64",
        "encryption-key",
        0,
    )
    raw = yaml.safe_load(spec.store_path.read_text())
    assert raw["meta"]["db-password"]["recipe"] == "password/24/alnum"
    assert raw["values"]["db-password"].startswith("ENC[AES256_GCM,")


def test_set_validates_against_recipe(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    store = Store(spec.store_path)
    with pytest.raises(FormatError, match="decodes to 31 bytes, expected 32") as caught:
        set_provided(spec, store, "api-key", b64(31), now=T0)
    assert b64(31) not in caught.value.one_line()
    assert set_provided(spec, store, "api-key", b64(32), now=T0).action == "created"
    assert set_provided(spec, store, "api-key", b64(32), now=T0).action == "unchanged"
    assert set_provided(spec, store, "api-key", b64(32, 9), now=T0).action == "replaced"
    assert store.entries["api-key"].origin == "set"


@pytest.mark.parametrize("name", ["db-password", "admin-user", "encryption-key"])
def test_set_refuses_values_that_are_not_provided(tmp_path: Path, name: str) -> None:
    spec = make_spec(tmp_path)
    with pytest.raises(ConfigError, match="not a provided one"):
        set_provided(spec, Store(spec.store_path), name, "x", now=T0)


def test_rotate_appends_and_keeps_members(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    store = Store(spec.store_path)
    generate_missing(spec, store, now=T0)
    first = store.entries["encryption-key-0"]
    change = rotate(spec, store, "encryption-key", now=T0 + timedelta(days=1))
    assert change.name == "encryption-key-1"
    assert store.entries["encryption-key-0"] is first
    assert store.entries["encryption-key-1"].value != first.value
    assert store.entries["encryption-key-1"].index == 1


def test_rotate_refuses_a_plain_value(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    with pytest.raises(ConfigError, match="db-password is not a ring"):
        rotate(spec, Store(spec.store_path), "db-password", now=T0)


def test_due_rings_uses_the_injected_clock_and_the_newest_member(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    store = Store(spec.store_path)
    generate_missing(spec, store, now=T0)
    assert due_rings(spec, store, now=T0 + timedelta(days=89)) == []
    # session-key has no rotateAfter: never due.
    assert due_rings(spec, store, now=T0 + timedelta(days=90)) == ["encryption-key"]
    rotate(spec, store, "encryption-key", now=T0 + timedelta(days=90))
    assert due_rings(spec, store, now=T0 + timedelta(days=100)) == []


def test_retire_refusals_and_success(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    store = Store(spec.store_path)
    generate_missing(spec, store, now=T0)
    with pytest.raises(StoreConflictError, match="newest member"):
        retire(spec, store, "encryption-key", 0)
    rotate(spec, store, "encryption-key", now=T0)
    with pytest.raises(StoreConflictError, match=r"has no member 5 \(members: 0, 1\)"):
        retire(spec, store, "encryption-key", 5)
    with pytest.raises(ConfigError, match="not a ring"):
        retire(spec, store, "db-password", 0)
    change = retire(spec, store, "encryption-key", 0)
    assert change.describe() == "removed encryption-key-0 (encryption-key keeps 1 member)"
    assert "encryption-key-0" not in store.entries
    with pytest.raises(StoreConflictError, match="newest member"):
        retire(spec, store, "encryption-key", 1)


def secret(data: dict[str, str], string_data: dict[str, str] | None = None) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "app-secrets", "namespace": "app", "uid": "x"},
        "type": "Opaque",
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }
    if string_data:
        manifest["stringData"] = string_data
    return manifest


def test_adopt_maps_keys_and_ring_members(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    store = Store(spec.store_path)
    manifest = secret(
        {
            "DB_PASSWORD": "pw",
            "DATASOURCE_PASSWORD": "pw",
            "encryption-key-0": b64(32, 1),
            "encryption-key-2": b64(32, 2),
            "ADMIN": "admin",
            "UNKNOWN": "zzz",
        },
        {"DB_USER": "app"},
    )
    with pytest.raises(FormatError, match="has 2 characters, expected 24"):
        adopt(spec, store, [manifest], now=T0)
    manifest["data"]["DB_PASSWORD"] = manifest["data"]["DATASOURCE_PASSWORD"] = base64.b64encode(
        b"p" * 24
    ).decode()
    changes = adopt(spec, store, [{"kind": "List", "items": [manifest]}], now=T0)
    assert sorted(store.entries) == [
        "db-password",
        "db-user",
        "encryption-key-0",
        "encryption-key-2",
    ]
    assert store.entries["encryption-key-2"].index == 2
    assert store.entries["db-user"].origin == "adopted"
    assert "ignored Secret app-secrets key UNKNOWN (the spec maps no value to it)" in [
        c.describe() for c in changes
    ]


def test_adopt_refuses_conflicts(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    store = Store(spec.store_path)
    store.entries["db-user"] = Entry("old", "2026-01-01T00:00:00Z", "provided")
    with pytest.raises(StoreConflictError, match="refusing to overwrite"):
        adopt(spec, store, [secret({"DB_USER": "new"})], now=T0)
    assert store.entries["db-user"].value == "old"
    with pytest.raises(StoreConflictError, match="both map to db-password"):
        adopt(
            spec,
            store,
            [secret({"DB_PASSWORD": "a" * 24, "DATASOURCE_PASSWORD": "b" * 24})],
            now=T0,
        )
    with pytest.raises(ConfigError, match="no Secret in the input"):
        adopt(spec, store, [{**secret({}), "metadata": {"name": "other"}}], now=T0)


def test_check_reports_each_problem_without_values(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    store = Store(spec.store_path)
    generate_missing(spec, store, now=T0)
    short = b64(31)
    store.entries["encryption-key-0"].value = short
    problems = check_store(spec, store, now=T0 + timedelta(days=91))
    lines = [p.describe() for p in problems]
    where = str(spec.store_path)
    assert f"{where}: db-user: missing (create it with `sopsgen set db-user`)" in lines
    assert any(line.startswith(f"{where}: api-key: missing") for line in lines)
    assert f"{where}: encryption-key-0: value decodes to 31 bytes, expected 32" in lines
    assert (
        f"{where}: encryption-key: newest member is 91d old, past rotateAfter 90d; "
        "run `sopsgen rotate encryption-key`" in lines
    )
    assert len(lines) == 4
    assert all(short not in line for line in lines)


def test_shared_values_names_both_stores(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    spec_a, spec_b = make_spec(tmp_path / "a"), make_spec(tmp_path / "b")
    store_a, store_b = Store(spec_a.store_path), Store(spec_b.store_path)
    generate_missing(spec_a, store_a, now=T0)
    generate_missing(spec_b, store_b, now=T0)
    assert shared_values([(spec_a, store_a), (spec_b, store_b)]) == []
    store_b.entries["db-password"].value = store_a.entries["db-password"].value
    (problem,) = shared_values([(spec_a, store_a), (spec_b, store_b)])
    assert str(spec_a.store_path) in problem.describe()
    assert str(spec_b.store_path) in problem.describe()
    assert store_a.entries["db-password"].value not in problem.describe()
