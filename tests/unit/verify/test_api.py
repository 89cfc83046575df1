"""``esdc verify`` on the run-directory fixtures, through the real parsers, analysers and CLI.

The fixtures (tests/fixtures/runs/, made by scripts/make-run-fixtures.sh) hold real mpi4py.bench
and NEST outputs from this machine, the real reference logs 02 (bare metal, pml ucx over shared
memory) and 25 (Charliecloud container selecting pml cm + mtl ofi), and constructed OSU outputs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from builder.errors import EsdcError
from builder.verify.api import verify_run_dir

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "runs"
ESDC = [sys.executable, "-m", "builder.cli"]


@pytest.fixture
def run_copy(tmp_path: Path):  # type: ignore[no-untyped-def]
    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target)
        return target

    return copy


def test_pass_fixture_passes_and_writes_its_files(run_copy) -> None:  # type: ignore[no-untyped-def]
    run_dir = run_copy("pass")
    verdict = verify_run_dir(run_dir)
    assert verdict.verdict == "pass", verdict.reason
    assert verdict.image_digest == "sha256:" + "1" * 64
    assert {m.status for m in verdict.metrics} == {"pass"}
    assert {t.status for t in verdict.transport} == {"pass"}
    saved = json.loads((run_dir / "verdict.json").read_text())
    assert saved["schema"] == "esdc.verdict/1" and saved["verdict"] == "pass"
    results = json.loads((run_dir / "results.json").read_text())
    assert results["bare"]["schema"] == "esdc.bench/1" and results["container"]["results"]
    analysis = json.loads((run_dir / "analysis.json").read_text())
    assert analysis["mpi4py"]["container"]["schema"] == "esdc.analysis/1"


def test_cm_ofi_fixture_fails_with_the_cm_ofi_finding_first(run_copy) -> None:  # type: ignore[no-untyped-def]
    verdict = verify_run_dir(run_copy("fail-cm-ofi"))
    assert verdict.verdict == "fail"
    suite, first = verdict.error_findings()[0]
    assert first.code == "PML_FALLBACK", [f.code for _, f in verdict.error_findings()]
    assert "cm" in first.message and "ofi" in first.message
    assert any(e.file == f"container/{suite}/debug/stderr" for e in first.evidence)
    assert first.code in verdict.reason
    latency = next(m for m in verdict.metrics if m.benchmark == "osu_latency" and m.at_size == 8)
    assert latency.status == "fail" and latency.ratio is not None and latency.ratio > 10


def test_missing_fixture_cannot_judge_and_names_the_file(run_copy) -> None:  # type: ignore[no-untyped-def]
    verdict = verify_run_dir(run_copy("missing"))
    assert verdict.verdict == "inconclusive" and verdict.exit_code == 2
    assert "container/mpi4py/1/stdout" in verdict.reason


def test_an_unparsable_output_and_a_missing_record_are_problems(run_copy) -> None:  # type: ignore[no-untyped-def]
    run_dir = run_copy("pass")
    (run_dir / "bare/mpi4py/1/stdout").write_text("Segmentation fault\n")
    (run_dir / "container/nest/2/record.json").unlink()
    verdict = verify_run_dir(run_dir)
    assert verdict.verdict == "inconclusive"
    wheres = {p.where: p.message for p in verdict.problems}
    assert "unparsable" in wheres["bare/mpi4py/1/stdout"]
    assert "did not complete" in wheres["container/nest/2/record.json"]


def _fail_job(run_dir: Path, rep: str, diagnosis: str | None) -> None:
    record = run_dir / rep / "record.json"
    record.write_text(json.dumps(json.loads(record.read_text()) | {"returncode": 1}))
    if diagnosis:
        (run_dir / rep / "esdc-failure.txt").write_text(diagnosis + "\n")


def test_a_container_job_failing_where_bare_metal_ran_fails(run_copy) -> None:  # type: ignore[no-untyped-def]
    run_dir = run_copy("pass")
    _fail_job(run_dir, "container/mpi4py/0", "2 ranks ran as singletons (rank 0 of 1)")
    verdict = verify_run_dir(run_dir)
    assert verdict.verdict == "fail"
    assert "container/mpi4py/0/record.json" in verdict.reason
    assert "singletons" in verdict.reason


def test_jobs_failing_in_both_modes_cannot_be_judged(run_copy) -> None:  # type: ignore[no-untyped-def]
    run_dir = run_copy("pass")
    _fail_job(run_dir, "container/mpi4py/0", None)
    _fail_job(run_dir, "bare/mpi4py/0", None)
    verdict = verify_run_dir(run_dir)
    assert verdict.verdict == "inconclusive"
    assert "exited with 1" in verdict.reason


def test_an_unfinished_campaign_is_not_judged_a_pass(run_copy) -> None:  # type: ignore[no-untyped-def]
    run_dir = run_copy("pass")
    manifest = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps(manifest | {"status": "interrupted"}))
    assert verify_run_dir(run_dir).verdict == "inconclusive"


def test_not_a_run_directory_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(EsdcError, match=r"run\.json"):
        verify_run_dir(tmp_path)
    (tmp_path / "run.json").write_text("{")
    with pytest.raises(EsdcError, match=r"run\.json"):
        verify_run_dir(tmp_path)


@pytest.mark.parametrize(
    ("name", "code", "word"),
    [("pass", 0, "PASS"), ("fail-cm-ofi", 1, "FAIL"), ("missing", 2, "INCONCLUSIVE")],
)
def test_esdc_verify_exit_codes(run_copy, name: str, code: int, word: str) -> None:  # type: ignore[no-untyped-def]
    run_dir = run_copy(name)
    shown = subprocess.run(
        [*ESDC, "verify", str(run_dir)],
        capture_output=True,
        text=True,
        env=os.environ | {"COLUMNS": "160"},
        check=False,
    )
    assert shown.returncode == code, shown.stderr
    assert shown.stdout.startswith(word)
    as_json = subprocess.run(
        [*ESDC, "verify", str(run_dir), "--json"], capture_output=True, text=True, check=False
    )
    assert as_json.returncode == code
    assert json.loads(as_json.stdout)["schema"] == "esdc.verdict/1"


def test_esdc_verify_on_a_non_run_directory_is_one_line_exit_2(tmp_path: Path) -> None:
    shown = subprocess.run(
        [*ESDC, "verify", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert shown.returncode == 2
    assert shown.stderr.strip().count("\n") == 0 and "run.json" in shown.stderr
    assert "Traceback" not in shown.stderr


def test_skipped_suites_are_carried_into_the_verdict(run_copy) -> None:  # type: ignore[no-untyped-def]
    run_dir = run_copy("pass")
    reason = "OSU is not packaged on Debian: {osu_latency} does not resolve on the host"
    (run_dir / "skipped.json").write_text(json.dumps({"osu_allreduce": reason}))
    verdict = verify_run_dir(run_dir)
    assert verdict.verdict == "pass"
    assert verdict.skipped == {"osu_allreduce": reason}
    (run_dir / "skipped.json").write_text("[1, 2]")
    broken = verify_run_dir(run_dir)
    assert broken.verdict == "inconclusive" and "skipped.json" in broken.reason


def test_missing_debug_logs_leave_the_transport_unjudged(run_copy) -> None:  # type: ignore[no-untyped-def]
    run_dir = run_copy("pass")
    shutil.rmtree(run_dir / "container/mpi4py/debug")
    verdict = verify_run_dir(run_dir)
    assert verdict.verdict == "inconclusive"
    assert "container/mpi4py/debug" in verdict.reason
    mpi4py = next(t for t in verdict.transport if t.suite == "mpi4py")
    assert mpi4py.status == "inconclusive" and mpi4py.container is None
