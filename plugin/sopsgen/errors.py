"""The one exception tree. Each error carries an exit code, a one-line message and a hint.

Messages name files and field paths, never secret values. The CLI and the integration
entry points are the only places that turn these into stderr lines and exit codes.
"""

from __future__ import annotations


class SopsgenError(Exception):
    """Root of every error sopsgen reports to a user."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and the hint on one line, as the CLI prints it."""
        text = self.message.replace("\n", " ")
        if self.hint:
            text += f" ({self.hint})"
        return text


class ConfigError(SopsgenError):
    """A spec, a .sops.yaml or a command-line choice is wrong."""

    exit_code = 3


class FormatError(SopsgenError):
    """An input file cannot be parsed, or has a shape sopsgen does not accept."""

    exit_code = 4


class IntegrityError(SopsgenError):
    """A MAC mismatch, a GCM tag failure or a tampered value."""

    exit_code = 5


class KeyUnavailableError(SopsgenError):
    """No identity could unwrap the data key, or no recipient was given to wrap it."""

    exit_code = 6


class BackendError(SopsgenError):
    """An external program (gpg, sops, kubectl, helm) failed."""

    exit_code = 7


class MissingValueError(SopsgenError):
    """A value the spec declares is absent from the store."""

    exit_code = 8


class CheckFailedError(SopsgenError):
    """`sopsgen check` found problems; each is reported on its own line."""

    exit_code = 9


class StoreConflictError(SopsgenError):
    """A change would overwrite or remove something sopsgen must never touch."""

    exit_code = 10


class FileAccessError(SopsgenError):
    """A file or folder is missing, or cannot be read or written."""

    exit_code = 11


class CancelledError(SopsgenError):
    """The user stopped an interactive command (the editor failed or the edit was dropped)."""

    exit_code = 12


EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "unexpected internal error (a bug: please report it)",
    2: "command-line usage error",
    ConfigError.exit_code: "invalid spec, .sops.yaml or option",
    FormatError.exit_code: "input cannot be parsed",
    IntegrityError.exit_code: "MAC or authentication tag check failed (tampered or corrupted file)",
    KeyUnavailableError.exit_code: "no key could decrypt or encrypt the data key",
    BackendError.exit_code: "an external program failed",
    MissingValueError.exit_code: "a declared value is missing from the store",
    CheckFailedError.exit_code: "check found problems",
    StoreConflictError.exit_code: "refused: the change would overwrite or remove existing data",
    FileAccessError.exit_code: "a file or folder is missing or cannot be read or written",
    CancelledError.exit_code: "cancelled: the editor failed or the edit was abandoned",
    130: "interrupted",
}
