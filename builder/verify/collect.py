"""Gather what a verdict needs from a run directory: parsed numbers and transport analyses.

This module is the one place verification calls the other packages: the benchmark parsers
(:func:`builder.bench.api.parse_text`) for the performance reps and the transport analysis
(:func:`builder.logs.api.analyze_paths`) for the logging runs, bare metal as the baseline of the
container. Every file it could not use becomes a :class:`Problem`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

from pydantic import BaseModel, Field

from builder.errors import EsdcError
from builder.model.analysis import Analysis, Evidence, Finding
from builder.model.bench import BenchResult, Suite
from builder.model.evidence import SuiteEvidence
from builder.model.preflight import PreflightResult
from builder.model.run import CampaignManifest, Mode
from builder.model.verdict import Problem
from builder.verify.evidence import file_defect
from builder.verify.rundir import (
    DEBUG_REP,
    MODES,
    inside,
    perf_reps,
    read_manifest,
    read_preflight,
    read_record,
    read_required,
    read_skipped,
    read_text,
    relative,
)
from builder.verify.witnesses import (
    evidence_problems,
    judge_evidence,
    log_disagreements,
    read_evidence,
)

#: Suite families whose output :mod:`builder.bench` turns into numbers. Others (the toolkit's C
#: ping-pong) are run for their transport logs only.
PARSED_FAMILIES: tuple[str, ...] = get_args(Suite)


def suite_family(suite: str) -> str:
    """The parser family of a run-directory suite (``osu_latency`` -> ``osu``)."""
    from builder.run.suites import SUITES

    return next((s.family for s in SUITES if s.name == suite), suite)


#: The campaign's diagnosis of a failed job, beside its record (builder.run.rundir.FAILURE_NAME).
FAILURE_NAME = "esdc-failure.txt"


class RepOutput(BaseModel):
    """The parsed numbers of one performance rep."""

    mode: Mode
    suite: str
    rep: str
    source: str
    results: list[BenchResult] = Field(default_factory=list)


class SuiteAnalysis(BaseModel):
    """A suite's logging runs analysed: bare metal alone, the container against it."""

    suite: str
    bare: Analysis | None = None
    container: Analysis | None = None


class RunData(BaseModel):
    """Everything read from a run directory, paths relative to it."""

    manifest: CampaignManifest
    outputs: list[RepOutput] = Field(default_factory=list)
    analyses: list[SuiteAnalysis] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
    skipped: dict[str, str] = Field(default_factory=dict)
    #: The site's required suites as the campaign recorded them (``required.json``).
    required: list[str] = Field(default_factory=list)
    #: ``versions.json`` of each mode's first logging run: where (host, image, runtime) ->
    #: library -> the version line its tool printed.
    versions: dict[str, dict[str, dict[str, str | None]]] = Field(default_factory=dict)
    #: The pre-flight checks run in the image before the campaign.
    preflight: list[PreflightResult] = Field(default_factory=list)
    #: Evidence beside the logs of each suite's logging runs, judged.
    evidence: list[SuiteEvidence] = Field(default_factory=list)

    def results(self, mode: str, suite: str) -> list[RepOutput]:
        """The reps of one mode and suite, in rep order."""
        return [o for o in self.outputs if o.mode == mode and o.suite == suite]


def collect_run(run_dir: Path) -> RunData:
    """Read, parse and analyse a run directory (reads files; returns data)."""
    manifest = read_manifest(run_dir)
    problems: list[Problem] = []
    if manifest.status != "complete":
        problems.append(
            Problem(
                where="run.json", message=f"campaign status is {manifest.status!r}, not complete"
            )
        )
    outputs: list[RepOutput] = []
    for mode in MODES:
        for suite in manifest.suites:
            if suite_family(suite) not in PARSED_FAMILIES:
                continue
            for rep in perf_reps(run_dir, mode, suite, manifest.reps):
                output = _parse_rep(run_dir, mode, suite, rep, problems)
                if output is not None:
                    outputs.append(output)
    analyses = [
        _analyse_suite(run_dir, suite, manifest.site, problems) for suite in manifest.suites
    ]
    skipped = read_skipped(run_dir, problems)
    required = read_required(run_dir, problems)
    preflight = read_preflight(run_dir, problems)
    evidence = []
    for suite in manifest.suites:
        for mode in MODES:
            problems += evidence_problems(run_dir, mode, suite)
        judged = judge_evidence(
            suite, read_evidence(run_dir, "bare", suite), read_evidence(run_dir, "container", suite)
        )
        if judged is not None:
            evidence.append(_with_log_disagreements(judged, analyses))
    return RunData(
        manifest=manifest,
        outputs=outputs,
        analyses=analyses,
        problems=problems,
        skipped=skipped,
        required=required,
        evidence=evidence,
        preflight=preflight,
        versions={mode: _versions(run_dir, mode, manifest.suites) for mode in MODES},
    )


def _with_log_disagreements(judged: SuiteEvidence, analyses: list[SuiteAnalysis]) -> SuiteEvidence:
    """Add where a mode's log and its ranks' mapped components disagree (a finding itself)."""
    entry = next((a for a in analyses if a.suite == judged.suite), None)
    extra = []
    for mode, analysis, evidence in (
        ("bare-metal", entry.bare if entry else None, judged.bare),
        ("container", entry.container if entry else None, judged.container),
    ):
        if analysis is not None:
            selected = analysis.selected
            extra += log_disagreements(mode, selected.pml, selected.mtl, evidence)
    return judged.model_copy(update={"findings": [*judged.findings, *extra]})


