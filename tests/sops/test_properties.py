"""Properties of the engine (hypothesis): round trips, zero churn, tamper detection."""

from __future__ import annotations

import base64
import difflib
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sopsgen.errors import IntegrityError
from sopsgen.keys.base import Recipient
from sopsgen.sops.datakey import EncryptionPlan
from sopsgen.sops.document import decrypt_document, encrypt_document, save_document
from sopsgen.sops.tree import Mapping, Node, Sequence
from tests.helpers.sops import AgePair, normalise_all
from tests.sops.conftest import age_identities

NOW = datetime(2026, 12, 4, 19, 0, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
PROPERTY = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda k: k != "sops")
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=16)


def scalars(fmt: str) -> st.SearchStrategy[Node]:
    bound = 2**53 if fmt == "json" else 2**63 - 1  # JSON numbers are floats in sops
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-bound, bound),
        st.floats(allow_nan=False, allow_infinity=False),
        text,
    )


def trees(fmt: str) -> st.SearchStrategy[Mapping]:
    values = st.recursive(
        scalars(fmt),
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(Sequence),
            st.dictionaries(keys, inner, min_size=1, max_size=3).map(lambda d: Mapping(d.items())),
        ),
        max_leaves=10,
    )
    return st.dictionaries(keys, values, min_size=1, max_size=5).map(lambda d: Mapping(d.items()))


def plan_for(key: AgePair) -> EncryptionPlan:
    return EncryptionPlan([[Recipient("age", key.recipient)]])


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_decrypt_of_encrypt_is_identity(fmt: str, age_keys: list[AgePair]) -> None:
    @PROPERTY
    @given(tree=trees(fmt))
    def check(tree: Mapping) -> None:
        data = encrypt_document([tree], fmt, plan_for(age_keys[0]), now=NOW)
        doc = decrypt_document(data, fmt, age_identities(age_keys[0]))
        assert normalise_all(doc.branches) == normalise_all([tree])

    check()


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_resave_without_change_is_byte_identical(fmt: str, age_keys: list[AgePair]) -> None:
    @PROPERTY
    @given(tree=trees(fmt))
    def check(tree: Mapping) -> None:
        data = encrypt_document([tree], fmt, plan_for(age_keys[0]), now=NOW)
        doc = decrypt_document(data, fmt, age_identities(age_keys[0]))
        assert save_document(doc, doc.branches, now=LATER) == data
        # A fresh copy of the same tree (as an editor round trip gives) changes nothing.
        again = decrypt_document(data, fmt, age_identities(age_keys[0]))
        assert save_document(again, [_copy(tree)], now=LATER) == data

    check()


def _copy(node: Node) -> Node:
    if isinstance(node, Mapping):
        return Mapping((k, _copy(v)) for k, v in node.entries())
    if isinstance(node, Sequence):
        return Sequence(_copy(v) for v in node)
    return node


# --- one change touches one line -------------------------------------------------------

flat_trees = st.dictionaries(
    keys,
    st.one_of(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8),
        st.dictionaries(keys, st.text(min_size=1, max_size=8), min_size=1, max_size=3).map(
            lambda d: Mapping(d.items())
        ),
    ),
    min_size=2,
    max_size=6,
).map(lambda d: Mapping(d.items()))


