"""OSU micro-benchmarks 5.x-7.x output: title, optional preamble, header, rows.

What the tests print (``osu_util.c`` / ``osu_util_mpi.c``)::

    # OSU MPI-CUDA Latency Test v7.2          <- title: API, variant, name, version
    # Send Buffer on DEVICE (D) and Receive Buffer on DEVICE (D)     <- GPU runs
    # Datatype: MPI_CHAR.                     <- 7.4+ (before the header)
    # Size          Latency (us)              <- header: "%-10s" then "%18s" per column
    # Datatype: MPI_CHAR.                     <- 7.1-7.3 (after the header)
    1                       2.46              <- rows: "%-10d" then "%18.2f"

Collectives name the main column ``Avg Latency(us)`` and add ``Min``/``Max``/``Iterations``
with ``-f``; ``-c`` adds ``Validation`` (``Pass``/``Fail``), ``-z`` adds ``P50 Tail Lat(us)``
columns; ``osu_barrier`` prints no size column, ``osu_mbw_mr`` prints ``MB/s`` and
``Messages/s``, non-blocking collectives print ``Overall``/``Compute``/``Pure Comm.``/``Overlap``.

Choices where the format leaves room:

* ``columns`` are snake_case with units: ``size`` first, then the printed columns in order
  (``latency_us``, ``bandwidth_MBps``, ``messages_per_s``, ``min_latency_us``, ``iterations``,
  ``validation``, ``p50_latency_us``, ...). Tests without a size column (``osu_barrier``,
  ``osu_ibarrier``) get ``size`` 0, so "the first column is the size" holds for every OSU result.
* ``-T all`` (several datatypes) yields one result per datatype; ``summary["datatype"]`` names
  it. Preamble lines (``# [ pairs: 2 ] [ window size: 64 ]``, ``# Number of Sender threads: 1``,
  GPU buffer placement) go into ``summary`` too.
* ``source.line`` is the title line (for the second and later datatype tables of one title,
  their ``# Datatype`` line). A header without any title (an excerpt) takes the program the
  last command line before it names (``mpirun -np 2 ./osu_bw``), else ``osu_unknown``.
* A row that starts with a number but has the wrong number of cells (the last row of a killed
  job), a row with other output glued to it, or a header followed by no rows, makes the table
  ``complete: false``: the rows read are kept, the bad line is dropped and named in ``problems``.
  Lines that are not rows (UCX log lines, mpirun warnings) are skipped wherever they appear; a
  ``#`` comment that is not OSU's own ends the table.
* Timestamps and rank prefixes are removed by :mod:`builder.bench.text`; several ranks printing
  the same test with rank prefixes are read apart by ``api``.
* Several runs of one test in one table, each a result with ``summary["run"]`` (1, 2, ...):
  interleaved without prefixes (ranks running as singletons, two jobs writing one file: the
  title and header printed again before any row; each row goes to the first run whose last size
  is smaller), or side by side (``paste``: the header holds ``Size`` again, each row the cells
  of every run).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from builder.bench.text import Line, feed_lines, job_ended_abnormally, snake_case, to_cell
from builder.model.bench import BenchProblem, BenchResult, Cell, SourceRef

SUITE = "osu"

#: ``# OSU MPI[-CUDA] <Name> Test v<version>``; one-sided tests read ``OSU MPI_Put Latency Test``.
TITLE = re.compile(
    r"^#\s*OSU\s+(?P<api>MPI|OpenSHMEM|UPC\+\+|UPC|NCCL|RCCL|XCCL)"
    r"(?:-(?P<variant>[A-Za-z0-9+]+))?(?:_(?P<rma>\S+))?\s+(?P<name>.*?)\s*Test"
    r"(?:\s+v?(?P<version>\d\S*))?\s*$",
    re.IGNORECASE,
)
#: A sized header (``# Size  Latency (us)``); not mpi4py's ``# Size [B]``, not nccl's ``# size``.
SIZED_HEADER = re.compile(r"^#\s*Size\s+(?![\[\s])")
#: Headers of the tests that print no size column (barrier, ibarrier).
SIZELESS_HEADER = re.compile(r"^#\s*(?:Avg Latency|Overall)\s*\(", re.IGNORECASE)
DATATYPE = re.compile(r"^#\s*Datatype:\s*(?P<name>[^\s.]+)\.?\s*$")
BUFFERS = re.compile(
    r"^#\s*Send Buffer on (?P<send>[A-Z]+)(?:\s*\(\w+\))? and Receive Buffer on (?P<recv>[A-Z]+)",
    re.IGNORECASE,
)
_BRACKETED = re.compile(r"\[\s*([A-Za-z][\w ]*?)\s*:\s*([^\]]+?)\s*\]")
_KEY_VALUE = re.compile(r"^#\s*([A-Za-z][\w ./-]*?)\s*:\s*(\S.*?)\s*\.?$")

#: Program names of the tests whose title does not follow "<Collective> Latency".
_PROGRAMS = {
    "latency": "osu_latency",
    "bandwidth": "osu_bw",
    "bi-directional bandwidth": "osu_bibw",
    "multiple bandwidth / message rate": "osu_mbw_mr",
    "multi-threaded latency": "osu_latency_mt",
    "latency multi-threaded": "osu_latency_mt",
    "multi-process latency": "osu_latency_mp",
    "multi latency": "osu_multi_lat",
    "multi-pair latency": "osu_multi_lat",
    "persistent latency": "osu_latency_persistent",
    "partitioned latency": "osu_partitioned_latency",
    "congestion bandwidth": "osu_bw_cong",
}
#: Collective names as 5.x printed them.
_COLLECTIVES = {
    "all-to-all personalized exchange": "alltoall",
    "all-to-allv personalized exchange": "alltoallv",
    "all-to-allw personalized exchange": "alltoallw",
    "all-to-all": "alltoall",
    "all-to-allv": "alltoallv",
    "all-to-allw": "alltoallw",
    "broadcast": "bcast",
}
#: One-sided operations and kinds: ``MPI_Get_accumulate latency`` -> ``osu_get_acc_latency``.
_RMA_OPS = {
    "put": "put",
    "get": "get",
    "accumulate": "acc",
    "get_accumulate": "get_acc",
    "fetch_and_op": "fop",
    "compare_and_swap": "cas",
}
_RMA_KINDS = {"latency": "latency", "bandwidth": "bw", "bi-directional bandwidth": "bibw"}

#: Header labels, lower-cased without spaces, and their column names.
_LABELS = {
    "size": "size",
    "latency(us)": "latency_us",
    "avglatency(us)": "latency_us",
    "minlatency(us)": "min_latency_us",
    "maxlatency(us)": "max_latency_us",
    "iterations": "iterations",
    "validation": "validation",
    "bandwidth(mb/s)": "bandwidth_MBps",
    "mb/s": "bandwidth_MBps",
    "messages/s": "messages_per_s",
    "overall(us)": "overall_us",
    "compute(us)": "compute_us",
    "purecomm.(us)": "pure_comm_us",
    "overlap(%)": "overlap_percent",
    "mincomm.(us)": "min_comm_us",
    "maxcomm.(us)": "max_comm_us",
    "transmitsize": "transmit_size",
}
_TAIL = re.compile(r"p(?P<pct>\d+)tail(?P<kind>lat|bw)\((?:us|mb/s)\)")
#: Known labels, longest first, so that a header printed with single spaces still splits right.
_LABEL_PATTERN = re.compile(
    r"P\d+ Tail (?:Lat|BW)\s*\((?:us|MB/s)\)|Avg Latency\s*\(us\)|Min Latency\s*\(us\)"
    r"|Max Latency\s*\(us\)|Latency\s*\(us\)|Bandwidth\s*\(MB/s\)|Messages/s|MB/s|Iterations"
    r"|Validation|Overall\s*\(us\)|Compute\s*\(us\)|Pure Comm\.\s*\(us\)|Overlap\s*\(%\)"
    r"|Min Comm\.\s*\(us\)|Max Comm\.\s*\(us\)|Transmit Size|Size",
    re.IGNORECASE,
)
_UNITS = {"us": "us", "ms": "ms", "s": "s", "mb/s": "MBps", "gb/s": "GBps", "%": "percent"}


#: The columns each kind of test prints by default, for rows whose header is missing; the
#: collectives' full statistics (``-f``) add the three columns after the average.
_IMPLIED = {
    "bandwidth": ["size", "bandwidth_MBps"],
    "message_rate": ["size", "bandwidth_MBps", "messages_per_s"],
    "latency": ["size", "latency_us"],
    "full": ["size", "latency_us", "min_latency_us", "max_latency_us", "iterations"],
}


def implied_columns(benchmark: str, cells: int) -> list[str] | None:
    """The columns of a test's rows printed without header, or ``None`` when unsure."""
    if benchmark == "osu_mbw_mr":
        kind = "message_rate"
    elif benchmark.endswith(("_bw", "_bibw", "_bw_cong")):
        kind = "bandwidth"
    elif cells == len(_IMPLIED["full"]):
        kind = "full"
    else:
        kind = "latency"
    columns = _IMPLIED[kind]
    return list(columns) if len(columns) == cells else None


