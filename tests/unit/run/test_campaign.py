"""The campaign's pure parts: one rep's job, which suites apply, and the environment jobs need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from builder.model.site import SiteProfile
from builder.run.campaign import (
    CampaignSetup,
    absolute_if_path,
    applicable,
    job_for,
    render_plan,
    required_environment,
)
from builder.run.launchers import launcher_for
from builder.run.plan import PlannedRep
from builder.run.probe import Versions
from builder.run.schedulers.local import LocalScheduler
from builder.run.suites import SUITES


class RecordingRuntime:
    """A runtime that renders ``ch-run``-like argv and remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def exec_argv(self, image: str, argv: list[str], **options: Any) -> list[str]:
        self.calls.append(options)
        binds = [f"--bind={b}" for b in options.get("binds", ())]
        return ["ch-run", *(["--join"] if options.get("join") else []), *binds, image, "--", *argv]


TOOLS = {"pingpong": ["/cache/pingpong"], "mpi4py_python": None, "mpi4py_pingpong": None}


def _setup(site: SiteProfile, runtime: RecordingRuntime | None = None) -> CampaignSetup:
    versions = Versions(where="host")
    return CampaignSetup(
        site=site,
        image="/images/img",
        launcher=launcher_for(site, as_root=True),
        scheduler=LocalScheduler(),
        runtime=runtime or RecordingRuntime(),
        tools={"bare": TOOLS, "container": {**TOOLS, "pingpong": ["/mnt/0/pingpong"]}},
        versions={"bare": {"host": versions}, "container": {"host": versions}},
        base_environment={"USER": "root"},
        container_binds=("/cache:/mnt/0",),
    )


PINGPONG = next(s for s in SUITES if s.name == "pingpong")


def test_bare_debug_job_has_profile_and_debug_environment(local_site: SiteProfile) -> None:
    job = job_for(
        _setup(local_site),
        PlannedRep(mode="bare", suite="pingpong", rep="debug", kind="debug"),
        PINGPONG,
    )
    assert job.program == ["/cache/pingpong", "1048576"]
    assert job.environment["UCX_LOG_LEVEL"] == "info"
    assert job.environment["OMPI_MCA_pml_ucx_tls"] == "any"
    assert job.environment["USER"] == "root"
    assert job.ranks == 2 and job.nodes == 1


def test_container_perf_job_wraps_each_rank_and_has_no_debug_settings(
    site_factory: Callable[..., SiteProfile],
) -> None:
    site = site_factory(
        runtime={"kind": "charliecloud", "join_namespace": True, "binds": ["/scratch"]}
    )
    runtime = RecordingRuntime()
    job = job_for(
        _setup(site, runtime),
        PlannedRep(mode="container", suite="pingpong", rep="0", kind="perf"),
        PINGPONG,
    )
    assert job.program == [
        "ch-run", "--join", "--bind=/scratch", "--bind=/cache:/mnt/0", "/images/img", "--",
        "/mnt/0/pingpong", "1048576",
    ]  # fmt: skip
    assert "UCX_LOG_LEVEL" not in job.environment
    assert runtime.calls[0]["gpu"] is False


def test_local_site_with_two_nodes_runs_intra_and_inter_node_pingpong(
    site_factory: Callable[..., SiteProfile],
) -> None:
    site = site_factory(nodes=[{"name": "a"}, {"name": "b"}])
    inter = next(s for s in SUITES if s.name == "pingpong_inter")
    setup = _setup(site)
    intra_job = job_for(
        setup, PlannedRep(mode="bare", suite="pingpong", rep="0", kind="perf"), PINGPONG
    )
    inter_job = job_for(
        setup, PlannedRep(mode="bare", suite="pingpong_inter", rep="0", kind="perf"), inter
    )
    assert (intra_job.nodes, intra_job.ranks) == (1, 2)
    assert (inter_job.nodes, inter_job.ranks) == (2, 2)


def test_inter_node_suites_are_skipped_where_the_local_site_has_one_host(
    local_site: SiteProfile,
) -> None:
    _, skipped = applicable(_setup(local_site), list(SUITES))
    assert skipped["pingpong_inter"] == "site testsite declares fewer than 2 nodes"


def test_applicable_names_the_missing_tool_and_the_side(local_site: SiteProfile) -> None:
    chosen, skipped = applicable(_setup(local_site), list(SUITES))
    assert [s.name for s in chosen] == ["pingpong"]
    assert skipped["mpi4py"] == "mpi4py_python, mpi4py_pingpong not found on the host"
    assert skipped["nccl_all_reduce"] == "site testsite has no GPUs"


