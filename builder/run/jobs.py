"""What one benchmark job is, before and after a launcher turned it into a command line.

These are pure data: a :class:`JobSpec` says what to run (one rank's argv, how many ranks and
nodes, which environment), a :class:`LaunchPlan` says how to start it (the full command and the
variables to add to the launching process's environment), and a :class:`JobOutcome` says how it
ended.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class JobSpec(BaseModel):
    """One MPI job: the argv of one rank and the shape of the job.

    Parameters
    ----------
    name
        A label for people and for scheduler job names, e.g. ``bare-mpi4py-0``.
    program
        The argv of one rank. In container mode this is already wrapped by the runtime
        (``ch-run IMAGE -- prog ...``): the hybrid model starts each rank inside the image.
    ranks
        Total number of MPI ranks.
    nodes
        Number of hosts the ranks are spread over.
    environment
        Variables every rank must see (debug settings, MCA parameters...).
    timeout_s
        Wall-clock limit after which the job is killed.
    gpus_per_node
        GPUs the job needs on each node (batch schedulers request them).
    """

    model_config = ConfigDict(frozen=True)

    name: str
    program: list[str] = Field(min_length=1)
    ranks: int = Field(ge=1)
    nodes: int = Field(default=1, ge=1)
    environment: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(default=600.0, gt=0)
    gpus_per_node: int = Field(default=0, ge=0)


class LaunchPlan(BaseModel):
    """A rendered command: what a scheduler executes, and the environment it adds."""

    model_config = ConfigDict(frozen=True)

    argv: list[str] = Field(min_length=1)
    environment: dict[str, str] = Field(default_factory=dict)
    ranks: int = 1
    nodes: int = 1
    name: str = "esdc"
    timeout_s: float = 600.0
    gpus_per_node: int = 0


class JobOutcome(BaseModel):
    """How a job ended, as the scheduler saw it."""

    returncode: int | None
    started: str
    ended: str
    wall_s: float
    timed_out: bool = False
    scheduler_id: str | None = None
