"""Weighing the evidence beside the logs: process maps and interface counters (pure).

Each rule of :data:`RULES` compares a suite's bare-metal and container evidence
(:class:`~builder.model.evidence.RunEvidence`) and returns findings; a newcomer adds a rule as one
function and one row. The rules catch, without reading a single log line, the mistakes design.md
lists: ranks in separate user namespaces (no ``ch-run --join``), other Open MPI components than
bare metal (an image without the MCA defaults: pml cm + mtl ofi), traffic on an interface bare
metal hardly used (``UCX_TLS=tcp``: the intra-node ping-pong goes over ``lo``), the host's MPI
or the image's driver in a container rank, an RDMA device bare metal opened and the container not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ValidationError

from builder.model.analysis import Finding, Severity
from builder.model.evidence import RankProcess, RunEvidence, SuiteEvidence
from builder.model.run import Mode
from builder.model.verdict import Problem

EVIDENCE_FILE = "evidence.json"
#: Bytes on one interface below which a difference is noise (other work shares this machine).
TRAFFIC_FLOOR = 16 * 1024 * 1024
#: How many times bare metal's bytes the container may move over an interface.
TRAFFIC_FACTOR = 4.0


class EvidenceCode(BaseModel):
    """One row of the evidence codes table."""

    code: str
    severity: Severity
    summary: str


def read_evidence(run_dir: Path, mode: Mode, suite: str) -> RunEvidence | None:
    """``<mode>/<suite>/debug/evidence.json``, or ``None`` when the campaign recorded none."""
    path = run_dir / mode / suite / "debug" / EVIDENCE_FILE
    if not path.is_file():
        return None
    try:
        return RunEvidence.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError):
        return None


def evidence_problems(run_dir: Path, mode: Mode, suite: str) -> list[Problem]:
    """A problem for an ``evidence.json`` that exists but cannot be read."""
    path = run_dir / mode / suite / "debug" / EVIDENCE_FILE
    if path.is_file() and read_evidence(run_dir, mode, suite) is None:
        return [Problem(where=f"{mode}/{suite}/debug/{EVIDENCE_FILE}", message="unreadable")]
    return []


def human_bytes(count: float) -> str:
    """``2.1 GB``, ``340 kB``, ``12 B`` (decimal units, as people read network traffic)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count:.0f} B"


def _finding(code: str, message: str) -> Finding:
    row = CODES[code]
    return Finding(code=code, severity=row.severity, library=None, message=message)


def _copies(process: RankProcess, kind: str) -> list[str]:
    return [f"{c.path} ({c.origin})" for c in process.libraries.get(kind, [])]


def rule_image_mpi(bare: RunEvidence, container: RunEvidence) -> list[Finding]:
    """Hybrid model: container ranks map the image's libmpi, not the host's."""
    found = []
    for process in container.processes:
        origins = {c.origin for c in process.libraries.get("mpi", [])}
        if "host" in origins:
            found.append(
                _finding(
                    "EVIDENCE_HOST_MPI",
                    f"container rank {process.pid} mapped the host's MPI: "
                    + ", ".join(_copies(process, "mpi")),
                )
            )
    return found[:1]


def rule_host_driver(bare: RunEvidence, container: RunEvidence) -> list[Finding]:
    """Drivers (libcuda) come from the host: an image's copy does not match the kernel module."""
    for process in container.processes:
        if any(c.origin == "image" for c in process.libraries.get("cuda", [])):
            return [
                _finding(
                    "EVIDENCE_IMAGE_DRIVER",
                    f"container rank {process.pid} mapped the image's libcuda: "
                    + ", ".join(_copies(process, "cuda")),
                )
            ]
    return []


def rule_rdma_opened(bare: RunEvidence, container: RunEvidence) -> list[Finding]:
    """An RDMA device bare metal's ranks opened, the container's must open too."""
    bare_devices = {d for p in bare.processes for d in p.rdma_devices}
    container_devices = {d for p in container.processes for d in p.rdma_devices}
    if bare_devices and not container_devices and container.processes:
        return [
            _finding(
                "EVIDENCE_NO_RDMA_DEVICE",
                f"bare-metal ranks opened {', '.join(sorted(bare_devices))}; "
                "no container rank opened an RDMA device",
            )
        ]
    return []


def _split_namespaces(evidence: RunEvidence) -> list[str]:
    """Nodes (network namespaces) whose ranks are in more than one user namespace."""
    by_node: dict[str | None, set[str | None]] = {}
    for process in evidence.processes:
        by_node.setdefault(process.net_ns, set()).add(process.user_ns)
    return sorted(str(node) for node, users in by_node.items() if len(users) > 1)


def rule_user_namespaces(bare: RunEvidence, container: RunEvidence) -> list[Finding]:
    """Ranks of one node share a user namespace (else CMA between them is refused)."""
    split = _split_namespaces(container)
    if split and not _split_namespaces(bare):
        ranks = sum(1 for p in container.processes if p.net_ns in split)
        return [
            _finding(
                "EVIDENCE_SPLIT_NAMESPACES",
                f"{ranks} container ranks of one node run in separate user namespaces (bare "
                "metal's share one): single-copy transfers (CMA) between them are refused; "
                "Charliecloud needs ch-run --join",
            )
        ]
    return []


def _components(evidence: RunEvidence) -> set[str]:
    return {c for p in evidence.processes for c in p.components}