def program_name(name: str, rma: str | None) -> str:
    """The OSU program behind a title's test name (``Allreduce Latency`` -> ``osu_allreduce``).

    Unknown names become ``osu_`` + the snake_case name, so a new test still gets a stable id.
    """
    lowered = " ".join(name.lower().split())
    if rma:
        op = _RMA_OPS.get(rma.lower(), snake_case(rma))
        kind = _RMA_KINDS.get(lowered, snake_case(lowered))
        return f"osu_{op}_{kind}"
    if lowered in _PROGRAMS:
        return _PROGRAMS[lowered]
    base = lowered.removesuffix(" latency")
    prefix = suffix = ""
    if base.startswith("non-blocking "):
        prefix, base = "i", base.removeprefix("non-blocking ")
    if base.startswith("persistent "):
        suffix, base = "_persistent", base.removeprefix("persistent ")
    for neighbourhood in ("neighborhood ", "neighbourhood ", "neighbor "):
        if base.startswith(neighbourhood):
            prefix, base = prefix + "neighbor_", base.removeprefix(neighbourhood)
    base = _COLLECTIVES.get(base, base)
    return f"osu_{prefix}{snake_case(base)}{suffix}"


def column_name(label: str) -> str:
    """Column name with unit for a header label (``Avg Latency(us)`` -> ``latency_us``)."""
    key = "".join(label.lower().split())
    if key in _LABELS:
        return _LABELS[key]
    tail = _TAIL.fullmatch(key)
    if tail:
        figure = "latency_us" if tail["kind"] == "lat" else "bandwidth_MBps"
        return f"p{tail['pct']}_{figure}"
    unit = re.search(r"\(([^)]*)\)\s*$", label)
    if unit:
        suffix = _UNITS.get(unit[1].strip().lower(), snake_case(unit[1]))
        return f"{snake_case(label[: unit.start()])}_{suffix}"
    return snake_case(label)


