"""From collected run data and thresholds to a :class:`Verdict` (pure: no files, no clock).

Order of reasons, strongest first: a transport finding of severity error (the container took a
worse path than bare metal) or a metric outside its bounds makes the verdict ``fail``; otherwise
any missing or unparsable data, too few repetitions, or logs without transport evidence make it
``inconclusive``; only a complete, in-bounds run with equivalent paths is a ``pass``.
"""

from __future__ import annotations

from collections.abc import Sequence

from builder.model.analysis import Analysis, Finding
from builder.model.evidence import SuiteEvidence
from builder.model.verdict import (
    MetricVerdict,
    ModePaths,
    Overall,
    Problem,
    Spread,
    SuiteTransport,
    Verdict,
)
from builder.verify.collect import PARSED_FAMILIES, RunData, SuiteAnalysis, suite_family
from builder.verify.evidence import no_path_note, shows_transport_path
from builder.verify.metrics import benchmark_pattern, metric_value, name_matches, size_label
from builder.verify.required import describe_gaps, required_gaps
from builder.verify.stats import judge, summarize
from builder.verify.thresholds import Check, SiteThresholds

_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


def order_findings(findings: list[Finding], *, shared: set[str] | None = None) -> list[Finding]:
    """Errors first, then warnings, then information; stable otherwise.

    Within a severity, the container's own findings come before those bare metal shows too
    (``shared``), and findings that name the library at fault (``PML_FALLBACK`` from Open MPI:
    pml cm + mtl ofi) before the library-neutral path-class ones (``PATH_DIFFERS``): the former
    say what to fix, the latter only that the path is worse.
    """
    common = shared or set()
    return sorted(
        findings,
        key=lambda f: (_SEVERITY_RANK.get(f.severity, 3), f.code in common, f.library is None),
    )


def seen_in_both(entry: SuiteAnalysis) -> list[str]:
    """Codes (with their library) that the container's and bare metal's analyses both show."""
    if entry.bare is None or entry.container is None:
        return []
    bare = {(f.code, f.library) for f in entry.bare.findings}
    return sorted({f.code for f in entry.container.findings if (f.code, f.library) in bare})


def mode_paths(analysis: Analysis) -> ModePaths:
    """The part of one mode's analysis that the verdict shows side by side."""
    return ModePaths(
        inputs=analysis.inputs,
        inter_node=analysis.inter_node,
        intra_node=analysis.intra_node,
        selected=analysis.selected,
        libraries=analysis.libraries,
        paths=analysis.paths,
        degraded=analysis.degraded,
    )


def judge_transport(entry: SuiteAnalysis, *, required: bool = True) -> SuiteTransport:
    """Differential transport status of one suite.

    ``required=False`` (thresholds ``transport: optional``) lets a suite whose logs show no
    transport at all in either mode pass that part; any evidence is still judged.
    """
    if entry.bare is None or entry.container is None:
        return SuiteTransport(
            suite=entry.suite, status="inconclusive", note="debug logs missing or not analysable"
        )
    bare_errors = {(f.code, f.library) for f in entry.bare.findings if f.severity == "error"}
    shared = sorted(
        {
            f.code
            for f in entry.container.findings
            if f.severity == "error" and (f.code, f.library) in bare_errors
        }
    )
    findings = order_findings(entry.container.findings, shared=set(shared))
    bare, container = mode_paths(entry.bare), mode_paths(entry.container)
    errors = [f for f in findings if f.severity == "error"]
    if errors or entry.container.degraded:
        note = (
            errors[0].message
            if errors
            else "the container's transport path is worse than bare metal's"
        )
        if errors and errors[0].code in shared:
            note += " (bare metal shows it too: a site or campaign setting, not the image)"
        return SuiteTransport(
            suite=entry.suite,
            status="fail",
            bare=bare,
            container=container,
            findings=findings,
            shared_with_bare=shared,
            note=note,
        )
    # A side shows evidence only with a transport path, not a bare component selection.
    silent = [
        m
        for m, a in (("bare-metal", entry.bare), ("container", entry.container))
        if a.degraded is None or not shows_transport_path(a)
    ]
    if len(silent) == 2 and not required:
        note = "no transport evidence in either mode; not required for this suite here"
        return SuiteTransport(
            suite=entry.suite,
            status="pass",
            bare=bare,
            container=container,
            findings=findings,
            note=note,
        )
    if silent:
        note = "; ".join(
            no_path_note(m, a)
            for m, a in (("bare-metal", entry.bare), ("container", entry.container))
            if m in silent
        )
        return SuiteTransport(
            suite=entry.suite,
            status="inconclusive",
            bare=bare,
            container=container,
            findings=findings,
            note=note,
        )
    return SuiteTransport(
        suite=entry.suite, status="pass", bare=bare, container=container, findings=findings
    )