def rule_components(bare: RunEvidence, container: RunEvidence) -> list[Finding]:
    """Container ranks keep the same Open MPI pml/mtl components mapped as bare metal's."""
    ours, theirs = _components(container), _components(bare)
    if not bare.processes or not container.processes or ours == theirs:
        return []
    return [
        _finding(
            "EVIDENCE_COMPONENTS_DIFFER",
            f"container ranks mapped {', '.join(sorted(ours)) or 'no pml/mtl component'}, "
            f"bare-metal ranks {', '.join(sorted(theirs)) or 'none'} (Open MPI chose another "
            "point-to-point layer: the image lacks the site's MCA defaults?)",
        )
    ]


def rule_traffic(bare: RunEvidence, container: RunEvidence) -> list[Finding]:
    """No interface carries much more of the container's traffic than of bare metal's."""
    found = []
    for name, moved in sorted(container.counters.items(), key=lambda kv: -kv[1].total):
        baseline = bare.counters.get(name)
        base_total = baseline.total if baseline is not None else 0
        if moved.total > max(TRAFFIC_FLOOR, TRAFFIC_FACTOR * base_total):
            found.append(
                _finding(
                    "EVIDENCE_TRAFFIC_DIFFERS",
                    f"the container moved {human_bytes(moved.total)} over {name}, bare metal "
                    f"{human_bytes(base_total)}",
                )
            )
    return found


def rule_no_ranks(bare: RunEvidence, container: RunEvidence) -> list[Finding]:
    """Say so when a mode's ranks were never seen (the other rules then have nothing to weigh)."""
    missing = [m for m, e in (("bare-metal", bare), ("container", container)) if not e.processes]
    if missing:
        return [
            _finding("EVIDENCE_NO_RANKS", f"no {' or '.join(missing)} rank process was sampled")
        ]
    return []


Rule = Callable[[RunEvidence, RunEvidence], list[Finding]]

#: Every evidence code: severity and meaning (docs and the report read this table).
CODES: dict[str, EvidenceCode] = {
    row.code: row
    for row in (
        EvidenceCode(
            code="EVIDENCE_HOST_MPI",
            severity="error",
            summary="A container rank mapped the host's libmpi: not the image's MPI (hybrid "
            "model) but a bind-mounted host copy.",
        ),
        EvidenceCode(
            code="EVIDENCE_IMAGE_DRIVER",
            severity="error",
            summary="A container rank mapped the image's libcuda instead of the host driver's.",
        ),
        EvidenceCode(
            code="EVIDENCE_NO_RDMA_DEVICE",
            severity="error",
            summary="Bare-metal ranks opened /dev/infiniband devices, container ranks none.",
        ),
        EvidenceCode(
            code="EVIDENCE_SPLIT_NAMESPACES",
            severity="error",
            summary="Container ranks of one node in separate user namespaces: CMA refused.",
        ),
        EvidenceCode(
            code="EVIDENCE_COMPONENTS_DIFFER",
            severity="error",
            summary="Container ranks kept other Open MPI pml/mtl components than bare metal's.",
        ),
        EvidenceCode(
            code="EVIDENCE_TRAFFIC_DIFFERS",
            severity="error",
            summary="An interface carried far more of the container's traffic than bare "
            "metal's (e.g. intra-node traffic over lo: UCX_TLS=tcp).",
        ),
        EvidenceCode(
            code="EVIDENCE_LOG_DISAGREES",
            severity="warning",
            summary="The pml/mtl a debug log says was selected is not among the components the "
            "ranks kept mapped: the log and the process disagree.",
        ),
        EvidenceCode(
            code="EVIDENCE_NO_RANKS",
            severity="info",
            summary="No rank process of a mode was sampled (ranks on other nodes, or too short).",
        ),
    )
}

#: The rules, in the order their findings are listed.
RULES: tuple[Rule, ...] = (
    rule_components,
    rule_user_namespaces,
    rule_traffic,
    rule_image_mpi,
    rule_host_driver,
    rule_rdma_opened,
    rule_no_ranks,
)


def log_disagreements(
    mode: str, logged_pml: str | None, logged_mtl: str | None, evidence: RunEvidence | None
) -> list[Finding]:
    """The pml/mtl a mode's debug log says it selected against the components its ranks kept.

    Each witness can be wrong alone (a log line from another process, a component mapped but
    idle); when they disagree, that is itself worth a look.
    """
    if evidence is None or not evidence.processes:
        return []
    mapped = _components(evidence)
    found = []
    for kind, logged in (("pml", logged_pml), ("mtl", logged_mtl)):
        kept = sorted(c for c in mapped if c.startswith(f"{kind}_"))
        if logged and kept and f"{kind}_{logged}" not in kept:
            found.append(
                _finding(
                    "EVIDENCE_LOG_DISAGREES",
                    f"the {mode} log says {kind} {logged}, its ranks kept {', '.join(kept)} mapped",
                )
            )
    return found


def judge_evidence(
    suite: str, bare: RunEvidence | None, container: RunEvidence | None
) -> SuiteEvidence | None:
    """Apply :data:`RULES` to one suite; ``None`` when the campaign recorded no evidence."""
    if bare is None and container is None:
        return None
    findings: list[Finding] = []
    if bare is not None and container is not None:
        for rule in RULES:
            findings += rule(bare, container)
    return SuiteEvidence(suite=suite, bare=bare, container=container, findings=findings)
