"""Interop with the real sops 3.11 binary, both directions.

* sops -> sopsgen: `sops encrypt` output, decrypted by `decrypt_document`, gives the tree of
  the plaintext (and `dump_plaintext` prints what `sops decrypt` prints).
* sopsgen -> sops: `encrypt_document` output, decrypted by `sops decrypt`, gives the tree of
  the plaintext (MAC checked by sops).

For every format x (age, pgp, two recipients, 2-of-3 Shamir key groups), and for every
selection setting, where the same leaves must be encrypted on both sides.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sopsgen.errors import KeyUnavailableError
from sopsgen.keys.base import Identities, Recipient
from sopsgen.sops.cipher import is_encrypted
from sopsgen.sops.datakey import EncryptionPlan
from sopsgen.sops.document import decrypt_document, dump_plaintext, encrypt_document
from sopsgen.sops.formats.registry import get_format
from sopsgen.sops.selection import Selection
from sopsgen.sops.tree import Comment, Leaf, Mapping, Node, walk
from tests.helpers.sops import AgePair, SopsRunner, normalise_all
from tests.keys.conftest import GpgKey
from tests.sops.conftest import age_identities

pytestmark = pytest.mark.interop

NOW = datetime(2026, 12, 4, 19, 40, 31, tzinfo=UTC)

PLAINTEXT: dict[str, bytes] = {
    "yaml": """\
# top comment
db:
    user: admin
    port: 5432
    negative: -17
    ratio: 0.75
    whole: 3.0
    big: 1e20
    enabled: true
    disabled: false
    born: 2024-01-02
    stamp: 2001-12-14T21:59:43.10-05:00
    empty: ""
    nothing: null
    # inside db
    note: |
        line1
        line2
    unicode: "h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c"
    quoted_number: "12"
    tags:
        - a
        - 7
        - 1.5
        - true
        # a list comment
        - nested: map
          inner:
            - 1
            - 2
        - - inner1
          - inner2
    pw_unencrypted: open
top_list:
    - x
