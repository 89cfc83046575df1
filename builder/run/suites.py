"""Benchmark suites as declarations: what to run, on how many ranks, read by which parser.

In the spirit of ReFrame's hpctestlib, a suite says *what* a benchmark is; the campaign decides
*how* (launcher, scheduler, container runtime). Programs name the tools they need as
placeholders in braces (``{mpi4py_python}``, ``{pingpong}``, ``{osu_latency}``...): a placeholder is
resolved separately on the host and in the image, and a suite applies only where every
placeholder it uses resolves (OSU is not packaged on Debian, so it is skipped on the local
site with that reason).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from builder.errors import EsdcError
from builder.model.site import SiteProfile

#: Which output parser reads a suite's stdout (``esdc parse``); ``pingpong`` is the toolkit's
#: own C ping-pong, whose output is read for rank lines and transport logs only.
Parser = Literal["osu", "nccl", "nest", "mpi4py", "pingpong"]

_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")


class SuiteRun(BaseModel):
    """One benchmark suite as a declaration.

    Parameters
    ----------
    name
        Directory name in the run directory and the value of ``--suite``.
    family
        The parser that reads the output; ``--suite FAMILY`` selects every suite of a family.
    program
        The argv of one rank; ``{tool}`` placeholders are resolved per mode.
    debug_program
        A shorter argv for the logging run (debug output of a full run is huge); defaults to
        ``program``.
    ranks, nodes
        The job's shape. Point-to-point suites come in pairs: two ranks on one node (the
        intra-node path) and ``*_inter`` on two nodes x one rank (the inter-node path, the one
        the fabric is for); collectives and NCCL run on two nodes.
    needs_gpu
        Only sites with GPUs run it.
    launched
        Whether the site's MPI launcher starts it (else one process, ``ranks`` must be 1).
    timeout_s
        Wall-clock limit of one job.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    family: Parser
    description: str
    program: list[str] = Field(min_length=1)
    debug_program: list[str] | None = None
    ranks: int = Field(default=2, ge=1)
    nodes: int = Field(default=1, ge=1)
    needs_gpu: bool = False
    timeout_s: float = Field(default=300.0, gt=0)
    #: ``False`` for a program started without the MPI launcher (one process): NEST from PyPI
    #: has no MPI and exits when it sees an MPI launcher's environment.
    launched: bool = True

    def argv(self, *, debug: bool) -> list[str]:
        """The program of the logging run (``debug``) or of a performance run."""
        return list(self.debug_program if debug and self.debug_program else self.program)

    def tools(self) -> list[str]:
        """The placeholders the suite's programs use, in first-use order."""
        seen: dict[str, None] = {}
        for word in [*self.program, *(self.debug_program or [])]:
            for match in _PLACEHOLDER.finditer(word):
                seen.setdefault(match.group(1), None)
        return list(seen)