def _values(
    data: RunData, mode: str, run_suite: str, family: str, benchmark: str, check: Check
) -> list[float]:
    """One value per rep of ``run_suite`` that holds the benchmark."""
    values: list[float] = []
    for output in (o for o in data.outputs if o.mode == mode and o.suite == run_suite):
        found = (r for r in output.results if r.suite == family and r.benchmark == benchmark)
        result = next(found, None)
        value = None if result is None else metric_value(result, check)
        if value is not None:
            values.append(value)
    return values


def judge_suite_metrics(
    data: RunData, thresholds: SiteThresholds, run_suites: Sequence[str] = ()
) -> list[MetricVerdict]:
    """Apply every check of a suite family to the numbers of both modes.

    Each run-directory suite of the family (``pingpong`` on one node, ``pingpong_inter`` on two)
    is judged on its own reps: intra- and inter-node numbers never mix.
    """
    family = thresholds.suite
    suites = list(run_suites) or list(dict.fromkeys(o.suite for o in data.outputs)) or [family]
    names = {
        run_suite: sorted(
            {
                r.benchmark
                for o in data.outputs
                if o.suite == run_suite
                for r in o.results
                if r.suite == family
            }
        )
        for run_suite in suites
    }
    verdicts: list[MetricVerdict] = []
    for name, check in thresholds.checks.items():
        pattern = benchmark_pattern(name, check)
        pairs = [
            (run_suite, b)
            for run_suite in suites
            for b in names[run_suite]
            if name_matches(b, pattern)
        ]
        if not pairs:
            if not check.optional:
                verdicts.append(
                    _missing(family, name, pattern, check, f"no {pattern} result in either mode")
                )
            continue
        for run_suite, benchmark in pairs:
            bare = summarize(_values(data, "bare", run_suite, family, benchmark, check))
            container = summarize(_values(data, "container", run_suite, family, benchmark, check))
            if check.optional and bare.n == 0 and container.n == 0:
                continue  # the benchmark ran, but not at this size: nothing to judge
            outcome = judge(
                bare,
                container,
                check.bounds(),
                min_reps=thresholds.min_reps,
                better=check.direction,
                estimator=thresholds.estimator,
            )
            verdicts.append(
                MetricVerdict(
                    suite=run_suite,
                    check=name,
                    benchmark=benchmark,
                    metric=_metric_used(data, family, benchmark, check),
                    at_size=size_label(check),
                    better=check.direction,
                    bare=bare,
                    container=container,
                    estimator=thresholds.estimator,
                    ratio=outcome.ratio,
                    bounds=check.bounds(),
                    status=outcome.status,
                    within_spread=outcome.within_spread,
                    note=outcome.note,
                )
            )
    return verdicts


def _metric_used(data: RunData, suite: str, benchmark: str, check: Check) -> str:
    """The first of the check's metric names that a result actually carries."""
    for output in data.outputs:
        for result in output.results:
            if result.suite == suite and result.benchmark == benchmark:
                for name in check.metric_names:
                    if name in result.columns or name in result.summary:
                        return name
    return check.metric_names[0]


def _missing(suite: str, name: str, pattern: str, check: Check, note: str) -> MetricVerdict:
    return MetricVerdict(
        suite=suite,
        check=name,
        benchmark=pattern,
        metric=check.metric_names[0],
        at_size=size_label(check),
        better=check.direction,
        bare=Spread(n=0),
        container=Spread(n=0),
        bounds=check.bounds(),
        status="missing",
        note=note,
    )


