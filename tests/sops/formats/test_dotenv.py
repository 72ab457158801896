from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from sopsgen.errors import FormatError
from sopsgen.sops.formats import dotenv as fmt
from sopsgen.sops.tree import Comment, Mapping, Sequence

from .strategies import dotenv_trees

METADATA = {
    "age": [{"recipient": "age1x", "enc": "-----BEGIN-----\nabc\n-----END-----\n"}],
    "lastmodified": "2026-01-01T00:00:00Z",
    "mac": "ENC[x]",
    "unencrypted_suffix": "_unencrypted",
    "version": "3.11.0",
}
CANONICAL = (
    b'# top\nFOO=bar\nexport B=2\n  C = 3 \nML=a\\nb\n#\nQ="q"\nE=\n'
    b"sops_age__list_0__map_enc=-----BEGIN-----\\nabc\\n-----END-----\\n\n"
    b"sops_age__list_0__map_recipient=age1x\n"
    b"sops_lastmodified=2026-01-01T00:00:00Z\n"
    b"sops_mac=ENC[x]\n"
    b"sops_unencrypted_suffix=_unencrypted\n"
    b"sops_version=3.11.0\n"
)


def test_parse_rules() -> None:
    loaded = fmt.load(CANONICAL)
    assert loaded.branches == [
        Mapping(
            [
                Comment(" top"),
                ("FOO", "bar"),
                ("export B", "2"),
                ("  C ", " 3 "),
                ("ML", "a\nb"),
                Comment(""),
                ("Q", '"q"'),
                ("E", ""),
            ]
        )
    ]
    assert loaded.metadata == METADATA


def test_canonical_round_trip() -> None:
    loaded = fmt.load(CANONICAL)
    assert fmt.dump(loaded.branches, loaded.metadata) == CANONICAL


def test_metadata_lines_anywhere_and_empty_lines_dropped() -> None:
    loaded = fmt.load(b"sops_version=3.11.0\n\nA=1\nsops_mac_only_encrypted=true\n")
    assert loaded.branches == [Mapping([("A", "1")])]
    assert loaded.metadata == {"version": "3.11.0", "mac_only_encrypted": True}


def test_plaintext_with_sops_key_counts_as_metadata() -> None:
    assert fmt.load(b"sops_thing=1\n").metadata == {"thing": "1"}
    assert fmt.load(b"A=1\n").metadata is None


def test_bad_line_names_number_not_content() -> None:
    with pytest.raises(FormatError, match="line 3") as info:
        fmt.load(b"A=1\n# c\nhunter2-secret\n")
    assert "hunter2" not in str(info.value)


def test_typed_and_nested_values() -> None:
    assert fmt.dump([Mapping([("A", 1.0), ("B", True), ("C", 7)])], None) == b"A=1\nB=true\nC=7\n"
    with pytest.raises(FormatError, match="nested"):
        fmt.dump([Mapping([("A", Sequence())])], None)


@pytest.mark.parametrize("key", ["a=b", "#a", "a\nb"])
def test_unwritable_keys(key: str) -> None:
    with pytest.raises(FormatError):
        fmt.dump([Mapping([(key, "v")])], None)


def test_multi_line_comment_stays_parsable() -> None:
    out = fmt.dump([Mapping([Comment("a\n; b"), ("K", "v")])], None)
    assert out == b"#a\n#; b\nK=v\n"


def test_raw_bytes_survive() -> None:
    data = b"K=\xff\xfe\n"
    loaded = fmt.load(data)
    assert fmt.dump(loaded.branches, None) == data


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(dotenv_trees())
def test_load_dump_round_trip(branch: Mapping) -> None:
    loaded = fmt.load(fmt.dump([branch], METADATA))
    assert loaded.branches == [branch]
    assert loaded.metadata == METADATA
