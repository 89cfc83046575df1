"""Lines and cells shared by the suite parsers: cleaning, numbering, number conversion.

Benchmark outputs arrive decorated like any log: ANSI colours, ``\\r\\n`` line ends, progress
output overwritten with a lone ``\\r``, ``mpirun --tag-output`` prefixes (``[1,0]<stdout>:``) and
``srun --label`` prefixes (``0: ``). Open MPI's tag output also leaves a prefix glued to the *end*
of a row when a rank writes the newline separately (seen here: ``... 10000[1,0]<stdout>:``), so
tag prefixes are removed wherever they occur, not only at the start.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from builder.model.bench import Cell

_ANSI = re.compile(
    r"\x1b\[[0-9;:?<=>]*[ -/]*[@-~]"  # CSI: colours, cursor movement
    r"|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?"  # OSC: terminal titles, links
    r"|\x1b[@-Z\\^_]"  # two-byte escapes
)
_TAG_OUTPUT = re.compile(r"\[\d+,\d+\]<(?:stdout|stderr|stddiag)>: ?")
_SRUN_LABEL = re.compile(r"^ *\d+: ")
_INT = re.compile(r"[-+]?\d+")
#: Spellings of "no value" in benchmark tables; they become JSON null.
_MISSING = frozenset({"n/a", "na", "-", "nan", "-nan", "inf", "-inf", "+inf"})


@dataclass(frozen=True, slots=True)
class Line:
    """One cleaned line and its 1-based number in the original file."""

    number: int
    text: str


def clean_text(text: str) -> str:
    """One raw line without colours, carriage-return overwrites and launcher prefixes."""
    if "\r" in text:
        # A lone \r means the terminal overwrote the line: keep what was shown last.
        text = text.rstrip("\r").rsplit("\r", 1)[-1]
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "<std" in text:
        text = _TAG_OUTPUT.sub("", text)
    if text[:1] in " 0123456789":
        text = _SRUN_LABEL.sub("", text, count=1)
    return text.replace("\x00", "")


def split_lines(text: str) -> list[Line]:
    """Cleaned, numbered lines of a whole output (numbers count ``\\n`` only, as editors do)."""
    return [Line(number, clean_text(raw)) for number, raw in enumerate(text.split("\n"), start=1)]


def is_int(token: str) -> bool:
    """Whether ``token`` is a plain integer."""
    return _INT.fullmatch(token) is not None


def is_missing(token: str) -> bool:
    """Whether ``token`` spells a missing value (``N/A``, ``nan``, ``inf``)."""
    return token.lower() in _MISSING


def to_int(token: str) -> int | None:
    """An integer cell; missing spellings become ``None``."""
    return None if is_missing(token) else int(token)


def to_float(token: str) -> float | None:
    """A float cell; missing spellings and non-finite values become ``None`` (JSON has no NaN)."""
    if is_missing(token):
        return None
    value = float(token)
    return value if math.isfinite(value) else None


def to_cell(token: str) -> Cell:
    """A table cell: int when integral, float when decimal, ``None`` when missing, else text."""
    # str methods and float() first: the common case, much faster than regular expressions.
    digits = token.lstrip("+-")
    if digits.isdigit() and digits.isascii() and len(token) - len(digits) <= 1:
        return int(token)
    try:
        value = float(token)
    except ValueError:
        return None if is_missing(token) else token
    return value if math.isfinite(value) else None


def snake_case(text: str) -> str:
    """``Reduce-Scatter Latency`` -> ``reduce_scatter_latency``."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
