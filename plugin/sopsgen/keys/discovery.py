"""Find the identities sops 3.11 would use: the one module that reads key-related env vars.

Every source is consulted (sops merges them all) and every place looked at is recorded in
`Identities.tried`, so a "no key could decrypt" error can list them. Identity *contents* are
never recorded anywhere but `Identities.age`.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sopsgen.errors import BackendError
from sopsgen.keys.base import Identities, Recipient

if TYPE_CHECKING:  # subprocess loads only when SOPS_AGE_KEY_CMD is set: render stays light
    from sopsgen import proc

# What an age identities file protected by a passphrase starts with (binary or armored).
_ENCRYPTED_IDENTITY_MARKS = ("age-encryption.org/", "-----BEGIN AGE ENCRYPTED FILE-----")

Runner = Callable[..., "proc.Completed"]


def discover_identities(
    env: Mapping[str, str] | None = None, *, runner: Runner | None = None
) -> Identities:
    """All age identities, the gpg home/binary and the sops binary, as sops would find them."""
    environ = os.environ if env is None else env
    ids = Identities()
    _add_ssh_keys(ids, environ)
    _add_age_text(ids, "SOPS_AGE_KEY", environ.get("SOPS_AGE_KEY"))
    _add_age_key_file(ids, environ)
    _add_age_key_cmd(ids, environ.get("SOPS_AGE_KEY_CMD"), environ, runner)
    default = default_age_key_file(environ)
    _add_age_file(ids, str(default), default)
    _set_gpg(ids, environ)
    ids.sops_exec = find_sops(environ, ids.tried)
    return ids


def home_dir(environ: Mapping[str, str]) -> Path:
    """$HOME from the given environment, else the process's idea of home."""
    return Path(environ.get("HOME") or os.path.expanduser("~"))


def default_age_key_file(environ: Mapping[str, str]) -> Path:
    """`$XDG_CONFIG_HOME/sops/age/keys.txt`, else `~/.config/sops/age/keys.txt` (Linux rule)."""
    config = environ.get("XDG_CONFIG_HOME") or str(home_dir(environ) / ".config")
    return Path(config) / "sops" / "age" / "keys.txt"


def parse_identities(text: str) -> list[str]:
    """Identity lines of an age identities file: `#` comments and blank lines dropped."""
    stripped = (line.strip() for line in text.splitlines())
    return [line for line in stripped if line and not line.startswith("#")]


def _add_ssh_keys(ids: Identities, environ: Mapping[str, str]) -> None:
    """SOPS_AGE_SSH_PRIVATE_KEY_FILE, or else ~/.ssh/id_ed25519 and ~/.ssh/id_rsa."""
    chosen = environ.get("SOPS_AGE_SSH_PRIVATE_KEY_FILE")
    if chosen:
        _add_ssh_file(ids, f"SOPS_AGE_SSH_PRIVATE_KEY_FILE={chosen}", Path(chosen))
        return
    ids.tried.append("SOPS_AGE_SSH_PRIVATE_KEY_FILE (not set)")
    ssh_dir = home_dir(environ) / ".ssh"
    for name in ("id_ed25519", "id_rsa"):
        _add_ssh_file(ids, str(ssh_dir / name), ssh_dir / name)


def _add_ssh_file(ids: Identities, label: str, path: Path) -> None:
    """An OpenSSH private key is one identity: the whole PEM text."""
    text = _read(ids, label, path)
    if text is None:
        return
    if not text.strip():
        ids.tried.append(f"{label} (empty)")
        return
    ids.age.append(text)
    ids.age_sources.append(label)
    ids.tried.append(f"{label} (ssh key)")


def _add_age_key_file(ids: Identities, environ: Mapping[str, str]) -> None:
    path = environ.get("SOPS_AGE_KEY_FILE")
    if not path:
        ids.tried.append("SOPS_AGE_KEY_FILE (not set)")
        return
    _add_age_file(ids, f"SOPS_AGE_KEY_FILE={path}", Path(path))


