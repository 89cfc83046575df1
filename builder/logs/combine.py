"""Turn the analysers' :class:`LibraryFacts` into one ``esdc.analysis/1`` :class:`Analysis`.

Pure: facts (and optionally a site profile) in, an Analysis out. The steps:

1. libraries: the most common version and load path per library (``VERSION_MISMATCH`` /
   ``LOAD_PATH_MISMATCH`` when ranks disagree); ``None`` for a library that left no trace;
2. paths: every lane the analysers saw plus the lanes Open MPI's selection implies, scopes
   resolved (lanes.py), duplicates merged by summing counts;
3. selected components, merged across libraries (the first library in ``LIBRARIES`` order
   that names a component wins);
4. the best class per scope (classify.py): ``inter_node`` and ``intra_node``;
5. cross-library findings (judge.py) against the site profile or the log itself, each dropped
   when the library analyser already reported that code;
6. ``degraded``: true on any error finding, false with transport evidence and no error,
   ``None`` without transport evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from builder.logs.base import LibraryFacts
from builder.logs.classify import best_class, ofi_provider_name
from builder.logs.judge import Expectation, cross_findings, expectation_from_site
from builder.logs.lanes import (
    all_on_one_host,
    classify_lanes,
    lanes_with_evidence,
    roce_seen,
    selection_paths,
)
from builder.model.analysis import (
    LIBRARIES,
    Analysis,
    Evidence,
    Finding,
    LibraryInfo,
    PathUse,
    Selected,
)
from builder.model.site import SiteProfile

#: Evidence lines attached to a version or load-path mismatch.
_FINDING_EVIDENCE = 6


@dataclass(frozen=True)
class Combined:
    """An :class:`Analysis` plus the lines behind each path class (for differential findings)."""

    analysis: Analysis
    inter_evidence: dict[str, list[Evidence]]
    intra_evidence: dict[str, list[Evidence]]
    facts: tuple[LibraryFacts, ...] = ()

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
    roce = expectation.roce or roce_seen(facts)
    single_host = all_on_one_host(facts)
    lanes = lanes_with_evidence(facts, single_host) + selection_paths(facts, selected, single_host)
    listed_only = not lanes and not (selected.ofi_provider or selected.pml or selected.nccl_net)
    if listed_only:
        # A listing tells what a consumer would pick, not that a run used it: it names the
        # class but is no good path by itself (fi_info lists opx even without OPA hardware).
        lanes = listed_provider_path(facts, single_host)
    paths = merge_paths(path for path, _ in lanes)
    classified = classify_lanes(lanes, roce=roce, single_host=single_host)
    inter_node = best_class(classified.inter, "inter-node")
    intra_node = best_class(classified.intra, "intra-node")

    present = {f.code for f in findings}
    engine = cross_findings(
        facts, selected, classified, inter_node, intra_node, expectation, single_host, roce
    )
    findings.extend(f for f in engine if f.code not in present)
    # ``false`` needs a path the log shows; a selection or a setting alone is no good path.
    has_evidence = not listed_only and (
        any(c not in (None, "unknown") for c in (inter_node, intra_node))
        or selected.nccl_net is not None
    )
    analysis = Analysis(
        inputs=list(inputs),
        libraries=libraries,
        paths=paths,
        # The engine reasons on the OFI domain Open MPI printed (``lo`` tells loopback); the
        # contract reports the provider, and the domain stays visible as the path's device.
        selected=selected.model_copy(
            update={"ofi_provider": ofi_provider_name(selected.ofi_provider)}
        ),
        inter_node=inter_node,
        intra_node=intra_node,
        findings=findings,
        degraded=verdict(findings, has_evidence),
    )
    return Combined(analysis, classified.inter, classified.intra, tuple(facts))


def listed_provider_path(
    facts: Sequence[LibraryFacts], single_host: bool | None
) -> list[tuple[PathUse, list[Evidence]]]:
    """The provider an ``fi_info`` listing shows first, when nothing else names a path.

    A consumer that asks libfabric for any provider (Intel MPI, MPICH, Open MPI's OFI MTL by
    default) takes the first one ``fi_getinfo`` returns, which is the first ``fi_info`` lists.
    """
    fabric = next((f for f in facts if f.library == "libfabric"), None)
    if fabric is None:
        return []
    listed = [o for o in fabric.observations if o.kind == "provider_available" and o.value]
    if not listed:
        return []
    first = listed[0]
    provider = str(first.value).split("/", 1)[0]
    path = PathUse(
        library="libfabric",
        layer="fi_info first listed",
        scope="intra-node" if single_host else "inter-node",
        transport=provider,
    )
    return [(path, list(first.evidence))]


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
