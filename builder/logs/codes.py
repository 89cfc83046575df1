"""One table of every finding code: the analysers' own and the engine's cross-library ones.

``python -m builder.logs.codes > docs/findings.md`` regenerates the documentation; a test fails
when the committed file is stale.
"""

from __future__ import annotations

from collections.abc import Iterable

from builder.logs.base import CodeInfo

#: Findings the engine decides from several libraries' facts (combine.py) or from comparing a
#: container with a bare-metal baseline (diff.py).
ENGINE_CODES: list[CodeInfo] = [
    CodeInfo(
        code="INTER_NODE_TCP",
        severity="error",
        library=None,
        summary="Inter-node traffic goes over TCP or NCCL sockets although the site's fabric "
        "(--site) or the log itself (an RDMA lane, an IB device, a verbs provider) says RDMA "
        "exists.",
    ),
    CodeInfo(
        code="INTER_NODE_PARTIAL_TCP",
        severity="warning",
        library=None,
        summary="Inter-node traffic mostly uses an RDMA class, but some lanes between nodes use "
        "TCP or sockets (a node without a working HCA, or peers unreachable by RDMA).",
    ),
    CodeInfo(
        code="INTER_NODE_UNEXPECTED",
        severity="warning",
        library=None,
        summary="With --site: the inter-node path class is not one the site profile lists as "
        "acceptable (and is not TCP, which INTER_NODE_TCP reports).",
    ),
    CodeInfo(
        code="NO_SHM_INTRA",
        severity="error",
        library=None,
        summary="Traffic between ranks on one node uses a network transport and no shared-memory "
        "path (shm, cma, xpmem, knem, GPU peer) was seen for it.",
    ),
    CodeInfo(
        code="INTRA_NODE_UNEXPECTED",
        severity="warning",
        library=None,
        summary="With --site: the intra-node path class is not one the site profile lists.",
    ),
    CodeInfo(
        code="PML_FALLBACK",
        severity="error",
        library="openmpi",
        summary="Open MPI runs pml ob1, or pml cm with a network OFI provider on one node, "
        "although pml ucx or shared memory was available; an error when the site expects UCX, "
        "a warning otherwise.",
    ),
    CodeInfo(
        code="OFI_FALLBACK_PROVIDER",
        severity="error",
        library="libfabric",
        summary="A tcp/sockets/udp libfabric provider is in use where a high-speed provider "
        "(verbs, cxi, efa, psm2, opx) is expected by the site (error) or registered in the log "
        "(warning).",
    ),
    CodeInfo(
        code="VERSION_MISMATCH",
        severity="warning",
        library=None,
        summary="Ranks report different versions of one library; the most common is reported.",
    ),
    CodeInfo(
        code="LOAD_PATH_MISMATCH",
        severity="warning",
        library=None,
        summary="Ranks loaded one library from different files; the most common is reported.",
    ),
    CodeInfo(
        code="PATH_DIFFERS",
        severity="error",
        library=None,
        summary="Differential mode: the container's inter- or intra-node path class differs from "
        "the baseline's; an error when it ranks worse, info when better, a warning when one "
        "side's log says nothing.",
    ),
    CodeInfo(
        code="SELECTION_DIFFERS",
        severity="error",
        library=None,
        summary="Differential mode: a selected component differs between baseline and container; "
        "an error for pml, mtl, ofi_provider and nccl_net (a different path), a warning for the "
        "BTL list and gdr.",
    ),
    CodeInfo(
        code="VERSION_DIFFERS",
        severity="warning",
        library=None,
        summary="Differential mode: a library's version differs between baseline and container.",
    ),
    CodeInfo(
        code="LOAD_PATH_DIFFERS",
        severity="info",
        library=None,
        summary="Differential mode: a library was loaded from a different file (for example the "
        "container's own copy instead of the host's).",
    ),
    CodeInfo(
        code="LIBRARY_DIFFERS",
        severity="info",
        library=None,
        summary="Differential mode: a library left traces in only one of the two sets of logs.",
    ),
]


def analyser_codes() -> list[CodeInfo]:
    """The ``CODES`` of every per-library analyser module, in registry order."""
    from builder.logs.registry import ANALYSER_MODULES

    codes: list[CodeInfo] = []
    for module in ANALYSER_MODULES:
        codes.extend(module.CODES)
    return codes


def all_codes() -> list[CodeInfo]:
    """Every finding code: the analysers' first, then the engine's; each code once."""
    seen: dict[str, CodeInfo] = {}
    for info in [*analyser_codes(), *ENGINE_CODES]:
        seen.setdefault(info.code, info)
    return list(seen.values())


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(codes: Iterable[CodeInfo]) -> str:
    """docs/findings.md: one table of every code, grouped by library."""
    lines = [
        "# Finding codes",
        "",
        "Stable identifiers of the findings `esdc analyze` reports (schema `esdc.analysis/1`).",
        "Generated by `python -m builder.logs.codes > docs/findings.md`; do not edit by hand.",
        "",
        "| code | severity | library | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for info in sorted(codes, key=lambda c: (c.library or "~", c.code)):
        lines.append(
            f"| `{info.code}` | {info.severity} | {info.library or 'any'} | {_cell(info.summary)} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Print docs/findings.md."""
    print(render_markdown(all_codes()), end="")


if __name__ == "__main__":
    main()
