"""PMIx analyser: error lines, versions, the Slurm plugin, and errors that only follow an abort."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from builder.logs import pmix
from builder.logs.base import LibraryFacts, LineAnalyser
from builder.logs.engine import engine_class
from builder.logs.scan import scan_file
from builder.model.analysis import Evidence

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "logs" / "pmix"
REAL_UCX = Path(__file__).resolve().parents[2] / "fixtures" / "logs" / "ucx"


def analyse(path: Path) -> LibraryFacts:
    analyser = engine_class(pmix)()
    scan_file(path, [analyser])
    return analyser.facts()


def feed(analyser: LineAnalyser, file: str, *lines: str) -> None:
    for number, line in enumerate(lines, 1):
        analyser.feed(line, Evidence(file=file, line=number, text=line))


def observed(facts: LibraryFacts, kind: str) -> list[str | None]:
    return [o.value for o in facts.observations if o.kind == kind]


def test_errors_without_abort_are_errors_with_a_version_hint() -> None:
    facts = analyse(FIXTURES / "constructed-pmix-version-mismatch-no-abort.txt")
    (finding,) = facts.findings
    assert (finding.code, finding.severity) == ("PMIX_ERROR", "error")
    # Line 4 repeats line 3 word for word: a repeated line is read once.
    assert [e.line for e in finding.evidence] == [3, 5, 6, 7, 8]
    assert "5 times" in finding.message
    assert "different versions" in finding.message
    assert observed(facts, "pmix_error")[:4] == [
        "UNPACK-PAST-END",
        "UNPACK-PMIX-VALUE: UNSUPPORTED TYPE 0",
        "PMIX_ERR_PACK_MISMATCH",
        "OUT-OF-RESOURCE",
    ]
    assert observed(facts, "slurm_pmix_plugin") == ["pmix_v4"]
    # "srun: error: ... Exited with exit code 1" is neither a PMIx error nor an abort
    assert observed(facts, "abort") == []


def test_errors_after_mpi_abort_are_downgraded_and_earlier_ones_kept() -> None:
    facts = analyse(FIXTURES / "constructed-pmix-errors-around-abort.txt")
    by_code = {f.code: f for f in facts.findings}
    assert by_code["PMIX_ERROR"].severity == "error"
    assert [e.line for e in by_code["PMIX_ERROR"].evidence] == [2]
    after = by_code["PMIX_ERROR_AFTER_ABORT"]
    assert after.severity == "warning"
    assert [e.line for e in after.evidence] == [12, 14]  # 13 repeats 12: read once
    assert "not blamed on PMIx" in after.message
    (abort,) = [o for o in facts.observations if o.kind == "abort"]
    assert abort.evidence[0].line == 5


def test_versions_plugin_and_slurm_task_signal() -> None:
    facts = analyse(FIXTURES / "constructed-pmix-versions-and-signal.txt")
    assert facts.versions == {"4.2.2": ["?"], "4.2.6": ["?"]}
    assert observed(facts, "slurm_pmix_plugin") == ["pmix_v4"]
    assert [(f.code, f.severity) for f in facts.findings] == [("PMIX_ERROR_AFTER_ABORT", "warning")]


def test_real_process_signal_is_recorded_as_abort() -> None:
    facts = analyse(REAL_UCX / "real-22-charliecloud-cma-blocked.txt")
    (abort,) = [o for o in facts.observations if o.kind == "abort"]
    assert abort.rank == "vm:23078"
    assert abort.evidence[0].line == 41
    assert facts.findings == []


def test_abort_in_another_file_does_not_excuse_errors() -> None:
    analyser = engine_class(pmix)()
    feed(analyser, "a.log", "MPI_ABORT was invoked on rank 0 in communicator MPI_COMM_WORLD")
    feed(analyser, "b.log", "", "[h:1] PMIX ERROR: UNREACHABLE in file x.c at line 1")
    assert [(f.code, f.evidence[0].file) for f in analyser.facts().findings] == [
        ("PMIX_ERROR", "b.log")
    ]


def test_other_abort_forms() -> None:
    for abort in (
        "application called MPI_Abort(MPI_COMM_WORLD, 1) - process 0",
        "[h:1] *** Process received signal ***",
        "mpirun noticed that process rank 1 with PID 0 on node vm exited on signal 6 (Aborted).",
        "srun: error: nid1: task 3: Killed",
        "[vm:01468] *** An error occurred in MPI_Init",
    ):
        analyser = engine_class(pmix)()
        feed(analyser, "x.log", abort, "PMIX ERROR: UNREACHABLE in file x.c at line 1")
        assert [f.code for f in analyser.facts().findings] == ["PMIX_ERROR_AFTER_ABORT"], abort


def test_prose_mentioning_pmix_is_not_an_error() -> None:
    analyser = engine_class(pmix)()
    feed(
        analyser,
        "x.log",
        "# the PMIx errors below were expected",
        "PMIx: configured with --enable-debug",
        "srun: error: nid1: tasks 0-1: Exited with exit code 1",
    )
    assert analyser.facts().findings == []


def test_many_distinct_errors_stay_bounded() -> None:
    analyser = engine_class(pmix)()
    lines = [f"PMIX ERROR: CODE-{i} in file f.c at line {i}" for i in range(1000)]
    feed(analyser, "x.log", *lines)
    facts = analyser.facts()
    assert len(facts.observations) == pmix.MAX_ERROR_KINDS
    assert len(facts.findings[0].evidence) == 8
    assert "1000 times" in facts.findings[0].message


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=20))
def test_random_text_never_raises(lines: list[str]) -> None:
    analyser = engine_class(pmix)()
    feed(analyser, "r.log", *lines)
    analyser.facts()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "PMIX ERROR:",
                " in file ",
                " at line ",
                "99999999999999999999999",
                "UNPACK-PMIX-VALUE: UNSUPPORTED TYPE",
                "PMIX_ERR_",
                "OUT-OF-RESOURCE",
                "PMIx:",
                "OpenPMIx v",
                "4.2",
                "mpi/pmix",
                "srun: error:",
                "MPI_ABORT was invoked",
                "exited on signal",
                "[h:1]",
                ": Killed",
                " ",
            ]
        ),
        max_size=30,
    )
)
def test_anchor_soup_never_raises(pieces: list[str]) -> None:
    analyser = engine_class(pmix)()
    feed(analyser, "s.log", "".join(pieces), "")
    analyser.facts()


def test_slurm_pmix_errors_without_the_plugin_name() -> None:
    analyser = engine_class(pmix)()
    feed(
        analyser,
        "x.log",
        "slurmstepd: error: (null) [0] pmixp_agent.c:357 [_pmix_timer_thread] mpi/pmix: ERROR: x",
        "srun: error: nid1 [0] pmixp_server.c:1394 [pmixp_server_init] PMIx init failed",
    )
    (finding,) = analyser.facts().findings
    assert (finding.code, [e.line for e in finding.evidence]) == ("PMIX_ERROR", [1, 2])
