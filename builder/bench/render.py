"""``esdc parse`` for people: an overview, then every result's rows, summary and problems.

The text is built by pure functions and printed as it is: every row, every cell whole, at any
terminal width and when standard output is a file or a CI log (a table wider than the terminal
makes long lines, never cut or wrapped cells). ``--json`` stays the exact form.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from builder.model.bench import BenchReport, BenchResult, Cell

#: Results wider than this with at most TRANSPOSE_ROWS rows are printed transposed.
TRANSPOSE_COLUMNS = 6
TRANSPOSE_ROWS = 4
#: Between two columns.
GAP = "  "


def format_cell(cell: Cell | object) -> str:
    """A cell as a person reads it: numbers exactly as parsed (shortest form), ``-`` for null."""
    if cell is None:
        return "-"
    if isinstance(cell, bool):
        return str(cell).lower()
    if isinstance(cell, float):
        return repr(cell)
    if isinstance(cell, list):
        return "[" + ", ".join(format_cell(item) for item in cell) + "]"
    return str(cell)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numeric(column: Sequence[str]) -> bool:
    """A column to right-align: numbers only, ``-`` (null) aside."""
    values = [cell for cell in column if cell != "-"]
    return bool(values) and all(_is_number(cell) for cell in values)


def text_table(
    header: Sequence[str] | None,
    rows: Sequence[Sequence[str]],
    right: Sequence[bool] | None = None,
) -> list[str]:
    """Lines of a plain table, nothing ever cut.

    ``right`` says which columns are right-aligned; by default the numeric ones.
    """
    body = [list(row) for row in rows]
    every = ([list(header)] if header is not None else []) + body
    if not every:
        return []
    count = max(len(row) for row in every)
    widths = [max((len(row[i]) for row in every if i < len(row)), default=0) for i in range(count)]
    numeric = list(right) if right is not None else [
        _numeric([row[i] for row in body if i < len(row)]) for i in range(count)
    ]  # fmt: skip

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(widths[i]) if numeric[i] else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return GAP.join(padded).rstrip()

    lines = []
    if header is not None:
        lines.append(line(header))
        lines.append(GAP.join("-" * width for width in widths))
    lines.extend(line(row) for row in body)
    return lines


def result_title(result: BenchResult) -> str:
    """``osu_latency 7.2 (CUDA) - out.txt:3``, with ``[incomplete]`` for a cut table."""
    parts = [result.benchmark]
    if result.version:
        parts.append(result.version)
    if result.variant:
        parts.append(f"({result.variant})")
    title = f"{' '.join(parts)} - {result.source.file}:{result.source.line}"
    return title if result.complete else f"{title} [incomplete]"


def overview_lines(report: BenchReport) -> list[str]:
    """One line per result: suite, benchmark, version, variant, rows, completeness, source."""
    header = ["suite", "benchmark", "version", "variant", "rows", "complete", "source"]
    rows = [
        [
            result.suite,
            result.benchmark,
            result.version or "-",
            result.variant or "-",
            str(len(result.rows)),
            "yes" if result.complete else "NO",
            f"{result.source.file}:{result.source.line}",
        ]
        for result in report.results
    ]
    right = [name == "rows" for name in header]
    return ["Benchmark results", *text_table(header, rows, right)]


def rows_lines(result: BenchResult) -> list[str]:
    """Every row of a result; a wide result with few rows (NEST) is printed transposed."""
    if not result.rows:
        return []
    if len(result.columns) > TRANSPOSE_COLUMNS and len(result.rows) <= TRANSPOSE_ROWS:
        header = [result.columns[0], *(format_cell(row[0]) for row in result.rows)]
        transposed = [
            [column, *(format_cell(row[index]) for row in result.rows)]
            for index, column in enumerate(result.columns[1:], start=1)
        ]
        return text_table(header, transposed)
    cells = [[format_cell(cell) for cell in row] for row in result.rows]
    return text_table(result.columns, cells)


def summary_lines(result: BenchResult) -> list[str]:
    """Every scalar summary entry of a result (nested ones are in ``--json``)."""
    entries = [[key, format_cell(value)] for key, value in result.summary.items()]
    entries = [entry for entry, value in zip(entries, result.summary.values(), strict=True)
               if not isinstance(value, dict)]  # fmt: skip
    if not entries:
        return []
    return ["summary:", *("  " + line for line in text_table(None, entries))]


def problem_lines(result: BenchResult) -> list[str]:
    """Why a result is incomplete, one line per line at fault."""
    if result.complete:
        return []
    return [
        "incomplete:",
        *(f"  line {problem.line}: {problem.message}" for problem in result.problems),
    ]


def render_text(report: BenchReport) -> str:
    """The whole human output of ``esdc parse``."""
    lines = overview_lines(report)
    for result in report.results:
        lines += ["", result_title(result)]
        lines += rows_lines(result) + summary_lines(result) + problem_lines(result)
    return "\n".join(lines) + "\n"


def print_results(report: BenchReport, console: Console) -> None:
    """Print :func:`render_text` as it is: no markup, no wrapping, no cropping.

    Characters the output's encoding lacks (a GPU name on an ASCII terminal) become ``?``.
    """
    text = render_text(report)
    encoding = console.encoding or "utf-8"
    text = text.encode(encoding, errors="replace").decode(encoding)
    console.print(text, markup=False, highlight=False, soft_wrap=True, end="")
