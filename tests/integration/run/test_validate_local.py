"""``esdc validate --site local`` from the command line: image, campaign, verdict, report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
#: A cold image build (debootstrap, Debian packages, the NEST wheel) took 820 s on a loaded
#: 2-core machine; the suite's default per-test limit is 600 s.
COLD_BUILD_TIMEOUT = 2400

#: Shared with test_charliecloud_hybrid.py so that the image is built once.
IMAGE_ROOT = Path.home() / ".cache" / "esdc" / "test-runs"


def _files_holding(folder: Path, secrets: list[str]) -> list[str]:
    """``path: secret`` for every file under ``folder`` that contains one of ``secrets``."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            found += [f"{path}: {s}" for s in secrets if s.encode() in data]
    return found


@pytest.mark.timeout(COLD_BUILD_TIMEOUT)
def test_validate_local_ends_with_a_verdict_and_the_report_path(
    tmp_path: Path, secret_shapes: list[tuple[str, str, str]]
) -> None:
    """Also: secrets in twelve shapes in the environment reach no file of the run directory."""
    # Proxy and pip index variables are left out: they would send the run's own download (the
    # NEST wheel) to a host that does not exist; the unit test has them.
    run_secrets = [
        shape
        for shape in secret_shapes
        if not (shape[0].lower().endswith("_proxy") or shape[0].startswith("PIP_"))
    ]
    missing = [t for t in ("ch-image", "ch-run", "debootstrap", "mpirun") if not shutil.which(t)]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")
    before = {p.name for p in IMAGE_ROOT.glob("20*")} if IMAGE_ROOT.is_dir() else set()
    IMAGE_ROOT.mkdir(parents=True, exist_ok=True)
    # A relative --runs, as `esdc validate` is typed: jobs run in their rep directories, so
    # every path handed to them must have been made absolute.
    done = subprocess.run(
        [sys.executable, "-m", "builder.cli", "validate", "--site", "local", "--reps", "1",
         "--runs", IMAGE_ROOT.name],
        capture_output=True,
        text=True,
        # Measured here: 820 s with a fresh image build (Debian packages, NEST's wheel), 5.5 min
        # for the campaign's 40 jobs (intra- and inter-node, bare and container, NEST).
        timeout=1800,
        check=False,
        cwd=IMAGE_ROOT.parent,
        env={**os.environ, **{name: value for name, value, _ in run_secrets}},
    )  # fmt: skip
    (run_dir,) = [p for p in IMAGE_ROOT.glob("20*") if p.name not in before]
    try:
        assert "Traceback" not in done.stderr
        verdict = json.loads((run_dir / "verdict.json").read_text())
        assert done.returncode == {"pass": 0, "fail": 1, "inconclusive": 2}[verdict["verdict"]]
        assert (run_dir / "report.html").is_file() and (run_dir / "results.csv").is_file()
        assert f"report: {run_dir / 'report.html'}" in done.stdout.splitlines()
        manifest = json.loads((run_dir / "run.json").read_text())
        assert manifest["status"] == "complete"
        assert manifest["image_digest"].startswith("sha256:")
        # C ping-pong, mpi4py and NEST, each on one node and across network-namespace hosts
        # (NEST in one process: the PyPI wheel has no MPI), with the evidence beside the logs.
        assert {"pingpong", "pingpong_inter", "mpi4py", "mpi4py_inter", "nest_threads"} <= set(
            manifest["suites"]
        )
        assert [p["check"] for p in verdict["preflight"]][:2] == ["environment", "memlock"]
        inter = next(e for e in verdict["evidence"] if e["suite"] == "pingpong_inter")
        for side in ("bare", "container"):
            assert len(inter[side]["processes"]) == 2
            assert max(c["tx_bytes"] for c in inter[side]["counters"].values()) > 100_000_000
        origins = {
            copy["origin"]
            for process in inter["container"]["processes"]
            for copy in process["libraries"]["mpi"]
        }
        assert origins == {"image"}  # the hybrid model: the image's MPI in the container
        secrets = [secret for _, _, secret in run_secrets]
        assert not any(s in done.stdout + done.stderr for s in secrets)
        assert _files_holding(run_dir, secrets) == []
        (env_json,) = list(run_dir.glob("container/pingpong/0/env.json"))
        assert "CI_REPOSITORY_URL" in json.loads(env_json.read_text())["_omitted"]
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
