"""Turn the analysers' :class:`LibraryFacts` into one ``esdc.analysis/1`` :class:`Analysis`.

Pure: facts (and optionally a site profile) in, an Analysis out. The steps:

1. libraries: the most common version and load path per library (``VERSION_MISMATCH`` /
   ``LOAD_PATH_MISMATCH`` when ranks disagree); ``None`` for a library that left no trace;
2. paths: every lane the analysers saw, duplicates merged by summing counts;
3. selected components, merged across libraries;
4. path classes per scope (classify.py); lanes printed without a scope (UCX before 1.15,
   Open MPI components) get one here: shared-memory lanes are intra-node, a loopback device is
   intra-node, network lanes are intra-node when every rank seen ran on one host and
   inter-node otherwise (the design's rule for the old UCX format);
5. cross-library findings judged against an :class:`Expectation`, from the site profile when
   one is given, else from the log itself;
6. ``degraded``: true on any error finding, false with transport evidence and no error,
   ``None`` without transport evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from builder.logs.base import LibraryFacts, Observation
from builder.logs.classify import (
    NETWORK_CLASSES,
    RDMA_CLASSES,
    SHM_CLASSES,
    best_class,
    is_loopback_device,
    ofi_provider_class,
    path_class,
)
from builder.model.analysis import (
    LIBRARIES,
    Analysis,
    Evidence,
    Finding,
    LibraryInfo,
    PathUse,
    Selected,
    Severity,
)
from builder.model.site import SiteProfile

#: Evidence lines attached to one engine finding.
_FINDING_EVIDENCE = 6
_TCP_CLASSES = frozenset({"tcp", "socket"})
#: An IP-over-InfiniBand interface name (``ib0``, ``ib1``, ``ibp65s0``).
_IPOIB = re.compile(r"^ib(?:\d|p\d)", re.IGNORECASE)
_TCP_PROVIDERS = frozenset({"tcp", "sockets", "udp", "net"})
_FAST_PROVIDERS = frozenset({"verbs", "cxi", "efa", "psm2", "opx", "psm3", "mlx"})

_HOST_RANK = re.compile(r"^([^\s:?]+):\s*\d+$")
#: Host prefixes of the libraries' log lines: UCX ``[time] [host:pid``, UCX fatal
#: ``[host:pid:thread:tid]``, Open MPI ``[host:pid]``, NCCL ``host:pid:tid [dev]``.
_HOST_PATTERNS = (
    re.compile(r"^\[\d+\.\d+\]\s+\[([^\s:\]]+):\s*\d+"),
    re.compile(r"^\[([^\s:\]]+):\d+(?::\d+)*\]"),
    re.compile(r"^([\w.-]+):\d+:\d+ \[\d+\]"),
)


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


@dataclass
class _Classified:
    """Path classes per scope with the evidence that supports each class."""

    inter: dict[str, list[Evidence]] = field(default_factory=dict)
    intra: dict[str, list[Evidence]] = field(default_factory=dict)

    def add(self, scope: str, cls: str, evidence: Iterable[Evidence]) -> None:
        target = self.inter if scope == "inter-node" else self.intra
        kept = target.setdefault(cls, [])
        for item in evidence:
            if len(kept) < _FINDING_EVIDENCE and item not in kept:
                kept.append(item)


@dataclass(frozen=True)
class Combined:
    """An :class:`Analysis` plus the lines behind each path class (for differential findings)."""

    analysis: Analysis
    inter_evidence: dict[str, list[Evidence]]
    intra_evidence: dict[str, list[Evidence]]

    def class_evidence(self, scope: str, cls: str | None) -> list[Evidence]:
        """The lines that show ``cls`` carrying ``scope`` traffic."""
        table = self.inter_evidence if scope == "inter-node" else self.intra_evidence
        return list(table.get(cls, [])) if cls is not None else []


def combine(
    inputs: Sequence[str], facts: Sequence[LibraryFacts], site: SiteProfile | None = None
) -> Analysis:
    """The :class:`Analysis` of one set of inputs from its analysers' facts."""
    return combine_detailed(inputs, facts, site).analysis


