"""Safe file writes: never a half-written store, never a plaintext file left behind."""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sopsgen.errors import FileAccessError

DEFAULT_MODE = 0o644


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temp file beside `path`, fsync, rename over it; keep the old file's mode."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else DEFAULT_MODE
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise FileAccessError(f"cannot write {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        _discard(temp)
        raise FileAccessError(
            f"cannot write {path}: {exc.strerror}; the previous file is unchanged",
            hint="free disk space or fix permissions, then run the command again",
        ) from exc
    except BaseException:
        _discard(temp)
        raise
    _fsync_directory(directory)


def _discard(temp: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def locked_directory(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder of `path` for a read-modify-write.

    The lock is on the folder, not the file, because every write replaces the file.
    """
    directory = Path(path).parent if str(Path(path).parent) else Path(".")
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def private_temp_dir() -> str:
    """A folder for short-lived plaintext: memory-backed where the OS offers one."""
    for candidate in ("/dev/shm", os.environ.get("XDG_RUNTIME_DIR")):
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK):
            return candidate
    return tempfile.gettempdir()
