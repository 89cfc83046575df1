"""``esdc report`` on the run-directory fixtures: default paths, --html, and what the page says."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

from builder.report.api import write_report

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "runs"


def test_default_paths_and_a_cannot_judge_page(tmp_path: Path) -> None:
    run_dir = tmp_path / "missing"
    shutil.copytree(FIXTURES / "missing", run_dir)
    written = write_report(run_dir, html=None)
    assert written == [run_dir / "report.html", run_dir / "results.csv"]
    page = written[0].read_text()
    assert 'class="verdict inconclusive"' in page
    assert "container/mpi4py/1/stdout" in page[: page.index('id="metrics"')]
    rows = list(csv.DictReader(written[1].open()))
    assert {r["mode"] for r in rows} == {"bare", "container"}
    assert {r["suite"] for r in rows} == {"osu_latency", "osu_bw", "mpi4py", "nest"}
    assert {r["rep"] for r in rows if r["mode"] == "container" and r["suite"] == "mpi4py"} == {
        "0",
        "2",
    }


def test_esdc_report_with_html_elsewhere(tmp_path: Path) -> None:
    run_dir = tmp_path / "pass"
    shutil.copytree(FIXTURES / "pass", run_dir)
    target = tmp_path / "out" / "page.html"
    shown = subprocess.run(
        [sys.executable, "-m", "builder.cli", "report", str(run_dir), "--html", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert str(target) in shown.stdout.replace("\n", "")
    page = target.read_text()
    assert 'class="verdict pass"' in page and 'id="first-failure"' not in page
    assert str((run_dir / "results.csv").resolve()) in page


def test_skipped_suites_are_listed_with_their_reason(tmp_path: Path) -> None:
    run_dir = tmp_path / "pass"
    shutil.copytree(FIXTURES / "pass", run_dir)
    (run_dir / "skipped.json").write_text('{"nccl_all_reduce": "needs GPUs <none here>"}')
    page = write_report(run_dir, html=None)[0].read_text()
    assert 'id="skipped"' in page and "needs GPUs &lt;none here&gt;" in page