def header_labels(header: str) -> list[str]:
    """The column labels of a header line (without the leading ``#``).

    Known labels are matched first (they may contain single spaces); anything else is split on
    runs of two or more spaces, the padding OSU's ``%*s`` fields leave between columns.
    """
    labels: list[str] = []
    rest = header.strip()
    while rest:
        known = _LABEL_PATTERN.match(rest)
        if known:
            labels.append(known.group(0))
            rest = rest[known.end() :].lstrip()
            continue
        parts = re.split(r"\s{2,}", rest, maxsplit=1)
        labels.append(parts[0])
        rest = parts[1] if len(parts) > 1 else ""
    return labels


@dataclass
class _Title:
    """What a title line and the preamble after it say about the tables that follow."""

    benchmark: str
    version: str | None
    variant: str | None
    line: int
    summary: dict[str, object] = field(default_factory=dict)
    #: Tables already emitted under this title (``-T all`` prints one per datatype).
    tables: int = 0


@dataclass
class _Table:
    """A table being collected."""

    title: _Title
    columns: list[str]
    sized: bool
    line: int
    header_line: int | None
    datatype: str | None = None
    rows: list[list[Cell]] = field(default_factory=list)
    problems: list[BenchProblem] = field(default_factory=list)
    #: Opened by a ``# Datatype`` line after a full table: the header may still follow.
    awaiting_header: bool = False
    #: Runs in this table: interleaved (header repeated) or side by side (``Size`` repeated).
    runs: int = 1
    side_by_side: bool = False
    #: Rows of runs 2, 3, ... (run 1's are ``rows``).
    extra: list[list[list[Cell]]] = field(default_factory=list)

    def is_as_wide(self, text: str) -> bool:
        """Whether a line has as many number-like cells as this table's rows."""
        width = len(self.columns) - (0 if self.sized else 1)
        tokens = text.split()
        if len(tokens) not in (width, width * self.runs):
            return False
        return all(any(c.isdigit() for c in token) or token in ("Pass", "Fail") for token in tokens)

    def drop(self, line: int, why: str) -> None:
        """Note a line that belongs to this table but could not be read as one of its rows."""
        self.problems.append(BenchProblem(line=line, message=why))