def _add_age_file(ids: Identities, label: str, path: Path) -> None:
    text = _read(ids, label, path)
    if text is not None:
        _add_age_text(ids, label, text)


def _add_age_text(ids: Identities, label: str, text: str | None) -> None:
    """Identities given as text (env value, file content, command output)."""
    if text is None:
        ids.tried.append(f"{label} (not set)")
        return
    if text.lstrip().startswith(_ENCRYPTED_IDENTITY_MARKS):
        ids.tried.append(f"{label} (passphrase-protected identity files are not supported)")
        return
    lines = parse_identities(text)
    ids.age.extend(lines)
    ids.age_sources.extend([label] * len(lines))
    ids.tried.append(f"{label} ({len(lines)} identit{'y' if len(lines) == 1 else 'ies'})")


def _add_age_key_cmd(
    ids: Identities, command: str | None, environ: Mapping[str, str], runner: Runner | None
) -> None:
    """Run SOPS_AGE_KEY_CMD (split like a shell, but no shell) and read its stdout."""
    if not command:
        ids.tried.append("SOPS_AGE_KEY_CMD (not set)")
        return
    label = f"SOPS_AGE_KEY_CMD={command}"
    try:
        argv = shlex.split(command)
    except ValueError:
        ids.tried.append(f"{label} (cannot be split into arguments)")
        return
    if not argv:
        ids.tried.append(f"{label} (empty)")
        return
    if runner is None:
        from sopsgen.proc import run

        runner = run
    try:
        done = runner(argv, env=environ, check=False)
    except BackendError as exc:
        ids.tried.append(f"{label} ({exc.message})")
        return
    if done.returncode != 0:
        # stderr is left out on purpose: a key command may echo what it handles.
        ids.tried.append(f"{label} (failed with exit code {done.returncode})")
        return
    _add_age_text(ids, label, done.stdout.decode("utf-8", "replace"))


def _read(ids: Identities, label: str, path: Path) -> str | None:
    """The file's text, or None after recording why it could not be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        ids.tried.append(f"{label} (not found)")
    except (OSError, UnicodeDecodeError) as exc:
        ids.tried.append(f"{label} (unreadable: {type(exc).__name__})")
    return None


def _set_gpg(ids: Identities, environ: Mapping[str, str]) -> None:
    """GNUPGHOME (default ~/.gnupg) and SOPS_GPG_EXEC (default gpg)."""
    home = environ.get("GNUPGHOME") or str(home_dir(environ) / ".gnupg")
    ids.gnupg_home = home
    ids.tried.append(f"GNUPGHOME={home}" + ("" if Path(home).is_dir() else " (not found)"))
    ids.gpg_exec = environ.get("SOPS_GPG_EXEC") or "gpg"
    if "SOPS_GPG_EXEC" in environ:
        ids.tried.append(f"SOPS_GPG_EXEC={ids.gpg_exec}")


def find_sops(environ: Mapping[str, str], tried: list[str] | None = None) -> str | None:
    """SOPS_BINARY if set, else `sops` on PATH; None when neither is runnable."""
    wanted = environ.get("SOPS_BINARY") or "sops"
    import shutil  # only here: it pulls in compression modules render does not need

    found = shutil.which(wanted, path=environ.get("PATH"))
    if tried is not None:
        label = f"SOPS_BINARY={wanted}" if "SOPS_BINARY" in environ else "sops on PATH"
        tried.append(f"{label} ({found or 'not found'})")
    return found


def recipients_from_env(env: Mapping[str, str] | None = None) -> list[Recipient]:
    """Recipients from SOPS_AGE_RECIPIENTS and SOPS_PGP_FP (comma-separated, as sops)."""
    environ = os.environ if env is None else env
    found: list[Recipient] = []
    for var, kind in (("SOPS_AGE_RECIPIENTS", "age"), ("SOPS_PGP_FP", "pgp")):
        for item in environ.get(var, "").split(","):
            key = "".join(item.split()) if kind == "pgp" else item.strip()
            if key:
                found.append(Recipient(kind, key))
    return found