def _versions(run_dir: Path, mode: Mode, suites: list[str]) -> dict[str, dict[str, str | None]]:
    """The first readable ``versions.json`` of a mode's logging runs (empty when none)."""
    for suite in suites:
        path = run_dir / mode / suite / DEBUG_REP / "versions.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(data, dict):
            return {
                str(where): {str(k): (None if v is None else str(v)) for k, v in libs.items()}
                for where, entry in data.items()
                if isinstance(entry, dict) and isinstance(libs := entry.get("libraries"), dict)
            }
    return {}


def _parse_rep(
    run_dir: Path, mode: Mode, suite: str, rep: str, problems: list[Problem]
) -> RepOutput | None:
    from builder.bench.api import parse_text

    rep_dir = run_dir / mode / suite / rep
    record = read_record(rep_dir, run_dir, problems)
    if record is None:
        return None
    stdout = rep_dir / record.stdout
    source = relative(stdout, run_dir)
    if not inside(rep_dir, record.stdout):
        where = relative(rep_dir / "record.json", run_dir)
        problems.append(
            Problem(where=where, message=f"output {record.stdout!r} is outside the job")
        )
        return None
    if record.returncode != 0:
        message = f"the job exited with {record.returncode}"
        failure = rep_dir / FAILURE_NAME
        if failure.is_file():
            # The campaign's own diagnosis (timeout, ranks running as singletons) says more.
            try:
                reason = failure.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            except OSError as exc:
                reason = [f"(diagnosis unreadable: {exc.strerror or exc})"]
            message += f": {reason[0]}" if reason else ""
        where = relative(rep_dir / "record.json", run_dir)
        problems.append(Problem(where=where, message=message, failed_job=(mode, suite)))
        return None
    text = read_text(stdout, run_dir, problems)
    if text is None:
        return None
    try:
        results = parse_text(text, source)
    except Exception as exc:  # damaged output: cannot judge, never "fail"
        problems.append(Problem(where=source, message=f"unparsable: {exception_line(exc)}"))
        return None
    family = suite_family(suite)
    results = [r for r in results if r.suite == family]
    if not results:
        problems.append(Problem(where=source, message=f"no {family} benchmark output recognised"))
        return None
    return RepOutput(mode=mode, suite=suite, rep=rep, source=source, results=results)


def exception_line(exc: Exception) -> str:
    """An exception as one line: an :class:`EsdcError`'s message, else its type and message."""
    if isinstance(exc, EsdcError):
        return str(exc)
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def debug_log_paths(run_dir: Path, mode: Mode, suite: str, problems: list[Problem]) -> list[Path]:
    """The logging run's stdout, stderr and extra debug logs.

    Absent ones, and those that cannot be evidence (unreadable, not text, an empty stdout:
    :mod:`builder.verify.evidence`), become problems; the readable ones are still returned.
    """
    rep_dir = run_dir / mode / suite / DEBUG_REP
    record = read_record(rep_dir, run_dir, problems)
    if record is None:
        return []
    if record.returncode != 0:
        # The logs of a failed logging run are partial: not evidence of the path taken.
        where = relative(rep_dir / "record.json", run_dir)
        message = f"the logging job exited with {record.returncode}"
        problems.append(Problem(where=where, message=message, failed_job=(mode, suite)))
    paths: list[Path] = []
    # The campaign lists stdout and stderr among debug_logs too: read each file once.
    for name in dict.fromkeys([record.stdout, record.stderr, *record.debug_logs]):
        path = rep_dir / name
        if not inside(rep_dir, name):
            where = relative(rep_dir / "record.json", run_dir)
            problems.append(Problem(where=where, message=f"log {name!r} is outside the job"))
            continue
        if not path.is_file():
            problems.append(Problem(where=relative(path, run_dir), message="missing debug log"))
            continue
        defect = file_defect(path, is_stdout=name == record.stdout)
        if defect is not None:
            problems.append(Problem(where=relative(path, run_dir), message=defect))
        paths.append(path)
    return paths


def _analyse_suite(run_dir: Path, suite: str, site: str, problems: list[Problem]) -> SuiteAnalysis:
    from builder.logs.api import analyze_paths

    bare_logs = debug_log_paths(run_dir, "bare", suite, problems)
    container_logs = debug_log_paths(run_dir, "container", suite, problems)
    if not bare_logs or not container_logs:
        return SuiteAnalysis(suite=suite)
    bare_names = [str(p) for p in bare_logs]
    try:
        bare = analyze_paths(bare_names, site=site)
        container = analyze_paths([str(p) for p in container_logs], baseline=bare_names, site=site)
    except Exception as exc:  # damaged input: cannot judge, never a traceback
        problems.append(
            Problem(
                where=f"{suite} debug logs",
                message=f"transport analysis failed: {exception_line(exc)}",
            )
        )
        return SuiteAnalysis(suite=suite)
    return SuiteAnalysis(
        suite=suite,
        bare=relativize_analysis(bare, run_dir),
        container=relativize_analysis(container, run_dir),
    )


def relativize_analysis(analysis: Analysis, run_dir: Path) -> Analysis:
    """The same analysis with input and evidence file names relative to the run directory."""

    def rel(name: str) -> str:
        path = Path(name)
        return (
            relative(path.resolve(), run_dir.resolve())
            if path.is_absolute() or path.exists()
            else name
        )

    def fix(finding: Finding) -> Finding:
        evidence = [Evidence(file=rel(e.file), line=e.line, text=e.text) for e in finding.evidence]
        return finding.model_copy(update={"evidence": evidence})

    return analysis.model_copy(
        update={
            "inputs": [rel(i) for i in analysis.inputs],
            "findings": [fix(f) for f in analysis.findings],
        }
    )