def combine_detailed(
    inputs: Sequence[str], facts: Sequence[LibraryFacts], site: SiteProfile | None = None
) -> Combined:
    """:func:`combine`, keeping the evidence of each path class."""
    expectation = expectation_from_site(site) if site is not None else Expectation()
    by_library = {f.library: f for f in facts}
    findings: list[Finding] = []
    libraries: dict[str, LibraryInfo | None] = {}
    for name in LIBRARIES:
        library_facts = by_library.get(name)
        if library_facts is None or not _left_trace(library_facts):
            libraries[name] = None
            continue
        info, mismatches = _library_info(library_facts)
        libraries[name] = info
        findings.extend(mismatches)
    for library_facts in facts:
        findings.extend(library_facts.findings)

    selected = merge_selected(facts)
    roce = expectation.roce or _roce_seen(facts)
    single_host = _single_host(facts)
    lanes = _lanes_with_evidence(facts, single_host) + selection_paths(facts, selected, single_host)
    paths = merge_paths(path for path, _ in lanes)
    classified = _classify(lanes, roce=roce, single_host=single_host)
    inter_node = best_class(classified.inter, "inter-node")
    intra_node = best_class(classified.intra, "intra-node")

    present = {f.code for f in findings}
    engine = _cross_findings(
        facts, selected, classified, inter_node, intra_node, expectation, single_host, roce
    )
    findings.extend(f for f in engine if f.code not in present)
    has_evidence = any(f.has_transport_evidence() for f in facts)
    analysis = Analysis(
        inputs=list(inputs),
        libraries=libraries,
        paths=paths,
        selected=selected,
        inter_node=inter_node,
        intra_node=intra_node,
        findings=findings,
        degraded=verdict(findings, has_evidence),
    )
    return Combined(analysis, classified.inter, classified.intra)


def verdict(findings: Iterable[Finding], has_transport_evidence: bool) -> bool | None:
    """``degraded``: an error makes it true; no transport evidence leaves it unknown."""
    if any(f.severity == "error" for f in findings):
        return True
    return False if has_transport_evidence else None


def _left_trace(facts: LibraryFacts) -> bool:
    return bool(
        facts.versions
        or facts.loaded_from
        or facts.paths
        or facts.selected
        or facts.observations
        or facts.findings
    )


def most_common(seen: dict[str, list[str]]) -> str | None:
    """The key with the most ranks (ties: the one seen first)."""
    if not seen:
        return None
    return max(seen, key=lambda key: len(seen[key]))


def _library_info(facts: LibraryFacts) -> tuple[LibraryInfo, list[Finding]]:
    findings: list[Finding] = []
    version = most_common(facts.versions)
    loaded_from = most_common(facts.loaded_from)
    if len(facts.versions) > 1:
        findings.append(
            Finding(
                code="VERSION_MISMATCH",
                severity="warning",
                library=facts.library,
                message=f"ranks report different {facts.library} versions: "
                f"{_describe_ranks(facts.versions)}; reporting {version}",
                evidence=facts.version_evidence[:_FINDING_EVIDENCE],
            )
        )
    if len(facts.loaded_from) > 1:
        findings.append(
            Finding(
                code="LOAD_PATH_MISMATCH",
                severity="warning",
                library=facts.library,
                message=f"ranks loaded {facts.library} from different files: "
                f"{_describe_ranks(facts.loaded_from)}; reporting {loaded_from}",
                evidence=facts.version_evidence[:_FINDING_EVIDENCE],
            )
        )
    return LibraryInfo(version=version, loaded_from=loaded_from), findings


def _describe_ranks(seen: dict[str, list[str]]) -> str:
    return ", ".join(
        f"{key} ({len(ranks)} rank{'s' * (len(ranks) != 1)})" for key, ranks in seen.items()
    )


