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

``summary``: ``avg_busbw`` (GB/s), ``out_of_bounds`` (count of wrong values), ``ranks`` (the
``#  Rank`` lines) and ``devices`` (distinct GPU names).

``benchmark`` is the test binary (``all_reduce_perf``): from ``# Collective test starting:``
when printed, else from the last command line before the table that names a ``*_perf``
binary, else ``nccl_tests``. ``version`` comes from ``# nccl-tests version``.

A table must end with its ``# Avg bus bandwidth`` footer: a table cut before it (the job was
killed) is reported as truncated rather than parsed as if complete.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from builder.bench.text import Line, is_int, to_float, to_int
from builder.errors import EsdcError
from builder.model.bench import BenchResult, Cell, SourceRef

SUITE = "nccl"

VERSION = re.compile(r"^#\s*[nr]ccl-tests version\s+(?P<version>\S+)")
STARTING = re.compile(r"^#\s*Collective test starting:\s*(?P<name>\S+)")
PREAMBLE = re.compile(r"^#\s*nThread\s+\d+")
RANK = re.compile(r"^#\s*Rank\s+\d+\s.*?device\s+\d+\s+\[[^\]]*\]\s+(?P<gpu>.+?)\s*$")
OUT_OF_BOUNDS = re.compile(r"^#\s*Out of bounds values\s*:\s*(?P<count>\d+)")
AVG_BUSBW = re.compile(r"^#\s*Avg bus bandwidth\s*:\s*(?P<value>\S+)")
BINARY = re.compile(r"(?<![\w-])(?P<name>[a-z][a-z0-9_]*_perf)(?:_mpi)?\b")

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


def header_columns(text: str) -> list[tuple[str, str]] | None:
    """(name, kind) per column of a header line, or ``None`` when it is not an nccl-tests header."""
    tokens = text.lstrip().removeprefix("#").split()
    lowered = [token.lower() for token in tokens]
    if "time" not in lowered or "busbw" not in lowered or lowered[0] not in ("size", "bytes"):
        return None
    columns: list[tuple[str, str]] = []
    variant = -1
    for token in lowered:
        if token in _MEASURED:
            if token == "time":
                variant += 1
            prefix = ("oop", "ip")[variant] if variant < 2 else f"v{variant}"
            suffix, kind = _MEASURED[token]
            columns.append((f"{prefix}_{suffix}", kind))
        elif token in _LEADING and variant < 0:
            columns.append(_LEADING[token])
        else:
            return None
    return columns


def _cell(token: str, kind: str) -> Cell:
    if kind == "str":
        return token
    if kind == "int" and (is_int(token) or token.upper() == "N/A"):
        return to_int(token)
    return to_float(token)


@dataclass
class _Table:
    columns: list[tuple[str, str]]
    header_line: int
    line: int
    benchmark: str
    version: str | None
    summary: dict[str, object]
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass
class _Context:
    """What the lines before a table said about it."""

    start: int | None = None
    version: str | None = None
    starting: str | None = None
    command: str | None = None
    ranks: int = 0
    devices: list[str] = field(default_factory=list)


def _truncated(source: str, line: int, why: str) -> EsdcError:
    return EsdcError(f"truncated table at line {line}: {why}", where=source, line=line)


def parse_nccl(lines: Sequence[Line], source: str) -> list[BenchResult]:
    """Every nccl-tests table in ``lines``.

    Raises
    ------
    EsdcError
        A table without rows or without its footer, or a row with the wrong number of cells.
    """
    results: list[BenchResult] = []
    context = _Context()
    table: _Table | None = None
    version: str | None = None  # the version line is printed once, before several tests

    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        if table is None:
            if not text.startswith("#"):
                # Only a command line naming the binary matters outside "#" lines.
                if "_perf" in text and (binary := BINARY.search(text)):
                    context.command = binary["name"]
            elif match := VERSION.match(text):
                version = context.version = match["version"]
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
                summary: dict[str, object] = {"ranks": context.ranks} if context.ranks else {}
                if context.devices:
                    summary["devices"] = list(context.devices)
                benchmark = context.starting or context.command or "nccl_tests"
                table = _Table(
                    columns=columns,
                    header_line=line.number,
                    line=context.start or line.number,
                    benchmark=benchmark,
                    version=context.version or version,
                    summary=summary,
                )
                context = _Context()
            continue
        # Inside a table: rows until the footer.
        if text.startswith("#"):
            if match := OUT_OF_BOUNDS.match(text):
                table.summary["out_of_bounds"] = int(match["count"])
            elif match := AVG_BUSBW.match(text):
                if not table.rows:
                    raise _truncated(source, table.header_line, "nccl-tests header without rows")
                table.summary["avg_busbw"] = to_float(match["value"])
                results.append(
                    BenchResult(
                        suite=SUITE,
                        benchmark=table.benchmark,
                        version=table.version,
                        columns=[name for name, _ in table.columns],
                        rows=table.rows,
                        summary=table.summary,
                        source=SourceRef(file=source, line=table.line),
                    )
                )
                table = None
            elif header_columns(text) is not None or PREAMBLE.match(text):
                raise _truncated(
                    source, table.header_line, "nccl-tests table ends without its footer"
                )
            continue
        tokens = text.split()
        if not is_int(tokens[0]) or len(tokens) < 3 or not is_int(tokens[1]):
            continue  # NCCL INFO lines, launcher noise
        if len(tokens) != len(table.columns):
            raise _truncated(
                source,
                line.number,
                f"nccl-tests row has {len(tokens)} of {len(table.columns)} cells",
            )
        table.rows.append(
            [_cell(t, kind) for t, (_, kind) in zip(tokens, table.columns, strict=True)]
        )
    if table is not None:
        raise _truncated(
            source,
            table.header_line,
            "nccl-tests table ends without its '# Avg bus bandwidth' footer",
        )
    return results