def judge_run(
    data: RunData,
    thresholds: dict[str, SiteThresholds | None],
    required_suites: Sequence[str] = (),
) -> Verdict:
    """The verdict of a run's data against per-suite thresholds (already site-resolved).

    ``required_suites`` names the suites the site requires (:mod:`builder.verify.required`).
    """
    manifest = data.manifest
    problems = [
        Problem(where="preflight.json", message=f"pre-flight {r.check}: {r.message}")
        for r in data.preflight
        if r.status == "error"
    ] + list(data.problems)
    metrics: list[MetricVerdict] = []
    min_reps = 0
    for family in dict.fromkeys(suite_family(s) for s in manifest.suites):
        if family not in PARSED_FAMILIES:
            continue  # run for its transport logs only
        family_thresholds = thresholds.get(family)
        if family_thresholds is None:
            where = f"benchmarks/{family}/thresholds.yaml"
            problems.append(Problem(where=where, message="no thresholds for this suite"))
            continue
        min_reps = max(min_reps, family_thresholds.min_reps)
        run_suites = [s for s in manifest.suites if suite_family(s) == family]
        metrics.extend(judge_suite_metrics(data, family_thresholds, run_suites))
    transport = []
    for entry in data.analyses:
        family_thresholds = thresholds.get(suite_family(entry.suite))
        required = family_thresholds is None or family_thresholds.transport == "required"
        judged = judge_transport(entry, required=required)
        transport.append(judged.model_copy(update={"seen_in_both": seen_in_both(entry)}))
    gaps = required_gaps(required_suites, data)
    overall, reason = _overall(transport, metrics, problems, gaps, data.evidence)
    return Verdict(
        run_id=manifest.id,
        verdict=overall,
        reason=reason,
        image=manifest.image,
        image_digest=manifest.image_digest,
        site=manifest.site,
        suites=manifest.suites,
        min_reps=min_reps or 3,
        transport=transport,
        metrics=metrics,
        problems=problems,
        skipped=data.skipped,
        required=list(required_suites),
        required_missing=gaps,
        evidence=data.evidence,
        preflight=data.preflight,
    )


def _overall(
    transport: list[SuiteTransport],
    metrics: list[MetricVerdict],
    problems: list[Problem],
    gaps: dict[str, str],
    evidence: list[SuiteEvidence],
) -> tuple[Overall, str]:
    for entry in transport:
        errors = [f for f in entry.findings if f.severity == "error"]
        if errors and errors[0].code not in entry.shared_with_bare:
            return "fail", f"{entry.suite}: transport {errors[0].code}: {errors[0].message}"
    for entry in transport:
        errors = [f for f in entry.findings if f.severity == "error"]
        if errors:
            return "fail", f"{entry.suite}: transport {errors[0].code}: {entry.note}"
    for entry in transport:
        if entry.status == "fail":
            return "fail", f"{entry.suite}: transport: {entry.note}"
    for suite_evidence in evidence:
        errors = [f for f in suite_evidence.findings if f.severity == "error"]
        if errors:
            return "fail", f"{suite_evidence.suite}: evidence {errors[0].code}: {errors[0].message}"
    for problem in problems:
        if problem.failed_job is None or problem.failed_job[0] != "container":
            continue
        suite = problem.failed_job[1]
        if not any(p.failed_job == ("bare", suite) for p in problems):
            # Bare metal ran the same job fine: the container itself is broken.
            return (
                "fail",
                f"{suite}: container job failed where bare metal's ran: "
                f"{problem.where}: {problem.message}",
            )
    for metric in metrics:
        if metric.status == "fail":
            return "fail", f"{metric.suite}: {metric.check} ({metric.benchmark}): {metric.note}"
    if gaps:
        return "inconclusive", f"cannot judge: {describe_gaps(gaps)}"
    if problems:
        return "inconclusive", f"cannot judge: {problems[0].where}: {problems[0].message}"
    for metric in metrics:
        if metric.status in ("insufficient", "missing"):
            return "inconclusive", f"cannot judge {metric.suite}: {metric.check}: {metric.note}"
    for entry in transport:
        if entry.status == "inconclusive":
            return "inconclusive", f"cannot judge {entry.suite} transport: {entry.note}"
    if not metrics:
        return "inconclusive", "cannot judge: no metric was checked"
    return (
        "pass",
        f"{len(metrics)} metrics within bounds; "
        f"transport paths equivalent in {len(transport)} suite(s)",
    )
