"""``python -m mpi4py.bench pingpong`` output (mpi4py 4.x, ``src/mpi4py/bench.py``).

::

    # MPI PingPong Test
    # Size [B]  Bandwidth [MB/s] | Time Mean [s] ± StdDev [s]  Samples
             1              0.55 | 1.8277340e-06 ± 1.9787e-05    10000

Rows are ``f"{nbytes:10d}{bandwidth:18.2f}"`` plus, unless ``--no-stats``,
``f" | {mean:.7e} ± {stdev:.4e} {samples:8d}"``. Columns: ``size``, ``bandwidth_MBps``,
``time_mean_s``, ``time_std_s``, ``samples`` (the last three only when printed). The ``±`` may
arrive mangled by a non-UTF-8 terminal, so any short non-space token is accepted in its place.
The benchmark is named ``pingpong``; the version is not printed, so it stays ``None``.
A row that is cut or has cells of the wrong kind is dropped and named in ``problems``, and a
header without rows is kept: both make the result ``complete: false``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from builder.bench.text import Line, to_float, to_int
from builder.model.bench import BenchProblem, BenchResult, Cell, SourceRef

SUITE = "mpi4py"
TITLE = re.compile(r"^#\s*MPI PingPong Test\s*$")
HEADER = re.compile(r"^#\s*Size \[B\]\s+Bandwidth \[MB/s\](?P<stats>\s*\|.*)?$")
_NUMBER = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf)"
ROW = re.compile(
    rf"^\s*(?P<size>\d+)\s+(?P<bw>{_NUMBER})"
    rf"(?:\s*\|\s*(?P<mean>{_NUMBER})\s+\S{{1,3}}\s+(?P<std>{_NUMBER})\s+(?P<samples>\d+))?\s*$"
)
COLUMNS = ["size", "bandwidth_MBps"]
STATS_COLUMNS = ["time_mean_s", "time_std_s", "samples"]


def parse_mpi4py(lines: Sequence[Line], source: str) -> list[BenchResult]:
    """Every pingpong table in ``lines``; cut or damaged ones say ``complete: false``."""
    results: list[BenchResult] = []
    title_line: int | None = None
    header_line: int | None = None
    stats = False
    rows: list[list[Cell]] = []
    problems: list[BenchProblem] = []

    def close() -> None:
        nonlocal header_line, title_line, rows, problems
        if header_line is None:
            return
        if not rows:
            why = "mpi4py pingpong header without rows"
            problems.insert(0, BenchProblem(line=header_line, message=why))
        columns = COLUMNS + (STATS_COLUMNS if stats else [])
        results.append(
            BenchResult(
                suite=SUITE,
                benchmark="pingpong",
                columns=columns,
                rows=rows,
                source=SourceRef(file=source, line=title_line or header_line),
                complete=not problems,
                problems=problems,
            )
        )
        header_line, title_line, rows, problems = None, None, [], []

    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        if text.startswith("#"):
            if TITLE.match(text):
                close()
                title_line = line.number
            elif header := HEADER.match(text):
                close()
                header_line, stats = line.number, header["stats"] is not None
            elif rows:
                close()  # another tool's comment: this table is over
            continue
        if header_line is None or not text[0].isdigit():
            continue
        row = ROW.match(text)
        if row is None or (row["mean"] is not None) != stats:
            why = f"mpi4py pingpong row does not parse: {text[:80]!r}; dropped"
            problems.append(BenchProblem(line=line.number, message=why))
            continue
        cells: list[Cell] = [int(row["size"]), to_float(row["bw"])]
        if stats:
            cells += [to_float(row["mean"]), to_float(row["std"]), to_int(row["samples"])]
        rows.append(cells)
    close()
    return results