SUITES: tuple[SuiteRun, ...] = (
    SuiteRun(
        name="pingpong",
        family="pingpong",
        description=(
            "The toolkit's C ping-pong (8 B to 1 MiB), two ranks on one node (the intra-node "
            "path); an image without one runs the host-built binary, bound in, against the "
            "image's MPI libraries."
        ),
        program=["{pingpong}", "1048576"],
        # Up to 1 MiB in the logging run too: large messages take other paths (CMA, rendezvous).
        timeout_s=120,
    ),
    SuiteRun(
        name="pingpong_inter",
        family="pingpong",
        description="The C ping-pong on 2 nodes x 1 rank: the inter-node path.",
        program=["{pingpong}", "1048576"],
        nodes=2,
        timeout_s=300,
    ),
    SuiteRun(
        name="mpi4py",
        family="mpi4py",
        description=(
            "mpi4py ping-pong, two ranks on one node, up to 1 MiB: python -m mpi4py.bench "
            "pingpong, or benchmarks/mpi4py/pingpong.py (same measurement) where either side "
            "lacks it."
        ),
        program=["{mpi4py_python}", "{mpi4py_pingpong}", "-n", "1048576"],
        debug_program=["{mpi4py_python}", "{mpi4py_pingpong}", "-n", "1048576", "-l", "100"],
        timeout_s=180,
    ),
    SuiteRun(
        name="mpi4py_inter",
        family="mpi4py",
        description="mpi4py ping-pong on 2 nodes x 1 rank: the inter-node path.",
        program=["{mpi4py_python}", "{mpi4py_pingpong}", "-n", "1048576", "-l", "1000"],
        debug_program=["{mpi4py_python}", "{mpi4py_pingpong}", "-n", "1048576", "-l", "100"],
        nodes=2,
        timeout_s=300,
    ),
    SuiteRun(
        name="osu_latency",
        family="osu",
        description="OSU point-to-point latency, two ranks on one node.",
        program=["{osu_latency}"],
        debug_program=["{osu_latency}", "-i", "100", "-x", "10"],
    ),
    SuiteRun(
        name="osu_latency_inter",
        family="osu",
        description="OSU point-to-point latency, 2 nodes x 1 rank.",
        program=["{osu_latency}"],
        debug_program=["{osu_latency}", "-i", "100", "-x", "10"],
        nodes=2,
    ),
    SuiteRun(
        name="osu_bw",
        family="osu",
        description="OSU point-to-point bandwidth, two ranks on one node.",
        program=["{osu_bw}"],
        debug_program=["{osu_bw}", "-i", "10", "-x", "2"],
    ),
    SuiteRun(
        name="osu_bw_inter",
        family="osu",
        description="OSU point-to-point bandwidth, 2 nodes x 1 rank.",
        program=["{osu_bw}"],
        debug_program=["{osu_bw}", "-i", "10", "-x", "2"],
        nodes=2,
    ),
    SuiteRun(
        name="osu_allreduce",
        family="osu",
        description="OSU allreduce latency on 2 nodes, one rank per node.",
        program=["{osu_allreduce}"],
        debug_program=["{osu_allreduce}", "-i", "100", "-x", "10"],
        nodes=2,
    ),
    SuiteRun(
        name="nccl_all_reduce",
        family="nccl",
        description="nccl-tests all_reduce_perf on 2 nodes, one GPU per rank, 8 B to 128 MiB.",
        program=["{all_reduce_perf}", "-b", "8", "-e", "128M", "-f", "2", "-g", "1"],
        debug_program=["{all_reduce_perf}", "-b", "8", "-e", "1M", "-f", "4", "-g", "1"],
        needs_gpu=True,
        nodes=2,
    ),
    SuiteRun(
        name="nest",
        family="nest",
        description=(
            "NEST balanced random network (benchmarks/nest/run_balanced.py), 2 ranks, where "
            "NEST is built with MPI."
        ),
        program=["{nest_mpi_python}", "{nest_script}", "--scale", "1.0", "--simtime", "200"],
        debug_program=["{nest_mpi_python}", "{nest_script}", "--scale", "0.2", "--simtime", "20"],
        timeout_s=600,
    ),
    SuiteRun(
        name="nest_threads",
        family="nest",
        description=(
            "The same Brunel network in one process with 2 threads, sized to about ten seconds "
            "(NEST from PyPI has no MPI, so no launcher starts it)."
        ),
        program=[
            "{nest_python}",
            "{nest_script}",
            "--threads",
            "2",
            "--scale",
            "2",
            "--simtime",
            "300",
        ],
        debug_program=[
            "{nest_python}",
            "{nest_script}",
            "--threads",
            "2",
            "--scale",
            "0.2",
            "--simtime",
            "20",
        ],
        ranks=1,
        launched=False,
        timeout_s=600,
    ),
)


def select_suites(
    names: Sequence[str] | None, catalogue: Iterable[SuiteRun] = SUITES
) -> list[SuiteRun]:
    """The suites named by ``--suite`` (a suite name or a family), or all of them.

    A suite's own name selects that suite only (``pingpong``: the one-node run, not
    ``pingpong_inter``); a name that is only a family selects the family (``osu``).

    Raises
    ------
    EsdcError
        For a name that is neither a suite nor a family, listing the known ones.
    """
    known = list(catalogue)
    if not names:
        return known
    chosen: list[SuiteRun] = []
    for name in names:
        matches = [s for s in known if s.name == name] or [s for s in known if s.family == name]
        if not matches:
            listed = ", ".join(sorted({s.name for s in known} | {s.family for s in known}))
            raise EsdcError(f"unknown suite {name!r} (known: {listed})", where="--suite")
        chosen += [s for s in matches if s not in chosen]
    return chosen


def site_reason_to_skip(suite: SuiteRun, site: SiteProfile) -> str | None:
    """Why ``suite`` does not apply to ``site`` at all, or ``None`` (pure)."""
    if suite.needs_gpu and site.gpus is None:
        return f"site {site.name} has no GPUs"
    if suite.nodes > 1 and site.scheduler == "local" and len(site.nodes) < suite.nodes:
        return f"site {site.name} declares fewer than {suite.nodes} nodes"
    return None


def missing_tools(suite: SuiteRun, tools: Mapping[str, Sequence[str] | None]) -> list[str]:
    """The placeholders of ``suite`` that ``tools`` cannot resolve (pure)."""
    return [name for name in suite.tools() if tools.get(name) is None]


def resolve_program(argv: Sequence[str], tools: Mapping[str, Sequence[str] | None]) -> list[str]:
    """``argv`` with each placeholder word replaced by its tool's argv (pure).

    A word that *is* a placeholder expands to the tool's whole argv (``{python}`` may be
    ``["/usr/bin/python3"]``); placeholders inside longer words are substituted as text.

    Raises
    ------
    EsdcError
        When a placeholder has no tool.
    """
    resolved: list[str] = []
    for word in argv:
        whole = _PLACEHOLDER.fullmatch(word)
        if whole is not None:
            resolved += list(_tool(tools, whole.group(1)))
            continue
        resolved.append(_PLACEHOLDER.sub(lambda m: " ".join(_tool(tools, m.group(1))), word))
    return resolved


def _tool(tools: Mapping[str, Sequence[str] | None], name: str) -> Sequence[str]:
    found = tools.get(name)
    if found is None:
        raise EsdcError(f"no {name} to run", where="suite")
    return found
