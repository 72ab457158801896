from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from sopsgen.errors import FormatError
from sopsgen.sops.formats import json as fmt
from sopsgen.sops.tree import Comment, Mapping, Sequence, Timestamp

from .strategies import json_trees

METADATA = {
    "age": [{"recipient": "age1x", "enc": "a\nb\n"}],
    "lastmodified": "T",
    "version": "3.11.0",
}


def test_keeps_order_and_duplicates_and_makes_numbers_floats() -> None:
    loaded = fmt.load(b'{"b": 1, "a": [2, 2.5], "b": {"c": 12345678901234567890}}')
    assert loaded.metadata is None
    assert loaded.branches == [
        Mapping(
            [
                ("b", 1.0),
                ("a", Sequence([2.0, 2.5])),
                ("b", Mapping([("c", 1.2345678901234567e19)])),
            ]
        )
    ]
    assert isinstance(loaded.branches[0][0][1], float)  # type: ignore[index]


def test_metadata_anywhere_on_read_last_on_write() -> None:
    data = b'{"sops": {"version": "3.11.0", "shamir_threshold": 2}, "a": "x"}'
    loaded = fmt.load(data)
    assert loaded.branches == [Mapping([("a", "x")])]
    assert loaded.metadata == {"version": "3.11.0", "shamir_threshold": 2}
    assert isinstance(loaded.metadata["shamir_threshold"], int)
    out = fmt.dump(loaded.branches, loaded.metadata)
    assert out == (
        b'{\n\t"a": "x",\n\t"sops": {\n\t\t"version": "3.11.0",\n'
        b'\t\t"shamir_threshold": 2\n\t}\n}\n'
    )


@pytest.mark.parametrize("data", [b"[1]", b'"x"', b"{", b'{"a": NaN}', b"\xff", b'{"sops": 1}'])
def test_rejects_bad_input(data: bytes) -> None:
    with pytest.raises(FormatError):
        fmt.load(data)


def test_error_names_position() -> None:
    with pytest.raises(FormatError, match="line 2 column"):
        fmt.load(b'{"a": "secret",\n "b": }')


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (-0.0, "-0"),
        (0.5, "0.5"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-10, "1.5e-10"),
        (1.2345678901234567e19, "12345678901234567000"),
        (1.2345678901234568e29, "1.2345678901234568e+29"),
        (5e-324, "5e-324"),
        (-1e300, "-1e+300"),
    ],
)
def test_floats_like_go(value: float, text: str) -> None:
    assert fmt.encode_float(value) == text


def test_string_escapes_like_go() -> None:
    raw = 'a\b\f\n\r\t\x01\x1f\x7f\u2028\u2029"\\/<>&é😀'
    expected = '"a\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\\u2028\\u2029\\"\\\\/\\u003c\\u003e\\u0026é😀"'
    assert fmt.encode_string(raw) == expected


def test_layout_comments_empty_containers_and_odd_scalars() -> None:
    branch = Mapping(
        [
            Comment("dropped"),
            ("m", Mapping()),
            ("l", Sequence([Comment("gone")])),
            ("s", Sequence([True, None, 3, Timestamp("2024-01-02T00:00:00Z"), b"raw"])),
        ]
    )
    assert fmt.dump([branch], None) == (
        b'{\n\t"m": {},\n\t"l": [],\n\t"s": [\n\t\ttrue,\n\t\tnull,\n\t\t3,\n'
        b'\t\t"2024-01-02T00:00:00Z",\n\t\t"raw"\n\t]\n}\n'
    )
    assert fmt.dump([Mapping()], None) == b"{}\n"


def test_indent_parameter() -> None:
    assert fmt.dump([Mapping([("a", Sequence([1.0]))])], None, indent="  ") == (
        b'{\n  "a": [\n    1\n  ]\n}\n'
    )


def test_one_branch_only() -> None:
    with pytest.raises(FormatError):
        fmt.dump([Mapping(), Mapping()], None)


def test_nan_cannot_be_written() -> None:
    with pytest.raises(FormatError):
        fmt.dump([Mapping([("a", float("nan"))])], None)


def test_canonical_bytes_round_trip() -> None:
    data = (
        '{\n\t"a": 1.5,\n\t"a": [\n\t\t1,\n\t\t"\\u003cé\\n",\n\t\tfalse,\n'
        '\t\tnull,\n\t\t{}\n\t],\n\t"sops": {\n\t\t"age": [\n\t\t\t{\n'
        '\t\t\t\t"recipient": "age1x",\n\t\t\t\t"enc": "a\\nb\\n"\n'
        '\t\t\t}\n\t\t],\n\t\t"lastmodified": "T",\n\t\t"version": "3.11.0"\n\t}\n}\n'
    ).encode()
    loaded = fmt.load(data)
    assert loaded.metadata == METADATA
    assert fmt.dump(loaded.branches, loaded.metadata) == data


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(json_trees())
def test_load_dump_round_trip(branch: Mapping) -> None:
    loaded = fmt.load(fmt.dump([branch], METADATA))
    assert loaded.branches == [branch]
    assert loaded.metadata == METADATA
