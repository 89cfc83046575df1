"""Human-readable rendering of an :class:`Analysis` (``esdc analyze`` without ``--json``)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from builder.model.analysis import Analysis, Finding

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
#: Evidence lines printed per finding; the JSON output has them all.
_EVIDENCE_SHOWN = 3


def verdict_text(analysis: Analysis) -> Text:
    """``degraded`` in words: degraded / ok / no transport evidence."""
    if analysis.degraded is None:
        return Text("no transport evidence", style="bold")
    if analysis.degraded:
        return Text("degraded", style="bold red")
    return Text("ok", style="bold green")


def _paths_table(analysis: Analysis) -> Table:
    table = Table(title="Transport paths", title_justify="left")
    for column in ("scope", "library", "layer", "transport", "device", "count"):
        table.add_column(column, justify="right" if column == "count" else "left")
    order = {"inter-node": 0, "intra-node": 1, "self": 2, "unknown": 3}
    for path in sorted(analysis.paths, key=lambda p: (order.get(p.scope, 9), p.library, p.layer)):
        cells = (path.scope, path.library, path.layer, path.transport, path.device or "")
        # Text cells: names from logs must never be read as rich markup ("[...]").
        table.add_row(*(Text(cell) for cell in cells), str(path.count))
    return table


def _libraries_table(analysis: Analysis) -> Table:
    table = Table(title="Libraries", title_justify="left")
    table.add_column("library")
    table.add_column("version")
    table.add_column("loaded from")
    for name, info in analysis.libraries.items():
        if info is not None:
            table.add_row(name, Text(info.version or "?"), Text(info.loaded_from or ""))
    return table


def _selected_line(analysis: Analysis) -> str:
    chosen = analysis.selected
    parts = [
        f"pml={chosen.pml or '-'}",
        f"btl={','.join(chosen.btl) or '-'}",
        f"mtl={chosen.mtl or '-'}",
        f"ofi_provider={chosen.ofi_provider or '-'}",
        f"nccl_net={chosen.nccl_net or '-'}",
        f"gdr={'-' if chosen.gdr is None else str(chosen.gdr).lower()}",
    ]
    return "  ".join(parts)


def _finding_text(finding: Finding) -> Text:
    text = Text()
    text.append(f"{finding.severity.upper():7} ", style=_SEVERITY_STYLE.get(finding.severity, ""))
    text.append(finding.code, style="bold")
    if finding.library:
        text.append(f" [{finding.library}]")
    text.append(f"  {finding.message}")
    for item in finding.evidence[:_EVIDENCE_SHOWN]:
        text.append(f"\n          {item.file}:{item.line}: ", style="dim")
        text.append(item.text)
    hidden = len(finding.evidence) - _EVIDENCE_SHOWN
    if hidden > 0:
        text.append(f"\n          ... {hidden} more line(s) in --json", style="dim")
    return text


def print_analysis(analysis: Analysis, console: Console) -> None:
    """Paths per scope, libraries, selected components, findings with evidence, the verdict."""
    console.print(f"inputs: {', '.join(analysis.inputs)}", highlight=False)
    if analysis.paths:
        console.print(_paths_table(analysis))
    else:
        console.print("no transport lanes seen")
    if any(info is not None for info in analysis.libraries.values()):
        console.print(_libraries_table(analysis))
    console.print(f"selected: {_selected_line(analysis)}", highlight=False)
    console.print(
        f"inter-node: {analysis.inter_node or 'not seen'}   "
        f"intra-node: {analysis.intra_node or 'not seen'}",
        highlight=False,
    )
    _print_findings(analysis.findings, console)
    console.print(Text("verdict: ").append(verdict_text(analysis)))


def _print_findings(findings: list[Finding], console: Console) -> None:
    if findings:
        console.print(Text("Findings", style="bold"))
        order = {"error": 0, "warning": 1, "info": 2}
        for finding in sorted(findings, key=lambda f: order.get(f.severity, 3)):
            console.print(_finding_text(finding), highlight=False, soft_wrap=True)


def _library_cell(analysis: Analysis, name: str) -> str:
    info = analysis.libraries.get(name)
    if info is None:
        return "-"
    return f"{info.version or '?'} {info.loaded_from or ''}".strip()


def difference_rows(baseline: Analysis, container: Analysis) -> list[tuple[str, str, str]]:
    """``(aspect, baseline, container)`` for every aspect that differs between the two sides."""

    def selected(analysis: Analysis) -> dict[str, str]:
        chosen = analysis.selected
        return {
            "inter-node": analysis.inter_node or "-",
            "intra-node": analysis.intra_node or "-",
            "pml": chosen.pml or "-",
            "btl": ",".join(chosen.btl) or "-",
            "mtl": chosen.mtl or "-",
            "ofi_provider": chosen.ofi_provider or "-",
            "nccl_net": chosen.nccl_net or "-",
            "gdr": "-" if chosen.gdr is None else str(chosen.gdr).lower(),
            "verdict": verdict_text(analysis).plain,
        }

    left, right = selected(baseline), selected(container)
    rows = [(key, left[key], right[key]) for key in left if left[key] != right[key]]
    for name in dict.fromkeys([*baseline.libraries, *container.libraries]):
        a, b = _library_cell(baseline, name), _library_cell(container, name)
        if a != b:
            rows.append((name, a, b))
    return rows


def print_differential(baseline: Analysis, container: Analysis, console: Console) -> None:
    """Both sides in full, then a differences section, then the container's findings."""
    console.print(Text("Baseline (bare metal)", style="bold underline"))
    print_analysis(baseline.model_copy(update={"findings": []}), console)
    console.print(Text("Container", style="bold underline"))
    print_analysis(container.model_copy(update={"findings": []}), console)
    rows = difference_rows(baseline, container)
    if rows:
        table = Table(title="Differences", title_justify="left")
        for column in ("aspect", "baseline", "container"):
            table.add_column(column)
        for aspect, left, right in rows:
            table.add_row(aspect, Text(left), Text(right))
        console.print(table)
    else:
        console.print("differences: none")
    _print_findings(container.findings, console)
    console.print(Text("verdict: ").append(verdict_text(container)))
