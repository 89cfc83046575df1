"""``esdc verify`` for people: the verdict first, then what it rests on (rich tables)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from builder.model.evidence import RunEvidence
from builder.model.verdict import MetricVerdict, Spread, Verdict
from builder.verify.stats import describe_bounds
from builder.verify.witnesses import human_bytes

_STYLE = {
    "pass": "bold green",
    "fail": "bold red",
    "inconclusive": "bold yellow",
    "insufficient": "yellow",
    "missing": "yellow",
}


def format_value(value: float | None) -> str:
    """A number in 4 significant digits (timers in seconds and bandwidths in MB/s alike)."""
    return "-" if value is None else f"{value:.4g}"


def unit_of(metric: MetricVerdict) -> tuple[str, float]:
    """The unit people read for a metric and the factor from its recorded value (pure).

    Message times recorded in seconds show in microseconds; bandwidths in MB/s; timers of a
    whole run (NEST's ``sim_time``) stay in seconds.
    """
    name = metric.metric
    if name.endswith("_us"):
        return "us", 1.0
    if name.endswith("_s"):
        return ("us", 1e6) if metric.at_size is not None else ("s", 1.0)
    if "MBps" in name:
        return "MB/s", 1.0
    if "time" in name:
        return "s", 1.0  # NEST's timers (sim_time, time_simulate) are seconds
    return "", 1.0


def compared_value(metric: MetricVerdict, spread: Spread) -> float | None:
    """The number of a mode the ratio uses: its median, or its best repetition."""
    if metric.estimator == "best" and spread.values:
        return max(spread.values) if metric.better == "higher" else min(spread.values)
    return spread.median


def format_spread(spread: Spread, metric: MetricVerdict | None = None) -> str:
    """The compared value (median or best, in the metric's unit) over ``[min..max] n=N``."""
    if spread.n == 0:
        return "-"
    unit, factor = unit_of(metric) if metric is not None else ("", 1.0)
    value = compared_value(metric, spread) if metric is not None else spread.median

    def scaled(number: float | None) -> str:
        return format_value(None if number is None else number * factor)

    low, high = scaled(spread.min), scaled(spread.max)
    suffix = f" {unit}" if unit else ""
    return f"{scaled(value)}{suffix}\n[{low}..{high}] n={spread.n}"


def _metric_row(metric: MetricVerdict) -> list[str]:
    size = "" if metric.at_size is None else f" @{metric.at_size}"
    style = _STYLE.get(metric.status, "")
    return [
        escape(f"{metric.suite}/{metric.benchmark}"),
        escape(f"{metric.metric}{size}"),
        format_spread(metric.bare, metric),
        format_spread(metric.container, metric),
        f"{format_value(metric.ratio)}\n{metric.estimator}",
        describe_bounds(metric.bounds),
        f"[{style}]{metric.status}[/]" if style else metric.status,
    ]


#: Width given to output that is not a terminal (CI logs, files): wide enough that no table cell
#: is cut and no path wrapped; a reader's pager or editor scrolls instead.
UNLIMITED_WIDTH = 100_000


def _side(evidence: RunEvidence | None) -> str:
    """One mode's evidence in a cell: ranks, whose MPI copy, components, busiest interface."""
    if evidence is None:
        return "-"
    ranks = evidence.processes
    origins = sorted({c.origin for p in ranks for c in p.libraries.get("mpi", [])})
    components = sorted({c for p in ranks for c in p.components})
    busiest = max(evidence.counters.items(), key=lambda kv: kv[1].total, default=None)
    moved = f"{busiest[0]} {human_bytes(busiest[1].total)}" if busiest else "no bytes counted"
    return (
        f"{len(ranks)} ranks, libmpi {'/'.join(origins) or '-'} copy, "
        f"{', '.join(components) or '-'}; {moved}"
    )


def _evidence_table(verdict: Verdict) -> Table:
    table = Table(title="evidence beside the logs (/proc maps, interface counters)")
    for header in ("suite", "bare metal", "container", "findings"):
        table.add_column(header)
    for entry in verdict.evidence:
        table.add_row(
            escape(entry.suite),
            escape(_side(entry.bare)),
            escape(_side(entry.container)),
            escape(", ".join(f"{f.severity}:{f.code}" for f in entry.findings) or "none"),
        )
    return table


def print_verdict(verdict: Verdict, console: Console) -> None:
    """Print the verdict, its first reason, errors with evidence, metrics, paths and problems.

    On a terminal tables fit its width; elsewhere nothing is truncated or wrapped.
    """
    if console.is_terminal:
        _print_verdict(verdict, console)
        return
    width = console.width
    console.width = UNLIMITED_WIDTH
    try:
        _print_verdict(verdict, console)
    finally:
        console.width = width


def _print_verdict(verdict: Verdict, console: Console) -> None:
    style = _STYLE[verdict.verdict]
    console.print(f"[{style}]{verdict.verdict.upper()}[/]  {escape(verdict.reason)}")
    digest = verdict.image_digest or "(no digest)"
    console.print(
        f"image {escape(verdict.image)} {escape(digest)}  "
        f"site {escape(verdict.site)}  run {escape(verdict.run_id)}"
    )
    for check in verdict.preflight:
        style = {"ok": "green", "skipped": "dim", "warning": "yellow"}.get(check.status, "red")
        console.print(
            f"pre-flight [{style}]{check.status}[/] {escape(check.check)}: {escape(check.message)}",
            highlight=False,
        )
    for suite, why in verdict.required_missing.items():
        console.print(
            f"[bold yellow]required suite {escape(suite)}[/]: {escape(why)}", highlight=False
        )
    for suite, reason in verdict.skipped.items():
        if suite not in verdict.required_missing:
            console.print(f"[yellow]skipped[/] {escape(suite)}: {escape(reason)}", highlight=False)
    for suite, finding in verdict.error_findings():
        console.print(
            f"[bold red]error[/] {escape(suite)}: {escape(finding.code)}: {escape(finding.message)}"
        )
        for evidence in finding.evidence:
            console.print(
                f"    {escape(evidence.file)}:{evidence.line}: {escape(evidence.text)}",
                highlight=False,
            )
    for suite_evidence in verdict.evidence:
        for finding in suite_evidence.findings:
            if finding.severity == "info":
                continue
            style = "bold red" if finding.severity == "error" else "yellow"
            console.print(
                f"[{style}]{finding.severity}[/] {escape(suite_evidence.suite)} (evidence): "
                f"{escape(finding.code)}: {escape(finding.message)}"
            )
    if verdict.metrics:
        table = Table(
            title=escape(
                "container vs bare metal: the value compared (median or best repetition, as "
                "the thresholds say), [min..max] over repetitions"
            )
        )
        for header in (
            "benchmark",
            "metric",
            "bare metal",
            "container",
            "ratio",
            "allowed",
            "status",
        ):
            table.add_column(header)
        for metric in verdict.metrics:
            table.add_row(*_metric_row(metric))
        console.print(table)
        for metric in verdict.metrics:
            if metric.note:
                console.print(
                    f"  {escape(metric.benchmark)} {escape(metric.metric)}: {escape(metric.note)}"
                )
    if verdict.evidence:
        console.print(_evidence_table(verdict))
    if verdict.transport:
        paths = Table(title="transport paths")
        for header in (
            "suite",
            "status",
            "bare inter/intra",
            "container inter/intra",
            "bare pml/mtl",
            "container pml/mtl",
            "findings",
        ):
            paths.add_column(header)
        for entry in verdict.transport:
            bare, cont = entry.bare, entry.container
            paths.add_row(
                escape(entry.suite),
                f"[{_STYLE.get(entry.status, '')}]{entry.status}[/]",
                f"{bare.inter_node}/{bare.intra_node}" if bare else "-",
                f"{cont.inter_node}/{cont.intra_node}" if cont else "-",
                f"{bare.selected.pml}/{bare.selected.mtl}" if bare else "-",
                f"{cont.selected.pml}/{cont.selected.mtl}" if cont else "-",
                escape(
                    ", ".join(
                        f"{f.severity}:{f.code}"
                        + (" (both modes)" if f.code in entry.seen_in_both else "")
                        for f in entry.findings
                    )
                    or entry.note
                    or "none"
                ),
            )
        console.print(paths)
    for problem in verdict.problems:
        console.print(f"[yellow]cannot use[/] {escape(problem.where)}: {escape(problem.message)}")
