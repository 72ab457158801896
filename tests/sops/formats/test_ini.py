from __future__ import annotations

import pytest

from sopsgen.errors import FormatError
from sopsgen.sops.formats import ini as fmt
from sopsgen.sops.tree import Comment, Mapping, Sequence

METADATA = {
    "shamir_threshold": 2,
    "key_groups": [
        {"age": [{"recipient": "age1a", "enc": "x\ny\n"}]},
        {"age": [{"recipient": "age1b", "enc": "z\n"}]},
    ],
    "lastmodified": "2026-01-01T00:00:00Z",
    "mac": "ENC[x]",
    "version": "3.11.0",
}

CANONICAL = b"""; top
global = 1

[database]
; above user
; inline
user     = admin
password = secret

; above sec
[other]
k = v

[database]
x = y

[sops]
key_groups__list_0__map_age__list_0__map_enc       = x\\ny\\n
key_groups__list_0__map_age__list_0__map_recipient = age1a
key_groups__list_1__map_age__list_0__map_enc       = z\\n
key_groups__list_1__map_age__list_0__map_recipient = age1b
lastmodified                                       = 2026-01-01T00:00:00Z
mac                                                = ENC[x]
shamir_threshold                                   = 2
version                                            = 3.11.0
"""


def section(*items: object) -> Mapping:
    return Mapping(items)  # type: ignore[arg-type]


def test_shape_of_sections_and_comments() -> None:
    loaded = fmt.load(
        b"; top\nglobal = 1\n[database]\n; above user\nuser = admin ; inline\npassword=secret\n\n"
        b"# above sec\n[other]\nk = v\n[database]\nx = y\n"
    )
    assert loaded.metadata is None
    assert loaded.branches == [
        Mapping(
            [
                ("DEFAULT", section(("global", "1"), Comment("top"))),
                (
                    "database",
                    section(
                        ("user", "admin"), Comment("above user\n; inline"), ("password", "secret")
                    ),
                ),
                ("other", section(Comment("above sec"), ("k", "v"))),
                ("database", section(("x", "y"))),
            ]
        )
    ]


def test_canonical_round_trip_and_metadata() -> None:
    loaded = fmt.load(CANONICAL)
    assert loaded.metadata == METADATA
    assert fmt.dump(loaded.branches, loaded.metadata) == CANONICAL


def test_metadata_any_order_and_old_threshold() -> None:
    loaded = fmt.load(
        b"[sops]\nversion = 3.11.0\nshamir_threshold = 2.000000\nmac_only_encrypted = true\n"
    )
    assert loaded.metadata == {
        "version": "3.11.0",
        "shamir_threshold": 2,
        "mac_only_encrypted": True,
    }
    assert loaded.branches == [Mapping([("DEFAULT", Mapping())])]


def test_top_comment_without_default_keys_goes_to_first_section() -> None:
    loaded = fmt.load(b"; top\n\n[sec]\na = 1\n; lost at the end\n")
    assert loaded.branches == [
        Mapping([("DEFAULT", Mapping()), ("sec", section(Comment("top"), ("a", "1")))])
    ]
    assert fmt.dump(loaded.branches, None) == b"; top\n[sec]\na = 1\n"


@pytest.mark.parametrize(
    ("line", "value", "comment"),
    [
        ("a = b;c", "b", "c"),
        ("a = e #f", "e", "f"),
        ('a = "quoted"', "quoted", None),
        ("a = 'sq'", "sq", None),
        ('a = "x ; y"', '"x', 'y"'),
        ('a = "a"b"', '"a"b"', None),
        ("a = `x;y` rest", "x;y", None),
        ("a: v", "v", None),
        ("a =", "", None),
        ("  a  =  v  ", "v", None),
    ],
)
def test_value_rules(line: str, value: str, comment: str | None) -> None:
    body = fmt.load(f"[s]\n{line}\n".encode()).branches[0].get("s")
    expected = [("a", value)] + ([Comment(comment)] if comment else [])
    assert body == Mapping(expected)


def test_triple_quoted_multi_line_value() -> None:
    data = b'[s]\nk = """line1\nline2"""\nz = 1\n'
    loaded = fmt.load(data)
    assert loaded.branches[0].get("s") == section(("k", "line1\nline2"), ("z", "1"))
    assert fmt.dump(loaded.branches, None) == data


def test_repeated_key_keeps_first_position_last_value() -> None:
    loaded = fmt.load(b"[s]\na = 1\nb = 2\na = 3\n")
    assert loaded.branches[0].get("s") == section(("a", "3"), ("b", "2"))


def test_explicit_default_and_odd_section_names() -> None:
    data = b"x = 1\n\n[ spaced ]\nk = v\n\n[empty]\n\n[DEFAULT]\nz = 1\n"
    loaded = fmt.load(data)
    assert [name for name, _ in loaded.branches[0].entries()] == [
        "DEFAULT",
        " spaced ",
        "empty",
        "DEFAULT",
    ]
    assert fmt.dump(loaded.branches, None) == data


@pytest.mark.parametrize(
    "data", [b"[s]\nnoval\n", b"[s\n", b"[]\n", b"[s]\nk = `open\n", b'[s]\nk = """open\n']
)
def test_errors_name_the_line(data: bytes) -> None:
    with pytest.raises(FormatError, match="line"):
        fmt.load(data)


def test_error_never_echoes_content() -> None:
    with pytest.raises(FormatError) as info:
        fmt.load(b"[s]\nhunter2\n")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    "value", ["a;b", "  pad", "x#y", '"q"', "'q'", 'in"side ', "multi\nline", "tick`s", '"""x']
)
def test_quoting_reads_back(value: str) -> None:
    tree = [Mapping([("DEFAULT", Mapping()), ("s", section(("k", value)))])]
    assert fmt.load(fmt.dump(tree, None)).branches == tree


def test_comment_written_above_key_and_header() -> None:
    tree = [
        Mapping(
            [
                ("DEFAULT", Mapping()),
                ("s", section(Comment("head"), ("k", "v"), Comment("#c2\n; c3"))),
            ]
        )
    ]
    assert fmt.dump(tree, None) == b"; head\n[s]\n# c2\n; c3\nk = v\n"
    assert fmt.load(fmt.dump(tree, None)).branches == [
        Mapping(
            [
                ("DEFAULT", Mapping()),
                ("s", section(Comment("head"), ("k", "v"), Comment("c2\n; c3"))),
            ]
        )
    ]


def test_load_dump_load_is_stable() -> None:
    data = b"; a\nk=1 ; b\n[s]\n;c\n\nq = `x;y` ; d\n[t] ; e\n"
    once = fmt.load(data)
    again = fmt.load(fmt.dump(once.branches, None))
    assert again == once


def test_typed_values_and_nesting() -> None:
    tree = [Mapping([("s", section(("f", 1.0), ("b", False)))])]
    assert fmt.dump(tree, None) == b"[s]\nf = 1\nb = false\n"
    with pytest.raises(FormatError):
        fmt.dump([Mapping([("s", "not a section")])], None)
    with pytest.raises(FormatError):
        fmt.dump([Mapping([("s", section(("k", Sequence())))])], None)
