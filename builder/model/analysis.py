"""The ``esdc.analysis/1`` contract: transport paths, library versions and findings.

Field names and value sets are a public contract (see docs/design.md); change them only with a
new schema version.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ANALYSIS_SCHEMA = "esdc.analysis/1"

#: Libraries the analysis reports on, in the order the JSON lists them.
LIBRARIES: tuple[str, ...] = ("ucx", "openmpi", "nccl", "libfabric", "mpich", "impi", "pmix")

Library = Literal["ucx", "openmpi", "nccl", "libfabric", "mpich", "impi", "pmix"]

#: The class of path that carries inter- or intra-node traffic.
PathClass = Literal[
    "ib",
    "roce",
    "tcp",
    "socket",
    "efa",
    "cxi",
    "psm2",
    "opx",
    "shm",
    "cma",
    "xpmem",
    "knem",
    "p2p",
    "unknown",
]
PATH_CLASSES: tuple[str, ...] = (
    "ib",
    "roce",
    "tcp",
    "socket",
    "efa",
    "cxi",
    "psm2",
    "opx",
    "shm",
    "cma",
    "xpmem",
    "knem",
    "p2p",
    "unknown",
)

Scope = Literal["self", "intra-node", "inter-node", "unknown"]
Severity = Literal["info", "warning", "error"]


class Evidence(BaseModel):
    """One log line that supports a claim: file, 1-based line number, and the cleaned text."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int
    text: str


class Finding(BaseModel):
    """A named observation. ``code`` is a stable identifier listed in docs/findings.md."""

    code: str
    severity: Severity
    library: str | None = None
    message: str
    evidence: list[Evidence] = Field(default_factory=list)


class LibraryInfo(BaseModel):
    """What the logs say about one library: its version and the file it was loaded from."""

    version: str | None = None
    loaded_from: str | None = None


class PathUse(BaseModel):
    """One transport lane seen in the logs, with how many times it was seen (ranks x configs)."""

    library: str
    layer: str
    scope: Scope
    transport: str
    device: str | None = None
    count: int = 1


class Selected(BaseModel):
    """Components the MPI/NCCL stacks selected."""

    pml: str | None = None
    btl: list[str] = Field(default_factory=list)
    mtl: str | None = None
    nccl_net: str | None = None
    ofi_provider: str | None = None
    gdr: bool | None = None


class Analysis(BaseModel):
    """The result of ``esdc analyze``; serialised exactly as ``esdc.analysis/1``."""

    schema_: str = Field(default=ANALYSIS_SCHEMA, alias="schema")
    inputs: list[str]
    libraries: dict[str, LibraryInfo | None]
    paths: list[PathUse] = Field(default_factory=list)
    selected: Selected = Field(default_factory=Selected)
    inter_node: PathClass | None = None
    intra_node: PathClass | None = None
    findings: list[Finding] = Field(default_factory=list)
    degraded: bool | None = None

    model_config = ConfigDict(populate_by_name=True)

    def to_json_dict(self) -> dict[str, object]:
        """The contract's JSON object (``schema`` first, every library key present)."""
        data = self.model_dump(by_alias=True, mode="json")
        data["libraries"] = {name: data["libraries"].get(name) for name in LIBRARIES} | {
            k: v for k, v in data["libraries"].items() if k not in LIBRARIES
        }
        return {"schema": data.pop("schema"), **data}
