"""The report shows versions and load paths of both sides, image and host copies told apart."""

from __future__ import annotations

from builder.model.evidence import MappedCopy, RankProcess, RunEvidence, SuiteEvidence
from builder.report.html import render_html
from builder.verify.judge import judge_run
from tests.unit.verify.test_judge import MPI4PY, run_data


def test_versions_both_sides_identical_marked_and_copies_told_apart() -> None:
    data = run_data()
    data.versions = {
        "bare": {"host": {"openmpi": "Open MPI v4.1.4", "pmix": "libpmix2 4.2.2-1+deb12u1"}},
        "container": {
            "host": {"openmpi": "Open MPI v4.1.4"},
            "image": {"openmpi": "Open MPI v4.1.4", "pmix": "libpmix2 4.2.2-1"},
        },
    }
    path = "/usr/lib/x86_64-linux-gnu/libmpi.so.40.30.4"

    def ranks(origin: str) -> RunEvidence:
        copy = MappedCopy(path=path, origin=origin)  # type: ignore[arg-type]
        return RunEvidence(
            processes=[RankProcess(pid=1, command="pingpong", libraries={"mpi": [copy]})]
        )

    data.evidence = [SuiteEvidence(suite="mpi4py", bare=ranks("host"), container=ranks("image"))]
    page = render_html(judge_run(data, {"mpi4py": MPI4PY}), data)
    section = page.split('id="versions"', 1)[1].split("</section>", 1)[0]
    assert "<th>openmpi</th><td>Open MPI v4.1.4</td>" in section
    assert "identical" in section and "differs" in section  # openmpi same, pmix not
    assert f"{path} [host copy]" in section and f"{path} [image copy]" in section


def test_preflight_comes_first_and_evidence_has_its_section() -> None:
    from builder.model.preflight import PreflightResult

    data = run_data()
    data.preflight = [
        PreflightResult(check="memlock", status="error", message="memlock 8192 KiB: RDMA needs")
    ]
    copy = MappedCopy(path="/usr/lib/libmpi.so.40", origin="image")
    container = RunEvidence(
        processes=[RankProcess(pid=7, command="pingpong", libraries={"mpi": [copy]})]
    )
    data.evidence = [SuiteEvidence(suite="mpi4py", bare=RunEvidence(), container=container)]
    verdict = judge_run(data, {"mpi4py": MPI4PY})
    assert verdict.verdict == "inconclusive" and "pre-flight memlock" in verdict.reason
    page = render_html(verdict, data)
    assert page.index('id="preflight"') < page.index('id="metrics"')
    evidence = page.split('id="evidence"', 1)[1]
    assert "/usr/lib/libmpi.so.40 [image copy]" in evidence
    assert 'class="differs"' in evidence
