"""Which plots a run gets, built from its numbers (pure).

Every benchmark with a ``size`` column gets its main figure (and mpi4py's time) plotted against
message size, log-log, bare metal and container together: the median of the repetitions with a
min..max whisker. Suites without sizes (NEST) get their timers as grouped bars.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict

from pydantic import BaseModel

from builder.model.bench import BenchResult
from builder.report.svg import Bar, Point, Series, bar_chart, line_plot
from builder.report.tables import summary_number
from builder.verify.collect import RunData
from builder.verify.rundir import MODES

#: Columns plotted against size besides a benchmark's main (second) column.
EXTRA_COLUMNS = ("time_mean_s",)
#: Axis labels for the figures the parsers name.
LABELS = {
    "latency_us": "latency (us)",
    "bandwidth_MBps": "bandwidth (MB/s)",
    "time_mean_s": "time per message (s)",
    "messages_per_s": "messages per second",
}


#: Summary keys with "time" in the name that are not wall-clock timers of the run.
NOT_TIMERS = frozenset(
    {"biological_time", "update_time_limit", "max_update_time", "min_update_time", "T_max", "T_min"}
)


def is_wall_timer(key: str) -> bool:
    """Whether a summary key is a wall-clock timer (``sim_time``, ``py_time_simulate``, ...).

    Simulated time (``biological_time``), limits and CPU-time twins (``*_cpu``) are not.
    """
    return "time" in key and not key.endswith("_cpu") and key not in NOT_TIMERS


class Figure(BaseModel):
    """One rendered plot and the anchor it is listed under."""

    anchor: str
    title: str
    svg: str


def _number(cell: object) -> float | None:
    if isinstance(cell, bool) or not isinstance(cell, int | float):
        return None
    return float(cell)


def _by_size(results: list[BenchResult], column: str) -> dict[float, list[float]]:
    values: dict[float, list[float]] = defaultdict(list)
    for result in results:
        if column not in result.columns or "size" not in result.columns:
            continue
        s_index, v_index = result.columns.index("size"), result.columns.index(column)
        for row in result.rows:
            if len(row) <= max(s_index, v_index):
                continue
            size, value = _number(row[s_index]), _number(row[v_index])
            if size is not None and value is not None:
                values[size].append(value)
    return values


def _series(name: str, values: dict[float, list[float]]) -> Series:
    points = [
        Point(x=size, y=statistics.median(vals), low=min(vals), high=max(vals))
        for size, vals in sorted(values.items())
    ]
    return Series(name=name, points=points)


def _results(data: RunData, mode: str, family: str, benchmark: str) -> list[BenchResult]:
    return [
        r
        for o in data.outputs
        if o.mode == mode
        for r in o.results
        if r.suite == family and r.benchmark == benchmark
    ]


def size_figures(data: RunData) -> list[Figure]:
    """Log-log plots of each sized benchmark's figures against message size."""
    figures: list[Figure] = []
    seen: dict[tuple[str, str], list[str]] = {}
    for output in data.outputs:
        for result in output.results:
            if "size" in result.columns and len(result.columns) > 1:
                columns = [result.columns[1], *(c for c in EXTRA_COLUMNS if c in result.columns)]
                seen.setdefault((result.suite, result.benchmark), list(dict.fromkeys(columns)))
    for (family, benchmark), columns in sorted(seen.items()):
        for column in columns:
            series = [
                _series(mode, _by_size(_results(data, mode, family, benchmark), column))
                for mode in MODES
            ]
            title = f"{family} {benchmark}: {LABELS.get(column, column)}"
            svg = line_plot(
                series,
                title=title,
                x_label="message size (bytes)",
                y_label=LABELS.get(column, column),
            )
            figures.append(
                Figure(anchor=f"plot-{family}-{benchmark}-{column}", title=title, svg=svg)
            )
    return figures


def timer_figures(data: RunData) -> list[Figure]:
    """Grouped bars of the timers (summary keys with ``time`` in the name) of size-less results."""
    medians: dict[tuple[str, str], dict[str, dict[str, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for output in data.outputs:
        for result in output.results:
            if "size" in result.columns:
                continue
            for key, value in result.summary.items():
                number = summary_number(value)
                timer = is_wall_timer(key)
                if number is not None and math.isfinite(number) and timer:
                    medians[(result.suite, result.benchmark)][key][output.mode].append(number)
    figures: list[Figure] = []
    for (family, benchmark), timers in sorted(medians.items()):
        bars = [
            Bar(label=key, values={m: statistics.median(v) for m, v in modes.items()})
            for key, modes in timers.items()
        ]
        title = f"{family} {benchmark}: timers (median of repetitions)"
        svg = bar_chart(bars, list(MODES), title=title, y_label="time (s)")
        figures.append(Figure(anchor=f"bars-{family}-{benchmark}", title=title, svg=svg))
    return figures
