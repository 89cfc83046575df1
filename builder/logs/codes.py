"""One table of every finding code: the analysers' own and the engine's cross-library ones.

``python -m builder.logs.codes > docs/findings.md`` regenerates the documentation; a test fails
when the committed file is stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from builder.logs.base import CodeInfo
from builder.logs.linerules import LineRule
from builder.logs.rules import Rule

#: Findings the engine decides from several libraries' facts (combine.py) or from comparing a
#: container with a bare-metal baseline (diff.py).
ENGINE_CODES: list[CodeInfo] = [
    CodeInfo(
        code="UCX_GDR_OFF",
        severity="error",
        library="ucx",
        summary="UCX carries GPU buffers between nodes over an RDMA network while it reports "
        "CUDA GPUDirect RDMA disabled: every GPU message is staged through host memory.",
    ),
    CodeInfo(
        code="MPI_SINGLETONS",
        severity="error",
        library="pmix",
        summary="Several processes each report 'rank 0 of 1': they were started as singletons, "
        "not as one job (launcher and MPI library share no process-management interface).",
    ),
    CodeInfo(
        code="PMIX_INIT_INCOMPLETE",
        severity="error",
        library="pmix",
        summary="Some ranks printed 'pmix: init called' and never finished PMIx initialisation "
        "(no 'NO DEBUGGER WAITING') while others did: the launch hangs (a client/server or "
        "namespace problem).",
    ),
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
        code="OMPI_BTL_TCP_FORCED",
        severity="error",
        library="openmpi",
        summary="Open MPI is set (mpirun -mca, OMPI_MCA_* environment) to pml ob1 with TCP "
        "BTLs only (btl ^openib, btl tcp,self) on a job that spans nodes while the log shows "
        "RDMA hardware (an HCA, an RDMA lane, an IPoIB interface): MPI traffic between nodes "
        "runs over TCP.",
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
    from builder.logs.rules import codes_of

    codes: list[CodeInfo] = []
    for module in ANALYSER_MODULES:
        codes.extend(module.CODES)
        codes.extend(codes_of(tuple(getattr(module, "RULES", ())), module.LIBRARY))
    return codes


def all_codes() -> list[CodeInfo]:
    """Every finding code: the analysers' first, then the engine's; each code once."""
    seen: dict[str, CodeInfo] = {}
    from builder.logs.engine import ENGINE_CODES as GUARD_CODES

    for info in [*analyser_codes(), *ENGINE_CODES, *GUARD_CODES]:
        seen.setdefault(info.code, info)
    return list(seen.values())


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


#: How a log is judged without a site profile; the implementation is judge.py and combine.py.
JUDGEMENT = """\
## When a log is degraded

`degraded` is `true` when any finding below has severity `error`, `false` only when the log
shows a complete, good path (a known inter- or intra-node path class, or the network NCCL
chose) and no error, and `null` otherwise: no transport evidence at all, or only evidence that
names no complete path. Health is never inferred from silence: a selection alone (a forced
`OMPI_MCA_pml=ucx`), an `unknown` path class, or an `fi_info` listing (what a consumer *would*
pick) is no good path.

Without `--site`, the log's own capability is the yardstick. Each of these is an error:

- RDMA hardware present (devices listed or opened, an RDMA provider or lane seen, TCP on an
  IPoIB interface) while traffic runs on TCP, sockets or IPoIB (`INTER_NODE_TCP`);
- ranks of one node exchanging host memory over a network transport (`NO_SHM_INTRA`), also
  when only GPU IPC lanes bypass the network;
- a provider, transport or plugin that failed to load, matched nothing or could not be selected
  (`UCX_NO_USABLE_TRANSPORT`, `OFI_NO_PROVIDER`, `OMPI_PML_NOT_SELECTABLE`, ...);
- PMIx and launcher failures: plugin not loadable, client init failed or incomplete, daemons
  lost (`PMIX_PLUGIN_UNAVAILABLE`, `PMIX_INIT_FAILED`, `PMIX_INIT_INCOMPLETE`,
  `OMPI_DAEMON_LOST`);
