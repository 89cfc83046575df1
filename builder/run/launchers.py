"""Launchers: how the ranks of a job start (``mpirun`` or ``srun``), rendered as pure data.

A launcher turns a :class:`~builder.run.jobs.JobSpec` into a :class:`~builder.run.jobs.LaunchPlan`
and does nothing else: no process is started here, so every flag can be tested by comparing lists.
The site profile decides which launcher and which flags; :func:`launcher_for` is the one place
where that decision is made.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Protocol

from builder.errors import EsdcError
from builder.model.site import SiteProfile
from builder.run.jobs import JobSpec, LaunchPlan

#: Environment prefix Open MPI reads MCA parameters from.
MCA_ENV_PREFIX = "OMPI_MCA_"


class Launcher(Protocol):
    """Anything that renders a job into a command line."""

    def render(self, job: JobSpec) -> LaunchPlan:
        """The command that starts all ranks of ``job``."""
        ...


@dataclass(frozen=True)
class HostLayout:
    """Where ranks go when a local site has more than one host (network-namespace test hosts).

    Parameters
    ----------
    hostfile
        An Open MPI hostfile naming the hosts.
    rsh_agent
        The program mpirun uses instead of ssh to start its daemons on the other hosts.
    network
        The CIDR the out-of-band and TCP BTL traffic must use (``oob/btl_tcp_if_include``).
    prefix
        The argv mpirun itself runs under (e.g. ``ip netns exec hostA ...``).
    """

    hostfile: str
    rsh_agent: str
    network: str
    prefix: tuple[str, ...] = ()
    #: (host name, network namespace) of each host, for reading its interface counters.
    namespaces: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MpirunLauncher:
    """Open MPI's ``mpirun``: flags for root, oversubscription, MCA settings and extra hosts."""

    executable: str = "mpirun"
    extra_flags: tuple[str, ...] = ()
    allow_run_as_root: bool = False
    oversubscribe: bool = False
    mca: tuple[tuple[str, str], ...] = ()
    hosts: HostLayout | None = None

    def render(self, job: JobSpec) -> LaunchPlan:
        """Render ``mpirun -np N [flags] [-x VAR...] PROGRAM``.

        Variables of the job are exported with ``-x NAME`` (names only, values come from the
        launching environment) so that ranks on other hosts see them too.
        """
        argv: list[str] = [*self._prefix(), self.executable]
        if self.allow_run_as_root:
            argv.append("--allow-run-as-root")
        if self.oversubscribe:
            argv.append("--oversubscribe")
        argv += list(self.extra_flags)
        argv += ["-np", str(job.ranks)]
        if self.hosts is not None and job.nodes > 1:
            # A one-node job stays in the first host (the prefix): its ranks share that node.
            argv += [
                "--hostfile",
                self.hosts.hostfile,
                "--mca",
                "plm_rsh_agent",
                self.hosts.rsh_agent,
            ]
            argv += ["--mca", "oob_tcp_if_include", self.hosts.network]
            argv += ["--mca", "btl_tcp_if_include", self.hosts.network]
        if self.hosts is not None:
            # Busy-polling ranks starve the veth network on a 2-core machine (design.md trap),
            # and the job should not behave differently on one host than on two.
            argv += ["--mca", "mpi_yield_when_idle", "1"]
        if job.nodes > 1:
            argv += ["--map-by", "node"]
        # Open MPI aborts when one MCA name appears twice on the command line; settings are
        # layered (profile, then test or user overrides), so the last one of a name wins.
        for name, value in dict(self.mca).items():
            argv += ["--mca", name, value]
        for name in sorted(job.environment):
            argv += ["-x", name]
        argv += job.program
        return _plan(argv, job)

    def _prefix(self) -> tuple[str, ...]:
        return self.hosts.prefix if self.hosts is not None else ()


