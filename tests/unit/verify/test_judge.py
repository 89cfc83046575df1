"""Judging collected run data: errors first, never a pass on missing data (pure)."""

from __future__ import annotations

from builder.model.analysis import Analysis, Evidence, Finding, Selected
from builder.model.bench import BenchResult, SourceRef
from builder.model.run import CampaignManifest
from builder.model.verdict import Problem
from builder.verify.collect import RepOutput, RunData, SuiteAnalysis
from builder.verify.judge import judge_run, judge_transport, order_findings
from builder.verify.thresholds import Check, SiteThresholds

MPI4PY = SiteThresholds(
    suite="mpi4py",
    min_reps=3,
    checks={
        "time_small": Check(benchmark="*pingpong*", metric="time_mean_s", at_size=8, upper=0.05),
        "bw_large": Check(
            benchmark="*pingpong*", metric="bandwidth_MBps", at_size=1024, lower=-0.03
        ),
    },
)


def pingpong(time_8: float, bw_1k: float, source: str) -> BenchResult:
    return BenchResult(
        suite="mpi4py",
        benchmark="pingpong",
        columns=["size", "bandwidth_MBps", "time_mean_s", "time_std_s", "samples"],
        rows=[
            [8, 8 / time_8 / 1e6, time_8, 0.0, 10000],
            [1024, bw_1k, 1024 / bw_1k / 1e6, 0.0, 10000],
        ],
        source=SourceRef(file=source, line=1),
    )


def analysis(
    *, intra: str | None, pml: str | None, findings: list[Finding] | None = None
) -> Analysis:
    degraded = (
        None
        if intra is None and pml is None
        else any(f.severity == "error" for f in findings or [])
    )
    return Analysis(
        inputs=["log"],
        libraries={},
        intra_node=intra,  # type: ignore[arg-type]
        selected=Selected(pml=pml),
        findings=findings or [],
        degraded=degraded,
    )


CM_OFI = Finding(
    code="PML_FALLBACK",
    severity="error",
    library="openmpi",
    message="pml cm + mtl ofi over eth0",
    evidence=[
        Evidence(file="container/mpi4py/debug/stderr", line=49, text="mtl:ofi:provider: eth0")
    ],
)
PATH_DIFFERS = Finding(code="PATH_DIFFERS", severity="error", message="intra-node: shm vs tcp")
NOTE = Finding(
    code="LIBRARY_DIFFERS", severity="info", library="ucx", message="ucx only in baseline"
)


def run_data(
    container_time: float = 1.0e-6,
    container_reps: int = 3,
    container_analysis: Analysis | None = None,
    problems: list[Problem] | None = None,
) -> RunData:
    manifest = CampaignManifest(
        id="r1",
        site="local",
        image="img",
        suites=["mpi4py"],
        reps=3,
        status="complete",
        created="2026-11-22T04:00:00Z",
        toolkit_version="0.1.0",
    )
    outputs = [
        RepOutput(
            mode="bare",
            suite="mpi4py",
            rep=str(i),
            source=f"bare/mpi4py/{i}/stdout",
            results=[pingpong(1.0e-6 * (1 + i / 100), 1000.0, f"bare/mpi4py/{i}/stdout")],
        )
        for i in range(3)
    ] + [
        RepOutput(
            mode="container",
            suite="mpi4py",
            rep=str(i),
            source=f"container/mpi4py/{i}/stdout",
            results=[pingpong(container_time * (1 + i / 100), 1000.0, "x")],
        )
        for i in range(container_reps)
    ]
    bare = analysis(intra="shm", pml="ucx")
    container = container_analysis or analysis(intra="shm", pml="ucx")
    return RunData(
        manifest=manifest,
        outputs=outputs,
        analyses=[SuiteAnalysis(suite="mpi4py", bare=bare, container=container)],
        problems=problems or [],
    )


def test_equivalent_paths_and_numbers_pass() -> None:
    verdict = judge_run(run_data(), {"mpi4py": MPI4PY})
    assert verdict.verdict == "pass" and verdict.exit_code == 0
    assert [m.status for m in verdict.metrics] == ["pass", "pass"]


def test_cm_ofi_fails_with_the_library_finding_first() -> None:
    container = analysis(intra="tcp", pml=None, findings=[NOTE, PATH_DIFFERS, CM_OFI])
    verdict = judge_run(
        run_data(container_time=9.0e-6, container_analysis=container), {"mpi4py": MPI4PY}
    )
    assert verdict.verdict == "fail" and verdict.exit_code == 1
    assert verdict.error_findings()[0][1].code == "PML_FALLBACK"
    assert "PML_FALLBACK" in verdict.reason
    assert [f.code for f in verdict.transport[0].findings] == [
        "PML_FALLBACK",
        "PATH_DIFFERS",
        "LIBRARY_DIFFERS",
    ]
    assert verdict.metrics[0].status == "fail"