- a shared-memory single copy refused (`CMA_BLOCKED`, `VADER_CMA_FAILED`);
- an MPI library that aborted with a fatal error (`MPI_FATAL_ERROR`).

GPUDirect RDMA switched off on an RDMA network carrying GPU traffic is reported per library
(`GDR_OFF`, `UCX_GDR_UNAVAILABLE`). With `--site`, the site's declared fabric replaces the
log's own capability as the expectation (`INTER_NODE_UNEXPECTED`, `INTRA_NODE_UNEXPECTED`).

## Exit status of `esdc analyze`

| status | meaning |
| --- | --- |
| 0 | healthy: a complete, good path and no error finding (`degraded: false`) |
| 1 | degraded: at least one error finding (`degraded: true`) |
| 2 | bad input or usage: one line naming the file, no analysis printed |
| 3 | no transport evidence: the inputs say nothing about the path (`degraded: null`) |
"""


def render_markdown(
    codes: Iterable[CodeInfo],
    rules: Iterable[tuple[str, Rule]] = (),
    line_rules: Iterable[tuple[str, LineRule[Any]]] = (),
) -> str:
    """docs/findings.md: the judgement, the exit status, every code, every rule row."""
    lines = [
        "# Finding codes",
        "",
        "Stable identifiers of the findings `esdc analyze` reports (schema `esdc.analysis/1`).",
        "Generated by `python -m builder.logs.codes > docs/findings.md`; do not edit by hand.",
        "",
        JUDGEMENT,
        "## Codes",
        "",
        "| code | severity | library | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for info in sorted(codes, key=lambda c: (c.library or "~", c.code)):
        lines.append(
            f"| `{info.code}` | {info.severity} | {info.library or 'any'} | {_cell(info.summary)} |"
        )
    rows = list(rules)
    if rows:
        lines += [
            "",
            "## Rule tables",
            "",
            "One row per line shape (`RULES` in each library module); each example is a test.",
            "",
            "| library | sets | example line |",
            "| --- | --- | --- |",
        ]
        for library, rule in rows:
            lines.append(_rule_row(library, rule.sets(), rule.examples[0]))
    stateful = list(line_rules)
    if stateful:
        lines += [
            "",
            "## Line tables of stateful readers",
            "",
            "Libraries whose reader keeps state across lines (NCCL's device tables and channels,",
            "libfabric's providers) name each line's kind of fact in a table (`LINE_RULES`,",
            "`LOG_RULES`, `TEXT_RULES`); the reader draws the conclusions. Each example is a test.",
            "",
            "| library | fact (finding it can lead to): meaning | example line |",
            "| --- | --- | --- |",
        ]
        for library, line_rule in stateful:
            code = f" ({line_rule.code})" if line_rule.code else ""
            fact = f"{line_rule.kind.value}{code}: {line_rule.meaning}"
            lines.append(_rule_row(library, fact, line_rule.example))
    return "\n".join(lines) + "\n"


def _rule_row(library: str, sets: str, example: str) -> str:
    example = example if len(example) <= 140 else example[:139] + "…"
    return f"| {library} | {_cell(sets)} | `{_cell(example)}` |"


def all_rules() -> list[tuple[str, Rule]]:
    """Every rule row of every library module, with its library, in registry order."""
    from builder.logs.registry import ANALYSER_MODULES

    return [
        (module.LIBRARY, rule)
        for module in ANALYSER_MODULES
        for rule in tuple(getattr(module, "RULES", ()))
    ]


#: Names of the line tables a stateful reader's module may hold.
LINE_TABLES = ("LINE_RULES", "LOG_RULES", "TEXT_RULES")


def all_line_rules() -> list[tuple[str, LineRule[Any]]]:
    """Every line-table row of every library module, with its library, in registry order."""
    from builder.logs.registry import ANALYSER_MODULES

    return [
        (module.LIBRARY, rule)
        for module in ANALYSER_MODULES
        for table in LINE_TABLES
        for rule in tuple(getattr(module, table, ()))
    ]


def main() -> None:
    """Print docs/findings.md."""
    print(render_markdown(all_codes(), all_rules(), all_line_rules()), end="")


if __name__ == "__main__":
    main()