def _title_from(match: re.Match[str], line: int) -> _Title:
    api = match["api"].upper()
    variant = match["variant"].upper() if match["variant"] else None
    if variant is None and api not in ("MPI",):
        variant = api
    return _Title(
        benchmark=program_name(match["name"], match["rma"]),
        version=match["version"],
        variant=variant,
        line=line,
    )


def _preamble_value(text: str) -> object:
    cell = to_cell(text.strip())
    return cell if cell is not None else text.strip()


def _read_preamble(text: str, title: _Title) -> None:
    """Keep ``# key: value`` facts printed between a title and its rows."""
    buffers = BUFFERS.match(text)
    if buffers:
        title.summary["send_buffer"] = buffers["send"].upper()
        title.summary["receive_buffer"] = buffers["recv"].upper()
        return
    bracketed = _BRACKETED.findall(text)
    if bracketed:
        for key, value in bracketed:
            title.summary[snake_case(key)] = _preamble_value(value)
        return
    pair = _KEY_VALUE.match(text)
    if pair:
        title.summary[snake_case(pair[1])] = _preamble_value(pair[2])


#: A line made only of numbers (first one first), ``N/A`` and ``Pass``/``Fail`` cells.
_ROW = re.compile(
    r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
    r"(?:\s+(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|N/A|-?nan|-?inf|Pass|Fail))*\s*",
    re.IGNORECASE,
)


#: An OSU program on a command line (``srun ./osu_latency -m 8:8``, ``.../pt2pt/osu_bw``).
_PROGRAM = re.compile(r"(?<![\w-])(osu_[a-z][a-z0-9_]*)\b")
#: The start of an OSU row: a size, then a decimal figure.
_GARBLED_ROW = re.compile(r"\d+\s+[-+]?\d+\.\d")
#: Rows of other suites that may follow an OSU table: NEST logger lines, mpi4py rows.
_FOREIGN_ROW = re.compile(r"#|\|")


def _last_size(rows: list[list[Cell]]) -> int:
    """The size of the last row of a run, ``-1`` before its first row."""
    last = rows[-1][0] if rows else -1
    return last if isinstance(last, int) else -1


def _row_tokens(text: str) -> list[str] | None:
    """The cells of a candidate data row, or ``None`` when the line is not a row at all."""
    if not _ROW.fullmatch(text):
        return None
    return text.split()


