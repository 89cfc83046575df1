"""Differential mode: compare a container's analysis with a bare-metal baseline.

Pure: two :class:`Combined` analyses in, the container's analysis with the differences added
as findings out. Every difference is reported; only a path that ranks worse in the container
is an error (and so makes ``degraded`` true).
"""

from __future__ import annotations

from builder.logs.classify import class_rank
from builder.logs.combine import Combined, verdict
from builder.model.analysis import Analysis, Evidence, Finding, LibraryInfo, Severity

_SELECTION_FIELDS = ("pml", "btl", "mtl", "ofi_provider", "nccl_net", "gdr")
#: A different choice of these is a different transport path, whatever the classes say: the
#: container does not run the way bare metal was validated. A BTL list or GDR flag may differ
#: for benign reasons (an extra ``self``; GDR already judged by the path classes): a warning.
_PATH_DEFINING = frozenset({"pml", "mtl", "ofi_provider", "nccl_net"})
#: Observation kinds that record each selection, for the evidence of a difference.
_SELECTION_KINDS = {
    "pml": ("pml_selected", "pml_inferred"),
    "mtl": ("mtl_selected",),
    "btl": ("btl_selected",),
    "ofi_provider": ("consumer_selected", "ofi_provider", "fabric_opened"),
    "nccl_net": ("net_selected", "plugin"),
    "gdr": ("gdr_hca",),
}
_EVIDENCE_PER_SIDE = 3


def compare(baseline: Combined, container: Combined) -> Analysis:
    """The container's analysis plus a finding for every difference from the baseline.

    The returned object is ``container`` (inputs, libraries, paths, classes and its own
    findings unchanged) with the differential findings appended and ``degraded`` recomputed:
    true when any finding, the container's own or a differential one, is an error.
    """
    findings = [
        *_path_findings(baseline, container),
        *_selection_findings(baseline, container),
        *_library_findings(baseline.analysis, container.analysis),
    ]
    own = container.analysis
    all_findings = [*own.findings, *findings]
    has_evidence = own.degraded is not None
    return own.model_copy(
        update={"findings": all_findings, "degraded": verdict(all_findings, has_evidence)}
    )


def _path_findings(baseline: Combined, container: Combined) -> list[Finding]:
    findings: list[Finding] = []
    for scope, before, after in (
        ("inter-node", baseline.analysis.inter_node, container.analysis.inter_node),
        ("intra-node", baseline.analysis.intra_node, container.analysis.intra_node),
    ):
        if before == after:
            continue
        rank_before = class_rank(before, scope)
        rank_after = class_rank(after, scope)
        severity: Severity
        if before is None or after is None:
            severity = "warning"
            judgement = "one side's logs say nothing about it"
        elif rank_before is not None and rank_after is not None and rank_after < rank_before:
            severity = "error"
            judgement = "the container's path is worse"
        elif rank_before is not None and rank_after is not None and rank_after > rank_before:
            severity = "info"
            judgement = "the container's path is better"
        else:
            severity = "warning"
            judgement = "the paths cannot be ranked against each other"
        findings.append(
            Finding(
                code="PATH_DIFFERS",
                severity=severity,
                library=None,
                message=f"{scope} path: baseline {before or 'not seen'}, container "
                f"{after or 'not seen'}; {judgement}",
                evidence=container.class_evidence(scope, after)[:_EVIDENCE_PER_SIDE]
                + baseline.class_evidence(scope, before)[:_EVIDENCE_PER_SIDE],
            )
        )
    return findings


def _selection_findings(baseline: Combined, container: Combined) -> list[Finding]:
    findings: list[Finding] = []
    for name in _SELECTION_FIELDS:
        before = getattr(baseline.analysis.selected, name)
        after = getattr(container.analysis.selected, name)
        if before in (None, []) or after in (None, []) or before == after:
            continue  # an absent selection line is no evidence of a different choice
        findings.append(
            Finding(
                code="SELECTION_DIFFERS",
                severity="error" if name in _PATH_DEFINING else "warning",
                library="nccl" if name in {"nccl_net", "gdr"} else None,
                message=f"selected {name}: baseline {_show(before)}, container {_show(after)}",
                evidence=_selection_evidence(container, name) + _selection_evidence(baseline, name),
            )
        )
    return findings


def _selection_evidence(side: Combined, name: str) -> list[Evidence]:
    """The lines on one side that record its choice of ``name``."""
    kinds = _SELECTION_KINDS.get(name, ())
    lines: list[Evidence] = []
    for facts in side.facts:
        for observation in facts.observations:
            if observation.kind in kinds:
                lines.extend(e for e in observation.evidence if e not in lines)
    return lines[:_EVIDENCE_PER_SIDE]


def _show(value: object) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "none"
    return str(value)


def _library_findings(baseline: Analysis, container: Analysis) -> list[Finding]:
    findings: list[Finding] = []
    names = list(dict.fromkeys([*baseline.libraries, *container.libraries]))
    for name in names:
        before: LibraryInfo | None = baseline.libraries.get(name)
        after: LibraryInfo | None = container.libraries.get(name)
        if before is None and after is None:
            continue
        if before is None or after is None:
            side = "baseline" if after is None else "container"
            findings.append(
                Finding(
                    code="LIBRARY_DIFFERS",
                    severity="info",
                    library=name,
                    message=f"{name} left traces only in the {side} logs",
                )
            )
            continue
        if before.version and after.version and before.version != after.version:
            findings.append(
                Finding(
                    code="VERSION_DIFFERS",
                    severity="warning",
                    library=name,
                    message=f"{name} version: baseline {before.version}, container {after.version}",
                )
            )
        if before.loaded_from and after.loaded_from and before.loaded_from != after.loaded_from:
            findings.append(
                Finding(
                    code="LOAD_PATH_DIFFERS",
                    severity="info",
                    library=name,
                    message=f"{name} loaded from: baseline {before.loaded_from}, container "
                    f"{after.loaded_from}",
                )
            )
    return findings
