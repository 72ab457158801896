"""Encrypt, decrypt and re-save whole SOPS documents: bytes and explicit keys in, bytes out.

Re-saving keeps the ciphertext of every value whose plaintext and path did not change
(same data key, same IV), so a git diff shows only real changes; a save with no change
returns the original bytes untouched.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sopsgen.errors import FormatError, IntegrityError, KeyUnavailableError
from sopsgen.keys.base import Identities
from sopsgen.sops.cipher import ValueCipher, is_encrypted
from sopsgen.sops.datakey import (
    EncryptionPlan,
    new_data_key,
    non_native_types,
    recipient_of,
    unwrap_data_key,
    wrap_data_key,
    wrap_for,
)
from sopsgen.sops.formats.registry import get_format
from sopsgen.sops.mac import MacAccumulator, format_lastmodified, open_mac, seal_mac
from sopsgen.sops.metadata import WRITER_VERSION, Metadata, parse_metadata, serialize_metadata
from sopsgen.sops.selection import Selection
from sopsgen.sops.tree import Comment, Leaf, Mapping, Node, walk

RandomSource = Callable[[int], bytes]


@dataclass
class OpenDocument:
    """A decrypted document that remembers enough to be re-saved with zero churn."""

    format: str
    branches: list[Mapping]  # plaintext
    metadata: Metadata
    data_key: bytes
    cipher: ValueCipher | None  # None when only the sops binary could decrypt it
    stored: list[Mapping]  # the encrypted branches as read
    digest: str  # MAC of the plaintext as read
    raw: bytes
    name: str


def is_sops_document(data: bytes, fmt: str) -> bool:
    try:
        return get_format(fmt).load(data).metadata is not None
    except FormatError:
        return False


def decrypt_document(
    data: bytes,
    fmt: str,
    identities: Identities,
    *,
    name: str = "document",
    ignore_mac: bool = False,
) -> OpenDocument:
    """Decrypt every value and check the MAC (unless `ignore_mac`, for recovery only)."""
    loaded = get_format(fmt).load(data)
    if loaded.metadata is None:
        raise FormatError(
            f"{name} has no sops metadata: it is not encrypted", hint="encrypt it first"
        )
    metadata = parse_metadata(loaded.metadata, where=name)
    try:
        data_key = unwrap_data_key(metadata, identities, where=name)
    except KeyUnavailableError:
        foreign = non_native_types(metadata)
        if not foreign:
            raise
        return _decrypt_with_binary(data, fmt, identities, metadata, name, foreign)
    cipher = ValueCipher(data_key)
    branches, digest = _decrypt_tree(loaded.branches, cipher, metadata.selection, name)
    if not ignore_mac:
        _check_mac(cipher, metadata, digest, name)
    return OpenDocument(
        fmt, branches, metadata, data_key, cipher, loaded.branches, digest, data, name
    )


def _decrypt_with_binary(
    data: bytes,
    fmt: str,
    identities: Identities,
    metadata: Metadata,
    name: str,
    foreign: list[str],
) -> OpenDocument:
    """Key types with no native backend: the sops binary decrypts (and checks the MAC)."""
    from sopsgen.keys.sops_binary import decrypt_with_sops  # a subprocess: only when needed

    plaintext = decrypt_with_sops(data, fmt, identities.sops_exec, key_type=", ".join(foreign))
    branches = get_format(fmt).load(plaintext).branches
    return OpenDocument(fmt, branches, metadata, b"", None, [], "", data, name)


def _check_mac(cipher: ValueCipher, metadata: Metadata, digest: str, name: str) -> None:
    if not metadata.mac:
        raise IntegrityError(f"{name} has no MAC", hint="the file is damaged or not from sops")
    try:
        stored = open_mac(cipher, metadata.mac, metadata.lastmodified)
    except IntegrityError as exc:
        raise IntegrityError(
            f"{name}: the MAC cannot be decrypted (lastmodified or mac was altered)",
            hint="restore the file from git; --ignore-mac skips the check for recovery only",
        ) from exc
    if stored != digest:
        raise IntegrityError(
            f"{name}: MAC mismatch, the file was modified outside sops/sopsgen",
            hint="restore the file from git; --ignore-mac skips the check for recovery only",
        )


def _decrypt_tree(
    branches: list[Mapping], cipher: ValueCipher, selection: Selection, name: str
) -> tuple[list[Mapping], str]:
    mac = MacAccumulator(mac_only_encrypted=selection.mac_only_encrypted)

    def visit(leaf: Leaf) -> Node:
        value = leaf.value
        encrypted = selection.encrypts(leaf)
        if isinstance(value, Comment):
            return _open_comment(cipher, leaf, value) if encrypted else value
        if encrypted and value not in ("", b""):
            where = f"{name}: {'.'.join(leaf.path) or '(root)'}"
            if not isinstance(value, str):
                raise IntegrityError(f"{where} should be encrypted but holds a plain value")
            opened = cipher.decrypt(value, leaf.aad, where=where)
            if isinstance(opened, Comment):
                return opened  # an encrypted comment inside a list: not part of the MAC
            value = opened
        if encrypted or not selection.mac_only_encrypted:
            mac.add(value)
        return value

    return walk(branches, visit), mac.hexdigest()


def _open_comment(cipher: ValueCipher, leaf: Leaf, comment: Comment) -> Comment:
    if not is_encrypted(comment.text):
        return comment
    try:
        opened = cipher.decrypt(comment.text, leaf.aad, where="a comment")
    except IntegrityError:
        return comment  # as sops: a comment that does not open is kept as it is
    return opened if isinstance(opened, Comment) else Comment(str(opened))


def _encrypt_tree(
    branches: list[Mapping], cipher: ValueCipher, selection: Selection
) -> tuple[list[Mapping], str]:
    mac = MacAccumulator(mac_only_encrypted=selection.mac_only_encrypted)
    cipher.start_pass()

    def visit(leaf: Leaf) -> Node:
        value = leaf.value
        encrypted = selection.encrypts(leaf)
        if isinstance(value, Comment):
            if not encrypted or not value.text:
                return value
            sealed = cipher.encrypt(value, leaf.aad)
            return sealed if leaf.in_sequence else Comment(sealed)
        if encrypted or not selection.mac_only_encrypted:
            mac.add(value)
        if not encrypted or value in ("", b""):
            return value
        return cipher.encrypt(value, leaf.aad)

    return walk(branches, visit), mac.hexdigest()


def encrypt_document(
    branches: list[Mapping],
    fmt: str,
    plan: EncryptionPlan,
    *,
    now: datetime,
    identities: Identities | None = None,
    random: RandomSource = os.urandom,
) -> bytes:
    """A new document with a fresh data key, encrypted for the plan's recipients."""
    if branches and branches[0].get("sops") is not None:
        raise FormatError("the input already has a top-level `sops` key: it is already encrypted")
    data_key = new_data_key(random)
    selection = Selection() if fmt == "binary" else plan.selection.with_default()
    groups, threshold = wrap_data_key(data_key, plan, now=now, identities=identities, random=random)
    metadata = Metadata(
        key_groups=groups,
        lastmodified="",
        mac="",
        selection=selection,
        shamir_threshold=threshold,
        version=WRITER_VERSION,
    )
    return _seal(branches, fmt, metadata, ValueCipher(data_key, random=random), now)


