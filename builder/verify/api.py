"""``esdc verify RUN_DIR``: parse, analyse, apply thresholds, write ``verdict.json``.

Besides ``verdict.json`` (``esdc.verdict/1``) the run directory receives what the verdict was
computed from, so that a person can check it without rerunning anything: ``results.json`` (the
numbers, ``esdc.bench/1`` per mode) and ``analysis.json`` (``esdc.analysis/1`` per suite and mode).
"""

from __future__ import annotations

from pathlib import Path

from builder.errors import EsdcError, JudgementError
from builder.fsio import atomic_write_json
from builder.model.bench import BenchReport
from builder.model.verdict import Verdict
from builder.verify.collect import (
    PARSED_FAMILIES,
    RunData,
    collect_run,
    exception_line,
    suite_family,
)
from builder.verify.judge import judge_run
from builder.verify.rundir import MODES
from builder.verify.thresholds import SiteThresholds, load_thresholds, resolve_for_site

RESULTS_FILE = "results.json"
ANALYSIS_FILE = "analysis.json"
VERDICT_FILE = "verdict.json"


def evaluate_run_dir(
    run_dir: Path, *, thresholds_dir: Path | None = None
) -> tuple[RunData, Verdict]:
    """Read and judge a run directory without writing anything.

    Damaged data is "cannot judge": an unexpected exception while reading or judging becomes a
    :class:`JudgementError` (exit 2, one line), never a traceback (which would exit 1, "fail").
    """
    try:
        return _evaluate(run_dir, thresholds_dir)
    except EsdcError:
        raise
    except Exception as exc:  # the safety net of the evidence rule
        raise JudgementError(
            f"cannot judge: {exception_line(exc)}",
            where=run_dir,
        ) from exc


def _evaluate(run_dir: Path, thresholds_dir: Path | None) -> tuple[RunData, Verdict]:
    data = collect_run(run_dir)
    thresholds: dict[str, SiteThresholds | None] = {}
    for family in dict.fromkeys(suite_family(s) for s in data.manifest.suites):
        loaded = load_thresholds(family, thresholds_dir) if family in PARSED_FAMILIES else None
        thresholds[family] = (
            None if loaded is None else resolve_for_site(loaded, data.manifest.site)
        )
    return data, judge_run(data, thresholds, data.required)


def verify_run_dir(run_dir: Path, *, thresholds_dir: Path | None = None) -> Verdict:
    """Judge the run directory and write ``verdict.json``, ``results.json`` and ``analysis.json``.

    Parameters
    ----------
    run_dir
        A campaign's run directory (``run.json`` and ``<mode>/<suite>/<rep>/``).
    thresholds_dir
        Folder holding ``<suite>/thresholds.yaml``; default: the source tree's ``benchmarks/``.

    Returns
    -------
    Verdict
        ``verdict`` is ``pass``, ``fail`` or ``inconclusive``; ``exit_code`` is 0, 1 or 2.
    """
    data, verdict = evaluate_run_dir(run_dir, thresholds_dir=thresholds_dir)
    atomic_write_json(run_dir / RESULTS_FILE, results_json(data))
    atomic_write_json(run_dir / ANALYSIS_FILE, analysis_json(data))
    atomic_write_json(run_dir / VERDICT_FILE, verdict.to_json_dict())
    return verdict


def results_json(data: RunData) -> dict[str, object]:
    """All parsed numbers: one ``esdc.bench/1`` object per mode (sources name the rep)."""
    return {
        mode: BenchReport(
            results=[r for o in data.outputs if o.mode == mode for r in o.results]
        ).to_json_dict()
        for mode in MODES
    }


def analysis_json(data: RunData) -> dict[str, object]:
    """Each suite's analyses, ``esdc.analysis/1`` per mode (the container's with differences)."""
    return {
        entry.suite: {
            "bare": entry.bare.to_json_dict() if entry.bare else None,
            "container": entry.container.to_json_dict() if entry.container else None,
        }
        for entry in data.analyses
    }
