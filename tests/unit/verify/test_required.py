"""Required suites: a skipped, unselected or failed one makes a passing verdict inconclusive."""

from __future__ import annotations

import shutil
from pathlib import Path

from rich.console import Console

from builder.model.verdict import Problem
from builder.profiles import load_site
from builder.report.html import render_html
from builder.verify.api import verify_run_dir
from builder.verify.judge import judge_run
from builder.verify.render import print_verdict
from builder.verify.required import required_gaps
from tests.unit.verify.test_judge import MPI4PY, run_data


def test_a_skipped_required_suite_gives_inconclusive() -> None:
    data = run_data()
    data.skipped["pingpong"] = "pingpong not found in the image"
    verdict = judge_run(data, {"mpi4py": MPI4PY}, ["mpi4py", "pingpong"])
    assert verdict.verdict == "inconclusive" and verdict.exit_code == 2
    assert "pingpong" in verdict.reason and "not found in the image" in verdict.reason
    assert verdict.required_missing == {"pingpong": "skipped: pingpong not found in the image"}
    assert verdict.to_json_dict()["required"] == ["mpi4py", "pingpong"]


def test_without_required_suites_the_same_run_passes() -> None:
    data = run_data()
    data.skipped["pingpong"] = "pingpong not found in the image"
    assert judge_run(data, {"mpi4py": MPI4PY}).verdict == "pass"


def test_a_required_suite_not_selected_is_named() -> None:
    gaps = required_gaps(["nest"], run_data())
    assert gaps == {"nest": "not run: the campaign did not select it"}


def test_a_required_suite_whose_jobs_failed_is_named_with_the_modes() -> None:
    failed = [
        Problem(where="bare/mpi4py/0/record.json", message="exit 1", failed_job=("bare", "mpi4py")),
        Problem(
            where="container/mpi4py/0/record.json",
            message="exit 1",
            failed_job=("container", "mpi4py"),
        ),
    ]
    gaps = required_gaps(["mpi4py"], run_data(problems=failed))
    assert gaps == {"mpi4py": "failed (bare and container): exit 1"}


def test_a_failing_metric_still_fails_whatever_is_missing() -> None:
    data = run_data(container_time=3.0e-6)
    verdict = judge_run(data, {"mpi4py": MPI4PY}, ["mpi4py", "nest"])
    assert verdict.verdict == "fail"
    assert verdict.required_missing == {"nest": "not run: the campaign did not select it"}


def test_the_banner_names_the_suite_and_why_in_terminal_and_report() -> None:
    data = run_data()
    data.skipped["pingpong"] = "pingpong not found in the image"
    data.skipped["osu_bw"] = "osu_bw not found on the host"
    verdict = judge_run(data, {"mpi4py": MPI4PY}, ["pingpong"])
    console = Console(record=True, width=80, force_terminal=False)
    print_verdict(verdict, console)
    text = console.export_text()
    head = text.split("\n", 3)
    assert head[0].startswith("INCONCLUSIVE")
    assert "required suite pingpong: skipped: pingpong not found in the image" in text
    assert "skipped osu_bw: osu_bw not found on the host" in text
    page = render_html(verdict, data)
    banner = page.split('id="verdict"', 1)[1].split("</div>", 1)[0]
    assert "<b>required</b> <code>pingpong</code>" in banner
    assert "skipped <code>osu_bw</code>" in banner


def test_the_local_profile_requires_its_suites() -> None:
    assert {"pingpong", "pingpong_inter", "mpi4py", "nest_threads"} <= set(
        load_site("local").required_suites
    )


def test_verify_reads_the_required_suites_the_campaign_recorded(tmp_path: Path) -> None:
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "runs" / "pass"
    run_dir = tmp_path / "pass"
    shutil.copytree(fixture, run_dir)
    (run_dir / "required.json").write_text('["mpi4py", "pingpong"]')
    verdict = verify_run_dir(run_dir)
    assert verdict.verdict == "inconclusive" and verdict.exit_code == 2
    assert verdict.required_missing == {"pingpong": "not run: the campaign did not select it"}


def test_output_that_is_not_a_terminal_cuts_no_cell_and_wraps_no_path() -> None:
    data = run_data()
    long_path = "/scratch/" + "very-long-directory-name/" * 6 + "record.json"
    data.skipped["osu_latency_inter"] = f"osu_latency not found on the host ({long_path})"
    verdict = judge_run(data, {"mpi4py": MPI4PY}, ["osu_latency_inter"])
    console = Console(record=True, width=80, force_terminal=False)
    print_verdict(verdict, console)
    text = console.export_text()
    assert long_path in text  # on one line
    assert "…" not in text
    assert console.width == 80