# trailing comment
last: value
""".encode(),
    "json": json.dumps(
        {
            "user": "admin",
            "port": 5432,
            "ratio": 0.75,
            "big": 1e20,
            "small": 1e-7,
            "neg": -3,
            "enabled": True,
            "empty": "",
            "nothing": None,
            "multi": "line1\nline2\n",
            "unicode": "h\u00e9llo <&> \u2713",
            "nested": {
                "list": [1, "two", 3.5, False, None, {"k": "v"}, [1, 2]],
                "map": {"a": "b"},
            },
            "pw_unencrypted": "open",
        },
        indent="\t",
        ensure_ascii=False,
    ).encode()
    + b"\n",
    "dotenv": (
        "# a comment\nUSER=admin\nPORT=5432\nEMPTY=\nMULTI=line1\\nline2\n"
        'UNICODE=h\u00e9llo \u2713\nQUOTED="quoted value"\npw_unencrypted=open\n'
    ).encode(),
    "ini": (
        "top_key = top\n\n; section comment\n[database]\nuser = admin\n; key comment\n"
        "password = s3cret\nempty =\nunicode = h\u00e9llo \u2713\n\n[other]\n"
        "pw_unencrypted = open\n"
    ).encode(),
    "binary": b"\x00\x01binary \xff\xfe data\nsecond line\n",
}
EXTENSIONS = {"yaml": "yaml", "json": "json", "dotenv": "env", "ini": "ini", "binary": "bin"}


@dataclass(frozen=True)
class KeySet:
    """Recipients for both tools, and the identities that must (or must not) decrypt."""

    plan: EncryptionPlan
    config: str  # .sops.yaml text for sops
    decrypt_age: list[AgePair]
    decrypt_pgp: bool


def key_set(name: str, ages: list[AgePair], gpg: GpgKey) -> KeySet:
    a1, a2, a3 = ages
    age, pgp = (lambda k: Recipient("age", k.recipient)), Recipient("pgp", gpg.fp)
    if name == "age":
        return KeySet(EncryptionPlan([[age(a1)]]), _rule(f"age: {a1.recipient}"), [a1], False)
    if name == "pgp":
        return KeySet(EncryptionPlan([[pgp]]), _rule(f"pgp: {gpg.fp}"), [], True)
    if name == "age+age":
        plan = EncryptionPlan([[age(a1), age(a2)]])
        return KeySet(plan, _rule(f"age: {a1.recipient},{a2.recipient}"), [a2], False)
    if name == "age+pgp":
        plan = EncryptionPlan([[age(a1), pgp]])
        return KeySet(plan, _rule(f"age: {a1.recipient}\n    pgp: {gpg.fp}"), [], True)
    assert name == "shamir"
    plan = EncryptionPlan([[age(a1)], [age(a2)], [age(a3)]], shamir_threshold=2)
    groups = "".join(f"\n      - age: [{k.recipient}]" for k in ages)
    return KeySet(plan, _rule(f"shamir_threshold: 2\n    key_groups:{groups}"), [a2, a3], False)


def _rule(body: str) -> str:
    return f"creation_rules:\n  - {body}\n"


KEY_SETS = ["age", "pgp", "age+age", "age+pgp", "shamir"]
FORMATS = list(PLAINTEXT)


@pytest.fixture
def keys(request: pytest.FixtureRequest, age_keys: list[AgePair], gpg_key: GpgKey) -> KeySet:
    return key_set(request.param, age_keys, gpg_key)


def identities_for(keys: KeySet, gpg: GpgKey, empty_gnupg: Path) -> Identities:
    return age_identities(
        *keys.decrypt_age, gnupg_home=gpg.home if keys.decrypt_pgp else empty_gnupg
    )


def sops_decrypt_env(keys: KeySet, gpg: GpgKey, empty_gnupg: Path) -> dict[str, object]:
    return {
        "age": [k.identity for k in keys.decrypt_age],
        "gnupg_home": gpg.home if keys.decrypt_pgp else empty_gnupg,
    }


def plain_tree(fmt: str, data: bytes | None = None) -> list[Mapping]:
    return get_format(fmt).load(PLAINTEXT[fmt] if data is None else data).branches


def lines(data: bytes) -> list[str]:
    """Readable diffs on failure; keeps every byte (undecodable ones escaped)."""
    return data.decode("utf-8", "backslashreplace").split("\n")


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def sops_encrypt(
    sops: SopsRunner, tmp_path: Path, fmt: str, config: str, *flags: str, gpg: GpgKey
) -> bytes:
    source = write(tmp_path, f"plain.{EXTENSIONS[fmt]}", PLAINTEXT[fmt])
    cfg = write(tmp_path, "sops-config.yaml", config.encode())
    return sops.ok("--config", str(cfg), *flags, "encrypt", str(source), gnupg_home=gpg.home)


# --- sops -> sopsgen -------------------------------------------------------------------


@pytest.mark.parametrize("keys", KEY_SETS, indirect=True)
@pytest.mark.parametrize("fmt", FORMATS)
def test_sops_encrypted_decrypts_with_sopsgen(
    fmt: str,
    keys: KeySet,
    sops_runner: SopsRunner,
    tmp_path: Path,
    gpg_key: GpgKey,
    empty_gnupg: Path,
) -> None:
    encrypted = sops_encrypt(sops_runner, tmp_path, fmt, keys.config, gpg=gpg_key)
    doc = decrypt_document(encrypted, fmt, identities_for(keys, gpg_key, empty_gnupg))
    comments = fmt != "json"
    assert normalise_all(doc.branches, comments=comments) == normalise_all(
        plain_tree(fmt), comments=comments
    )
    # What we print is what sops prints.
    enc_file = write(tmp_path, f"enc.{EXTENSIONS[fmt]}", encrypted)
    printed = sops_runner.ok(
        "decrypt", str(enc_file), **sops_decrypt_env(keys, gpg_key, empty_gnupg)
    )
    assert lines(dump_plaintext(doc.branches, fmt)) == lines(printed)


# --- sopsgen -> sops -------------------------------------------------------------------


@pytest.mark.parametrize("keys", KEY_SETS, indirect=True)
@pytest.mark.parametrize("fmt", FORMATS)
def test_sopsgen_encrypted_decrypts_with_sops(
    fmt: str,
    keys: KeySet,
    sops_runner: SopsRunner,
    tmp_path: Path,
    gpg_key: GpgKey,
    empty_gnupg: Path,
) -> None:
    ids = Identities(gnupg_home=str(gpg_key.home))
    encrypted = encrypt_document(plain_tree(fmt), fmt, keys.plan, now=NOW, identities=ids)
    enc_file = write(tmp_path, f"enc.{EXTENSIONS[fmt]}", encrypted)
    printed = sops_runner.ok(
        "decrypt", str(enc_file), **sops_decrypt_env(keys, gpg_key, empty_gnupg)
    )
    comments = fmt != "json"
    assert normalise_all(plain_tree(fmt, printed), comments=comments) == normalise_all(
        plain_tree(fmt), comments=comments
    )
    assert lines(printed) == lines(dump_plaintext(plain_tree(fmt), fmt))


# --- YAML comments land where sops puts them ------------------------------------------

COMMENTS_YAML = b"""\
# head 1

