"""One rule for transport evidence: a side that shows nothing cannot pass.

A side (bare metal or the container) of a suite's logging run is evidence only when its debug
logs exist inside the job's folder, could be read, are text (no NUL byte, at most
:data:`BINARY_SHARE` of control bytes or invalid UTF-8), its stdout is not blank, and together
they show the path the traffic took (a lane or a path class, not a bare component selection).
Anything else is a :class:`~builder.model.verdict.Problem` naming the file, or an
``inconclusive`` transport status, which makes the verdict ``inconclusive`` (exit 2) unless real
evidence elsewhere makes it ``fail``.

The defects a log file can have are a table (:data:`FILE_DEFECTS`): a newcomer adds a row and a
test. Reading goes through :func:`builder.fsio.open_binary_input` (``.gz`` decompressed), and any
exception while reading is a defect of that file, never a traceback.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from builder.fsio import open_binary_input
from builder.model.analysis import Analysis

#: Bytes read per chunk when inspecting a log (memory stays bounded on huge files).
CHUNK = 1 << 20
#: Control bytes that real logs carry: tab, newline, carriage return, form feed, escape (colours),
#: backspace (progress bars).
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\x1b\x08")
_BINARY_BYTES = bytes(b for b in range(32) if b not in _TEXT_CONTROLS) + b"\x7f"
#: Above this share of non-text bytes (control bytes or invalid UTF-8), a file is not a log.
BINARY_SHARE = 0.05


@dataclass
class LogStats:
    """What one pass over a log file found: its size, non-blank bytes and non-text bytes."""

    size: int = 0
    printable: int = 0
    binary: int = 0
    nul: int = 0
    error: str | None = None


def scan_log(path: Path) -> LogStats:
    """Read ``path`` once in chunks and count what tells text from damage (never raises)."""
    stats = LogStats()
    try:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        with open_binary_input(path) as handle:
            while chunk := handle.read(CHUNK):
                stats.size += len(chunk)
                stats.nul += chunk.count(b"\x00")
                stats.binary += len(chunk) - len(chunk.translate(None, _BINARY_BYTES))
                stats.printable += len(chunk.translate(None, b" \t\n\r\f\v"))
                stats.binary += decoder.decode(chunk).count("\ufffd")
            stats.binary += decoder.decode(b"", final=True).count("\ufffd")
    except Exception as exc:  # any failure to read is a defect of this input
        stats.error = f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc)
    return stats


@dataclass(frozen=True)
class FileDefect:
    """One way a debug log cannot be evidence: a test on its stats and the words for it."""

    name: str
    applies: Callable[[LogStats, bool], bool]
    message: Callable[[LogStats], str]


#: The defects, in the order they are reported (only the first that applies to a file).
#: ``applies(stats, is_stdout)``: an empty stderr is normal, an empty stdout is not.
FILE_DEFECTS: tuple[FileDefect, ...] = (
    FileDefect(
        "unreadable",
        lambda s, _: s.error is not None,
        lambda s: f"unreadable debug log: {s.error}",
    ),
    FileDefect(
        "nul",
        lambda s, _: s.nul > 0,
        lambda s: f"damaged debug log: {s.nul} NUL byte(s) (a truncated or zero-filled file)",
    ),
    FileDefect(
        "binary",
        lambda s, _: s.size > 0 and s.binary > BINARY_SHARE * s.size,
        lambda s: f"not a text log: {s.binary} of {s.size} bytes are binary",
    ),
    FileDefect(
        "empty",
        lambda s, is_stdout: is_stdout and s.printable == 0,
        lambda s: "empty debug log: the job printed nothing",
    ),
)


def file_defect(path: Path, *, is_stdout: bool) -> str | None:
    """Why ``path`` cannot serve as transport evidence, or ``None`` when it can."""
    stats = scan_log(path)
    for defect in FILE_DEFECTS:
        if defect.applies(stats, is_stdout):
            return defect.message(stats)
    return None


def shows_transport_path(analysis: Analysis) -> bool:
    """True when the analysis names a path the traffic took (a lane or a path class).

    A component selection alone (Open MPI's ``pml ucx`` line) does not say which transport
    carried the messages, so it is not enough.
    """
    return (
        bool(analysis.paths) or analysis.inter_node is not None or analysis.intra_node is not None
    )


def no_path_note(mode: str, analysis: Analysis) -> str:
    """Words for a side without a transport path, naming its files."""
    files = ", ".join(analysis.inputs) or "(no files)"
    selected = analysis.selected
    hint = f" (only the selection pml {selected.pml})" if selected.pml else ""
    return f"no transport path in the {mode} debug logs{hint}: {files}"
