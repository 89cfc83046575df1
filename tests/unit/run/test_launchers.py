"""Launcher rendering: mpirun flags for the local site and netns hosts, srun and PMI traps."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from builder.errors import EsdcError
from builder.model.site import SiteProfile
from builder.run.jobs import JobSpec
from builder.run.launchers import (
    HostLayout,
    MpirunLauncher,
    SrunLauncher,
    launcher_for,
    mca_from_environment,
    pmi_problem,
)

JOB = JobSpec(name="j", program=["./pingpong", "8"], ranks=2, environment={"UCX_LOG_LEVEL": "info"})


def test_local_mpirun_has_root_oversubscribe_mca_and_exports(local_site: SiteProfile) -> None:
    plan = launcher_for(local_site, as_root=True).render(JOB)
    assert plan.argv == [
        "mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2",
        "--mca", "pml_ucx_devices", "any", "--mca", "pml_ucx_tls", "any",
        "-x", "UCX_LOG_LEVEL", "./pingpong", "8",
    ]  # fmt: skip
    assert plan.environment == {"UCX_LOG_LEVEL": "info"}


def test_mpirun_not_root_has_no_allow_run_as_root(local_site: SiteProfile) -> None:
    assert "--allow-run-as-root" not in launcher_for(local_site, as_root=False).render(JOB).argv


def test_mpirun_across_netns_hosts_has_hostfile_agent_subnet_and_yield() -> None:
    hosts = HostLayout(
        "/h/hostfile", "/h/agent.sh", "10.77.3.0/24", prefix=("ip", "netns", "exec", "a")
    )
    job = JOB.model_copy(update={"nodes": 2})
    argv = MpirunLauncher(hosts=hosts).render(job).argv
    assert argv[:5] == ["ip", "netns", "exec", "a", "mpirun"]
    text = " ".join(argv)
    assert "--hostfile /h/hostfile" in text
    assert "--mca plm_rsh_agent /h/agent.sh" in text
    assert "--mca oob_tcp_if_include 10.77.3.0/24" in text
    assert "--mca btl_tcp_if_include 10.77.3.0/24" in text
    assert "--mca mpi_yield_when_idle 1" in text
    assert "--map-by node" in text


def test_one_node_job_with_netns_hosts_stays_in_the_first_host() -> None:
    hosts = HostLayout(
        "/h/hostfile", "/h/agent.sh", "10.77.3.0/24", prefix=("ip", "netns", "exec", "a")
    )
    argv = MpirunLauncher(hosts=hosts).render(JOB).argv
    assert argv[:5] == ["ip", "netns", "exec", "a", "mpirun"]
    assert "--hostfile" not in argv and "--map-by" not in argv
    assert "--mca mpi_yield_when_idle 1" in " ".join(argv)


def test_srun_renders_pmix_and_never_export(site_factory: Callable[..., SiteProfile]) -> None:
    site = site_factory(scheduler="slurm", launcher="srun --mpi=pmix_v4 --cpu-bind=cores")
    job = JOB.model_copy(update={"environment": {"OMPI_MCA_btl": "vader,self"}})
    plan = launcher_for(site).render(job)
    assert plan.argv == [
        "srun",
        "--mpi=pmix_v4",
        "--cpu-bind=cores",
        "-n",
        "2",
        "-N",
        "1",
        "./pingpong",
        "8",
    ]
    assert not any(word.startswith("--export") for word in plan.argv)
    assert plan.environment == {"OMPI_MCA_btl": "vader,self"}


def test_srun_export_in_profile_is_refused(site_factory: Callable[..., SiteProfile]) -> None:
    site = site_factory(scheduler="slurm", launcher="srun --export=ALL,A=b")
    with pytest.raises(EsdcError, match="comma"):
        launcher_for(site)


@pytest.mark.parametrize(
    ("mpi", "plugin", "bad"),
    [("openmpi", "pmi2", True), ("openmpi", "pmix", False), ("openmpi", "pmix_v4", False),
     ("mpich", "pmix", True), ("mpich", "pmi2", False)],
)  # fmt: skip
def test_pmi_problem_knows_the_design_traps(mpi: str, plugin: str, bad: bool) -> None:
    assert (pmi_problem(mpi, plugin) is not None) is bad


def test_mpich_site_under_pmix_is_refused_with_the_reason(
    site_factory: Callable[..., SiteProfile],
) -> None:
    site = site_factory(scheduler="slurm", launcher="srun --mpi=pmix", mpi={"name": "mpich"})
    with pytest.raises(EsdcError, match="singleton"):
        launcher_for(site)


def test_unknown_launcher_is_an_error_naming_the_site(
    site_factory: Callable[..., SiteProfile],
) -> None:
    with pytest.raises(EsdcError, match=r"site testsite.*unknown launcher"):
        launcher_for(site_factory(launcher="aprun -n 2"))


def test_mca_from_environment_keeps_only_mca_sorted() -> None:
    env = {"OMPI_MCA_b": "2", "UCX_TLS": "tcp", "OMPI_MCA_a": "1"}
    assert mca_from_environment(env) == (("a", "1"), ("b", "2"))


def test_srun_launcher_defaults() -> None:
    assert SrunLauncher().render(JOB).argv[:2] == ["srun", "--mpi=pmix"]