# head 2
a: 1  # inline a
b:
    # above c
    c: 2 # inline c
    d:
        - x # inline x
        # between
        - y
        # end of list
i:
  - k: 1
    # inside item map
    l: 2
  # after item
  - m: 3
j: [1, 2] # flow inline
c: {x: 1, "y": 2} # flow map inline
d: [] # empty flow
l:
    - # on dash
      k: v
    - [1, 2] # nested flow in list
m: "quoted" # q
n: |
    block
# after block
o:
    p: 1
        # deeper indented
q: 2
# foot 1
---
# doc2 head
r: 1 # r inline
# doc2 foot
"""


def test_yaml_comment_placement_matches_sops(
    age_keys: list[AgePair], sops_runner: SopsRunner, tmp_path: Path
) -> None:
    key = age_keys[0]
    source = write(tmp_path, "plain.yaml", COMMENTS_YAML)
    from_sops = sops_runner.ok("encrypt", "--age", key.recipient, str(source))
    printed = sops_runner.ok(
        "decrypt", str(write(tmp_path, "s.yaml", from_sops)), age=[key.identity]
    )
    doc = decrypt_document(from_sops, "yaml", age_identities(key))
    assert lines(dump_plaintext(doc.branches, "yaml")) == lines(printed)
    tree = plain_tree("yaml", COMMENTS_YAML)
    assert normalise_all(doc.branches, comments=True) == normalise_all(tree, comments=True)
    plan = EncryptionPlan([[Recipient("age", key.recipient)]])
    ours = encrypt_document(tree, "yaml", plan, now=NOW)
    printed = sops_runner.ok("decrypt", str(write(tmp_path, "o.yaml", ours)), age=[key.identity])
    assert lines(printed) == lines(dump_plaintext(tree, "yaml"))


# --- Shamir: one share of three is not enough ------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_shamir_one_of_three_fails_on_both_sides(
    fmt: str,
    age_keys: list[AgePair],
    gpg_key: GpgKey,
    sops_runner: SopsRunner,
    tmp_path: Path,
    empty_gnupg: Path,
) -> None:
    keys = key_set("shamir", age_keys, gpg_key)
    one = age_identities(age_keys[0], gnupg_home=empty_gnupg)
    from_sops = sops_encrypt(sops_runner, tmp_path, fmt, keys.config, gpg=gpg_key)
    with pytest.raises(KeyUnavailableError, match="1 of the 2 key groups"):
        decrypt_document(from_sops, fmt, one)
    ours = encrypt_document(plain_tree(fmt), fmt, keys.plan, now=NOW)
    enc_file = write(tmp_path, f"ours.{EXTENSIONS[fmt]}", ours)
    done = sops_runner.run(
        "decrypt", str(enc_file), age=[age_keys[0].identity], gnupg_home=empty_gnupg
    )
    assert done.returncode == 128, done.stderr.decode()
    for pair in [(0, 1), (0, 2), (1, 2)]:
        chosen = age_identities(*(age_keys[i] for i in pair), gnupg_home=empty_gnupg)
        assert normalise_all(decrypt_document(from_sops, fmt, chosen).branches) == normalise_all(
            plain_tree(fmt)
        )


# --- selection settings ----------------------------------------------------------------

SELECTION_TEXT = b"""\
# sops:enc
a: 1
b: 2
# sops:enc
# second line
c:
    d: 3
    # nested
    e: four
