"""Evidence beside the logs (``evidence.json`` in a logging run's rep directory).

A debug log says what a library decided; two more witnesses say what happened (design.md):

- process level: for each rank, which copy of libmpi, libucp/libuct, libfabric, libpmix, libcuda
  and libnccl it mapped (``/proc/<pid>/maps``), whether that copy is the image's or the host's,
  which Open MPI components stayed loaded, which RDMA devices it opened (``/proc/<pid>/fd``) and
  its user namespace (ranks of one node in separate namespaces cannot use CMA);
- counters: bytes per interface before and after the run (``/sys/class/net/*/statistics``,
  ``/sys/class/infiniband/*/ports/*/counters`` and ``hw_counters``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from builder.model.analysis import Finding

EVIDENCE_SCHEMA = "esdc.evidence/1"

#: Where a mapped library file lives: the host's file system, the image's, or not known.
Origin = Literal["host", "image", "unknown"]


class MappedCopy(BaseModel):
    """One mapped library file and whose copy it is."""

    path: str
    origin: Origin = "unknown"


class RankProcess(BaseModel):
    """What one rank process had mapped and opened, sampled while it ran."""

    pid: int
    command: str
    #: ``/proc/<pid>/root`` as the host sees it: ``/`` on bare metal, the image in a container.
    root: str = "/"
    user_ns: str | None = None
    net_ns: str | None = None
    #: Library kind (``mpi``, ``ucp``, ``uct``, ``fabric``, ``pmix``, ``cuda``, ``nccl``,
    #: ``verbs``) -> the copies mapped.
    libraries: dict[str, list[MappedCopy]] = Field(default_factory=dict)
    #: Open MPI components still mapped (``pml_ucx``, ``mtl_ofi``, ``btl_vader``...).
    components: list[str] = Field(default_factory=list)
    #: RDMA devices among the open files (``/dev/infiniband/uverbs0``...).
    rdma_devices: list[str] = Field(default_factory=list)


class InterfaceBytes(BaseModel):
    """Bytes an interface received and sent during the run (after minus before)."""

    kind: Literal["net", "ib"]
    rx_bytes: int = 0
    tx_bytes: int = 0
    #: Other counters that changed (``hw_counters`` of an InfiniBand port...).
    other: dict[str, int] = Field(default_factory=dict)

    @property
    def total(self) -> int:
        """Bytes in both directions."""
        return self.rx_bytes + self.tx_bytes


class RunEvidence(BaseModel):
    """``evidence.json``: the rank processes and the counter deltas of one logging run."""

    model_config = {"populate_by_name": True}

    schema_: str = Field(default=EVIDENCE_SCHEMA, alias="schema")
    processes: list[RankProcess] = Field(default_factory=list)
    #: ``[host/]interface`` -> bytes moved during the run.
    counters: dict[str, InterfaceBytes] = Field(default_factory=dict)
    #: What could not be read (no permission, no sysfs), for the report.
    notes: list[str] = Field(default_factory=list)


class SuiteEvidence(BaseModel):
    """Both modes' evidence of one suite's logging run, and what the rules found."""

    suite: str
    bare: RunEvidence | None = None
    container: RunEvidence | None = None
    findings: list[Finding] = Field(default_factory=list)
