"""Shamir secret sharing over GF(2^8), share-compatible with sops key groups.

A share is the y-values of every secret byte followed by one byte holding its x-coordinate
(so a 32-byte data key gives 33-byte shares). Split uses x = 1..n like sops 3.10+; combine
reads x from each share's last byte, so files from older sops (random x) combine too.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence

from sopsgen.errors import IntegrityError, KeyUnavailableError

# The AES reduction polynomial x^8 + x^4 + x^3 + x + 1, as sops (via Vault) uses.
_POLY = 0x11B

RandomBytes = Callable[[int], bytes]


def gf_mul(a: int, b: int) -> int:
    """Carry-less multiply reduced by 0x11B; loops a fixed 8 times (no data-dependent exit)."""
    product = 0
    for _ in range(8):
        product ^= a * (b & 1)  # a * 0 or a * 1: no branch on the secret bit
        carry = (a >> 7) & 1
        a = ((a << 1) & 0xFF) ^ (0x1B * carry)
        b >>= 1
    return product


def gf_inv(a: int) -> int:
    """Multiplicative inverse as a^254 (the group has order 255); 0 maps to 0."""
    result = 1
    base = a
    exponent = 254
    while exponent:
        if exponent & 1:
            result = gf_mul(result, base)
        base = gf_mul(base, base)
        exponent >>= 1
    return result


def _eval(coefficients: Sequence[int], x: int) -> int:
    """Horner's rule: coefficients[0] is the constant term."""
    y = 0
    for c in reversed(coefficients):
        y = gf_mul(y, x) ^ c
    return y


def split(
    secret: bytes, parts: int, threshold: int, *, random_bytes: RandomBytes = secrets.token_bytes
) -> list[bytes]:
    """Split `secret` into `parts` shares, any `threshold` of which rebuild it."""
    _check_split(secret, parts, threshold)
    xs = list(range(1, parts + 1))
    ys: list[bytearray] = [bytearray() for _ in xs]
    for byte in secret:
        coefficients = [byte, *random_bytes(threshold - 1)]
        for i, x in enumerate(xs):
            ys[i].append(_eval(coefficients, x))
    return [bytes(y) + bytes([x]) for x, y in zip(xs, ys)]


def _check_split(secret: bytes, parts: int, threshold: int) -> None:
    if not secret:
        raise KeyUnavailableError("cannot split an empty secret into Shamir shares")
    if not 2 <= threshold <= parts <= 255:
        raise KeyUnavailableError(
            f"cannot split the data key: need 2 <= threshold ({threshold}) "
            f"<= key groups ({parts}) <= 255",
            hint="lower shamir_threshold or add key groups",
        )


def combine(shares: Sequence[bytes]) -> bytes:
    """Rebuild the secret from >= threshold shares (extra shares are harmless)."""
    _check_shares(shares)
    xs = [share[-1] for share in shares]
    weights = [_lagrange_weight_at_zero(xs, i) for i in range(len(xs))]
    length = len(shares[0]) - 1
    out = bytearray(length)
    for j in range(length):
        acc = 0
        for share, weight in zip(shares, weights):
            acc ^= gf_mul(share[j], weight)
        out[j] = acc
    return bytes(out)


def _lagrange_weight_at_zero(xs: Sequence[int], i: int) -> int:
    """Prod over m != i of x_m / (x_i - x_m); subtraction is XOR in GF(2^8)."""
    weight = 1
    for m, x_m in enumerate(xs):
        if m != i:
            weight = gf_mul(weight, gf_mul(x_m, gf_inv(xs[i] ^ x_m)))
    return weight


def _check_shares(shares: Sequence[bytes]) -> None:
    if len(shares) < 2:
        raise KeyUnavailableError(
            f"cannot rebuild the data key: {len(shares)} Shamir share(s) recovered, need 2 or more",
            hint="provide identities for more key groups",
        )
    if len({len(s) for s in shares}) != 1 or len(shares[0]) < 2:
        raise IntegrityError("cannot rebuild the data key: Shamir shares differ in length")
    xs = [s[-1] for s in shares]
    if 0 in xs or len(set(xs)) != len(xs):
        raise IntegrityError("cannot rebuild the data key: Shamir shares have zero or repeated x")
