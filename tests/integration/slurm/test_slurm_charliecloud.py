"""Charliecloud under Slurm: ``srun --mpi=pmix`` starts one ``ch-run --join`` per rank.

The local site's image is built (or reused from the build cache) as in the Charliecloud tests;
the campaign then runs on the test cluster with the scheduler and launcher a Slurm site uses,
and the verifier finds the same transport path in the container as on bare metal.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from builder.errors import EsdcError
from builder.profiles import load_site
from builder.run.campaign import run_site_campaign
from builder.run.validate import build_site_image
from builder.verify.api import verify_run_dir

# The first test builds the image in a fixture: a cold build took 820 s on a loaded 2-core
# machine, beyond the suite's default per-test limit of 600 s.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(2400)]

#: Shared with tests/integration/run so that the image is built once.
IMAGE_ROOT = Path.home() / ".cache" / "esdc" / "test-runs"


def _image() -> str:
    missing = [
        t for t in ("ch-image", "ch-run", "ch-convert", "debootstrap") if not shutil.which(t)
    ]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")
    deadline = time.monotonic() + 600
    while True:
        try:
            return build_site_image(load_site("local"), IMAGE_ROOT, Console(stderr=True))[0]
        except EsdcError as exc:
            # ch-image's storage admits one process at a time; wait for the other one.
            if "already in use" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(5)


def test_hybrid_campaign_under_srun_pmix_with_joined_ch_run(
    slurm_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = _image()
    monkeypatch.setenv("SLURM_CONF", slurm_cluster.env["SLURM_CONF"])
    site = load_site("local")
    site = site.model_copy(
        update={
            "scheduler": "slurm",
            "launcher": "srun --mpi=pmix",
            "environment": {**site.environment, "OMPI_MCA_pml": "ucx"},
        }
    )
    run_dir = run_site_campaign(
        site, image, suites=["pingpong"], reps=1, resume=None, runs_root=tmp_path
    )
    for path in sorted(run_dir.glob("*/pingpong/*/record.json")):
        record = json.loads(path.read_text())
        assert record["returncode"] == 0, (path.parent / "stderr").read_text()[-1500:]
        stdout = (path.parent / "stdout").read_text()
        assert "rank 0/2" in stdout and "rank 1/2" in stdout
    container = json.loads((run_dir / "container/pingpong/0/record.json").read_text())
    assert container["command"][:2] == ["srun", "--mpi=pmix"]
    assert "ch-run" in container["command"] and "--join" in container["command"]
    (transport,) = verify_run_dir(run_dir).transport
    assert transport.status == "pass", [f.code for f in transport.findings]
    assert transport.container is not None and transport.container.selected.pml == "ucx"
