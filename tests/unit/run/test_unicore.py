"""UNICORE scheduler: the job description, and the HTTP requests pyunicore makes for it.

A UNICORE server cannot run here. These tests check the job description (pure) and run the real
pyunicore client against a tiny HTTP server on 127.0.0.1 that records every request and answers
with the minimum of UNICORE's REST API (site, jobs, job, actions, storage, files).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from builder.errors import EsdcError
from builder.run.jobs import LaunchPlan
from builder.run.schedulers.unicore import (
    TOKEN_ENV,
    TOKEN_FILE_ENV,
    UnicoreScheduler,
    job_description,
    read_token,
)

if TYPE_CHECKING:  # the fixture's type; the server itself lives in tests/conftest.py
    from conftest import FakeUnicore

PLAN = LaunchPlan(
    argv=["srun", "--mpi=pmix", "-n", "2", "-N", "1", "apptainer", "exec", "img.sif", "osu_bw"],
    environment={"OMPI_MCA_btl": "vader,self", "UCX_LOG_LEVEL": "info"},
    ranks=2,
    nodes=1,
    name="esdc-bare-osu_bw-0",
    timeout_s=300,
)
TOKEN = "tok-3f9a-do-not-print"


def test_unicore_job_description_has_executable_arguments_environment_resources() -> None:
    description = job_description(
        PLAN,
        project="cjinm",
        queue="dc-cpu",
        imports={"img.sif": "https://store/img.sif", "local.txt": "/tmp/local.txt"},
    )
    assert description == {
        "Name": "esdc-bare-osu_bw-0",
        "Job type": "batch",
        "Executable": "srun",
        "Arguments": PLAN.argv[1:],
        "Environment": {"OMPI_MCA_btl": "vader,self", "UCX_LOG_LEVEL": "info"},
        "Resources": {"Nodes": 1, "Runtime": "300s", "Queue": "dc-cpu"},
        "Stdout": "stdout",
        "Stderr": "stderr",
        "Project": "cjinm",
        "Imports": [{"From": "https://store/img.sif", "To": "img.sif"}],
    }


def test_unicore_token_from_environment_or_named_file(tmp_path: Path) -> None:
    assert read_token({TOKEN_ENV: " abc \n"}) == "abc"
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    assert read_token({TOKEN_FILE_ENV: str(token_file)}) == TOKEN
    with pytest.raises(EsdcError, match=TOKEN_ENV):
        read_token({})
    with pytest.raises(EsdcError, match="cannot read the token file") as caught:
        read_token({TOKEN_FILE_ENV: str(tmp_path / "missing")})
    assert TOKEN not in str(caught.value)


def test_unicore_requests_submit_start_stage_in_and_out(
    unicore: FakeUnicore, tmp_path: Path
) -> None:
    local_input = tmp_path / "input.txt"
    local_input.write_text("data")
    scheduler = UnicoreScheduler(
        endpoint=unicore.base,
        project="cjinm",
        uploads={"input.txt": str(local_input)},
        poll_s=0.01,
        environment={TOKEN_ENV: TOKEN},
        verify_tls=False,
    )
    workdir = tmp_path / "rep"
    outcome = scheduler.run(PLAN, workdir)

    assert outcome.returncode == 0 and outcome.scheduler_id == "J1"
    submitted = [r for r in unicore.requests if r[0] == "POST" and r[1].endswith("/jobs")]
    assert len(submitted) == 1
    description = json.loads(submitted[0][3])
    assert description["Executable"] == "srun"
    assert description["Environment"]["OMPI_MCA_btl"] == "vader,self"
    assert description["haveClientStageIn"] == "true"
    assert unicore.uploads == {"input.txt": b"data"}
    assert any(r[0] == "POST" and r[1].endswith("/actions/start") for r in unicore.requests)
    assert (workdir / "stdout").read_text() == "stdout of the job\n"
    assert (workdir / "stderr").read_text() == "stderr of the job\n"
    # The token travels only in the Authorization header, never in a URL or a body.
    for _method, path, headers, body in unicore.requests:
        assert headers.get("Authorization") == f"Bearer {TOKEN}"
        assert TOKEN not in path and TOKEN.encode() not in body
    assert not any(TOKEN in p.read_text() for p in workdir.iterdir())


def test_unicore_job_that_never_finishes_is_aborted(unicore: FakeUnicore, tmp_path: Path) -> None:
    unicore.status = "RUNNING"
    scheduler = UnicoreScheduler(
        endpoint=unicore.base, poll_s=0.01, environment={TOKEN_ENV: TOKEN}, verify_tls=False
    )
    outcome = scheduler.run(PLAN.model_copy(update={"timeout_s": 0.2}), tmp_path)
    assert outcome.timed_out and outcome.returncode is None
    assert any(r[1].endswith("/actions/abort") for r in unicore.requests)