def test_a_transport_error_fails_even_when_numbers_are_fine() -> None:
    container = analysis(intra="tcp", pml=None, findings=[CM_OFI])
    verdict = judge_run(run_data(container_analysis=container), {"mpi4py": MPI4PY})
    assert verdict.verdict == "fail"


def test_slow_numbers_fail_even_on_the_same_path() -> None:
    verdict = judge_run(run_data(container_time=2.0e-6), {"mpi4py": MPI4PY})
    assert verdict.verdict == "fail"
    assert "time_small" in verdict.reason


def test_a_problem_makes_it_inconclusive_and_is_named() -> None:
    problem = Problem(where="container/mpi4py/1/stdout", message="missing output file")
    verdict = judge_run(run_data(container_reps=2, problems=[problem]), {"mpi4py": MPI4PY})
    assert verdict.verdict == "inconclusive" and verdict.exit_code == 2
    assert "container/mpi4py/1/stdout" in verdict.reason
    assert {m.status for m in verdict.metrics} == {"insufficient"}


def test_too_few_reps_alone_is_inconclusive() -> None:
    verdict = judge_run(run_data(container_reps=1), {"mpi4py": MPI4PY})
    assert verdict.verdict == "inconclusive"
    assert "too few repetitions" in verdict.reason


def test_missing_thresholds_or_required_benchmark_is_inconclusive() -> None:
    assert judge_run(run_data(), {"mpi4py": None}).verdict == "inconclusive"
    other = SiteThresholds(
        suite="mpi4py", min_reps=3, checks={"x": Check(benchmark="osu_*", metric="m", upper=0.1)}
    )
    verdict = judge_run(run_data(), {"mpi4py": other})
    assert verdict.verdict == "inconclusive"
    assert verdict.metrics[0].status == "missing"


def test_optional_check_without_results_is_skipped() -> None:
    checks = dict(MPI4PY.checks) | {
        "x": Check(benchmark="osu_*", metric="m", upper=0.1, optional=True)
    }
    verdict = judge_run(run_data(), {"mpi4py": MPI4PY.model_copy(update={"checks": checks})})
    assert verdict.verdict == "pass" and len(verdict.metrics) == 2


def test_transport_without_evidence_is_inconclusive_unless_optional() -> None:
    silent = SuiteAnalysis(
        suite="nest", bare=analysis(intra=None, pml=None), container=analysis(intra=None, pml=None)
    )
    assert judge_transport(silent).status == "inconclusive"
    assert judge_transport(silent, required=False).status == "pass"
    missing = SuiteAnalysis(suite="nest")
    assert judge_transport(missing, required=False).status == "inconclusive"


def test_order_findings_errors_first_library_causes_before_path_classes() -> None:
    ordered = order_findings([NOTE, PATH_DIFFERS, CM_OFI])
    assert [f.code for f in ordered] == ["PML_FALLBACK", "PATH_DIFFERS", "LIBRARY_DIFFERS"]


def test_verdict_json_shape() -> None:
    data = run_data().model_copy()
    payload = judge_run(data, {"mpi4py": MPI4PY}).to_json_dict()
    assert next(iter(payload)) == "schema" and payload["schema"] == "esdc.verdict/1"
    for key in ("verdict", "image", "image_digest", "site", "metrics", "transport", "problems"):
        assert key in payload


def test_an_error_bare_metal_shows_too_still_fails_but_comes_after_the_containers_own() -> None:
    site_issue = Finding(
        code="PML_FALLBACK",
        severity="error",
        library="openmpi",
        message="ob1 although UCX expected",
    )
    bare = analysis(intra="shm", pml="ob1", findings=[site_issue])
    container = analysis(intra="tcp", pml="ob1", findings=[site_issue, PATH_DIFFERS])
    entry = judge_transport(SuiteAnalysis(suite="mpi4py", bare=bare, container=container))
    assert entry.status == "fail"
    assert entry.shared_with_bare == ["PML_FALLBACK"]
    assert [f.code for f in entry.findings] == ["PATH_DIFFERS", "PML_FALLBACK"]
    only_shared = judge_transport(
        SuiteAnalysis(
            suite="mpi4py",
            bare=bare,
            container=analysis(intra="shm", pml="ob1", findings=[site_issue]),
        )
    )
    assert only_shared.status == "fail" and "bare metal shows it too" in only_shared.note
