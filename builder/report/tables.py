"""All numbers of a run as JUBE-style result tables (pure).

``results.csv`` has one row per mode, suite, benchmark, rep and message size, with one column per
figure the suites print (``latency_us``, ``bandwidth_MBps``, ``time_mean_s``, ...). Tables
without a size (NEST's per-rank logger lines) keep their rows with an empty ``size``; summary
figures (NEST timers, nccl-tests' footer) add one row per rep with an empty ``size``, the
figures as columns; per-thread lists become their maximum (the slowest thread).
"""

from __future__ import annotations

import csv
import io

from builder.model.bench import BenchResult
from builder.verify.collect import RunData

KEY_COLUMNS = ["mode", "suite", "benchmark", "variant", "rep", "size"]


def summary_number(value: object) -> float | None:
    """A summary entry as one number: numbers as they are, lists of numbers as their maximum."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list) and value and all(isinstance(v, int | float) for v in value):
        return float(max(value))
    return None


def _rows_of(result: BenchResult) -> list[dict[str, object]]:
    """The table's rows (per size, or per rank for NEST), then one row of summary figures."""
    rows: list[dict[str, object]] = [
        {"size": None} | dict(zip(result.columns, row, strict=False)) for row in result.rows
    ]
    numbers = {k: n for k, v in result.summary.items() if (n := summary_number(v)) is not None}
    if numbers:
        rows.append({"size": None, **numbers})
    return rows


def result_table(data: RunData) -> tuple[list[str], list[list[object]]]:
    """The header and rows of the result table, in mode, suite, rep order as the run was read."""
    header = list(KEY_COLUMNS)
    records: list[dict[str, object]] = []
    for output in data.outputs:
        for result in output.results:
            for row in _rows_of(result):
                record = {
                    "mode": output.mode,
                    "suite": output.suite,
                    "benchmark": result.benchmark,
                    "variant": result.variant,
                    "rep": output.rep,
                    **row,
                }
                for name in record:
                    if name not in header:
                        header.append(name)
                records.append(record)
    return header, [[record.get(name) for name in header] for record in records]


def render_csv(data: RunData) -> str:
    """``results.csv`` text (``\\n`` line ends, empty cells for absent values)."""
    header, rows = result_table(data)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if cell is None else _cell(cell) for cell in row])
    return buffer.getvalue()


def _cell(cell: object) -> str:
    if isinstance(cell, list):
        return ";".join(str(v) for v in cell)
    return str(cell)
