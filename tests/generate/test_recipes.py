"""Value makers: lengths, alphabets, encodings; validate() catches bad values."""

from __future__ import annotations

import base64
import random
import re
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sopsgen.errors import ConfigError
from sopsgen.generate.recipes import (
    SYSTEM_RANDOM,
    make_value,
    recipe_string,
    validate,
)
from sopsgen.generate.spec import CHARSETS, ValueSpec


class SeededRandom:
    """A deterministic RandomSource for tests (never for real values)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)  # test only: deterministic

    def token_bytes(self, count: int) -> bytes:
        return self._random.randbytes(count)

    def randbelow(self, upper: int) -> int:
        return self._random.randrange(upper)


KEY = ValueSpec("encryption-key", "bytes", length=32, encoding="base64", ring=True)
HEXKEY = ValueSpec("k", "bytes", length=16, encoding="hex")
PASSWORD = ValueSpec("p", "password", length=32, charset="alnum", alphabet=CHARSETS["alnum"])
SYMBOLS = ValueSpec(
    "p", "password", length=40, charset="alnum-symbols", alphabet=CHARSETS["alnum-symbols"]
)
CUSTOM = ValueSpec("p", "password", length=20, charset="custom", alphabet="abcdefghij")
HEX = ValueSpec("h", "hex", length=41)
UUID = ValueSpec("u", "uuid")
CONSTANT = ValueSpec("c", "constant", constant="admin")
PROVIDED = ValueSpec("l", "provided")
PROVIDED_KEY = ValueSpec("l", "provided", format="base64-32")
PROVIDED_HEX = ValueSpec("l", "provided", format="hex-4")
PROVIDED_UUID = ValueSpec("l", "provided", format="uuid")


def test_bytes_base64_is_like_openssl_rand() -> None:
    text = make_value(KEY)
    assert len(text) == 44
    assert text.endswith("=")
    assert len(base64.b64decode(text, validate=True)) == 32
    assert validate(KEY, text) is None


def test_bytes_hex() -> None:
    text = make_value(HEXKEY, SeededRandom(1))
    assert re.fullmatch("[0-9a-f]{32}", text)
    assert validate(HEXKEY, text) is None


@pytest.mark.parametrize("spec", [PASSWORD, SYMBOLS, CUSTOM])
def test_password_length_and_alphabet(spec: ValueSpec) -> None:
    text = make_value(spec, SeededRandom(2))
    assert len(text) == spec.length
    assert set(text) <= set(spec.alphabet or "")
    assert validate(spec, text) is None


def test_password_uses_the_whole_alphabet() -> None:
    text = make_value(ValueSpec("p", "password", length=1000, charset="alnum", alphabet="ab"))
    assert set(text) == {"a", "b"}


def test_hex_and_uuid() -> None:
    hex_text = make_value(HEX, SeededRandom(3))
    assert re.fullmatch("[0-9a-f]{41}", hex_text)
    assert validate(HEX, hex_text) is None
    uuid_text = make_value(UUID, SeededRandom(4))
    assert uuid.UUID(uuid_text).version == 4
    assert validate(UUID, uuid_text) is None


def test_random_source_is_injectable_and_default_is_system() -> None:
    assert make_value(PASSWORD, SeededRandom(5)) == make_value(PASSWORD, SeededRandom(5))
    assert make_value(PASSWORD, SYSTEM_RANDOM) != make_value(PASSWORD, SYSTEM_RANDOM)


@pytest.mark.parametrize("spec", [CONSTANT, PROVIDED])
def test_non_generated_recipes_are_refused(spec: ValueSpec) -> None:
    with pytest.raises(ConfigError, match="is not generated"):
        make_value(spec)


def test_recipe_strings() -> None:
    assert recipe_string(KEY) == "bytes/32/base64"
    assert recipe_string(HEXKEY) == "bytes/16/hex"
    assert recipe_string(PASSWORD) == "password/32/alnum"
    assert recipe_string(CUSTOM) == "password/20/custom"
    assert recipe_string(HEX) == "hex/41"
    assert recipe_string(UUID) == "uuid"
    assert recipe_string(CONSTANT) == "constant"
    assert recipe_string(PROVIDED) == "provided"
    assert recipe_string(PROVIDED_KEY) == "provided/base64-32"


SHORT_KEY = base64.b64encode(bytes(31)).decode()
LONG_KEY = base64.b64encode(bytes(33)).decode()
GOOD_KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    ("spec", "text", "problem"),
    [
        (KEY, SHORT_KEY, "decodes to 31 bytes, expected 32"),
        (KEY, LONG_KEY, "decodes to 33 bytes, expected 32"),
        (KEY, GOOD_KEY.rstrip("="), "is not standard base64"),
        (KEY, GOOD_KEY.replace("A", "-"), "is not standard base64"),
        (KEY, base64.urlsafe_b64encode(bytes([251] * 32)).decode(), "is not standard base64"),
        (KEY, GOOD_KEY + "\n", "whitespace"),
        (KEY, "", "is empty"),
        (HEXKEY, "ab" * 15, "has 30 hex digits, expected 32"),
        (HEXKEY, "zz" * 16, "characters other than hex digits"),
        (PASSWORD, "a" * 31, "has 31 characters, expected 32"),
        (PASSWORD, "a" * 31 + "!", "outside the alnum charset"),
        (HEX, "a" * 40, "has 40 hex digits, expected 41"),
        (UUID, "not-a-uuid", "is not a UUID"),
        (CONSTANT, "root", "differs from the constant"),
        (PROVIDED, "", "is empty"),
        (PROVIDED_KEY, SHORT_KEY, "decodes to 31 bytes"),
        (PROVIDED_HEX, "abc", "has 3 hex digits, expected 8"),
        (PROVIDED_UUID, "x", "is not a UUID"),
    ],
)
def test_validate_finds_problems_without_quoting_the_value(
    spec: ValueSpec, text: str, problem: str
) -> None:
    result = validate(spec, text)
    assert result is not None
    assert problem in result
    if len(text) > 3:
        assert text.strip() not in result


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        (KEY, GOOD_KEY),
        (PROVIDED_KEY, GOOD_KEY),
        (PROVIDED_HEX, "DEADbeef"),
        (PROVIDED_UUID, "123E4567-e89b-12d3-a456-426614174000"),
        (PROVIDED, "anything at all"),
        (CONSTANT, "admin"),
    ],
)
def test_validate_accepts_good_values(spec: ValueSpec, text: str) -> None:
    assert validate(spec, text) is None


@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=16, max_value=200))
def test_generated_values_always_validate(seed: int, length: int) -> None:
    rng = SeededRandom(seed)
    for spec in (
        ValueSpec("b", "bytes", length=length, encoding="base64"),
        ValueSpec("b", "bytes", length=length, encoding="hex"),
        ValueSpec(
            "p",
            "password",
            length=length,
            charset="alnum-symbols",
            alphabet=CHARSETS["alnum-symbols"],
        ),
        ValueSpec("h", "hex", length=length),
        UUID,
    ):
        assert validate(spec, make_value(spec, rng)) is None