def _seal(
    branches: list[Mapping], fmt: str, metadata: Metadata, cipher: ValueCipher, now: datetime
) -> bytes:
    stored, digest = _encrypt_tree(branches, cipher, metadata.selection)
    lastmodified = format_lastmodified(now)
    sealed = replace(
        metadata, lastmodified=lastmodified, mac=seal_mac(cipher, digest, lastmodified)
    )
    return dump_encrypted(stored, fmt, sealed)


def dump_encrypted(stored: list[Mapping], fmt: str, metadata: Metadata) -> bytes:
    raw = serialize_metadata(metadata, write_selection=fmt != "binary")
    return get_format(fmt).dump(stored, raw)


def save_document(doc: OpenDocument, branches: list[Mapping], *, now: datetime) -> bytes:
    """Re-encrypt under the same data key; unchanged values keep their exact ciphertext."""
    cipher = _require_native(doc)
    stored, digest = _encrypt_tree(branches, cipher, doc.metadata.selection)
    if stored == doc.stored and digest == doc.digest:
        return doc.raw
    return _seal(branches, doc.format, doc.metadata, cipher, now)


def rotate_data_key(
    doc: OpenDocument,
    *,
    now: datetime,
    identities: Identities | None = None,
    random: RandomSource = os.urandom,
) -> bytes:
    """Re-encrypt every value under a new data key, for the same recipients."""
    _require_native(doc)
    data_key = new_data_key(random)
    groups, threshold = wrap_data_key(
        data_key, current_plan(doc.metadata), now=now, identities=identities, random=random
    )
    metadata = doc.metadata.with_keys(groups, threshold)
    return _seal(doc.branches, doc.format, metadata, ValueCipher(data_key, random=random), now)


def rewrap_document(
    doc: OpenDocument,
    plan: EncryptionPlan,
    *,
    now: datetime,
    identities: Identities | None = None,
    random: RandomSource = os.urandom,
) -> bytes:
    """New recipients for the same data key: values, lastmodified and mac stay as they are.

    In a single-group file the stanzas of recipients that stay are kept byte for byte;
    with key groups every group is wrapped again, because the shares are split anew.
    """
    _require_native(doc)
    current = doc.metadata.key_groups
    if len(plan.key_groups) == 1 and len(current) == 1:
        existing = {recipient_of(stanza): stanza for stanza in current[0]}
        group = [
            existing.get(r) or wrap_for(r, doc.data_key, now=now, identities=identities)
            for r in plan.key_groups[0]
        ]
        groups, threshold = [group], None
    else:
        groups, threshold = wrap_data_key(
            doc.data_key, plan, now=now, identities=identities, random=random
        )
    return dump_encrypted(doc.stored, doc.format, doc.metadata.with_keys(groups, threshold))


def current_plan(metadata: Metadata) -> EncryptionPlan:
    """The recipients and settings a document is encrypted with now."""
    return EncryptionPlan(
        key_groups=[[recipient_of(s) for s in group] for group in metadata.key_groups],
        shamir_threshold=metadata.shamir_threshold,
        selection=metadata.selection,
    )


def _require_native(doc: OpenDocument) -> ValueCipher:
    """The document's cipher; only the sops binary can re-save a file opened through it."""
    if doc.cipher is None:
        foreign = ", ".join(non_native_types(doc.metadata))
        raise KeyUnavailableError(
            f"{doc.name} can only be decrypted through the sops binary ({foreign} keys), "
            "so sopsgen cannot re-save it with zero churn",
            hint="add an age or pgp recipient to the file with `sops updatekeys`",
        )
    return doc.cipher


def dump_plaintext(branches: list[Mapping], fmt: str) -> bytes:
    return get_format(fmt).dump(branches, None)


def load_plaintext(data: bytes, fmt: str, *, name: str = "input") -> list[Mapping]:
    loaded = get_format(fmt).load(data)
    if loaded.metadata is not None:
        raise FormatError(
            f"{name} already has sops metadata: it is already encrypted",
            hint="decrypt it first, or use `sopsgen edit`",
        )
    return loaded.branches
