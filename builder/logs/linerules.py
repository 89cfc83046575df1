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
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

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
