"""Cross-library findings: the engine's judgement of the combined paths and selections.

Pure: the facts, the merged selection and the path classes in, findings out. What counts as
good comes from an :class:`Expectation`: the site profile's declared fabric with ``--site``,
else the log itself (an RDMA device or provider that the traffic does not use is a finding).
NCCL's own checks (Socket, SHM instead of P2P, GPUDirect RDMA) belong to the NCCL analyser, which
has the evidence; combine.py drops an engine finding whose code the library analyser already
reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from builder.logs.base import LibraryFacts, Observation
from builder.logs.classify import (
    NETWORK_CLASSES,
    RDMA_CLASSES,
    SHM_CLASSES,
    is_loopback_device,
    ofi_provider_class,
    path_class,
)
from builder.logs.lanes import ClassEvidence, path_evidence, selection_evidence
from builder.logs.rules import Obs
from builder.model.analysis import Evidence, Finding, Selected, Severity
from builder.model.site import SiteProfile

#: Evidence lines attached to one engine finding.
_FINDING_EVIDENCE = 6
_TCP_CLASSES = frozenset({"tcp", "socket"})


#: An IP-over-InfiniBand interface name (``ib0``, ``ib1``, ``ibp65s0``).
_IPOIB = re.compile(r"^ib(?:\d|p\d)", re.IGNORECASE)
#: A NIC name that needs RDMA hardware: an IPoIB interface or an RDMA device (``mlx5_0``,
#: ``hfi1_0``, ``irdma0``, ``bnxt_re0``, ``qedr0``, ``cxi0``, ``rdmap0s6``).
_RDMA_NIC = re.compile(
    r"^(?:ib(?:\d|p\d)|mlx\d|mlx5_|hfi1?_?\d|irdma|bnxt_re|qedr|cxi\d|rdmap)", re.IGNORECASE
)
#: libfabric providers that drive RDMA or vendor fabrics (a site listing one expects it used).
_FAST_PROVIDERS = frozenset({"verbs", "cxi", "efa", "psm2", "opx", "psm3", "mlx"})


@dataclass(frozen=True)
class Expectation:
    """What counts as a good path, from a site profile or (``site is None``) from the log."""

    site: str | None = None
    inter_node: frozenset[str] | None = None
    intra_node: frozenset[str] | None = None
    roce: bool = False
    expects_ucx: bool = False
    ofi_providers: frozenset[str] = frozenset()


def expectation_from_site(site: SiteProfile) -> Expectation:
    """The :class:`Expectation` a site profile declares (its fabric's acceptable classes)."""
    pml = site.environment.get("OMPI_MCA_pml") or site.debug_environment.get("OMPI_MCA_pml")
    return Expectation(
        site=site.name,
        inter_node=frozenset(site.fabric.inter_node),
        intra_node=frozenset(site.fabric.intra_node),
        roce=site.fabric.kind == "roce",
        # A site that tunes pml ucx (or names UCX transports) means Open MPI should run on UCX.
        expects_ucx=site.fabric.ucx_tls is not None
        or pml == "ucx"
        or any(key.startswith(("OMPI_MCA_pml_ucx", "UCX_TLS")) for key in site.environment),
        ofi_providers=frozenset(p.lower() for p in site.fabric.ofi_providers),
    )


def rdma_in_log(facts: Sequence[LibraryFacts], classified: ClassEvidence) -> list[Evidence] | None:
    """Evidence that an RDMA device or provider exists, or ``None`` when the log shows none.

    Besides RDMA lanes and the analysers' device/provider observations, an IP-over-InfiniBand
    interface (``tcp/ib0``, ``btl: tcp: Using interface: ib0``, NCCL sockets on ``ib0``) counts:
    IPoIB needs an InfiniBand HCA, so TCP over it leaves the RDMA hardware unused.
    """
    for cls, evidence in [*classified.inter.items(), *classified.intra.items()]:
        if cls in RDMA_CLASSES:
            return evidence
    for library_facts in facts:
        for path in library_facts.paths:
            if path.device is not None and _IPOIB.match(path.device):
                return path_evidence(library_facts, path)
        for observation in library_facts.observations:
            if _observation_says_rdma(observation):
                return observation.evidence
    return None


def _observation_says_rdma(observation: Observation) -> bool:
    kind = observation.kind.lower()
    value = (observation.value or "").lower()
    if kind in {"rdma_device", "rdma_transport", "ib_device", "net_ib_available", "rdma_available"}:
        return True
    if kind in {"btl_tcp_interface", "socket_device", "iface"}:
        return _IPOIB.match(value) is not None
    if kind == "nic":  # Intel MPI's NIC pinning table: ``<rank> <nic>``
        return _RDMA_NIC.match(value.split()[-1] if value.split() else "") is not None
    # A registered provider proves nothing (Debian's libfabric registers psm2 on any machine);
    # one that fi_info lists as usable does, and so does a tcp domain on an IPoIB interface.
    if kind in {"provider_available", "provider_usable"}:
        provider, _, domain = value.partition("/")
        return ofi_provider_class(provider) in RDMA_CLASSES or _IPOIB.match(domain) is not None
    return False


def _finding(
    code: str, severity: Severity, library: str | None, message: str, evidence: Iterable[Evidence]
) -> Finding:
    return Finding(
        code=code,
        severity=severity,
        library=library,
        message=message,
        evidence=list(dict.fromkeys(evidence))[:_FINDING_EVIDENCE],  # each line once, in order
    )


def cross_findings(
    facts: Sequence[LibraryFacts],
    selected: Selected,
    classified: ClassEvidence,
    inter_node: str | None,
    intra_node: str | None,
    expectation: Expectation,
    single_host: bool | None,
    roce: bool,
) -> list[Finding]:
    findings: list[Finding] = []
    rdma_evidence = rdma_in_log(facts, classified)
    expected_inter = expectation.inter_node
    if inter_node in _TCP_CLASSES:
        evidence = classified.inter[inter_node]
        if expected_inter is not None and inter_node not in expected_inter:
            findings.append(
                _finding(
                    "INTER_NODE_TCP",
                    "error",
                    None,
                    f"inter-node traffic uses {inter_node}; site {expectation.site} expects "
                    f"{', '.join(sorted(expected_inter))}",
                    evidence,
                )
            )
        elif expected_inter is None and rdma_evidence is not None:
            findings.append(
                _finding(
                    "INTER_NODE_TCP",
                    "error",
                    None,
                    f"inter-node traffic uses {inter_node} although the log shows an RDMA device",
                    [*evidence, *rdma_evidence],
                )
            )
    elif (
        inter_node not in (None, "unknown")  # an unknown class is no evidence of a wrong one
        and expected_inter is not None
        and inter_node not in expected_inter
    ):
        findings.append(
            _finding(
                "INTER_NODE_UNEXPECTED",
                "warning",
                None,
                f"inter-node traffic uses {inter_node}; site {expectation.site} lists "
                f"{', '.join(sorted(expected_inter))}",
                classified.inter[inter_node],
            )
        )
    partial = sorted(_TCP_CLASSES & classified.inter.keys())
    if inter_node in RDMA_CLASSES and partial:
        # The best lane is RDMA, but some endpoints still fell back to TCP/sockets: a node
        # without a working HCA, or a transport list that leaves some peers unreachable by RDMA.
        findings.append(
            _finding(
                "INTER_NODE_PARTIAL_TCP",
                "warning",
                None,
                f"inter-node traffic uses {inter_node}, but some lanes between nodes use "
                f"{' and '.join(partial)}",
                [e for cls in partial for e in classified.inter[cls]],
            )
        )

    if intra_node is not None and intra_node not in SHM_CLASSES and intra_node != "unknown":
        findings.append(
            _finding(
                "NO_SHM_INTRA",
                "error",
                None,
                f"traffic between ranks of one node uses {intra_node} and no shared-memory path",
                classified.intra[intra_node],
            )
        )
    elif (
        intra_node not in (None, "unknown")
        and expectation.intra_node is not None
        and intra_node not in expectation.intra_node
    ):
        findings.append(
            _finding(
                "INTRA_NODE_UNEXPECTED",
                "warning",
                None,
                f"intra-node traffic uses {intra_node}; site {expectation.site} lists "
                f"{', '.join(sorted(expectation.intra_node))}",
                classified.intra[intra_node],
            )
        )

    findings.extend(_pml_fallback(facts, selected, expectation, single_host, rdma_evidence, roce))
    spans_nodes = single_host is not True or inter_node is not None
    findings.extend(_btl_forced_tcp(facts, selected, spans_nodes, rdma_evidence))
    findings.extend(_ofi_fallback(facts, selected, expectation, rdma_evidence))
    findings.extend(_host_traffic_off_shm(facts, classified, intra_node))
    findings.extend(_ucx_gpu_without_gdr(facts, classified, inter_node))
    findings.extend(_pmix_init_incomplete(facts))
    findings.extend(_singletons(facts))
    return findings


def _singletons(facts: Sequence[LibraryFacts]) -> list[Finding]:
    """Several processes each reporting itself as rank 0 of 1: the launch made singletons."""
    seen = [e for f in facts for o in f.observations if o.kind == Obs.SINGLETON for e in o.evidence]
    if len(seen) < 2:
        return []
    return [
        _finding(
            "MPI_SINGLETONS",
            "error",
            "pmix",
            f"{len(seen)} processes each report rank 0 of 1: they run as singletons, not as one "
            "job (the launcher and the MPI library do not share a process-management interface, "
            "e.g. srun without --mpi=pmix, or an mpirun of another MPI)",
            seen,
        )
    ]


def _host_traffic_off_shm(
    facts: Sequence[LibraryFacts], classified: ClassEvidence, intra_node: str | None
) -> list[Finding]:
    """UCX lanes within a node on the network while only GPU IPC lanes bypass it.

    GPU IPC (``cuda_ipc``) moves GPU buffers only; host-memory messages between ranks of one
    node then go over TCP or the NIC, which ``NO_SHM_INTRA`` reports for the best class only.
    """
    if intra_node != "p2p":
        return []
    ucx = next((f for f in facts if f.library == "ucx"), None)
    if ucx is None:
        return []
    intra = {path_class("ucx", p.transport, p.device) for p in ucx.paths if p.scope == "intra-node"}
    network = sorted(c for c in intra if c in NETWORK_CLASSES)
    if not network or intra & (SHM_CLASSES - {"p2p"}):
        return []
    return [
        _finding(
            "NO_SHM_INTRA",
            "error",
            "ucx",
            f"host-memory traffic between ranks of one node uses {', '.join(network)}: only GPU "
            "IPC lanes bypass the network and no shared-memory transport was selected",
            [e for cls in network for e in classified.intra.get(cls, [])],
        )
    ]


def _ucx_gpu_without_gdr(
    facts: Sequence[LibraryFacts], classified: ClassEvidence, inter_node: str | None
) -> list[Finding]:
    """UCX carries GPU buffers between nodes over RDMA while GPUDirect RDMA is off."""
    ucx = next((f for f in facts if f.library == "ucx"), None)
    if ucx is None or ucx.selected.get("gdr") is not False or inter_node not in RDMA_CLASSES:
        return []
    gpu = [
        p
        for p in ucx.paths
        if p.transport in {"cuda_copy", "cuda_ipc", "gdr_copy", "rocm_copy", "rocm_ipc"}
        or "cuda memory" in p.layer
        or "rocm memory" in p.layer
    ]
    if not gpu:
        return []
    gdr_lines = [e for o in ucx.observations if o.kind == Obs.RDMA_DEVICE for e in o.evidence]
    return [
        _finding(
            "UCX_GDR_OFF",
            "error",
            "ucx",
            f"UCX moves GPU buffers between nodes over {inter_node} without GPUDirect RDMA: "
            "they are staged through host memory (load nvidia-peermem or enable dmabuf)",
            [*classified.inter.get(inter_node or "", []), *gdr_lines],
        )
    ]


def _pmix_init_incomplete(facts: Sequence[LibraryFacts]) -> list[Finding]:
    """Ranks that started PMIx initialisation and never finished it while others did."""
    pmix = next((f for f in facts if f.library == "pmix"), None)
    if pmix is None:
        return []
    called = [o for o in pmix.observations if o.kind == Obs.PMIX_INIT_CALLED]
    done = {o.value for o in pmix.observations if o.kind == Obs.PMIX_INIT_DONE}
    stuck = [o for o in called if o.value not in done]
    if not done or not stuck:
        return []
    return [
        _finding(
            "PMIX_INIT_INCOMPLETE",
            "error",
            "pmix",
            f"{len(stuck)} of {len(called)} ranks started PMIx initialisation and never "
            f"finished it ({', '.join(str(o.value) for o in stuck[:4])}): the launch hangs",
            [e for o in stuck for e in o.evidence],
        )
    ]


def _pml_fallback(
    facts: Sequence[LibraryFacts],
    selected: Selected,
    expectation: Expectation,
    single_host: bool | None,
    rdma_evidence: list[Evidence] | None,
    roce: bool,
) -> list[Finding]:
    severity: Severity = "error" if expectation.expects_ucx else "warning"
    on_cm = selected.pml == "cm" or (selected.pml is None and selected.mtl == "ofi")
    one_node = single_host or is_loopback_device(selected.ofi_provider)
    if on_cm and selected.ofi_provider and one_node:
        cls = ofi_provider_class(selected.ofi_provider, roce=roce)
        if cls in NETWORK_CLASSES:
            return [
                _finding(
                    "PML_FALLBACK",
                    severity,
                    "openmpi",
                    f"Open MPI runs pml cm with mtl {selected.mtl or 'ofi'} over "
                    f"{selected.ofi_provider} ({cls}) for ranks on one node, where shared memory "
                    "(pml ob1 + vader, or pml ucx) was available",
                    selection_evidence(facts, selected.ofi_provider)
                    + selection_evidence(facts, "component cm"),
                )
            ]
    if selected.pml == "ob1" and (expectation.expects_ucx or rdma_evidence is not None):
        why = (
            f"site {expectation.site} expects UCX"
            if expectation.expects_ucx
            else ("the log shows an RDMA device UCX could use")
        )
        return [
            _finding(
                "PML_FALLBACK",
                severity if expectation.expects_ucx else "warning",
                "openmpi",
                f"Open MPI selected pml ob1 although {why}",
                selection_evidence(facts, "ob1") + (rdma_evidence or []),
            )
        ]
    return []


#: BTLs that carry MPI messages between nodes over RDMA (excluding them all leaves TCP).
_RDMA_BTLS = frozenset({"openib", "uct", "ofi", "usnic"})


def tcp_forced_by(settings: Iterable[str]) -> bool:
    """Whether Open MPI BTL settings (``btl=^openib``, ``btl=tcp,self``) leave only TCP between
    nodes: a list naming tcp and no RDMA BTL, or an exclusion of the RDMA BTL that the
    settings' Open MPI would otherwise pick (``^openib``, ``^openib,uct``)."""
    for setting in settings:
        key, _, value = setting.partition("=")
        if key != "btl" or not value:
            continue
        if value.startswith("^"):
            if _RDMA_BTLS & set(value[1:].split(",")):
                return True
        else:
            listed = set(value.split(","))
            if "tcp" in listed and not listed & _RDMA_BTLS:
                return True
    return False


def _btl_forced_tcp(
    facts: Sequence[LibraryFacts],
    selected: Selected,
    spans_nodes: bool,
    rdma_evidence: list[Evidence] | None,
) -> list[Finding]:
    """Open MPI told to run pml ob1 with TCP BTLs between nodes although RDMA is in sight.

    ``mpirun -mca pml ob1 -mca btl ^openib`` (or ``OMPI_MCA_btl=tcp,self``) on a cluster whose
    log shows an HCA (NCCL's ``NET/IB``, UCX lanes, an ``ib*`` interface) runs every MPI message
    between nodes over TCP, IPoIB at best. A log from one host counts as spanning nodes when a
    library shows traffic between nodes (NCCL selecting its IB network).
    """
    if selected.pml != "ob1" or not spans_nodes or rdma_evidence is None:
        return []
    forced = [
        o
        for f in facts
        if f.library == "openmpi"
        for o in f.observations
        if o.kind == Obs.FORCED_SETTING and str(o.value).startswith("btl")
    ]
    if not tcp_forced_by(str(o.value) for o in forced):
        return []
    interfaces = [
        str(o.value).partition("=")[2] for o in forced if str(o.value).startswith("btl_tcp_if")
    ]
    over = f" over {', '.join(interfaces)}" if interfaces else ""
    return [
        _finding(
            "OMPI_BTL_TCP_FORCED",
            "error",
            "openmpi",
            f"Open MPI is set to pml ob1 with TCP BTLs ({', '.join(str(o.value) for o in forced)})"
            f": MPI messages between nodes run over TCP{over} although the log shows RDMA "
            "hardware",
            [e for o in forced for e in o.evidence] + rdma_evidence,
        )
    ]


def _ofi_fallback(
    facts: Sequence[LibraryFacts],
    selected: Selected,
    expectation: Expectation,
    rdma_evidence: list[Evidence] | None,
) -> list[Finding]:
    provider = selected.ofi_provider
    if not provider or ofi_provider_class(provider) != "tcp":
        return []
    expected_fast = expectation.ofi_providers & _FAST_PROVIDERS
    if expected_fast:
        return [
            _finding(
                "OFI_FALLBACK_PROVIDER",
                "error",
                "libfabric",
                f"libfabric provider {provider} is in use; site {expectation.site} expects "
                f"{', '.join(sorted(expected_fast))}",
                selection_evidence(facts, provider),
            )
        ]
    if expectation.site is None and rdma_evidence is not None:
        return [
            _finding(
                "OFI_FALLBACK_PROVIDER",
                "warning",
                "libfabric",
                f"libfabric provider {provider} is in use although the log shows an RDMA provider "
                "or device",
                selection_evidence(facts, provider) + rdma_evidence,
            )
        ]
    return []
