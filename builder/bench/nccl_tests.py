"""NVIDIA nccl-tests output (``src/common.cu``): preamble, two-line header, rows, footer.

::

    # nccl-tests version 2.13.8 nccl-headers=22003 nccl-library=22003      (newer versions)
    # Collective test starting: all_reduce_perf                            (newer versions)
    # nThread 1 nGpus 1 minBytes 8 maxBytes 134217728 step: 2(factor) warmup iters: 5 ...
    #  Rank  0 Group  0 Pid  4242 on node1 device  0 [0x07] NVIDIA A100-SXM4-40GB
    #                                         out-of-place                  in-place
    #   size    count   type redop root   time algbw busbw #wrong   time algbw busbw #wrong
    #    (B) (elements)                   (us) (GB/s) (GB/s)        (us) (GB/s) (GB/s)
           8        2  float   sum   -1  135.8  0.00  0.00      0  123.5  0.00  0.00      0
    # Out of bounds values : 0 OK
    # Avg bus bandwidth    : 70.742

Older tables lack ``redop`` and/or ``root`` and name the check column ``error`` (a float);
the oldest say ``bytes N type op ... res``. All printed columns are kept, in order:
``size``, ``count``, ``type``, ``redop``, ``root``, then ``oop_time_us``, ``oop_algbw_GBps``,
``oop_busbw_GBps``, ``oop_wrong`` (or ``oop_error``) and the same with ``ip_`` for in-place.
``N/A`` cells (``#wrong`` of tests that cannot check in place, ``-c 0`` runs) become ``None``.
rccl-tests print the same layout (``# rccl-tests version``) and are read the same way.

``summary``: ``avg_busbw`` (GB/s), ``out_of_bounds`` (count of wrong values) and
``validation`` (``OK``/``FAILED``, as the footer says), ``ranks`` (the ``#  Rank`` lines) and
``devices`` (distinct GPU names).

``benchmark`` is the test binary (``all_reduce_perf``): from ``# Collective test starting:``
when printed, else from the last command line before the table that names a ``*_perf``
binary, else ``nccl_tests``. ``version`` comes from ``# nccl-tests version``.

Real outputs vary, and each variant is read rather than refused:

* headers, the units line and the footer with or without the leading ``#`` (old releases);
* ``#wrong`` cells as numbers or ``N/A``; the old ``error`` column as a float (``1e+00``);
* rows with a launcher or rank label in front (``[1,0]<stdout>:``, ``0:``, ``rank0:``,
  ``node1:``), removed before the cells are read;
* rows printed without any header (an excerpt, ``grep``-ed output): a row whose third cell is a
  data type (``float``, ``bfloat16``, ...) opens a table whose layout is read from the row itself;
* several tables in one file (one per test binary, or repeated runs).

A table that is cut (the job was killed: no ``Avg bus bandwidth`` footer, a last row cut short)
keeps the rows it has and says ``complete: false``; so does a table where a row was dropped
(wrong number of cells, a damaged size) or a damaged cell became ``null``. ``problems`` names
each line at fault.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from builder.bench.text import Line, feed_lines, is_int, is_missing, snake_case, to_cell, to_float
from builder.model.bench import BenchProblem, BenchResult, Cell, SourceRef

SUITE = "nccl"

VERSION = re.compile(r"^#\s*[nr]ccl-tests version\s+(?P<version>\S+)")
STARTING = re.compile(r"^#\s*Collective test starting:\s*(?P<name>\S+)")
PREAMBLE = re.compile(r"^#\s*nThread\s+\d+")
RANK = re.compile(r"^#\s*Rank\s+\d+\s.*?device\s+\d+\s+\[[^\]]*\]\s+(?P<gpu>.+?)\s*$")
OUT_OF_BOUNDS = re.compile(
    r"^#?\s*Out of bounds values\s*:\s*(?P<count>\d+)(?:\s+(?P<verdict>OK|FAILED)\b)?"
)
AVG_BUSBW = re.compile(r"^#?\s*Avg bus bandwidth\s*:\s*(?P<value>\S+)")
BINARY = re.compile(r"(?<![\w-])(?P<name>[a-z][a-z0-9_]*_perf)(?:_mpi)?\b")
#: Lines of the header block that carry no columns: the variant titles and the units.
_HEADER_DECORATION = re.compile(r"^#?\s*(?:out-of-place|\(B\))", re.IGNORECASE)
#: A label in front of a row's cells: ``[1,0]``, ``rank0:``, ``node1:``, ``0:``.
_ROW_LABEL = re.compile(r"\[[\d,]+\]|[\w.-]*:|rank\d+", re.IGNORECASE)
_LABELLED_ROW = re.compile(r"(?:\[[\d,]+\]|rank\d+:?|[\w.-]+:)\s*\d", re.IGNORECASE)

#: The data type names nccl-tests prints in the ``type`` column (old and new releases).
DATA_TYPES = frozenset(
    {
        "int8", "uint8", "char", "int32", "uint32", "int", "uint", "int64", "uint64",
        "half", "float16", "float", "float32", "double", "float64", "bfloat16",
        "f8e4m3", "f8e5m2", "fp8_e4m3", "fp8_e5m2",
        "f16", "f32", "f64", "bf16", "fp16", "fp32", "fp64",
    }
)  # fmt: skip
#: A line that starts like a row with a data type: what opens a table printed without header.
HEADERLESS_ROW = re.compile(r"\d+\s+\d+\s+(?P<type>[a-z][a-z0-9_]*)\s+\S")
#: Reduction operations nccl-tests prints in the ``redop`` column.
REDUCTION_OPS = frozenset({"sum", "prod", "max", "min", "avg", "mulsum", "premulsum", "none"})

#: Leading columns: printed label -> (column name, cell kind).
_LEADING = {
    "size": ("size", "int"),
    "bytes": ("size", "int"),
    "count": ("count", "int"),
    "n": ("count", "int"),
    "type": ("type", "str"),
    "redop": ("redop", "str"),
    "op": ("redop", "str"),
    "root": ("root", "int"),
}
#: Per-variant columns: printed label -> (column suffix, cell kind).
_MEASURED = {
    "time": ("time_us", "float"),
    "algbw": ("algbw_GBps", "float"),
    "busbw": ("busbw_GBps", "float"),
    "#wrong": ("wrong", "int"),
    "wrong": ("wrong", "int"),
    "error": ("error", "float"),
    "res": ("error", "float"),
}
_VARIANTS = ("oop", "ip")

Column = tuple[str, str]


def _variant_prefix(variant: int) -> str:
    return _VARIANTS[variant] if variant < len(_VARIANTS) else f"v{variant}"


def header_columns(text: str) -> list[Column] | None:
    """(name, kind) per column of a header line, or ``None`` when it is not an nccl-tests header."""
    tokens = text.lstrip().removeprefix("#").split()
    lowered = [token.lower() for token in tokens]
    if "time" not in lowered or "busbw" not in lowered or lowered[0] not in ("size", "bytes"):
        return None
    columns: list[Column] = []
    variant = -1
    for token in lowered:
        if token in _MEASURED:
            if token == "time":
                variant += 1
            suffix, kind = _MEASURED[token]
            columns.append((f"{_variant_prefix(variant)}_{suffix}", kind))
        elif token in _LEADING and variant < 0:
            columns.append(_LEADING[token])
        elif token.strip("#()").replace("_", "").isalnum():
            # A column a newer release added: kept under its own name, read as any cell.
            name = snake_case(token) or token
            columns.append((name if variant < 0 else f"{_variant_prefix(variant)}_{name}", "cell"))
        else:
            return None
    return columns


def headerless_columns(tokens: Sequence[str]) -> list[Column] | None:
    """The layout of a row printed without its header, read from the row's own cells.

    ``size count type [redop] [root]`` then groups of ``time algbw busbw check``; the check is
    ``wrong`` when printed as an integer or ``N/A``, else the old float ``error``.
    """
    if len(tokens) < 7 or not (is_int(tokens[0]) and is_int(tokens[1])):
        return None
    if tokens[2].lower() not in DATA_TYPES:
        return None
    columns: list[Column] = [_LEADING["size"], _LEADING["count"], _LEADING["type"]]
    index = 3
    if tokens[3].lower() in REDUCTION_OPS:
        columns.append(_LEADING["redop"])
        index = 4
    measured = len(tokens) - index
    if measured % 4 == 1 and is_int(tokens[index]):
        columns.append(_LEADING["root"])
        index += 1
        measured -= 1
    if measured % 4 or not measured:
        return None
    for variant in range(measured // 4):
        prefix = _variant_prefix(variant)
        check = tokens[index + 4 * variant + 3]
        kind = ("wrong", "int") if is_int(check) or is_missing(check) else ("error", "float")
        columns += [
            (f"{prefix}_time_us", "float"),
            (f"{prefix}_algbw_GBps", "float"),
            (f"{prefix}_busbw_GBps", "float"),
            (f"{prefix}_{kind[0]}", kind[1]),
        ]
    return columns


def is_marker(text: str) -> bool:
    """Whether a stripped line is unmistakably nccl-tests output (header, footer, typed row)."""
    if text.startswith("#"):
        return header_columns(text) is not None or PREAMBLE.match(text) is not None
    if text[:1].isdigit():
        row = HEADERLESS_ROW.match(text)
        return row is not None and row["type"] in DATA_TYPES
    return ("busbw" in text and header_columns(text) is not None) or AVG_BUSBW.match(
        text
    ) is not None


class DamagedCell(ValueError):
    """A cell that is none of what its column holds (a number, ``N/A``)."""


def _cell(token: str, kind: str) -> Cell:
    if kind == "str":
        return token
    if kind == "cell":
        return to_cell(token)
    if is_missing(token):
        return None
    if kind == "int" and is_int(token):
        return int(token)
    try:
        return to_float(token)
    except ValueError:
        raise DamagedCell(token) from None


def row_tokens(text: str) -> list[str]:
    """The cells of a row, without the launcher or rank labels printed in front of them."""
    tokens = text.split()
    labels = 0
    while labels < min(len(tokens) - 1, 3) and not tokens[labels][:1].isdigit():
        if not _ROW_LABEL.fullmatch(tokens[labels]):
            break
        labels += 1
    return tokens[labels:] if labels and tokens[labels][:1].isdigit() else tokens


def _is_row(tokens: Sequence[str], width: int) -> bool:
    """Whether a line inside a table is a row (perhaps cut or damaged) rather than noise.

    A size and a count, or only a size (a row cut right after it), or a line as wide as the
    table whose first cell starts with a digit (a damaged size).
    """
    if is_int(tokens[0]):
        return len(tokens) == 1 or is_int(tokens[1])
    return tokens[0][:1].isdigit() and len(tokens) == width


@dataclass
class _Table:
    columns: list[Column]
    header_line: int
    line: int
    benchmark: str
    version: str | None
    summary: dict[str, object]
    #: Opened by a row without a header: ends at the first line that is not such a row.
    headerless: bool = False
    rows: list[list[Cell]] = field(default_factory=list)
    problems: list[BenchProblem] = field(default_factory=list)


@dataclass
class _Context:
    """What the lines before a table said about it."""

    start: int | None = None
    version: str | None = None
    starting: str | None = None
    command: str | None = None
    ranks: int = 0
    devices: list[str] = field(default_factory=list)


class _Parser:
    """A line-by-line state machine over one file's lines."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.results: list[BenchResult] = []
        self.context = _Context()
        self.table: _Table | None = None
        #: The version line is printed once, before several tests.
        self.version: str | None = None
        #: The last command line naming a test binary: it names later tables too.
        self.command: str | None = None

    def open(self, columns: list[Column], line: Line, *, headerless: bool = False) -> None:
        context = self.context
        summary: dict[str, object] = {"ranks": context.ranks} if context.ranks else {}
        if context.devices:
            summary["devices"] = list(context.devices)
        self.table = _Table(
            columns=columns,
            header_line=line.number,
            line=context.start or line.number,
            benchmark=context.starting or context.command or self.command or "nccl_tests",
            version=context.version or self.version,
            summary=summary,
            headerless=headerless,
        )
        self.context = _Context()

    def close(self, line: int | None, why: str | None) -> None:
        """End the open table; ``why`` says what is missing when it ends without its footer."""
        table, self.table = self.table, None
        if table is None:
            return
        if why is not None:
            table.problems.append(BenchProblem(line=line or table.header_line, message=why))
        if not table.rows:
            why = "nccl-tests header without rows"
            table.problems.insert(0, BenchProblem(line=table.header_line, message=why))
        self.results.append(
            BenchResult(
                suite=SUITE,
                benchmark=table.benchmark,
                version=table.version,
                columns=[name for name, _ in table.columns],
                rows=table.rows,
                summary=table.summary,
                source=SourceRef(file=self.source, line=table.line),
                complete=not table.problems,
                problems=table.problems,
            )
        )

    def feed(self, line: Line) -> None:
        text = line.text.strip()
        if not text:
            return
        if self.table is not None and self.in_table(text, line):
            return
        self.outside(text, line)

    def outside(self, text: str, line: Line) -> None:
        """A line outside any table: context for the next table, or its header."""
        context = self.context
        if not text.startswith("#"):
            if "_perf" in text and (binary := BINARY.search(text)):
                # A command line naming the binary; it names the tables that follow.
                self.command = context.command = binary["name"]
            elif "busbw" in text and (columns := header_columns(text)) is not None:
                self.open(columns, line)
            elif text[:1].isdigit() or _LABELLED_ROW.match(text):
                tokens = row_tokens(text)
                if (columns := headerless_columns(tokens)) is not None:
                    self.open(columns, line, headerless=True)
                    self.on_row(tokens, line)
        elif match := VERSION.match(text):
            self.version = context.version = match["version"]
            context.start = context.start or line.number
        elif match := STARTING.match(text):
            context.starting = match["name"]
            context.start = context.start or line.number
        elif PREAMBLE.match(text):
            context.start = context.start or line.number
        elif match := RANK.match(text):
            context.ranks += 1
            if match["gpu"] not in context.devices:
                context.devices.append(match["gpu"])
        elif (columns := header_columns(text)) is not None:
            self.open(columns, line)

    def in_table(self, text: str, line: Line) -> bool:
        """Read a line of the open table; ``False`` when it ended the table without being used."""
        table = self.table
        assert table is not None
        if match := OUT_OF_BOUNDS.match(text):
            table.summary["out_of_bounds"] = int(match["count"])
            if match["verdict"]:
                table.summary["validation"] = match["verdict"]
            return True
        if match := AVG_BUSBW.match(text):
            try:
                table.summary["avg_busbw"] = to_float(match["value"])
            except ValueError:
                why = f"damaged average bus bandwidth {match['value']!r}"
                table.problems.append(BenchProblem(line=line.number, message=why))
            self.close(None, None)
            return True
        if _HEADER_DECORATION.match(text):
            return True
        if not table.rows and self.repeated_before_rows(text, table):
            return True
        if text.startswith("#") or ("busbw" in text and header_columns(text) is not None):
            # Another header, preamble or tool: this table was cut before its footer.
            self.close(line.number, "nccl-tests table ends without its footer")
            return False
        tokens = row_tokens(text)
        if table.headerless and len(tokens) != len(table.columns) and headerless_columns(tokens):
            # Rows of another layout: another test's table, also printed without a header.
            self.close(line.number, "nccl-tests rows end without a footer")
            return False
        if _is_row(tokens, len(table.columns)):
            self.on_row(tokens, line)
        elif table.headerless and text[:1].isdigit():
            self.close(line.number, "nccl-tests rows end without a footer")
            return False
        # else: NCCL INFO lines, launcher noise
        return True

    @staticmethod
    def repeated_before_rows(text: str, table: _Table) -> bool:
        """Whether a line before the first row is another process printing the same preamble.

        Several processes each running the test (no MPI build, one rank each) print their
        preambles and headers interleaved; their rows then form one table.
        """
        if match := RANK.match(text):
            ranks = table.summary.get("ranks")
            table.summary["ranks"] = (ranks if isinstance(ranks, int) else 0) + 1
            devices = table.summary.setdefault("devices", [])
            if isinstance(devices, list) and match["gpu"] not in devices:
                devices.append(match["gpu"])
            return True
        if PREAMBLE.match(text) or VERSION.match(text) or STARTING.match(text):
            return True
        return "busbw" in text and header_columns(text) == table.columns

    def on_row(self, tokens: list[str], line: Line) -> None:
        table = self.table
        assert table is not None
        if len(tokens) != len(table.columns):
            why = f"nccl-tests row has {len(tokens)} of {len(table.columns)} cells; dropped"
            table.problems.append(BenchProblem(line=line.number, message=why))
            return
        cells: list[Cell] = []
        for token, (name, kind) in zip(tokens, table.columns, strict=True):
            try:
                cells.append(_cell(token, kind))
            except DamagedCell:
                why = f"damaged {name} cell {token!r} read as null"
                table.problems.append(BenchProblem(line=line.number, message=why))
                cells.append(None)
        if cells[0] is None:
            why = f"nccl-tests row without a readable size ({tokens[0]!r}); dropped"
            table.problems.append(BenchProblem(line=line.number, message=why))
            return
        table.rows.append(cells)


def parse_nccl(lines: Sequence[Line], source: str) -> list[BenchResult]:
    """Every nccl-tests table in ``lines``; cut or damaged tables say ``complete: false``."""
    parser = _Parser(source)
    feed_lines(parser.feed, lines, source)
    if parser.table is not None:
        why = "nccl-tests table ends without its '# Avg bus bandwidth' footer"
        parser.close(parser.table.header_line, why)
    return parser.results