class _Parser:
    """A line-by-line state machine over one file's lines."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.results: list[BenchResult] = []
        self.title: _Title | None = None
        self.table: _Table | None = None
        #: The OSU program the last command line named, for a header printed without title.
        self.command: str | None = None
        #: A ``# Datatype`` line seen before its header (7.4+ order): name and line number.
        self.pending_datatype: tuple[str, int] | None = None

    def close(self) -> None:
        table, self.table = self.table, None
        if table is None:
            return
        if not table.rows:
            if table.awaiting_header:
                return
            line = table.header_line or table.line
            why = f"OSU {table.title.benchmark} header without rows"
            table.problems.insert(0, BenchProblem(line=line, message=why))
        summary = dict(table.title.summary)
        if table.datatype:
            summary["datatype"] = table.datatype
        table.title.tables += 1
        runs = [table.rows, *table.extra]
        for index, rows in enumerate(runs, start=1):
            problems = list(table.problems)
            if not rows and index > 1:
                why = f"OSU {table.title.benchmark} run {index} printed no rows"
                problems.append(BenchProblem(line=table.header_line or table.line, message=why))
            self.results.append(
                BenchResult(
                    suite=SUITE,
                    benchmark=table.title.benchmark,
                    version=table.title.version,
                    variant=table.title.variant,
                    columns=table.columns,
                    rows=rows,
                    summary={**summary, "run": index} if len(runs) > 1 else summary,
                    source=SourceRef(file=self.source, line=table.line),
                    complete=not problems,
                    problems=problems,
                )
            )

    def repeats(self, title: _Title) -> bool:
        """Whether ``title`` is the open table's test again, printed before any of its rows."""
        table = self.table
        if table is None or table.rows or table.awaiting_header:
            return False
        return (table.title.benchmark, table.title.version) == (title.benchmark, title.version)

    def on_title(self, match: re.Match[str], line: Line) -> None:
        title = _title_from(match, line.number)
        if self.repeats(title):
            return  # the same test starting again before any row: interleaved runs
        self.close()
        self.pending_datatype = None
        self.title = title

    def on_header(self, line: Line, sized: bool) -> None:
        labels = header_labels(line.text.lstrip().removeprefix("#"))
        columns = [column_name(label.lstrip("# ")) for label in labels]
        if not sized:
            columns = ["size", *columns]
        runs, side_by_side = 1, False
        if sized and columns.count("size") > 1:
            width = columns.index("size", 1)
            if columns == columns[:width] * (len(columns) // width):
                runs, side_by_side, columns = len(columns) // width, True, columns[:width]
        table = self.table
        if table is not None and not table.rows and table.awaiting_header:
            # The header printed again after a "# Datatype" line (-T all).
            table.columns, table.sized, table.header_line = columns, sized, line.number
            table.awaiting_header = False
            return
        if table is not None and not table.rows and table.columns == columns:
            # The same header again before any row: one more run interleaved with the first.
            table.runs += 1
            table.extra.append([])
            return
        self.close()
        if self.title is None:
            self.title = _Title(self.command or "osu_unknown", None, None, line.number)
        datatype, start = None, line.number
        if self.pending_datatype is not None:
            datatype, start = self.pending_datatype
            self.pending_datatype = None
        self.table = _Table(
            title=self.title,
            columns=columns,
            sized=sized,
            line=self.title.line if self.title.tables == 0 else start,
            header_line=line.number,
            datatype=datatype,
            runs=runs,
            side_by_side=side_by_side,
            extra=[[] for _ in range(runs - 1)],
        )

    def open_without_header(self, tokens: list[str], line: Line) -> _Table | None:
        """A table whose header is missing (an excerpt): columns the title's test prints."""
        assert self.title is not None
        columns = implied_columns(self.title.benchmark, len(tokens))
        if columns is None:
            return None
        self.title.summary["columns_implied"] = True
        self.table = _Table(
            title=self.title,
            columns=columns,
            sized=True,
            line=self.title.line,
            header_line=line.number,
        )
        return self.table

    def on_datatype(self, name: str, line: Line) -> None:
        table = self.table
        if table is None:
            self.pending_datatype = (name, line.number)
        elif not table.rows:
            table.datatype = name  # 7.1-7.3 print the datatype after the header
        else:
            # -T all: the next datatype's rows follow, usually after the header is printed again.
            self.close()
            self.table = _Table(
                title=table.title,
                columns=table.columns,
                sized=table.sized,
                line=line.number,
                header_line=None,
                datatype=name,
                awaiting_header=True,
            )

    def on_row(self, tokens: list[str], line: Line, run: int | None = None) -> None:
        table = self.table
        if table is None and self.title is not None and self.title.tables == 0:
            table = self.open_without_header(tokens, line)
        if table is None:
            return  # numbers outside any OSU table belong to something else
        expected = len(table.columns) - (0 if table.sized else 1)
        if table.side_by_side and len(tokens) == expected * table.runs:
            for index in range(table.runs):
                self.on_row(tokens[index * expected : (index + 1) * expected], line, index)
            return
        if len(tokens) != expected:
            table.drop(
                line.number,
                f"OSU {table.title.benchmark} row has {len(tokens)} of {expected} cells "
                f"({', '.join(table.columns)}); dropped",
            )
            return
        cells: list[Cell] = [to_cell(token) for token in tokens]
        if not table.sized:
            cells.insert(0, 0)
        if not isinstance(cells[0], int):
            table.drop(line.number, f"OSU size {tokens[0]!r} is not an integer; dropped")
            return
        table.awaiting_header = False
        runs = [table.rows, *table.extra]
        if run is None and table.runs > 1:
            # Interleaved runs each print sizes in increasing order: the first run whose
            # last size is smaller takes the row.
            size = cells[0]
            run = next((i for i, rows in enumerate(runs) if _last_size(rows) < size), None)
            if run is None:
                table.drop(line.number, f"OSU size {size} fits none of {table.runs} runs; dropped")
                return
        runs[run or 0].append(cells)

    def feed(self, line: Line) -> None:
        text = line.text.strip()
        if not text:
            return
        if text.startswith("#"):
            self.on_comment(text, line)
            return
        tokens = _row_tokens(text)
        if tokens is not None:
            self.on_row(tokens, line)
            return
        if "osu_" in text and (program := _PROGRAM.search(text)):
            self.command = program[1]  # a command line, for a header printed without title
        if self.table is not None and _GARBLED_ROW.match(text) and not _FOREIGN_ROW.search(text):
            # A row with something glued to it (another rank's output cut into the line):
            # say so rather than silently lose that message size.
            self.table.drop(line.number, f"OSU row is garbled: {text[:80]!r}; dropped")
        elif self.table is not None and text[:1].isdigit() and self.table.is_as_wide(text):
            # A row with a damaged cell ("1x24", "0.4.5"): say so rather than lose it silently.
            self.table.drop(line.number, f"OSU row has a damaged cell: {text[:80]!r}; dropped")
        elif self.table is not None and self.table.rows and job_ended_abnormally(text):
            # OSU prints no footer: a job killed mid-table is told only by what follows it.
            why = f"the job ended abnormally after the last row: {text[:80]!r}"
            self.table.drop(line.number, why)

    def on_comment(self, text: str, line: Line) -> None:
        title = TITLE.match(text)
        if title:
            self.on_title(title, line)
            return
        if SIZED_HEADER.match(text) and "count" not in text.lower():
            self.on_header(line, sized=True)
            return
        if self.title is not None and SIZELESS_HEADER.match(text):
            self.on_header(line, sized=False)
            return
        datatype = DATATYPE.match(text)
        if datatype:
            if self.title is not None:
                self.on_datatype(datatype["name"], line)
            return
        if self.table is not None and self.table.rows:
            # Any other comment after rows belongs to another tool: the table is over.
            self.close()
            self.title = None
            return
        if self.title is not None:
            _read_preamble(text, self.title)


def parse_osu(lines: Sequence[Line], source: str) -> list[BenchResult]:
    """All OSU tables in ``lines``, in file order; cut or damaged ones say ``complete: false``."""
    parser = _Parser(source)
    feed_lines(parser.feed, lines, source)
    parser.close()
    return parser.results
