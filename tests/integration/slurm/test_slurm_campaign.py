"""A campaign on a Slurm site: every rep is an sbatch job whose ranks srun starts with PMIx."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from builder.profiles import load_site
from builder.run.campaign import run_site_campaign
from builder.run.contracts import HostStandInRuntime

pytestmark = pytest.mark.integration


def test_campaign_through_sbatch_and_srun_pmix(
    slurm_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLURM_CONF", slurm_cluster.env["SLURM_CONF"])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pingpong").symlink_to(slurm_cluster.pingpong)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    site = load_site("local").model_copy(
        update={"name": "local", "scheduler": "slurm", "launcher": "srun --mpi=pmix"}
    )
    run_dir = run_site_campaign(
        site,
        "stand-in",
        suites=["pingpong"],
        reps=1,
        resume=None,
        runs_root=tmp_path / "runs",
        runtime=HostStandInRuntime(),
    )
    records = sorted(run_dir.glob("*/pingpong/*/record.json"))
    assert len(records) == 4
    for path in records:
        record = json.loads(path.read_text())
        assert record["returncode"] == 0, (path.parent / "stderr").read_text()[-1500:]
        assert record["command"][:2] == ["srun", "--mpi=pmix"]
        script = (path.parent / "job.sbatch").read_text()
        assert "export OMPI_MCA_pml_ucx_tls=any" in script
        stdout = (path.parent / "stdout").read_text()
        assert "rank 0/2" in stdout and "rank 1/2" in stdout
    debug_script = (run_dir / "bare" / "pingpong" / "debug" / "job.sbatch").read_text()
    assert "export UCX_LOG_LEVEL=info" in debug_script
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"
