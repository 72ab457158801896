"""The PGP master-key backend: the gpg binary driven through python-gnupg.

Like sops, the data key is encrypted to one fingerprint as an armored OpenPGP message of the
raw bytes, trusting that key for this operation only; the secret travels on gpg's stdin.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import gnupg

from sopsgen.errors import BackendError, FormatError, IntegrityError, KeyUnavailableError
from sopsgen.keys.base import Identities, Recipient, Stanza, register
from sopsgen.proc import stderr_tail

TYPE = "pgp"

# python-gnupg `status` values meaning "no usable secret key here": not ours, try the next.
# gpg also says "decryption failed" for a missing or locked key, as sops then does (128).
_NO_KEY_STATUSES = ("no secret key", "decryption failed")
# gpg stderr fragments that mean the message itself is damaged.
_TAMPER_MARKS = ("CRC error", "MDC", "integrity", "invalid packet", "invalid armor")


def normalize_fingerprint(fp: str) -> str:
    """A fingerprint as sops stores it: spaces removed, upper case."""
    return "".join(fp.split()).upper()


def rfc3339_utc(now: datetime) -> str:
    """RFC 3339 in UTC to the second; a naive `now` is taken as already UTC."""
    aware = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%SZ")


def _gpg(identities: Identities | None) -> Any:  # python-gnupg is untyped: keep Any here
    """A python-gnupg handle on the configured gpg binary and home."""
    ids = identities if identities is not None else Identities()
    try:
        return gnupg.GPG(gpgbinary=ids.gpg_exec or "gpg", gnupghome=ids.gnupg_home)
    except (OSError, ValueError) as exc:
        raise BackendError(
            f"cannot run gpg ({ids.gpg_exec or 'gpg'}): {exc}",
            hint="install GnuPG or set SOPS_GPG_EXEC",
        ) from exc


def _status(result: Any) -> str:  # a python-gnupg result object
    return str(getattr(result, "status", None) or "unknown error")


class PgpBackend:
    """Wraps a data key (or Shamir share) in an armored OpenPGP message for one key."""

    type_name = TYPE

    def wrap(
        self,
        recipient: Recipient,
        secret: bytes,
        *,
        now: datetime,
        identities: Identities | None = None,
    ) -> Stanza:
        """One pgp stanza: `created_at`, `enc` (armored, trimmed), `fp`."""
        fp = normalize_fingerprint(recipient.id)
        result = _gpg(identities).encrypt_file(
            io.BytesIO(secret),  # python-gnupg feeds a file object to gpg's stdin
            [fp],
            armor=True,
            always_trust=True,  # sops trusts the named key just for this call
            extra_args=["--no-encrypt-to", "--no-default-recipient"],
        )
        if not result.ok:
            raise KeyUnavailableError(
                f"cannot encrypt the data key to pgp key {fp}: {_status(result)}",
                hint="import the public key into the gpg keyring (gpg --import) or fix the fp",
            )
        enc = bytes(result.data).decode("ascii").strip()
        return Stanza(TYPE, {"created_at": rfc3339_utc(now), "enc": enc, "fp": fp})

    def unwrap(self, stanza: Stanza, identities: Identities) -> bytes | None:
        """The wrapped secret, or None when the keyring holds no secret key for it."""
        enc = stanza.fields.get("enc")
        if not isinstance(enc, str) or "BEGIN PGP MESSAGE" not in enc:
            raise FormatError(f"{stanza.label}: pgp stanza has no armored enc message")
        result = _gpg(identities).decrypt(enc.encode("ascii"))
        if result.ok and result.data:
            return bytes(result.data)
        _raise_unless_not_ours(stanza, result)
        return None


def _raise_unless_not_ours(stanza: Stanza, result: Any) -> None:  # a python-gnupg result
    """Return quietly for "not our key"; raise for anything else gpg reports."""
    status = _status(result).lower()
    if any(s in status for s in _NO_KEY_STATUSES):
        return
    messages = _gpg_messages(result)
    if any(mark in messages for mark in _TAMPER_MARKS):
        raise IntegrityError(f"{stanza.label}: pgp enc is corrupted or was tampered with")
    raise BackendError(f"gpg could not decrypt {stanza.label}: {messages or status}")


def _gpg_messages(result: Any) -> str:
    """gpg's human stderr lines (status-fd lines dropped), shortened; never holds plaintext."""
    lines = [ln for ln in str(result.stderr or "").splitlines() if not ln.startswith("[GNUPG:]")]
    return stderr_tail("\n".join(lines).encode())


BACKEND = register(PgpBackend())