def merge_paths(paths: Iterable[PathUse]) -> list[PathUse]:
    """Paths with identical library/layer/scope/transport/device merged (counts summed)."""
    merged: dict[tuple[str, str, str, str, str | None], PathUse] = {}
    for path in paths:
        key = (path.library, path.layer, path.scope, path.transport, path.device)
        if key in merged:
            merged[key] = merged[key].model_copy(update={"count": merged[key].count + path.count})
        else:
            merged[key] = path.model_copy()
    return list(merged.values())


def merge_selected(facts: Iterable[LibraryFacts]) -> Selected:
    """One :class:`Selected` from the libraries' contributions (first library in order wins)."""
    pml: str | None = None
    mtl: str | None = None
    nccl_net: str | None = None
    ofi_provider: str | None = None
    gdr: bool | None = None
    btl: list[str] = []
    for library_facts in facts:
        chosen = library_facts.selected
        pml = pml or _as_text(chosen.get("pml"))
        mtl = mtl or _as_text(chosen.get("mtl"))
        nccl_net = nccl_net or _as_text(chosen.get("nccl_net"))
        ofi_provider = ofi_provider or _as_text(chosen.get("ofi_provider"))
        if gdr is None and isinstance(chosen.get("gdr"), bool):
            gdr = bool(chosen["gdr"])
        for name in _as_list(chosen.get("btl")):
            if name not in btl:
                btl.append(name)
    return Selected(
        pml=pml, btl=btl, mtl=mtl, nccl_net=nccl_net, ofi_provider=ofi_provider, gdr=gdr
    )


def _as_text(value: object) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, list | tuple) and value and isinstance(value[0], str):
        return str(value[0])
    return None


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value if isinstance(v, str) and v]
    return []


def hosts_seen(facts: Iterable[LibraryFacts]) -> set[str]:
    """Host names of the ranks the facts mention (``host:pid`` ranks and line prefixes)."""
    hosts: set[str] = set()
    for library_facts in facts:
        ranks = [r for rs in library_facts.versions.values() for r in rs]
        ranks += [r for rs in library_facts.loaded_from.values() for r in rs]
        ranks += [o.rank for o in library_facts.observations if o.rank]
        # Only ``host:pid`` ranks name a host (libfabric keys by pid, others use "?" or "rank 0").
        hosts.update(m.group(1) for m in map(_HOST_RANK.match, ranks) if m is not None)
        evidence = [*library_facts.version_evidence, *library_facts.path_evidence]
        evidence += [e for o in library_facts.observations for e in o.evidence]
        for item in evidence:
            host = _host_of(item.text)
            if host is not None:
                hosts.add(host)
    hosts.discard("")
    return hosts


def _host_of(text: str) -> str | None:
    for pattern in _HOST_PATTERNS:
        match = pattern.match(text)
        if match is not None:
            return match.group(1)
    return None


def _single_host(facts: Sequence[LibraryFacts]) -> bool | None:
    hosts = hosts_seen(facts)
    if not hosts:
        return None
    return len(hosts) == 1


def _roce_seen(facts: Iterable[LibraryFacts]) -> bool:
    for library_facts in facts:
        for path in library_facts.paths:
            if path.device is not None and "roce" in path.device.lower():
                return True
        for observation in library_facts.observations:
            if "roce" in observation.kind.lower() or "roce" in (observation.value or "").lower():
                return True
    return False


def _scopes(path: PathUse, cls: str, single_host: bool | None) -> tuple[str, ...]:
    """The scopes a lane serves, resolving ``unknown`` as the module docstring says."""
    if is_loopback_device(path.device):
        # Loopback cannot leave the node, whatever scope was inferred from the lane names
        # (UCX before 1.15 calls a configuration of network lanes inter-node).
        return ("intra-node",)
    if path.scope in {"intra-node", "inter-node"}:
        return (path.scope,)
    if path.scope == "self":
        return ()
    if cls in SHM_CLASSES:
        return ("intra-node",)
    if single_host:
        return ("intra-node",)
    return ("inter-node",)