@pytest.mark.parametrize(("env", "expected"), [({"USER": "alice"}, {}), ({}, {"USER": None})])
def test_required_environment_adds_user_only_when_missing(
    env: dict[str, str], expected: dict[str, None]
) -> None:
    assert set(required_environment(env)) == set(expected)


def test_apptainer_nccl_job_command_on_a_gpu_slurm_site() -> None:
    """jureca-dc's real profile: srun with its PMI plugin, apptainer exec --nv per rank, and a
    batch script asking the GPU partition for the GPUs (Apptainer cannot run here: the command
    is what is tested)."""
    from pathlib import Path

    from builder.build.apptainer import ApptainerRuntime
    from builder.profiles import load_site
    from builder.run.schedulers.select import scheduler_for
    from builder.run.schedulers.slurm import SlurmScheduler, render_sbatch_script

    site = load_site("jureca-dc")
    assert site.gpus is not None
    versions = Versions(where="host")
    tools = {"all_reduce_perf": ["/opt/nccl-tests/all_reduce_perf"]}
    setup = CampaignSetup(
        site=site,
        image="/p/images/esd.sif",
        launcher=launcher_for(site),
        scheduler=scheduler_for(site),
        runtime=ApptainerRuntime(),
        tools={"bare": tools, "container": tools},
        versions={"bare": {"host": versions}, "container": {"host": versions}},
    )
    nccl = next(s for s in SUITES if s.name == "nccl_all_reduce")
    job = job_for(setup, PlannedRep(mode="container", suite=nccl.name, rep="0", kind="perf"), nccl)
    plan = setup.launcher.render(job)
    assert plan.argv[:2] == ["srun", site.launcher.split()[1]]
    exec_at = plan.argv.index("exec")
    assert plan.argv[exec_at - 1] == "apptainer" and "--nv" in plan.argv[exec_at:]
    nccl_argv = ["/opt/nccl-tests/all_reduce_perf", "-b", "8", "-e", "128M", "-f", "2", "-g", "1"]
    assert plan.argv[-len(nccl_argv) :] == nccl_argv
    assert isinstance(setup.scheduler, SlurmScheduler)
    partition = setup.scheduler.gpu_partition
    assert partition == site.partitions["gpu"]
    script = render_sbatch_script(
        plan, Path("/r"), account=setup.scheduler.account, partition=partition
    )
    assert f"#SBATCH --gres=gpu:{min(site.gpus.per_node, 2)}" in script.splitlines()
    assert f"#SBATCH --partition={partition}" in script.splitlines()


def test_resume_with_another_image_is_refused_before_anything_runs(
    local_site: SiteProfile, tmp_path: Any
) -> None:
    from builder.errors import EsdcError
    from builder.model.run import CampaignManifest
    from builder.run import rundir
    from builder.run.campaign import run_site_campaign

    manifest = CampaignManifest(
        id="r", site=local_site.name, image="/images/a", suites=["pingpong"], reps=1,
        created="t", toolkit_version="0",
    )  # fmt: skip
    rundir.write_manifest(tmp_path, manifest)
    with pytest.raises(EsdcError, match="is for site testsite and image /images/a, not"):
        run_site_campaign(local_site, "/images/b", suites=None, reps=1, resume=tmp_path,
                          runs_root=tmp_path, runtime=RecordingRuntime())  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_image_paths_are_made_absolute_and_tags_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "image").mkdir()
    monkeypatch.chdir(tmp_path)
    assert absolute_if_path("image") == str(tmp_path / "image")
    assert absolute_if_path("esd/mpi-base:local") == "esd/mpi-base:local"


def test_unlaunched_suite_runs_one_process_without_join(
    site_factory: Callable[..., SiteProfile],
) -> None:
    site = site_factory(runtime={"kind": "charliecloud", "join_namespace": True})
    runtime = RecordingRuntime()
    nest = next(s for s in SUITES if s.name == "nest_threads")
    setup = _setup(site, runtime)
    nest_tools = {"nest_python": ["python3"], "nest_script": ["/b/run.py"]}
    setup = replace(setup, tools={**setup.tools, "container": nest_tools})
    job = job_for(
        setup, PlannedRep(mode="container", suite="nest_threads", rep="0", kind="perf"), nest
    )
    assert job.ranks == 1 and "--join" not in job.program
    plan = render_plan(setup, job, launched=nest.launched)
    assert plan.argv == job.program  # no mpirun: NEST from PyPI exits under a launcher