f: [5, 6]
db_password: hunter2
api_enc: token
plain_clear: visible
list:
    # sops:enc
    - 7
    - 8
    # sops:clear
    - nine
# sops:clear
g: 10
# plain comment
h:
    user_enc: u
    pw: p
"""

SELECTIONS: dict[str, dict[str, object]] = {
    "encrypted_regex": {"encrypted_regex": "^(db_password|c|h)$"},
    "unencrypted_regex": {"unencrypted_regex": "^(a|list)$"},
    "encrypted_suffix": {"encrypted_suffix": "_enc"},
    "unencrypted_suffix": {"unencrypted_suffix": "_clear"},
    "encrypted_comment_regex": {"encrypted_comment_regex": "sops:enc"},
    "unencrypted_comment_regex": {"unencrypted_comment_regex": "sops:clear"},
    "mac_only_encrypted": {"encrypted_regex": "^(c|h)$", "mac_only_encrypted": True},
    "default": {},
}


def _encrypted_paths(data: bytes, fmt: str) -> list[tuple[tuple[str, ...], bool, bool]]:
    """(path, is comment, is encrypted) for every leaf, in walk order."""
    seen: list[tuple[tuple[str, ...], bool, bool]] = []

    def visit(leaf: Leaf) -> Node:
        value = leaf.value
        text = value.text if isinstance(value, Comment) else value
        seen.append((leaf.path, isinstance(value, Comment), is_encrypted(text)))
        return value

    walk(get_format(fmt).load(data).branches, visit)
    return seen


def _rule_yaml(settings: dict[str, object], recipient: str) -> str:
    lines = [f"    {k}: {json.dumps(v)}" for k, v in settings.items()]
    return "creation_rules:\n  - age: " + recipient + "\n" + "".join(line + "\n" for line in lines)


@pytest.mark.parametrize("setting", list(SELECTIONS))
def test_selection_settings_agree_with_sops(
    setting: str,
    age_keys: list[AgePair],
    sops_runner: SopsRunner,
    tmp_path: Path,
    gpg_key: GpgKey,
) -> None:
    settings = SELECTIONS[setting]
    key = age_keys[0]
    source = write(tmp_path, "plain.yaml", SELECTION_TEXT)
    cfg = write(tmp_path, "cfg.yaml", _rule_yaml(settings, key.recipient).encode())
    from_sops = sops_runner.ok("--config", str(cfg), "encrypt", str(source))
    selection = Selection.from_fields(
        {k: str(v) for k, v in settings.items() if k != "mac_only_encrypted"},
        mac_only_encrypted=bool(settings.get("mac_only_encrypted")),
    )
    plan = EncryptionPlan([[Recipient("age", key.recipient)]], selection=selection)
    tree = plain_tree("yaml", SELECTION_TEXT)
    ours = encrypt_document(tree, "yaml", plan, now=NOW)
    # The same leaves are encrypted, and each tool reads the other's file.
    assert _encrypted_paths(ours, "yaml") == _encrypted_paths(from_sops, "yaml")
    assert any(enc for _, _, enc in _encrypted_paths(ours, "yaml"))
    doc = decrypt_document(from_sops, "yaml", age_identities(key))
    assert normalise_all(doc.branches, comments=True) == normalise_all(tree, comments=True)
    ours_file = write(tmp_path, "ours.yaml", ours)
    printed = sops_runner.ok("decrypt", str(ours_file), age=[key.identity])
    assert lines(printed) == lines(dump_plaintext(tree, "yaml"))
    # And the metadata blocks hold the same selection fields.
    sops_meta = get_format("yaml").load(from_sops).metadata or {}
    our_meta = get_format("yaml").load(ours).metadata or {}
    assert {k: v for k, v in our_meta.items() if k not in ("age", "lastmodified", "mac")} == {
        k: v for k, v in sops_meta.items() if k not in ("age", "lastmodified", "mac")
    }
