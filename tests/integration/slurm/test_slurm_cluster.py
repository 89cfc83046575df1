"""Real Slurm: srun --mpi=pmix of the ping-pong, sbatch through the Slurm scheduler, PMI traps."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from builder.run.jobs import JobSpec
from builder.run.launchers import SrunLauncher
from builder.run.schedulers.slurm import SlurmScheduler
from builder.run.singleton import singleton_evidence

pytestmark = pytest.mark.integration


def _srun(cluster: Any, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=cluster.env, capture_output=True, text=True, timeout=120, check=False
    )


def test_srun_mpi_pmix_runs_two_open_mpi_ranks_in_one_world(slurm_cluster: Any) -> None:
    done = _srun(slurm_cluster, ["srun", "--mpi=pmix", "-n", "2", str(slurm_cluster.pingpong), "8"])
    assert done.returncode == 0, done.stderr
    ranks = sorted(
        line.split(" on ")[0] for line in done.stdout.splitlines() if line.startswith("rank")
    )
    assert ranks == ["rank 0/2", "rank 1/2"]
    assert singleton_evidence(done.stdout.splitlines(), 2) is None
    assert "pingpong bytes=8" in done.stdout


def test_sbatch_through_the_slurm_scheduler_exports_comma_values(
    slurm_cluster: Any, tmp_path: Path
) -> None:
    job = JobSpec(
        name="esdc-sbatch-test",
        program=[str(slurm_cluster.pingpong), "1024"],
        ranks=2,
        # srun --export would split this value on its comma; the job's environment does not.
        environment={"OMPI_MCA_btl": "vader,self", "OMPI_MCA_pml": "ob1"},
        timeout_s=120,
    )
    plan = SrunLauncher().render(job)
    outcome = SlurmScheduler(poll_s=0.2, environment=slurm_cluster.env).run(plan, tmp_path)
    assert outcome.returncode == 0, (tmp_path / "stderr").read_text()
    assert outcome.scheduler_id is not None and outcome.scheduler_id.isdigit()
    stdout = (tmp_path / "stdout").read_text()
    assert "rank 0/2" in stdout and "rank 1/2" in stdout
    assert "pingpong bytes=1024" in stdout
    assert "export OMPI_MCA_btl=vader,self" in (tmp_path / "job.sbatch").read_text()


def test_failing_batch_job_reports_its_exit_code(slurm_cluster: Any, tmp_path: Path) -> None:
    job = JobSpec(name="esdc-fail", program=["sh", "-c", "exit 3"], ranks=1, timeout_s=60)
    outcome = SlurmScheduler(poll_s=0.2, environment=slurm_cluster.env).run(
        SrunLauncher().render(job), tmp_path
    )
    assert outcome.returncode not in (0, None)


def test_batch_job_past_its_time_is_cancelled(slurm_cluster: Any, tmp_path: Path) -> None:
    job = JobSpec(name="esdc-slow", program=["sleep", "120"], ranks=1, timeout_s=2)
    scheduler = SlurmScheduler(poll_s=0.2, environment=slurm_cluster.env)
    outcome = scheduler.run(SrunLauncher().render(job), tmp_path)
    assert outcome.timed_out and outcome.returncode is None
    queue = _srun(slurm_cluster, ["squeue", "-h", "-j", outcome.scheduler_id or "0", "-o", "%T"])
    assert queue.stdout.strip() in ("", "CANCELLED", "COMPLETING")


def test_mpich_under_pmix_runs_singletons_and_is_detected(
    slurm_cluster: Any, tmp_path: Path
) -> None:
    if shutil.which("mpicc.mpich") is None:
        pytest.skip("MPICH is not installed")
    source = Path(__file__).resolve().parents[3] / "benchmarks" / "pingpong" / "pingpong.c"
    binary = tmp_path / "pingpong-mpich"
    subprocess.run(["mpicc.mpich", "-O2", "-o", str(binary), str(source)], check=True)
    wrong = _srun(slurm_cluster, ["srun", "--mpi=pmix", "-n", "2", str(binary), "8"])
    evidence = singleton_evidence((wrong.stdout + wrong.stderr).splitlines(), 2)
    assert evidence is not None and "world of 1" in evidence
    right = _srun(slurm_cluster, ["srun", "--mpi=pmi2", "-n", "2", str(binary), "8"])
    assert right.returncode == 0, right.stderr
    assert singleton_evidence(right.stdout.splitlines(), 2) is None
