"""Shamir over GF(2^8) with 0x11B: the sops known-answer vector and split/combine properties."""

from __future__ import annotations

from itertools import combinations, permutations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sopsgen.errors import IntegrityError, KeyUnavailableError
from sopsgen.keys.shamir import combine, gf_inv, gf_mul, split

# SOPS-FORMAT.md section 6: shares of a real sops file with 3 groups, threshold 2.
KAT_SHARES = [
    bytes.fromhex("047a18cdbf3ffa3afb414527ba5c53ad2b9fec585c4db3684739e5870fa1b6ec01"),
    bytes.fromhex("05bd31d4bba6eaf13041667aba17c1a166b06369dd03c22a00b3c3765dc1df1e02"),
    bytes.fromhex("f309df2a4ed1134180418eb8ba2e46a55d5cef8fa239ed143d3c28d09ae1f8b903"),
]
KAT_KEY = bytes.fromhex("f2cef6334a48038a4b41ade5ba65d4a9107360be23779c567ab60e21c881914b")


def test_field_check_value() -> None:
    assert gf_mul(0x53, 0xCA) == 0x01


def test_every_nonzero_element_has_an_inverse() -> None:
    assert all(gf_mul(a, gf_inv(a)) == 1 for a in range(1, 256))


@pytest.mark.parametrize("pair", list(permutations(KAT_SHARES, 2)))
def test_kat_every_pair(pair: tuple[bytes, bytes]) -> None:
    assert combine(pair) == KAT_KEY


def test_kat_all_three() -> None:
    assert combine(KAT_SHARES) == KAT_KEY


def test_split_layout_matches_sops() -> None:
    shares = split(KAT_KEY, 3, 2)
    assert [len(s) for s in shares] == [33, 33, 33]
    assert [s[-1] for s in shares] == [1, 2, 3]  # x = i + 1, as sops 3.10+


def test_random_source_is_injectable() -> None:
    # Zero coefficients make every polynomial constant: each share's y-bytes equal the secret.
    shares = split(b"abc", 2, 2, random_bytes=lambda n: bytes(n))
    assert shares == [b"abc\x01", b"abc\x02"]


@given(
    secret=st.binary(min_size=1, max_size=40),
    parts_threshold=st.integers(2, 8).flatmap(lambda n: st.tuples(st.just(n), st.integers(2, n))),
    data=st.data(),
)
def test_split_combine_property(
    secret: bytes, parts_threshold: tuple[int, int], data: st.DataObject
) -> None:
    parts, threshold = parts_threshold
    shares = split(secret, parts, threshold)
    chosen = data.draw(st.permutations(shares)).copy()[: data.draw(st.integers(threshold, parts))]
    assert combine(chosen) == secret


def test_below_threshold_gives_a_different_secret() -> None:
    shares = split(KAT_KEY, 3, 3)
    assert all(combine(pair) != KAT_KEY for pair in combinations(shares, 2))
    assert combine(shares) == KAT_KEY


@pytest.mark.parametrize("shares", [[], [KAT_SHARES[0]]])
def test_too_few_shares(shares: list[bytes]) -> None:
    with pytest.raises(KeyUnavailableError, match="need 2 or more"):
        combine(shares)


@pytest.mark.parametrize(
    "shares",
    [
        [KAT_SHARES[0], KAT_SHARES[0]],  # repeated x
        [KAT_SHARES[0], KAT_SHARES[1][:-2] + b"\x02"],  # lengths differ
        [KAT_SHARES[0], KAT_SHARES[1][:-1] + b"\x00"],  # x = 0
        [b"\x01", b"\x02"],  # no y bytes
    ],
)
def test_malformed_shares(shares: list[bytes]) -> None:
    with pytest.raises(IntegrityError):
        combine(shares)


@pytest.mark.parametrize(("parts", "threshold"), [(3, 1), (2, 3), (256, 2), (1, 1)])
def test_bad_split_parameters(parts: int, threshold: int) -> None:
    with pytest.raises(KeyUnavailableError, match="threshold"):
        split(KAT_KEY, parts, threshold)


def test_empty_secret_is_refused() -> None:
    with pytest.raises(KeyUnavailableError):
        split(b"", 2, 2)
