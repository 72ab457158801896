from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sopsgen.errors import FormatError
from sopsgen.sops.formats import flat

GROUPS = {
    "shamir_threshold": 2,
    "key_groups": [
        {"hc_vault": None, "age": [{"recipient": "age1a", "enc": "x\n"}]},
        {"hc_vault": None, "age": [{"recipient": "age1b", "enc": "y\n"}]},
    ],
    "lastmodified": "2026-01-01T00:00:00Z",
    "mac_only_encrypted": True,
    "version": "3.11.0",
}


def test_flatten_names_and_values() -> None:
    assert flat.flatten(GROUPS) == {
        "shamir_threshold": "2",
        "key_groups__list_0__map_age__list_0__map_recipient": "age1a",
        "key_groups__list_0__map_age__list_0__map_enc": "x\n",
        "key_groups__list_1__map_age__list_0__map_recipient": "age1b",
        "key_groups__list_1__map_age__list_0__map_enc": "y\n",
        "lastmodified": "2026-01-01T00:00:00Z",
        "mac_only_encrypted": "true",
        "version": "3.11.0",
    }


def test_unflatten_restores_shape_without_nulls() -> None:
    expected = {**GROUPS, "key_groups": [{"age": g["age"]} for g in GROUPS["key_groups"]]}  # type: ignore[attr-defined]
    assert flat.unflatten(flat.flatten(GROUPS)) == expected


def test_lists_ordered_by_numeric_index_in_any_order() -> None:
    items = {f"age__list_{i}__map_recipient": f"r{i}" for i in (10, 2, 0, 1, 3, 4, 5, 6, 7, 8, 9)}
    result = flat.unflatten(dict(sorted(items.items())))
    assert [entry["recipient"] for entry in result["age"]] == [f"r{i}" for i in range(11)]  # type: ignore[index, attr-defined]


@pytest.mark.parametrize(("text", "number"), [("2", 2), ("2.000000", 2), ("3.0", 3)])
def test_threshold_forms(text: str, number: int) -> None:
    assert flat.unflatten({"shamir_threshold": text}) == {"shamir_threshold": number}


@pytest.mark.parametrize("text", ["2.5", "two", ""])
def test_bad_threshold(text: str) -> None:
    with pytest.raises(FormatError):
        flat.unflatten({"shamir_threshold": text})


def test_mac_only_encrypted_is_true_only_for_true() -> None:
    assert flat.unflatten({"mac_only_encrypted": "True"}) == {"mac_only_encrypted": False}


@pytest.mark.parametrize(
    "keys", [["age", "age__list_0__map_enc"], ["age__list_x"], ["a__map_b", "a__list_0"]]
)
def test_conflicting_keys(keys: list[str]) -> None:
    with pytest.raises(FormatError):
        flat.unflatten(dict.fromkeys(keys, "v"))


def test_newline_escape() -> None:
    assert flat.escape_newlines("a\nb\n") == "a\\nb\\n"
    assert flat.unescape_newlines("a\\nb\\n") == "a\nb\n"


@pytest.mark.parametrize(
    ("value", "text"),
    [(1e6, "1e+06"), (123456.5, "123456.5"), (1e-5, "1e-05"), (3.0, "3"), (True, "true"), (7, "7")],
)
def test_scalar_text(value: object, text: str) -> None:
    assert flat.scalar_text(value, where="k") == text  # type: ignore[arg-type]


names = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6)
leaves = st.text(max_size=8)
metadata = st.dictionaries(
    names.filter(lambda k: k not in ("shamir_threshold", "mac_only_encrypted")),
    st.one_of(leaves, st.lists(st.dictionaries(names, leaves, min_size=1), min_size=1, max_size=3)),
    max_size=5,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(metadata)
def test_flatten_round_trip(value: dict[str, object]) -> None:
    assert flat.unflatten(flat.flatten(value)) == value
