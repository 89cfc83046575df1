"""Which plots a run gets, built from its numbers (pure).

Every benchmark with a ``size`` column gets its main figure (and mpi4py's time) plotted against
message size, log-log, bare metal and container together: the estimator the thresholds use (best
repetition or median) with a min..max whisker, and a ratio plot with the allowed band. Suites
without sizes (NEST) get their timers as grouped bars.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict

from pydantic import BaseModel

from builder.model.bench import BenchResult
from builder.model.verdict import Estimator, MetricVerdict, Verdict
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
    "half_rtt_us": "half round trip (us)",
    "bw_MBps": "bandwidth (MB/s)",
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


#: Columns in seconds are plotted in microseconds (what people read for message times).
SECONDS_TO_US = 1e6


def higher_is_better(column: str) -> bool:
    """Whether a larger value of a column is better (bandwidths, rates) (pure)."""
    return any(word in column for word in ("bw", "bandwidth", "per_s", "MBps", "rate"))


def estimate(values: list[float], estimator: Estimator, *, higher_better: bool) -> float:
    """The one number of a mode the thresholds compare: median, or the best repetition."""
    if estimator == "best":
        return max(values) if higher_better else min(values)
    return statistics.median(values)


def _series(
    name: str, values: dict[float, list[float]], estimator: Estimator, higher_better: bool
) -> Series:
    points = [
        Point(
            x=size,
            y=estimate(vals, estimator, higher_better=higher_better),
            low=min(vals),
            high=max(vals),
        )
        for size, vals in sorted(values.items())
    ]
    return Series(name=name, points=points)


def _scaled(values: dict[float, list[float]], factor: float) -> dict[float, list[float]]:
    return {size: [v * factor for v in vals] for size, vals in values.items()}


def _results(
    data: RunData, mode: str, run_suite: str, family: str, benchmark: str
) -> list[BenchResult]:
    return [
        r
        for o in data.outputs
        if o.mode == mode and o.suite == run_suite
        for r in o.results
        if r.suite == family and r.benchmark == benchmark
    ]


def _label(column: str) -> tuple[str, float]:
    """Axis label and unit factor of a column (seconds shown as microseconds)."""
    label = LABELS.get(column, column)
    if column.endswith("_s"):
        return label.replace("(s)", "(us)"), SECONDS_TO_US
    return label, 1.0


def size_figures(data: RunData, verdict: Verdict | None = None) -> list[Figure]:
    """Per run suite and sized benchmark: each figure against message size, and the ratio.

    Each mode's line is the estimator its thresholds use (``best`` or ``median`` of the
    repetitions, as the verdict compared them) with a min..max whisker; figures in seconds are
    shown in microseconds. Every figure a threshold checks also gets a container/bare-metal
    ratio plot against message size, with the allowed band shaded.
    """
    metrics = verdict.metrics if verdict is not None else []
    figures: list[Figure] = []
    seen: dict[tuple[str, str, str], list[str]] = {}
    for output in data.outputs:
        for result in output.results:
            if "size" in result.columns and len(result.columns) > 1:
                columns = [result.columns[1], *(c for c in EXTRA_COLUMNS if c in result.columns)]
                key = (output.suite, result.suite, result.benchmark)
                seen.setdefault(key, list(dict.fromkeys(columns)))
    for (run_suite, family, benchmark), columns in sorted(seen.items()):
        checked = [m for m in metrics if m.suite == run_suite and m.benchmark == benchmark]
        estimator: Estimator = checked[0].estimator if checked else "median"
        for column in [*columns, *(m.metric for m in checked if m.metric not in columns)]:
            label, factor = _label(column)
            metric = next((m for m in checked if m.metric == column), None)
            higher = metric.better == "higher" if metric else higher_is_better(column)
            by_mode: dict[str, dict[float, list[float]]] = {
                mode: _scaled(
                    _by_size(_results(data, mode, run_suite, family, benchmark), column), factor
                )
                for mode in MODES
            }
            what = "best repetition" if estimator == "best" else "median of repetitions"
            title = f"{run_suite} {benchmark}: {label}, {what}"
            series = [_series(mode, by_mode[mode], estimator, higher) for mode in MODES]
            svg = line_plot(series, title=title, x_label="message size (bytes)", y_label=label)
            anchor = f"plot-{run_suite}-{benchmark}-{column}"
            figures.append(Figure(anchor=anchor, title=title, svg=svg))
            if metric is not None:
                figures.append(_ratio_figure(run_suite, benchmark, column, by_mode, metric))
    return figures


def _ratio_figure(
    run_suite: str,
    benchmark: str,
    column: str,
    by_mode: dict[str, dict[float, list[float]]],
    metric: MetricVerdict,
) -> Figure:
    higher = metric.better == "higher"
    points = []
    for size in sorted(set(by_mode["bare"]) & set(by_mode["container"])):
        bare = estimate(by_mode["bare"][size], metric.estimator, higher_better=higher)
        container = estimate(by_mode["container"][size], metric.estimator, higher_better=higher)
        if bare > 0:
            points.append(Point(x=size, y=container / bare))
    what = "best repetitions" if metric.estimator == "best" else "medians"
    title = f"{run_suite} {benchmark}: container / bare metal, {column} ({what})"
    svg = line_plot(
        [Series(name="ratio", points=points)],
        title=title,
        x_label="message size (bytes)",
        y_label=f"ratio ({'higher' if higher else 'lower'} is better)",
        log_y=False,
        band=metric.bounds.ratio_range(),
        css_class="plot ratio-plot",
    )
    return Figure(anchor=f"ratio-{run_suite}-{benchmark}-{column}", title=title, svg=svg)


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
