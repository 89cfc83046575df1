"""Site profiles: all the toolkit must know about one machine room, nothing about an environment."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from builder.model.analysis import PathClass
from builder.model.env import Buildcache

Scheduler = Literal["slurm", "unicore", "local"]
FabricKind = Literal["ib", "roce", "cxi", "efa", "opa", "tcp"]
RuntimeKind = Literal["apptainer", "charliecloud"]
SoftwareSource = Literal["spack", "os_packages"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PmixInfo(_Strict):
    """The host's PMIx, as Slurm's ``mpi/pmix`` plugin was built against it."""

    version: str = Field(
        description="Host PMIx version, e.g. '4.2.2'; the major must match the image's."
    )

    @property
    def major(self) -> int:
        """The PMIx major version (the part that must match between Slurm and the image)."""
        return int(self.version.split(".")[0])


class HostMpi(_Strict):
    """The host MPI, relevant for the bind model and for bare-metal baselines."""

    name: Literal["openmpi", "mpich", "impi", "parastation", "cray-mpich", "none"] = "openmpi"
    version: str | None = None
    module: str | None = Field(default=None, description="Module to load for bare-metal runs.")


class Fabric(_Strict):
    """The interconnect and what counts as an optimal path on it."""

    kind: FabricKind
    devices: list[str] = Field(default_factory=list, description="e.g. ['mlx5_0:1'] or ['eth0']")
    inter_node: list[PathClass] = Field(description="Path classes acceptable between nodes.")
    intra_node: list[PathClass] = Field(description="Path classes acceptable within a node.")
    ucx_tls: str | None = None
    ofi_providers: list[str] = Field(
        default_factory=list, description="Usable libfabric providers."
    )
    os_packages: list[str] = Field(
        default_factory=list,
        description="Runtime OS packages the final image needs for this fabric (rdma-core...).",
    )


class Gpus(_Strict):
    """GPUs per node and the driver floor an image's CUDA must respect."""

    vendor: Literal["nvidia", "amd"]
    model: str
    per_node: int
    driver_floor: str = Field(description="Lowest host driver version, e.g. '535.104'.")
    cuda_max: str = Field(description="Highest CUDA toolkit that driver supports, e.g. '12.2'.")
    cuda_arch: str = Field(description="Compute capability, e.g. '80' for A100.")


class Runtime(_Strict):
    """The container runtime at the site."""

    kind: RuntimeKind
    binds: list[str] = Field(default_factory=list)
    environment: dict[str, str] = Field(default_factory=dict)
    join_namespace: bool = Field(
        default=False,
        description="Charliecloud: run ranks of a node in one namespace (ch-run --join).",
    )
    nv: bool = Field(default=False, description="Apptainer --nv for GPU nodes.")


class Transfer(_Strict):
    """Where images go: an OCI registry, a UNICORE storage, or an rsync target."""

    registry: str | None = None
    unicore_endpoint: str | None = None
    unicore_storage: str | None = None
    rsync_target: str | None = None


class Node(_Strict):
    """A host of the local site: a name and, for test hosts, the network namespace it lives in."""

    name: str
    netns: str | None = None
    address: str | None = None


class SiteProfile(_Strict):
    """One site: scheduler, launcher, PMIx, MPI, fabric, GPUs, runtime, transfer, debug settings."""

    name: str
    description: str = ""
    scheduler: Scheduler
    launcher: str = Field(description="e.g. 'srun --mpi=pmix_v4' or 'mpirun'.")
    pmix: PmixInfo
    mpi: HostMpi = Field(default_factory=HostMpi)
    fabric: Fabric
    gpus: Gpus | None = None
    runtime: Runtime
    transfer: Transfer = Field(default_factory=Transfer)
    accounts: list[str] = Field(default_factory=list)
    partitions: dict[str, str] = Field(default_factory=dict, description="role -> partition name")
    nodes: list[Node] = Field(
        default_factory=list, description="Local site hosts; empty elsewhere."
    )
    os_base: str = Field(default="rockylinux:8", description="Base OS image of the final stage.")
    software: SoftwareSource = Field(
        default="spack",
        description="How images for this site get their software: Spack from a lock/manifest, or "
        "the environment's os_packages from the base OS (the local site: Spack cannot fetch here).",
    )
    spack_target: str | None = Field(
        default=None,
        description="Spack microarchitecture target of the compute nodes, e.g. 'zen2'.",
    )
    buildcache: Buildcache | None = Field(
        default=None,
        description="The site's Spack binary mirror, used before building from source.",
    )
    environment: dict[str, str] = Field(
        default_factory=dict,
        description="Recommended settings for jobs in the image (%environment).",
    )
    debug_environment: dict[str, str] = Field(
        default_factory=dict,
        description="Settings of the logging runs (UCX_LOG_LEVEL, NCCL_DEBUG...).",
    )
    required_suites: list[str] = Field(
        default_factory=list,
        description="Suites (run-directory names, e.g. 'pingpong_inter') a verdict needs: one "
        "skipped, not selected or failed makes the verdict inconclusive.",
    )
    sources: list[str] = Field(description="Public documents the values come from.")
    unconfirmed: list[str] = Field(
        default_factory=list, description="Dotted field paths whose values could not be confirmed."
    )
