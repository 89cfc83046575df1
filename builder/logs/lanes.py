"""Which lanes carry which traffic: scopes, path classes and the lines behind them.

Pure functions over the analysers' :class:`LibraryFacts`:

* the hosts the ranks ran on (``host:pid`` ranks and line prefixes), which decide the scope of a
  lane printed without one: shared-memory lanes and loopback devices are intra-node, network
  lanes are intra-node when every rank seen ran on one host and inter-node otherwise (the
  design's rule for the old UCX format);
* lanes implied by Open MPI's component selection (:func:`selection_paths`), for the stacks
  that print no lanes of their own;
* the classes per scope with their evidence (:class:`ClassEvidence`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from builder.logs.base import LibraryFacts
from builder.logs.classify import SHM_CLASSES, is_loopback_device, path_class
from builder.model.analysis import Evidence, PathUse, Selected

#: Evidence lines kept per path class.
MAX_CLASS_EVIDENCE = 6

#: A rank that names its host: ``host:pid`` (libfabric keys by pid, others use "?").
_HOST_RANK = re.compile(r"^([^\s:?]+):\s*\d+$")
#: Host prefixes of the libraries' log lines: UCX ``[time] [host:pid``, UCX fatal
#: ``[host:pid:thread:tid]``, Open MPI ``[host:pid]``, NCCL ``host:pid:tid [dev]``.
_HOST_PATTERNS = (
    re.compile(r"^\[\d+\.\d+\]\s+\[([^\s:\]]+):\s*\d+"),
    re.compile(r"^\[([^\s:\]]+):\d+(?::\d+)*\]"),
    re.compile(r"^([\w.-]+):\d+:\d+ \[\d+\]"),
)


@dataclass
class ClassEvidence:
    """Path classes per scope with the evidence that supports each class."""

    inter: dict[str, list[Evidence]] = field(default_factory=dict)
    intra: dict[str, list[Evidence]] = field(default_factory=dict)

    def add(self, scope: str, cls: str, evidence: Iterable[Evidence]) -> None:
        target = self.inter if scope == "inter-node" else self.intra
        kept = target.setdefault(cls, [])
        for item in evidence:
            if len(kept) < MAX_CLASS_EVIDENCE and item not in kept:
                kept.append(item)


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


def all_on_one_host(facts: Sequence[LibraryFacts]) -> bool | None:
    hosts = hosts_seen(facts)
    if not hosts:
        return None
    return len(hosts) == 1


def roce_seen(facts: Iterable[LibraryFacts]) -> bool:
    for library_facts in facts:
        for path in library_facts.paths:
            if path.device is not None and "roce" in path.device.lower():
                return True
        for observation in library_facts.observations:
            if "roce" in observation.kind.lower() or "roce" in (observation.value or "").lower():
                return True
    return False


def lane_scopes(path: PathUse, cls: str, single_host: bool | None) -> tuple[str, ...]:
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


def lanes_with_evidence(
    facts: Sequence[LibraryFacts], single_host: bool | None
) -> list[tuple[PathUse, list[Evidence]]]:
    """Every lane with its lines; a scope this module resolves is written into the lane."""
    lanes: list[tuple[PathUse, list[Evidence]]] = []
    for library_facts in facts:
        for path in library_facts.paths:
            cls = path_class(path.library, path.transport, path.device)
            if cls is not None and path.scope != "self":
                scopes = lane_scopes(path, cls, single_host)
                if len(scopes) == 1 and scopes[0] != path.scope:
                    path = path.model_copy(update={"scope": scopes[0]})
            lanes.append((path, path_evidence(library_facts, path)))
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
        evidence = selection_evidence(facts, device) if device else []
        evidence += selection_evidence(facts, f"[{selected.mtl}]")
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
                    selection_evidence(facts, btl),
                )
            )
    resolved: list[tuple[PathUse, list[Evidence]]] = []
    for path, evidence in lanes:
        cls = path_class(path.library, path.transport, path.device)
        scopes = ("self",) if cls is None else lane_scopes(path, cls, single_host)
        if len(scopes) == 1:
            path = path.model_copy(update={"scope": scopes[0]})
        resolved.append((path, evidence))
    return resolved


def classify_lanes(
    lanes: Sequence[tuple[PathUse, list[Evidence]]], *, roce: bool, single_host: bool | None
) -> ClassEvidence:
    classified = ClassEvidence()
    for path, evidence in lanes:
        cls = path_class(path.library, path.transport, path.device, roce=roce)
        if cls is None:
            continue
        for scope in lane_scopes(path, cls, single_host):
            classified.add(scope, cls, evidence)
    return classified


def path_evidence(facts: LibraryFacts, path: PathUse) -> list[Evidence]:
    """The lines of ``facts`` that name this lane (all path evidence when none names it)."""
    needle = f"{path.transport}/{path.device}" if path.device else path.transport
    naming = [e for e in facts.path_evidence if needle in e.text or path.transport in e.text]
    return naming or list(facts.path_evidence)


def selection_evidence(facts: Iterable[LibraryFacts], value: str) -> list[Evidence]:
    lines: list[Evidence] = []
    for library_facts in facts:
        candidates = [*library_facts.path_evidence]
        candidates += [e for o in library_facts.observations for e in o.evidence]
        lines.extend(e for e in candidates if value in e.text and e not in lines)
    return lines[:MAX_CLASS_EVIDENCE]
