"""Lines and cells shared by the suite parsers: cleaning, numbering, number conversion.

Benchmark outputs arrive decorated like any log: ANSI colours, ``\\r\\n`` line ends, progress
output overwritten with a lone ``\\r``, ``mpirun --tag-output`` prefixes (``[1,0]<stdout>:``),
``srun --label`` prefixes (``0: ``), MPICH/Intel MPI ``-prepend-rank``/``-l`` prefixes (``[0] ``),
host names of ``pdsh``/``clush`` (``node01: ``), and timestamps in front of all of them
(``mpirun --timestamp-output``: ``Sun Dec 24 09:52:05 2017``, ISO 8601, syslog, ``HH:MM:SS``).
The rank a prefix names is kept as the line's ``stream``, so that outputs of several ranks
printing the same benchmark can be read apart. Open MPI's tag
output also leaves a prefix glued to the *end* of a row when a rank writes the newline
separately (seen here: ``... 10000[1,0]<stdout>:``), so tag prefixes are removed wherever they
occur, not only at the start.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from builder.errors import EsdcError
from builder.model.bench import Cell

_ANSI = re.compile(
    r"\x1b\[[0-9;:?<=>]*[ -/]*[@-~]"  # CSI: colours, cursor movement
    r"|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?"  # OSC: terminal titles, links
    r"|\x1b[@-Z\\^_]"  # two-byte escapes
)
_TAG_OUTPUT = re.compile(r"\[\d+,(\d+)\]<(?:stdout|stderr|stddiag)>: ?")
#: ``srun --label`` (``0: ``), MPICH/Intel MPI ``-prepend-rank``/``-l`` (``[0] ``), and a host
#: name (``pdsh``, ``clush``: ``node01: ``) in front of a comment or a row.
_RANK_LABEL = re.compile(
    r"^(?: *(?P<srun>\d+): |\[(?P<rank>\d+)\] |(?P<host>[A-Za-z][\w.-]*): (?=\s*[#\d]))"
)
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
#: A timestamp in front of a line, as launchers and log shippers print it.
_TIMESTAMP = re.compile(
    r"^\[?(?:"
    rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) {_MONTH} +\d+ \d\d:\d\d:\d\d(?: \d{{4}})?"  # ctime
    r"|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"  # ISO 8601
    rf"|{_MONTH} +\d+ \d\d:\d\d:\d\d(?: [\w.-]+ [\w./-]+(?:\[\d+\])?:)?"  # syslog, journald
    r"|\d\d:\d\d:\d\d(?:[.,]\d+)?"  # time of day
    r"|(?<=\[)\d{9,10}\.\d+(?=\])"  # [epoch.fraction] (ts '%.s'); bare it is a size
    r")\]?:? ?"
)
_TIMESTAMP_STARTS = frozenset("[0123456789ADFJMNOSTW")
_INT = re.compile(r"[-+]?\d+")
#: Spellings of "no value" in benchmark tables; they become JSON null.
_MISSING = frozenset({"n/a", "na", "-", "nan", "-nan", "inf", "-inf", "+inf"})


@dataclass(frozen=True, slots=True)
class Line:
    """One cleaned line, its 1-based number in the original file and the rank that printed it.

    ``stream`` is the rank a launcher prefix named (``""`` when the line had none).
    """

    number: int
    text: str
    stream: str = ""


def clean_line(text: str) -> tuple[str, str]:
    """(stream, text): a raw line without colours, overwrites, timestamps, launcher prefixes."""
    if "\r" in text:
        # A lone \r means the terminal overwrote the line: keep what was shown last.
        text = text.rstrip("\r").rsplit("\r", 1)[-1]
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\x00" in text:
        text = text.replace("\x00", "")
    stream = ""
    if text[:1] in _TIMESTAMP_STARTS and (stamp := _TIMESTAMP.match(text)):
        text = text[stamp.end() :]
    if "<std" in text:
        tag = _TAG_OUTPUT.search(text)
        if tag is not None and tag.start() == 0:
            stream = tag[1]
        text = _TAG_OUTPUT.sub("", text)
    elif (text[:1] in " 0123456789[" or ": " in text) and (label := _RANK_LABEL.match(text)):
        stream, text = label["srun"] or label["rank"] or label["host"], text[label.end() :]
    return stream, text


def clean_text(text: str) -> str:
    """One raw line without colours, carriage-return overwrites and launcher prefixes."""
    return clean_line(text)[1]


def split_lines(text: str) -> list[Line]:
    """Cleaned, numbered lines of a whole output (numbers count ``\\n`` only, as editors do)."""
    lines = []
    for number, raw in enumerate(text.split("\n"), start=1):
        stream, clean = clean_line(raw)
        lines.append(Line(number, clean, stream))
    return lines


#: More ranks than this printing headers are read as one stream (bounds the work).
MAX_STREAMS = 256


def streams(lines: Sequence[Line]) -> list[Sequence[Line]]:
    """The lines of each rank apart when several ranks printed ``#`` lines, else all as one.

    Several ranks printing titles and headers means several runs interleaved (ranks running as
    singletons, two jobs writing one file): each is read from its own rank's lines. Lines
    without a rank prefix go with every rank.
    """
    names = dict.fromkeys(
        line.stream for line in lines if line.stream and line.text.lstrip().startswith("#")
    )
    if not 2 <= len(names) <= MAX_STREAMS:
        return [lines]
    return [[line for line in lines if line.stream in ("", name)] for name in names]


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


#: What launchers, batch systems and the C runtime print when a job ends before its output
#: does: one row per message, so that a newcomer adds a launcher's spelling in one line.
ABNORMAL_END = (
    r"exited on signal \d+",  # Open MPI: "mpirun noticed that process rank 0 ... exited on signal"
    r"(?:^|\d\s+|:\s*|\()killed\b",  # "Killed", "sh: line 1: 42 Killed", "(Killed)"
    r"oom-kill",
    r"CANCELLED AT",  # Slurm: "*** JOB 1234 ON node1 CANCELLED AT ... DUE TO TIME LIMIT ***"
    r"DUE TO TIME LIMIT",
    r"MPI_ABORT was invoked",  # Open MPI
    r"application called MPI_Abort",  # MPICH, Intel MPI
    r"BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES",  # MPICH, Intel MPI
    r"Segmentation fault|Bus error|Aborted \(core dumped\)",
    r"srun: error: .*: task",  # "srun: error: node1: task 0: Exited with exit code 1"
    r"terminate called after throwing",
    r"Caught signal \d+",  # UCX
)
_ABNORMAL_END = re.compile("|".join(ABNORMAL_END), re.IGNORECASE)


def job_ended_abnormally(text: str) -> bool:
    """Whether a line says the job was killed or aborted (so a table before it may be cut)."""
    return _ABNORMAL_END.search(text) is not None


def feed_lines(feed: Callable[[Line], None], lines: Sequence[Line], source: str) -> None:
    """Give every line to a parser's ``feed``; a parser bug becomes one error naming the line."""
    for line in lines:
        try:
            feed(line)
        except Exception as exc:  # a bug must still be one clear line naming file and line
            why = f"cannot read this line ({type(exc).__name__}: {exc})"
            raise EsdcError(why, where=source, line=line.number) from exc


def snake_case(text: str) -> str:
    """``Reduce-Scatter Latency`` -> ``reduce_scatter_latency``."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
