"""The evidence rule: missing, empty, unreadable, binary or path-less logs never make a pass.

Each case damages one side of a copy of the ``pass`` fixture and checks that ``esdc verify``
says which file and exits 2 (``inconclusive``), never 0 and never a traceback.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builder.cli import app
from builder.errors import JudgementError
from builder.model.analysis import Analysis, PathUse, Selected
from builder.verify import collect
from builder.verify.api import verify_run_dir
from builder.verify.evidence import file_defect, scan_log, shows_transport_path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "runs"

#: Open MPI's selection lines only: says pml ucx, nothing about the transport.
PML_UCX_ONLY = (FIXTURES / "pass/container/mpi4py/debug/stderr").read_text()


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    target = tmp_path / "pass"
    shutil.copytree(FIXTURES / "pass", target)
    return target


def _damage(run_dir: Path, mode: str, name: str, data: bytes) -> str:
    path = run_dir / mode / "mpi4py" / "debug" / name
    path.write_bytes(data)
    return f"{mode}/mpi4py/debug/{name}"


def _benchmark_only(run_dir: Path, mode: str) -> bytes:
    """The mpi4py stdout with every UCX line removed: the benchmark table alone."""
    text = (run_dir / mode / "mpi4py/debug/stdout").read_text()
    return "".join(line for line in text.splitlines(True) if "UCX" not in line).encode()


@pytest.mark.parametrize("mode", ["container", "bare"])
@pytest.mark.parametrize(
    ("case", "data", "words"),
    [
        ("empty", b"", "empty debug log"),
        ("blank", b"\n \n\t\n", "empty debug log"),
        ("binary", bytes(range(1, 256)) * 40, "not a text log"),
        ("nul-filled", b"\x00" * 4096, "NUL"),
        ("garbage-utf8", b"\xff\xfe\xc3" * 2000, "not a text log"),
    ],
)
def test_a_damaged_stdout_is_inconclusive_and_named(
    run_dir: Path, mode: str, case: str, data: bytes, words: str
) -> None:
    where = _damage(run_dir, mode, "stdout", data)
    verdict = verify_run_dir(run_dir)
    assert verdict.verdict == "inconclusive", (case, verdict.reason)
    assert verdict.exit_code == 2
    assert any(p.where == where and words in p.message for p in verdict.problems), verdict.problems


@pytest.mark.parametrize("mode", ["container", "bare"])
def test_a_side_with_only_the_pml_selection_has_no_transport_path(run_dir: Path, mode: str) -> None:
    _damage(run_dir, mode, "stdout", _benchmark_only(run_dir, mode))
    verdict = verify_run_dir(run_dir)
    assert verdict.verdict == "inconclusive", verdict.reason
    mpi4py = next(t for t in verdict.transport if t.suite == "mpi4py")
    assert mpi4py.status == "inconclusive"
    assert "no transport path" in mpi4py.note and "pml ucx" in mpi4py.note
    assert f"{mode}/mpi4py/debug/stdout" in mpi4py.note


def test_an_unreadable_gz_log_is_inconclusive_and_named(run_dir: Path) -> None:
    debug = run_dir / "container/mpi4py/debug"
    whole = gzip.compress((debug / "stdout").read_bytes())
    (debug / "stdout.gz").write_bytes(whole[: len(whole) // 2])
    record = json.loads((debug / "record.json").read_text())
    record["stdout"] = "stdout.gz"
    (debug / "record.json").write_text(json.dumps(record))
    verdict = verify_run_dir(run_dir)
    assert verdict.verdict == "inconclusive", verdict.reason
    assert any(
        p.where == "container/mpi4py/debug/stdout.gz" and "unreadable" in p.message
        for p in verdict.problems
    ), verdict.problems


@pytest.mark.parametrize(
    ("where", "error"),
    [
        # A damaged table cell in a parser; a damaged .gz under the transport analysis.
        ("builder.bench.api.parse_text", IndexError("list index out of range")),
        ("builder.logs.api.analyze_paths", EOFError("Compressed file ended before the end")),
    ],
)
def test_an_unexpected_exception_reading_data_is_cannot_judge(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch, where: str, error: Exception
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(where, broken)
    verdict = verify_run_dir(run_dir)
    assert verdict.verdict == "inconclusive"
    assert type(error).__name__ in verdict.reason


def test_any_other_exception_is_one_line_exit_2(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path) -> None:
        raise ValueError("bad\ndata")

    monkeypatch.setattr(collect, "read_skipped", lambda *a: broken(run_dir))
    with pytest.raises(JudgementError, match="cannot judge: ValueError: bad data"):
        verify_run_dir(run_dir)
    # On the command line main() prints an EsdcError as one line with exit 2.
    shown = CliRunner().invoke(app, ["verify", str(run_dir)])
    assert isinstance(shown.exception, JudgementError)
    assert "\n" not in str(shown.exception)


def test_esdc_verify_on_an_emptied_container_stdout_exits_2(run_dir: Path) -> None:
    """The issue's example: copy a finished run, empty container/*/debug/stdout, verify."""
    for stdout in run_dir.glob("container/*/debug/stdout"):
        stdout.write_bytes(b"")
    shown = CliRunner().invoke(app, ["verify", str(run_dir)], env={"COLUMNS": "200"})
    assert shown.exit_code == 2, shown.output
    assert shown.output.startswith("INCONCLUSIVE")
    assert "container/mpi4py/debug/stdout" in shown.output


