"""Site profiles: all the toolkit must know about one machine room, nothing about an environment."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from builder.model.analysis import PathClass
from builder.model.env import Buildcache
from builder.model.values import DottedVersion, Line, RsyncTarget, SlurmName

Scheduler = Literal["slurm", "unicore", "local"]
FabricKind = Literal["ib", "roce", "cxi", "efa", "opa", "tcp"]
RuntimeKind = Literal["apptainer", "charliecloud"]
SoftwareSource = Literal["spack", "os_packages"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PmixInfo(_Strict):
    """The host's PMIx, as Slurm's ``mpi/pmix`` plugin was built against it."""

    version: DottedVersion = Field(
        description="Host PMIx version, e.g. '4.2.2'; the major must match the image's."
    )

    @property
    def major(self) -> int:
        """The PMIx major version (the part that must match between Slurm and the image)."""
        return int(self.version.split(".")[0])


class HostMpi(_Strict):
    """The host MPI, relevant for the bind model and for bare-metal baselines."""

    name: Literal["openmpi", "mpich", "impi", "parastation", "cray-mpich", "none"] = "openmpi"
    version: Line | None = None
    module: Line | None = Field(default=None, description="Module to load for bare-metal runs.")


class Fabric(_Strict):
    """The interconnect and what counts as an optimal path on it."""

    kind: FabricKind
    devices: list[Line] = Field(default_factory=list, description="e.g. ['mlx5_0:1'] or ['eth0']")
    inter_node: list[PathClass] = Field(description="Path classes acceptable between nodes.")
    intra_node: list[PathClass] = Field(description="Path classes acceptable within a node.")
    ucx_tls: Line | None = None
    ofi_providers: list[Line] = Field(
        default_factory=list, description="Usable libfabric providers."
    )
    os_packages: list[Line] = Field(
        default_factory=list,
        description="Runtime OS packages the final image needs for this fabric (rdma-core...).",
    )


class Gpus(_Strict):
    """GPUs per node and the driver floor an image's CUDA must respect."""

    vendor: Literal["nvidia", "amd"]
    model: Line
    per_node: int
    driver_floor: DottedVersion = Field(description="Lowest host driver version, e.g. '535.104'.")
    cuda_max: DottedVersion = Field(
        description="Highest CUDA toolkit that driver supports, e.g. '12.2'."
    )
    cuda_arch: DottedVersion = Field(description="Compute capability, e.g. '80' for A100.")


class Runtime(_Strict):
    """The container runtime at the site."""

    kind: RuntimeKind
    binds: list[Line] = Field(default_factory=list)
    environment: dict[Line, Line] = Field(default_factory=dict)
    join_namespace: bool = Field(
        default=False,
        description="Charliecloud: run ranks of a node in one namespace (ch-run --join).",
    )
    nv: bool = Field(default=False, description="Apptainer --nv for GPU nodes.")


class Transfer(_Strict):
    """Where images go: an OCI registry, a UNICORE storage, or an rsync target."""

    registry: Line | None = None
    unicore_endpoint: Line | None = None
    unicore_storage: Line | None = None
    rsync_target: RsyncTarget | None = None


class Node(_Strict):
    """A host of the local site: a name and, for test hosts, the network namespace it lives in."""

    name: Line
    netns: Line | None = None
    address: Line | None = None


class SiteProfile(_Strict):
    """One site: scheduler, launcher, PMIx, MPI, fabric, GPUs, runtime, transfer, debug settings."""

    name: Line
    description: Line = ""
    scheduler: Scheduler
    launcher: Line = Field(description="e.g. 'srun --mpi=pmix_v4' or 'mpirun'.")
    pmix: PmixInfo
    mpi: HostMpi = Field(default_factory=HostMpi)
    fabric: Fabric
    gpus: Gpus | None = None
    runtime: Runtime
    transfer: Transfer = Field(default_factory=Transfer)
    accounts: list[SlurmName] = Field(default_factory=list)
    partitions: dict[Line, SlurmName] = Field(
        default_factory=dict, description="role -> partition name"
    )
    nodes: list[Node] = Field(
        default_factory=list, description="Local site hosts; empty elsewhere."
    )
    os_base: Line = Field(default="rockylinux:8", description="Base OS image of the final stage.")
    software: SoftwareSource = Field(
        default="spack",
        description="How images for this site get their software: Spack from a lock/manifest, or "
        "the environment's os_packages from the base OS (the local site: Spack cannot fetch here).",
    )
    spack_target: Line | None = Field(
        default=None,
        description="Spack microarchitecture target of the compute nodes, e.g. 'zen2'.",
    )
    buildcache: Buildcache | None = Field(
        default=None,
        description="The site's Spack binary mirror, used before building from source.",
    )
    environment: dict[Line, Line] = Field(
        default_factory=dict,
        description="Recommended settings for jobs in the image (%environment).",
    )
    debug_environment: dict[Line, Line] = Field(
        default_factory=dict,
        description="Settings of the logging runs (UCX_LOG_LEVEL, NCCL_DEBUG...).",
    )
    required_suites: list[Line] = Field(
        default_factory=list,
        description="Suites (run-directory names, e.g. 'pingpong_inter') a verdict needs: one "
        "skipped, not selected or failed makes the verdict inconclusive.",
    )
    sources: list[Line] = Field(description="Public documents the values come from.")
    unconfirmed: list[Line] = Field(
        default_factory=list, description="Dotted field paths whose values could not be confirmed."
    )
