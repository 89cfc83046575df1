"""``esdc parse`` for people: an overview, then one table per result (first rows and summary)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from builder.model.bench import BenchReport, BenchResult, Cell

#: Rows shown per result; the rest are counted, not printed (``--json`` has them all).
SHOWN_ROWS = 8
#: Results wider than this with at most TRANSPOSE_ROWS rows are printed transposed.
TRANSPOSE_COLUMNS = 6
TRANSPOSE_ROWS = 4
#: Summary entries shown per result.
SHOWN_SUMMARY = 24


def format_cell(cell: Cell | object) -> str:
    """A cell as a person reads it: floats with up to 6 significant digits, ``-`` for null."""
    if cell is None:
        return "-"
    if isinstance(cell, bool):
        return str(cell).lower()
    if isinstance(cell, float):
        return f"{cell:.6g}"
    if isinstance(cell, list):
        return "[" + ", ".join(format_cell(item) for item in cell) + "]"
    return str(cell)


def result_title(result: BenchResult) -> str:
    """``osu_latency 7.2 (CUDA) — out.txt:3``."""
    parts = [result.benchmark]
    if result.version:
        parts.append(result.version)
    if result.variant:
        parts.append(f"({result.variant})")
    return f"{' '.join(parts)} — {result.source.file}:{result.source.line}"


def overview_table(report: BenchReport) -> Table:
    """One line per result: suite, benchmark, version, rows, where it starts."""
    table = Table(title="Benchmark results", title_justify="left")
    for name in ("suite", "benchmark", "version", "variant", "rows", "source"):
        table.add_column(name, justify="right" if name == "rows" else "left")
    for result in report.results:
        table.add_row(
            result.suite,
            result.benchmark,
            result.version or "-",
            result.variant or "-",
            str(len(result.rows)),
            f"{result.source.file}:{result.source.line}",
        )
    return table


def transposed_table(result: BenchResult) -> Table:
    """A wide result with few rows (NEST: one row per rank) as one line per column."""
    table = Table(title=result_title(result), title_justify="left")
    table.add_column(result.columns[0])
    for row in result.rows:
        table.add_column(format_cell(row[0]), justify="right")
    for index, column in enumerate(result.columns[1:], start=1):
        table.add_row(column, *(format_cell(row[index]) for row in result.rows))
    return table


def rows_table(result: BenchResult) -> Table | None:
    """The first :data:`SHOWN_ROWS` rows of a result, or ``None`` when it has no rows.

    Wide results with few rows are printed transposed, so that no column name is cut.
    """
    if not result.rows:
        return None
    if len(result.columns) > TRANSPOSE_COLUMNS and len(result.rows) <= TRANSPOSE_ROWS:
        return transposed_table(result)
    table = Table(title=result_title(result), title_justify="left")
    for column in result.columns:
        table.add_column(column, justify="right")
    for row in result.rows[:SHOWN_ROWS]:
        table.add_row(*(format_cell(cell) for cell in row))
    hidden = len(result.rows) - SHOWN_ROWS
    if hidden > 0:
        table.caption = f"… {hidden} more rows (--json prints all)"
    return table


def summary_table(result: BenchResult) -> Table | None:
    """The scalar summary entries of a result, or ``None`` when there are none."""
    entries = [(k, v) for k, v in result.summary.items() if not isinstance(v, dict)]
    if not entries:
        return None
    title = "summary" if result.rows else f"{result_title(result)} — summary"
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("key")
    table.add_column("value", justify="right")
    for key, value in entries[:SHOWN_SUMMARY]:
        table.add_row(key, format_cell(value))
    hidden = len(entries) - SHOWN_SUMMARY
    if hidden > 0:
        table.caption = f"… {hidden} more entries (--json prints all)"
    return table


def print_results(report: BenchReport, console: Console) -> None:
    """Print an overview of ``report`` and each result's first rows and summary."""
    console.print(overview_table(report))
    for result in report.results:
        console.print()
        for table in (rows_table(result), summary_table(result)):
            if table is not None:
                console.print(table)