def test_the_pass_fixture_still_passes(run_dir: Path) -> None:
    assert verify_run_dir(run_dir).verdict == "pass"


def test_scan_counts_across_chunk_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("builder.verify.evidence.CHUNK", 3)
    path = tmp_path / "log"
    path.write_text("é" * 50 + " ucx\n", encoding="utf-8")
    stats = scan_log(path)
    assert stats.binary == 0 and stats.error is None
    assert file_defect(path, is_stdout=True) is None


def test_an_empty_stderr_is_normal(tmp_path: Path) -> None:
    path = tmp_path / "stderr"
    path.write_bytes(b"")
    assert file_defect(path, is_stdout=False) is None
    assert file_defect(path, is_stdout=True) == "empty debug log: the job printed nothing"


def test_a_selection_alone_is_not_a_transport_path() -> None:
    bare = Analysis(inputs=["x"], libraries={}, selected=Selected(pml="ucx"), degraded=False)
    assert not shows_transport_path(bare)
    lane = PathUse(library="ucx", layer="tag", scope="intra-node", transport="sysv")
    assert shows_transport_path(bare.model_copy(update={"paths": [lane]}))


@pytest.mark.parametrize("name", ["run.json", "container/mpi4py/debug/record.json"])
def test_a_fifo_in_place_of_a_json_file_is_refused_not_waited_on(run_dir: Path, name: str) -> None:
    import os

    (run_dir / name).unlink()
    os.mkfifo(run_dir / name)
    shown = CliRunner().invoke(app, ["verify", str(run_dir)])
    if name == "run.json":
        assert "not a regular file" in str(shown.exception)
    else:
        assert shown.exit_code == 2 and name in shown.output


def test_a_fifo_in_place_of_a_debug_log_is_missing_evidence(run_dir: Path) -> None:
    import os

    stdout = run_dir / "container/mpi4py/debug/stdout"
    stdout.unlink()
    os.mkfifo(stdout)
    assert verify_run_dir(run_dir).verdict == "inconclusive"


def _set_record(run_dir: Path, rep: str, **changes: object) -> None:
    path = run_dir / rep / "record.json"
    record = json.loads(path.read_text())
    record.update(changes)
    path.write_text(json.dumps(record))


def test_container_logs_borrowed_from_bare_metal_are_not_evidence(run_dir: Path) -> None:
    _set_record(run_dir, "container/mpi4py/debug", stdout="../../../bare/mpi4py/debug/stdout")
    verdict = verify_run_dir(run_dir)
    assert verdict.verdict == "inconclusive", verdict.reason
    assert any("outside the job" in p.message for p in verdict.problems)


def test_a_linked_output_outside_the_job_is_not_evidence(run_dir: Path) -> None:
    stdout = run_dir / "container/mpi4py/debug/stdout"
    stdout.unlink()
    stdout.symlink_to(run_dir / "bare/mpi4py/debug/stdout")
    assert verify_run_dir(run_dir).verdict == "inconclusive"


def test_a_perf_output_outside_the_job_is_not_evidence(run_dir: Path) -> None:
    _set_record(run_dir, "container/mpi4py/0", stdout="../../../bare/mpi4py/0/stdout")
    verdict = verify_run_dir(run_dir)
    assert verdict.verdict == "inconclusive"


def test_a_failed_logging_job_is_not_evidence(run_dir: Path) -> None:
    _set_record(run_dir, "bare/mpi4py/debug", returncode=1)
    verdict = verify_run_dir(run_dir)
    assert verdict.verdict == "inconclusive", verdict.reason
    assert "logging job exited with 1" in verdict.reason
