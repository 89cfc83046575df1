"""Line rules: a library's patterns as data.

A :class:`LineRule` is one row of a library's table: the kind of fact a line tells (an enum the
library's reader dispatches on), the compiled pattern, the finding code the fact can lead to, a
one-line meaning, and an example line in the shape real logs print it. A parametrised test runs
every example through the library's analyser, so a row without a working example cannot exist.

Adding a pattern is one row; the reader only changes when a new *kind* of fact appears.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

from builder.logs.base import add_evidence
from builder.model.analysis import Evidence, Finding

KindT = TypeVar("KindT", bound=StrEnum)


@dataclass(frozen=True)
class LineRule(Generic[KindT]):
    """One pattern of a library's log format and the fact it sets."""

    #: What the line tells (the reader's dispatch key, and the observation kind it records).
    kind: KindT
    #: Searched in the message part of a line (the library's own prefix already removed).
    pattern: re.Pattern[str]
    #: A whole line as a real log prints it; a test feeds it to the analyser.
    example: str
    #: What the line means, for docs and for a reader of the table.
    meaning: str
    #: The finding code this fact can lead to (``None``: it only informs other conclusions).
    code: str | None = None
    #: A literal the message must contain: a cheap test before the pattern runs.
    needle: str = ""


def rule(
    kind: KindT,
    pattern: str,
    example: str,
    meaning: str,
    code: str | None = None,
    needle: str = "",
) -> LineRule[KindT]:
    """One table row, its pattern compiled (the tables read better with positional fields)."""
    return LineRule(kind, re.compile(pattern), example, meaning, code, needle)


def first_match(
    rules: Iterable[LineRule[KindT]], message: str
) -> tuple[LineRule[KindT], re.Match[str]] | None:
    """The first rule whose needle and pattern occur in ``message``, with its match."""
    for rule in rules:
        if rule.needle and rule.needle not in message:
            continue
        match = rule.pattern.search(message)
        if match is not None:
            return rule, match
    return None


@dataclass
class ReaderErrors:
    """Lines a reader failed on: counted, the first error kept, the first lines as evidence."""

    count: int = 0
    first: str = ""
    evidence: list[Evidence] = field(default_factory=list)

    def record(self, error: Exception, evidence: Evidence) -> None:
        """Note one line whose handling raised ``error``."""
        self.count += 1
        if not self.first:
            self.first = f"{type(error).__name__}: {error}"[:200]
        add_evidence(self.evidence, evidence)

    def finding(self, code: str, library: str) -> Finding | None:
        """The ``info`` finding naming the lines, or ``None`` when every line was read."""
        if not self.count:
            return None
        return Finding(
            code=code,
            severity="info",
            library=library,
            message=f"{self.count} line(s) could not be read ({self.first}); the first are "
            "given as evidence",
            evidence=list(self.evidence),
        )
