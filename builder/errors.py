"""The one error type the command line turns into a single line and exit code 2."""

from __future__ import annotations

from pathlib import Path


class EsdcError(Exception):
    """A user-facing failure: bad input, a missing tool, an unreachable host.

    The message must name what is at fault (a file and line, a host, a tool) so that the
    command line can print it as one line without a traceback.
    """

    exit_code = 2

    def __init__(self, message: str, *, where: str | Path | None = None, line: int | None = None):
        self.where = str(where) if where is not None else None
        self.line = line
        super().__init__(message)

    def __str__(self) -> str:
        message = super().__str__()
        if self.where is None:
            return message
        location = f"{self.where}:{self.line}" if self.line is not None else self.where
        return f"{location}: {message}"


class JudgementError(EsdcError):
    """Verification could not reach a verdict (missing or unparsable data)."""
