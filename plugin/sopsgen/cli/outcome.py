"""How any command's end becomes an exit code: the one place errors reach stderr.

Imports nothing heavy, so the click-free fast path (`cli.entry`) can use it too.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from sopsgen.errors import SopsgenError

INTERRUPTED = 130


def report(error: SopsgenError) -> int:
    """Print the one-line message of a user error; return its exit code."""
    sys.stderr.write(f"sopsgen: error: {error.one_line()}\n")
    sys.stderr.flush()
    return error.exit_code


def exit_code_of(body: Callable[[], int | None]) -> int:
    """Run a command body; turn sopsgen errors, Ctrl-C and a closed pipe into exit codes."""
    try:
        return body() or 0
    except SopsgenError as error:
        return report(error)
    except KeyboardInterrupt:
        sys.stderr.write("sopsgen: interrupted\n")
        return INTERRUPTED
    except BrokenPipeError:
        return 0