@dataclass(frozen=True)
class SrunLauncher:
    """Slurm's ``srun`` with a PMI plugin; settings travel in the job's environment.

    ``srun --export=`` splits values on commas (``OMPI_MCA_btl=vader,self`` breaks), so no
    ``--export`` flag is ever rendered: the scheduler exports the variables instead.
    """

    executable: str = "srun"
    mpi_plugin: str = "pmix"
    extra_flags: tuple[str, ...] = field(default=())

    def render(self, job: JobSpec) -> LaunchPlan:
        """Render ``srun --mpi=PLUGIN -n N -N NODES PROGRAM``."""
        argv = [
            self.executable,
            f"--mpi={self.mpi_plugin}",
            *self.extra_flags,
            "-n",
            str(job.ranks),
            "-N",
            str(job.nodes),
            *job.program,
        ]
        return _plan(argv, job)


def _plan(argv: list[str], job: JobSpec) -> LaunchPlan:
    return LaunchPlan(
        argv=argv,
        environment=dict(job.environment),
        ranks=job.ranks,
        nodes=job.nodes,
        name=job.name,
        timeout_s=job.timeout_s,
        gpus_per_node=job.gpus_per_node,
    )


def pmi_problem(mpi_name: str, plugin: str) -> str | None:
    """Why an MPI and a Slurm PMI plugin do not work together, or ``None`` when they do.

    Open MPI aborts under ``--mpi=pmi2`` (Debian's build has no Slurm PMI2 client); MPICH under
    ``--mpi=pmix`` runs every rank as a singleton and reports success.
    """
    family = plugin.split("_")[0]
    if mpi_name == "openmpi" and family == "pmi2":
        return "Open MPI aborts under srun --mpi=pmi2; use --mpi=pmix"
    if mpi_name in ("mpich", "cray-mpich") and family == "pmix":
        return "MPICH under srun --mpi=pmix runs every rank as a singleton; use --mpi=pmi2"
    return None


def mca_from_environment(environment: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The ``OMPI_MCA_*`` settings of a profile as ``(name, value)`` pairs, sorted by name."""
    return tuple(
        sorted(
            (name[len(MCA_ENV_PREFIX) :], value)
            for name, value in environment.items()
            if name.startswith(MCA_ENV_PREFIX)
        )
    )


def launcher_for(
    site: SiteProfile, *, as_root: bool = False, hosts: HostLayout | None = None
) -> Launcher:
    """The launcher a site's profile asks for.

    Parameters
    ----------
    site
        The site profile; its ``launcher`` string names the program and its fixed flags.
    as_root
        Whether the toolkit runs as root (mpirun then needs ``--allow-run-as-root``).
    hosts
        Extra hosts for a local site with several nodes.

    Raises
    ------
    EsdcError
        When the launcher is unknown, uses ``srun --export``, or pairs the site's MPI with a PMI
        plugin known not to work.
    """
    try:
        words = shlex.split(site.launcher)
    except ValueError as exc:
        raise EsdcError(f"launcher {site.launcher!r}: {exc}", where=f"site {site.name}") from exc
    if not words:
        raise EsdcError("launcher is empty", where=f"site {site.name}")
    program, flags = words[0], tuple(words[1:])
    name = program.rsplit("/", 1)[-1]
    if name == "mpirun" or name == "mpiexec":
        return MpirunLauncher(
            executable=program,
            extra_flags=flags,
            allow_run_as_root=as_root,
            oversubscribe=site.scheduler == "local",
            mca=mca_from_environment(site.environment),
            hosts=hosts,
        )
    if name == "srun":
        return _srun_launcher(site, program, flags)
    raise EsdcError(
        f"unknown launcher {program!r} (expected mpirun or srun)", where=f"site {site.name}"
    )


def _srun_launcher(site: SiteProfile, program: str, flags: tuple[str, ...]) -> SrunLauncher:
    plugin = "pmix"
    rest: list[str] = []
    for flag in flags:
        if flag.startswith("--export"):
            raise EsdcError(
                "launcher must not use srun --export (it splits values on commas); "
                "settings travel in the job's environment",
                where=f"site {site.name}",
            )
        if flag.startswith("--mpi="):
            plugin = flag.split("=", 1)[1]
        else:
            rest.append(flag)
    problem = pmi_problem(site.mpi.name, plugin)
    if problem is not None:
        raise EsdcError(problem, where=f"site {site.name}")
    return SrunLauncher(executable=program, mpi_plugin=plugin, extra_flags=tuple(rest))
