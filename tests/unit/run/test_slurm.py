"""Slurm scheduler: the sbatch script rendered from the template and the parsers of Slurm output."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.errors import EsdcError
from builder.run.jobs import LaunchPlan
from builder.run.schedulers.slurm import (
    exit_status,
    parse_job_id,
    parse_sacct,
    parse_scontrol_job,
    render_sbatch_script,
    slurm_time,
)

PLAN = LaunchPlan(
    argv=["srun", "--mpi=pmix", "-n", "2", "-N", "1", "ch-run", "img", "--", "/opt/x y"],
    environment={"OMPI_MCA_btl": "vader,self", "UCX_LOG_LEVEL": "info", "Q": "it's"},
    ranks=2,
    nodes=1,
    name="esdc bare/osu",
    timeout_s=90,
)


def test_sbatch_script_has_resources_outputs_and_exports_in_the_environment() -> None:
    script = render_sbatch_script(
        PLAN, Path("/runs/r/bare/osu/0"), account="proj1", partition="dc-cpu"
    )
    lines = script.splitlines()
    assert lines[0] == "#!/bin/bash"
    assert "#SBATCH --job-name=esdc_bare_osu" in lines
    assert "#SBATCH --account=proj1" in lines
    assert "#SBATCH --partition=dc-cpu" in lines
    assert "#SBATCH --nodes=1" in lines and "#SBATCH --ntasks=2" in lines
    assert "#SBATCH --time=0:01:30" in lines
    assert "#SBATCH --output=/runs/r/bare/osu/0/stdout" in lines
    assert "export OMPI_MCA_btl=vader,self" in lines
    assert "export Q='it'\"'\"'s'" in lines
    assert lines[-1] == "srun --mpi=pmix -n 2 -N 1 ch-run img -- '/opt/x y'"
    assert not any(line.startswith("#SBATCH --export") for line in lines)


def test_sbatch_script_without_account_or_partition_leaves_them_out() -> None:
    script = render_sbatch_script(PLAN, Path("/w"))
    assert "--account" not in script and "--partition" not in script


def test_bad_variable_name_is_refused() -> None:
    plan = PLAN.model_copy(update={"environment": {"A-B": "1"}})
    with pytest.raises(EsdcError, match="A-B"):
        render_sbatch_script(plan, Path("/w"))


@pytest.mark.parametrize(("seconds", "text"), [(1, "0:01:00"), (61, "0:01:01"), (7322, "2:02:02")])
def test_slurm_time(seconds: float, text: str) -> None:
    assert slurm_time(seconds) == text


def test_parse_job_id_plain_and_with_cluster() -> None:
    assert parse_job_id("42\n") == "42"
    assert parse_job_id("42;cluster\n") == "42"
    with pytest.raises(EsdcError, match="no job id"):
        parse_job_id("sbatch: error: Batch job submission failed")


def test_exit_status_of_signal_and_code() -> None:
    assert exit_status("0:0") == 0
    assert exit_status("3:0") == 3
    assert exit_status("0:9") == 137
    assert exit_status("x") is None


def test_parse_scontrol_and_sacct() -> None:
    text = (
        "JobId=7 JobName=esdc\n   JobState=FAILED Reason=NonZeroExitCode Dependency=(null)\n"
        "   ExitCode=1:0\n"
    )
    assert parse_scontrol_job(text) == ("FAILED", 1)
    assert parse_scontrol_job("slurm_load_jobs error: Invalid job id specified") == (None, None)
    assert parse_sacct("CANCELLED by 0|0:15\n") == ("CANCELLED", 143)
    assert parse_sacct("") == (None, None)


@pytest.mark.parametrize(
    "hostile", ["dc-cpu\nrm -f canary", "dc-cpu\x0brm -f canary", "dc cpu", "dc-cpu;id", "$(id)"]
)
def test_a_partition_or_account_that_is_not_a_slurm_name_never_reaches_the_script(
    hostile: str, tmp_path: Path
) -> None:
    """The issue's case: a newline in partitions ran the next line as a shell command."""
    with pytest.raises(EsdcError, match="partitions"):
        render_sbatch_script(PLAN, tmp_path, partition=hostile)
    with pytest.raises(EsdcError, match="accounts"):
        render_sbatch_script(PLAN, tmp_path, account=hostile)


def test_an_environment_value_with_a_line_break_is_refused() -> None:
    plan = PLAN.model_copy(update={"environment": {"A": "x\u2028y"}})
    with pytest.raises(EsdcError, match="environment A"):
        render_sbatch_script(plan, Path("/w"))