def _leaf_paths(node: Mapping, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for key, value in node.entries():
        if isinstance(value, Mapping):
            out += _leaf_paths(value, (*prefix, key))
        else:
            out.append((*prefix, key))
    return out


def _replaced(node: Mapping, path: tuple[str, ...], value: str) -> Mapping:
    out = Mapping()
    for key, child in node.entries():
        if key == path[0]:
            child = value if len(path) == 1 else _replaced(child, path[1:], value)  # type: ignore[arg-type]
        out.append((key, child))
    return out


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_changing_one_value_changes_only_its_line_mac_and_lastmodified(
    fmt: str, age_keys: list[AgePair]
) -> None:
    @PROPERTY
    @given(tree=flat_trees, data=st.data())
    def check(tree: Mapping, data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(_leaf_paths(tree)))
        new_value = data.draw(st.text(min_size=1, max_size=8))
        before = encrypt_document([tree], fmt, plan_for(age_keys[0]), now=NOW)
        doc = decrypt_document(before, fmt, age_identities(age_keys[0]))
        after = save_document(doc, [_replaced(tree, path, new_value)], now=LATER)
        old_lines, new_lines = before.decode().splitlines(), after.decode().splitlines()
        assert len(old_lines) == len(new_lines)
        changed = [a for a, b in zip(old_lines, new_lines) if a != b]
        leaf = re.compile(rf'^\s*"?{re.escape(path[-1])}"?: ')
        expected_mac = 3 if _old_value(tree, path) != new_value else 0
        assert len(changed) == expected_mac, list(difflib.unified_diff(old_lines, new_lines))
        if changed:
            assert leaf.match(changed[0])
            assert "lastmodified" in changed[1]
            assert "mac" in changed[2]

    check()


def _old_value(tree: Mapping, path: tuple[str, ...]) -> Node:
    node: Node = tree
    for part in path:
        assert isinstance(node, Mapping)
        node = node.get(part)
    return node


# --- tampering ---------------------------------------------------------------------------

TAMPER_TREE = Mapping(
    [
        ("user", "admin"),
        ("port", 5432),
        ("list", Sequence(["a", "b", 3.5, True])),
        ("nested", Mapping([("pw", "hunter2"), ("note", "line1\nline2\n")])),
        ("clear_unencrypted", "visible"),
        ("other_unencrypted", "shown"),
    ]
)
_ENC_FIELD = re.compile(r"(data|iv|tag):([A-Za-z0-9+/=]+)")


@pytest.fixture(scope="module")
def tampered_base(age_keys: list[AgePair]) -> bytes:
    return encrypt_document([TAMPER_TREE], "yaml", plan_for(age_keys[0]), now=NOW)


def test_flipping_any_bit_of_data_iv_tag_or_mac_is_an_integrity_error(
    tampered_base: bytes, age_keys: list[AgePair]
) -> None:
    text = tampered_base.decode()
    fields = list(_ENC_FIELD.finditer(text))
    assert len(fields) >= 3 * 9  # 8 values + the mac

    @PROPERTY
    @given(
        which=st.integers(0, len(fields) - 1),
        position=st.integers(0, 10**6),
        bit=st.integers(0, 7),
    )
    def check(which: int, position: int, bit: int) -> None:
        match = fields[which]
        raw = bytearray(base64.b64decode(match.group(2)))
        raw[position % len(raw)] ^= 1 << bit
        flipped = base64.b64encode(bytes(raw)).decode()
        assert flipped != match.group(2)
        tampered = text[: match.start(2)] + flipped + text[match.end(2) :]
        with pytest.raises(IntegrityError):
            decrypt_document(tampered.encode(), "yaml", age_identities(age_keys[0]))

    check()


def test_swapped_encrypted_values_fail(tampered_base: bytes, age_keys: list[AgePair]) -> None:
    lines = tampered_base.decode().split("\n")
    user = next(i for i, line in enumerate(lines) if line.startswith("user:"))
    pw = next(i for i, line in enumerate(lines) if line.strip().startswith("pw:"))
    lines[user], lines[pw] = (
        "user:" + lines[pw].split(":", 1)[1],
        "    pw:" + lines[user].split(":", 1)[1],
    )
    with pytest.raises(IntegrityError, match="failed authentication"):
        decrypt_document("\n".join(lines).encode(), "yaml", age_identities(age_keys[0]))


def test_swapped_list_elements_are_a_mac_mismatch(
    tampered_base: bytes, age_keys: list[AgePair]
) -> None:
    # Elements of one list share their AAD, so only the MAC notices the new order.
    lines = tampered_base.decode().split("\n")
    first = next(i for i, line in enumerate(lines) if line.strip().startswith("- ENC"))
    lines[first], lines[first + 1] = lines[first + 1], lines[first]
    with pytest.raises(IntegrityError, match="MAC mismatch"):
        decrypt_document("\n".join(lines).encode(), "yaml", age_identities(age_keys[0]))


def test_swapped_clear_values_are_a_mac_mismatch(
    tampered_base: bytes, age_keys: list[AgePair]
) -> None:
    swapped = (
        tampered_base.replace(b"clear_unencrypted: visible", b"clear_unencrypted: XX")
        .replace(b"other_unencrypted: shown", b"other_unencrypted: visible")
        .replace(b"clear_unencrypted: XX", b"clear_unencrypted: shown")
    )
    assert swapped != tampered_base
    with pytest.raises(IntegrityError, match="MAC mismatch"):
        decrypt_document(swapped, "yaml", age_identities(age_keys[0]))


@given(new=st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=8))
@PROPERTY
def test_tampered_clear_value_is_a_mac_mismatch(
    new: str, tampered_base: bytes, age_keys: list[AgePair]
) -> None:
    if new == "visible":
        return
    tampered = tampered_base.replace(
        b"clear_unencrypted: visible", f"clear_unencrypted: {new}".encode()
    )
    with pytest.raises(IntegrityError, match="MAC mismatch"):
        decrypt_document(tampered, "yaml", age_identities(age_keys[0]))
