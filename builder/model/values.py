"""Validated value types for everything that is rendered into a script, definition or command line.

A site profile's or environment's value ends up after ``#SBATCH --partition=``, in a
definition's comment, a Dockerfile ``ENV`` or an ssh argument. Quoting protects the shell, but
no quoting makes a line break safe in a line-based format, and Python (as the recipe parsers
do) splits lines on every Unicode line break, not only ``\\n``. So a :data:`Line` holds no
control character (Unicode category Cc: NUL, tab, ``\\n``, ``\\r``, ``\\v``, ``\\f``,
``\\x1c``-``\\x1e``, ``\\x85``...) and no line or paragraph separator (U+2028, U+2029); it is
checked when the profile is loaded (the error names the file and line) and again when it is
rendered (:mod:`builder.generate.quoting`).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

#: Unicode categories a one-line value may not contain: controls, line and paragraph separators.
FORBIDDEN_CATEGORIES: frozenset[str] = frozenset({"Cc", "Zl", "Zp"})


def forbidden_character(value: str) -> tuple[int, str] | None:
    """The first control character or line break in ``value`` (index, character), if any."""
    for index, char in enumerate(value):
        if unicodedata.category(char) in FORBIDDEN_CATEGORIES:
            return index, char
    return None


def line_problem(value: str) -> str | None:
    """Why ``value`` cannot be rendered as part of one line, or ``None`` when it can."""
    found = forbidden_character(value)
    if found is None:
        return None
    index, char = found
    name = unicodedata.name(char, f"U+{ord(char):04X}")
    return (
        f"control character or line break {char!r} ({name}) at position {index}: "
        "a value that reaches a script or command line must be one line"
    )


def one_line(value: str) -> str:
    """``value`` unchanged when it is one line; a ``ValueError`` (for pydantic) otherwise."""
    problem = line_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


#: A string that is one line of printable text (checked at load time).
Line = Annotated[str, AfterValidator(one_line)]

#: A dotted version of digits, as a host reports it (``4.2.2``, ``535.104``, ``12.2``).
DottedVersion = Annotated[
    str, StringConstraints(pattern=r"^[0-9]+(\.[0-9]+)*$", strip_whitespace=False)
]

#: A Slurm name (partition, account, reservation): letters, digits and ``_.-+``, nothing a
#: ``#SBATCH`` line or a shell could read as syntax.
SlurmName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.+-]+$")]


def no_option(value: str) -> str:
    """``value`` unless it would be read as an option by ssh or rsync (starts with ``-``)."""
    if value.startswith("-") or value.partition("@")[2].startswith("-"):
        raise ValueError(f"may not start with '-' (ssh or rsync would read an option): {value!r}")
    return value


#: ``[user@]host:/path`` for rsync over ssh: one line, and no host that reads as an option.
RsyncTarget = Annotated[str, AfterValidator(one_line), AfterValidator(no_option)]