def _lanes_with_evidence(
    facts: Sequence[LibraryFacts], single_host: bool | None
) -> list[tuple[PathUse, list[Evidence]]]:
    """Every lane with its lines; a scope this module resolves is written into the lane."""
    lanes: list[tuple[PathUse, list[Evidence]]] = []
    for library_facts in facts:
        for path in library_facts.paths:
            cls = path_class(path.library, path.transport, path.device)
            if cls is not None and path.scope != "self":
                scopes = _scopes(path, cls, single_host)
                if len(scopes) == 1 and scopes[0] != path.scope:
                    path = path.model_copy(update={"scope": scopes[0]})
            lanes.append((path, _path_evidence(library_facts, path)))
    return lanes


def selection_paths(
    facts: Sequence[LibraryFacts], selected: Selected, single_host: bool | None
) -> list[tuple[PathUse, list[Evidence]]]:
    """Lanes implied by Open MPI's component selection, for the MPI stacks that print no lanes.

    * pml cm (or no PML line at all) with a selected MTL: every message goes through the MTL,
      over the OFI provider when one is named. An MTL is only initialised by pml cm, so when the
      log stops before the final PML line the MTL selection stands for it.
    * pml ob1: the BTLs that initialised carry the traffic (vader/sm within a node, tcp/openib
      between nodes). With pml ucx the BTLs serve one-sided operations only and are skipped.

    Nothing is derived when an analyser already reported lanes of that kind.
    """
    lanes: list[tuple[PathUse, list[Evidence]]] = []
    has = {(p.library, p.layer) for f in facts for p in f.paths}
    ompi = next((f for f in facts if f.library == "openmpi"), None)
    ranks = 1
    if ompi is not None:
        ranks = max(1, len({o.rank for o in ompi.observations if o.kind.endswith("_selected")}))
    if selected.mtl and selected.pml in (None, "cm") and ("openmpi", "mtl") not in has:
        device = selected.ofi_provider if selected.mtl == "ofi" else None
        evidence = _selection_evidence(facts, device) if device else []
        evidence += _selection_evidence(facts, f"[{selected.mtl}]")
        lanes.append(
            (
                PathUse(
                    library="openmpi",
                    layer="mtl",
                    scope="unknown",
                    transport=selected.mtl,
                    device=device,
                    count=ranks,
                ),
                evidence,
            )
        )
    if selected.pml == "ob1" and ("openmpi", "btl") not in has:
        for btl in selected.btl:
            lanes.append(
                (
                    PathUse(
                        library="openmpi",
                        layer="btl",
                        scope="unknown",
                        transport=btl,
                        device=None,
                        count=ranks,
                    ),
                    _selection_evidence(facts, btl),
                )
            )
    resolved: list[tuple[PathUse, list[Evidence]]] = []
    for path, evidence in lanes:
        cls = path_class(path.library, path.transport, path.device) or "unknown"
        scopes = _scopes(path, cls, single_host)
        if len(scopes) == 1:
            path = path.model_copy(update={"scope": scopes[0]})
        resolved.append((path, evidence))
    return resolved


def _classify(
    lanes: Sequence[tuple[PathUse, list[Evidence]]], *, roce: bool, single_host: bool | None
) -> _Classified:
    classified = _Classified()
    for path, evidence in lanes:
        cls = path_class(path.library, path.transport, path.device, roce=roce)
        if cls is None:
            continue
        for scope in _scopes(path, cls, single_host):
            classified.add(scope, cls, evidence)
    return classified


def _path_evidence(facts: LibraryFacts, path: PathUse) -> list[Evidence]:
    """The lines of ``facts`` that name this lane (all path evidence when none names it)."""
    needle = f"{path.transport}/{path.device}" if path.device else path.transport
    naming = [e for e in facts.path_evidence if needle in e.text or path.transport in e.text]
    return naming or list(facts.path_evidence)


