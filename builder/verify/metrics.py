"""Reading one figure out of a parsed benchmark result, as a threshold check describes it (pure)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from builder.model.bench import BenchResult, Cell
from builder.verify.thresholds import Check


def benchmark_pattern(name: str, check: Check) -> str:
    """The benchmark name pattern of a check: its ``benchmark`` or else its own name."""
    return check.benchmark if check.benchmark is not None else name


def name_matches(benchmark: str, pattern: str) -> bool:
    """Whether a benchmark name matches a shell-style pattern (``*pingpong*``)."""
    return fnmatchcase(benchmark, pattern)


def _number(cell: object) -> float | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int | float):
        return float(cell)
    if isinstance(cell, list) and cell and all(isinstance(v, int | float) for v in cell):
        # Per-thread (or per-rank) timers: the slowest one bounds the wall-clock time.
        return float(max(cell))
    return None


def _size(cell: Cell) -> int | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    return None


def metric_value(result: BenchResult, check: Check) -> float | None:
    """The check's figure in ``result``, or ``None`` when the result does not hold it.

    With ``at_size`` unset the figure is a ``summary`` key; otherwise it is a column read at the
    row whose ``size`` equals ``at_size`` (or the smallest/largest size printed).
    """
    if check.at_size is None:
        for name in check.metric_names:
            if name in result.summary:
                return _number(result.summary[name])
        return None
    if "size" not in result.columns:
        return None
    size_index = result.columns.index("size")
    column = next(
        (result.columns.index(n) for n in check.metric_names if n in result.columns), None
    )
    if column is None:
        return None
    sized = [
        (size, row)
        for row in result.rows
        if len(row) > max(size_index, column) and (size := _size(row[size_index])) is not None
    ]
    if not sized:
        return None
    if check.at_size == "largest":
        row = max(sized, key=lambda pair: pair[0])[1]
    elif check.at_size == "smallest":
        row = min(sized, key=lambda pair: pair[0])[1]
    else:
        found = [row for size, row in sized if size == check.at_size]
        if not found:
            return None
        row = found[0]
    return _number(row[column])


def size_label(check: Check) -> int | None:
    """The message size a check names, for the verdict (``None`` for summaries and min/max)."""
    return check.at_size if isinstance(check.at_size, int) else None