def _selection_evidence(facts: Iterable[LibraryFacts], value: str) -> list[Evidence]:
    lines: list[Evidence] = []
    for library_facts in facts:
        candidates = [*library_facts.path_evidence]
        candidates += [e for o in library_facts.observations for e in o.evidence]
        lines.extend(e for e in candidates if value in e.text and e not in lines)
    return lines[:_FINDING_EVIDENCE]


def _rdma_in_log(facts: Sequence[LibraryFacts], classified: _Classified) -> list[Evidence] | None:
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
                return _path_evidence(library_facts, path)
        for observation in library_facts.observations:
            if _observation_says_rdma(observation):
                return observation.evidence
    return None


def _observation_says_rdma(observation: Observation) -> bool:
    kind = observation.kind.lower()
    value = (observation.value or "").lower()
    if kind in {"rdma_device", "ib_device", "net_ib_available", "rdma_available"}:
        return True
    if kind in {"btl_tcp_interface", "socket_device"}:
        return _IPOIB.match(value) is not None
    # A registered provider proves nothing (Debian's libfabric registers psm2 on any machine);
    # one that fi_info lists as usable does.
    if kind in {"provider_available", "provider_usable"}:
        return ofi_provider_class(value) in RDMA_CLASSES
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


def _cross_findings(
    facts: Sequence[LibraryFacts],
    selected: Selected,
    classified: _Classified,
    inter_node: str | None,
    intra_node: str | None,
    expectation: Expectation,
    single_host: bool | None,
    roce: bool,
) -> list[Finding]:
    findings: list[Finding] = []
    rdma_evidence = _rdma_in_log(facts, classified)
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
    elif inter_node is not None and expected_inter is not None and inter_node not in expected_inter:
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
        intra_node is not None
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
    findings.extend(_ofi_fallback(facts, selected, expectation, rdma_evidence))
    findings.extend(_nccl_findings(facts, selected, classified))
    return findings


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
                    _selection_evidence(facts, selected.ofi_provider)
                    + _selection_evidence(facts, "component cm"),
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
                _selection_evidence(facts, "ob1") + (rdma_evidence or []),
            )
        ]
    return []


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
                _selection_evidence(facts, provider),
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
                _selection_evidence(facts, provider) + rdma_evidence,
            )
        ]
    return []


def _nccl_findings(
    facts: Sequence[LibraryFacts], selected: Selected, classified: _Classified
) -> list[Finding]:
    """NCCL checks made here only if the NCCL analyser left them out (deduplicated by code)."""
    nccl = next((f for f in facts if f.library == "nccl"), None)
    if nccl is None:
        return []
    findings: list[Finding] = []
    classes = [path_class("nccl", p.transport, p.device) for p in nccl.paths]
    if "socket" in classified.inter or (
        (selected.nccl_net or "").lower() == "socket"
        and any(p.scope == "inter-node" for p in nccl.paths)
    ):
        findings.append(
            _finding(
                "NCCL_SOCKET",
                "error",
                "nccl",
                "NCCL moves inter-node data over its Socket transport",
                classified.inter.get("socket", nccl.path_evidence),
            )
        )
    if "shm" in classes and "p2p" not in classes:
        findings.append(
            _finding(
                "NCCL_SHM_NOT_P2P",
                "warning",
                "nccl",
                "NCCL uses SHM between GPUs of one node and no P2P channel was seen",
                [e for e in nccl.path_evidence if "SHM" in e.text] or nccl.path_evidence,
            )
        )
    if selected.gdr is False:
        findings.append(
            _finding(
                "GDR_OFF",
                "warning",
                "nccl",
                "NCCL network channels run without GPUDirect RDMA",
                nccl.path_evidence,
            )
        )
    return findings
