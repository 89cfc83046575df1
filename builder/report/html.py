"""The report page: one self-contained HTML document (pure: Verdict and data in, text out).

No external URL anywhere (no CDN, no web font, no script): inline CSS and inline SVG only, so the
page opens offline on a login node and can be attached to an image as it is. Every text that
comes from a log or a file goes through :func:`html.escape`.
"""

from __future__ import annotations

from html import escape

from builder.model.analysis import Finding
from builder.model.evidence import RunEvidence
from builder.model.verdict import MetricVerdict, ModePaths, Spread, SuiteTransport, Verdict
from builder.report.plots import Figure, size_figures, timer_figures
from builder.verify.collect import RunData
from builder.verify.render import format_spread, format_value
from builder.verify.stats import describe_bounds
from builder.verify.witnesses import human_bytes

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
.verdict { padding: 1em; border-radius: 6px; font-size: 1.2em; }
.verdict.pass { background: #e3f4e3; border: 2px solid #2e7d32; }
.verdict.fail { background: #fde4e4; border: 2px solid #c62828; }
.verdict.inconclusive { background: #fff5d6; border: 2px solid #b58900; }
.badge { font-weight: bold; text-transform: uppercase; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.status-pass { color: #2e7d32; } .status-fail { color: #c62828; font-weight: bold; }
.status-insufficient, .status-missing, .status-inconclusive { color: #b58900; }
.finding { border-left: 4px solid #999; padding: 0.3em 0.8em; margin: 0.8em 0; }
.finding.error { border-color: #c62828; } .finding.warning { border-color: #b58900; }
pre.evidence { background: #f6f6f6; padding: 0.5em; overflow-x: auto; font-size: 0.85em; }
figure { display: inline-block; margin: 0.5em; } code { font-size: 0.9em; }
td.differs { background: #fff0c2; }
""".strip()


def _e(value: object) -> str:
    return escape("-" if value is None else str(value))


def _spread(spread: Spread, metric: MetricVerdict) -> str:
    if spread.n == 0:
        return "-"
    value, _, rest = format_spread(spread, metric).partition("\n")
    return f"{escape(value)} <small>{escape(rest)}</small>"


def _evidence(finding: Finding) -> str:
    if not finding.evidence:
        return ""
    lines = "\n".join(f"{escape(e.file)}:{e.line}: {escape(e.text)}" for e in finding.evidence)
    return f'<pre class="evidence">{lines}</pre>'


def _finding(suite: str, finding: Finding, *, shared: bool = False) -> str:
    library = f" ({escape(finding.library)})" if finding.library else ""
    if shared:
        library += (
            ' <small class="both-modes">[seen in both modes: bare metal shows it too, a site '
            "or campaign setting]</small>"
        )
    return (
        f'<div class="finding {escape(finding.severity)}" data-code="{escape(finding.code)}">'
        f"<b>{escape(finding.severity)}</b> {escape(suite)}: "
        f"<code>{escape(finding.code)}</code>{library}: "
        f"{escape(finding.message)}{_evidence(finding)}</div>"
    )


def _first_failure(verdict: Verdict) -> str:
    errors = verdict.error_findings()
    if errors:
        suite, finding = errors[0]
        return (
            '<section id="first-failure"><h2>First failing finding</h2>'
            f"{_finding(suite, finding, shared=verdict.is_shared(suite, finding))}</section>"
        )
    failing = [m for m in verdict.metrics if m.status == "fail"]
    if failing:
        metric = failing[0]
        return (
            '<section id="first-failure"><h2>First failing metric</h2>'
            f'<div class="finding error">{escape(metric.suite)} {escape(metric.benchmark)} '
            f"{escape(metric.metric)}: {escape(metric.note)}</div></section>"
        )
    return ""


def _preflight(verdict: Verdict) -> str:
    if not verdict.preflight:
        return ""
    rows = "".join(
        f'<tr><td>{escape(r.check)}</td><td class="status-{escape(r.status)}">'
        f"{escape(r.status)}</td><td>{escape(r.message)}</td></tr>"
        for r in verdict.preflight
    )
    return (
        '<section id="preflight"><h2>Pre-flight in the container</h2>'
        f"<table><tr><th>check</th><th>status</th><th>finding</th></tr>{rows}</table></section>"
    )


def _not_run(verdict: Verdict) -> str:
    """The banner's list of required suites without a result, then other skipped suites."""
    items = [
        f'<li class="required-missing"><b>required</b> <code>{escape(suite)}</code>: '
        f"{escape(why)}</li>"
        for suite, why in verdict.required_missing.items()
    ] + [
        f'<li class="skipped">skipped <code>{escape(suite)}</code>: {escape(why)}</li>'
        for suite, why in verdict.skipped.items()
        if suite not in verdict.required_missing
    ]
    return f'<ul id="not-run">{"".join(items)}</ul>' if items else ""


def _header(verdict: Verdict) -> str:
    digest = verdict.image_digest or "(no digest)"
    return (
        f"<h1>esdc report: run {escape(verdict.run_id)}</h1>"
        f'<div class="verdict {escape(verdict.verdict)}" id="verdict">'
        f'<span class="badge">{escape(verdict.verdict)}</span> {escape(verdict.reason)}'
        f"{_not_run(verdict)}</div>"
        "<table><tr><th>image</th><td><code>{0}</code></td></tr>"
        "<tr><th>digest</th><td><code>{1}</code></td></tr>"
        "<tr><th>site</th><td>{2}</td></tr><tr><th>suites</th><td>{3}</td></tr>"
        "<tr><th>minimum repetitions</th><td>{4}</td></tr></table>".format(
            escape(verdict.image),
            escape(digest),
            escape(verdict.site),
            escape(", ".join(verdict.suites)),
            verdict.min_reps,
        )
    )


def _metric_row(metric: MetricVerdict) -> str:
    size = "" if metric.at_size is None else f" @ {metric.at_size} B"
    return (
        f"<tr><td>{escape(metric.suite)}</td><td>{escape(metric.benchmark)}</td>"
        f"<td>{escape(metric.metric)}{size}<br>"
        f"<small>{escape(metric.better)} is better</small></td>"
        f'<td class="num">{_spread(metric.bare, metric)}</td>'
        f'<td class="num">{_spread(metric.container, metric)}</td>'
        f'<td class="num">{format_value(metric.ratio)}'
        f"<br><small>{escape(metric.estimator)}</small></td>"
        f"<td>{escape(describe_bounds(metric.bounds))}</td>"
        f'<td class="status-{escape(metric.status)}">{escape(metric.status)}</td>'
        f"<td>{escape(metric.note)}</td></tr>"
    )


def _metrics(verdict: Verdict) -> str:
    if not verdict.metrics:
        return '<section id="metrics"><h2>Performance</h2><p>No metric was checked.</p></section>'
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "suite",
            "benchmark",
            "metric",
            "bare metal",
            "container",
            "ratio",
            "allowed",
            "status",
            "note",
        )
    )
    rows = "".join(_metric_row(m) for m in verdict.metrics)
    return (
        '<section id="metrics"><h2>Performance: container / bare metal</h2>'
        "<p>Each mode: the value the ratio compares, the median or the best repetition "
        "(fastest time, highest bandwidth) as the site's thresholds say (column ratio), then "
        "[min..max], the run-to-run spread. Message times in us, bandwidths in MB/s.</p>"
        f"<table><tr>{head}</tr>{rows}</table></section>"
    )


def _problems(verdict: Verdict) -> str:
    parts = []
    if verdict.problems:
        items = "".join(
            f"<li><code>{escape(p.where)}</code>: {escape(p.message)}</li>"
            for p in verdict.problems
        )
        parts.append(
            f'<section id="problems"><h2>What could not be used</h2><ul>{items}</ul></section>'
        )
    if verdict.skipped:
        items = "".join(
            f"<li><code>{escape(s)}</code>: {escape(r)}</li>" for s, r in verdict.skipped.items()
        )
        parts.append(
            f'<section id="skipped"><h2>Suites not run here</h2><ul>{items}</ul></section>'
        )
    return "".join(parts)


def _figures(title: str, anchor: str, figures: list[Figure]) -> str:
    if not figures:
        return ""
    body = "".join(f'<figure id="{escape(f.anchor)}">{f.svg}</figure>' for f in figures)
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{body}</section>'


def _path_cells(paths: ModePaths | None) -> list[str]:
    if paths is None:
        return ["-"] * 9
    selected = paths.selected
    libraries = "<br>".join(
        f"{escape(name)} {_e(info.version)}"
        + (f" <small>from {escape(info.loaded_from)}</small>" if info.loaded_from else "")
        for name, info in paths.libraries.items()
        if info is not None
    )
    lanes = "<br>".join(
        f"{escape(p.library)} {escape(p.scope)} {escape(p.transport)}"
        + (f"/{escape(p.device)}" if p.device else "")
        for p in paths.paths
    )
    return [
        _e(paths.inter_node),
        _e(paths.intra_node),
        _e(selected.pml),
        _e(", ".join(selected.btl) or None),
        _e(selected.mtl),
        _e(selected.ofi_provider),
        _e(selected.nccl_net),
        libraries or "-",
        lanes or "-",
    ]


def _transport_entry(entry: SuiteTransport) -> str:
    labels = (
        "inter-node",
        "intra-node",
        "pml",
        "btl",
        "mtl",
        "ofi provider",
        "nccl net",
        "libraries",
        "lanes",
    )
    bare, container = _path_cells(entry.bare), _path_cells(entry.container)
    rows = "".join(
        f"<tr><th>{label}</th><td>{b}</td><td>{c}</td></tr>"
        for label, b, c in zip(labels, bare, container, strict=True)
    )
    note = f"<p>{escape(entry.note)}</p>" if entry.note else ""
    return (
        f'<h3 id="transport-{escape(entry.suite)}">{escape(entry.suite)}: '
        f'<span class="status-{escape(entry.status)}">{escape(entry.status)}</span></h3>{note}'
        f"<table><tr><th></th><th>bare metal</th><th>container</th></tr>{rows}</table>"
    )


def _transport(verdict: Verdict) -> str:
    if not verdict.transport:
        return ""
    body = "".join(_transport_entry(e) for e in verdict.transport)
    return f'<section id="transport"><h2>Transport paths, side by side</h2>{body}</section>'


def _findings(verdict: Verdict) -> str:
    items = [
        _finding(entry.suite, f, shared=f.code in {*entry.shared_with_bare, *entry.seen_in_both})
        for entry in verdict.transport
        for f in entry.findings
    ]
    if not items:
        return '<section id="findings"><h2>Findings</h2><p>None.</p></section>'
    return f'<section id="findings"><h2>Findings</h2>{"".join(items)}</section>'


def _versions(data: RunData, verdict: Verdict) -> str:
    """Library versions and load paths on both sides, the image's and the host's told apart."""
    bare = data.versions.get("bare", {}).get("host", {})
    image = data.versions.get("container", {}).get("image", {})
    if not bare and not image:
        return ""
    rows = []
    for library in sorted({*bare, *image}):
        left, right = bare.get(library), image.get(library)
        same = left == right
        mark = "identical" if same else "differs"
        rows.append(
            f"<tr><th>{escape(library)}</th><td>{_e(left)}</td>"
            f'<td class="{"same" if same else "differs"}">{_e(right)}</td><td>{mark}</td></tr>'
        )
    paths = _load_paths(verdict)
    return (
        '<section id="versions"><h2>Versions and load paths, both sides</h2>'
        "<p>Versions as each side's tools print them (<code>versions.json</code>): bare metal "
        "runs the host's copy, the container the image's.</p>"
        "<table><tr><th>library</th><th>bare metal (host copy)</th>"
        f"<th>container (image copy)</th><th></th></tr>{''.join(rows)}</table>{paths}</section>"
    )


def _load_paths(verdict: Verdict) -> str:
    """Each library file the ranks mapped, per side, with whose copy it was."""
    found: dict[str, dict[str, set[str]]] = {}
    for entry in verdict.evidence:
        for mode, evidence in (("bare", entry.bare), ("container", entry.container)):
            for process in evidence.processes if evidence is not None else []:
                for kind, copies in process.libraries.items():
                    side = found.setdefault(kind, {"bare": set(), "container": set()})
                    side[mode] |= {f"{c.path} [{c.origin} copy]" for c in copies}
    if not found:
        return ""
    rows = "".join(
        f"<tr><th>{escape(kind)}</th>"
        + "".join(
            "<td>" + "<br>".join(f"<code>{escape(p)}</code>" for p in sorted(sides[m])) + "</td>"
            for m in ("bare", "container")
        )
        + "</tr>"
        for kind, sides in sorted(found.items())
    )
    return (
        "<p>Library files the ranks mapped (<code>/proc/&lt;pid&gt;/maps</code> of the logging "
        "runs): a host copy has the host file's inode, an image copy the image's.</p>"
        f"<table><tr><th>library</th><th>bare metal</th><th>container</th></tr>{rows}</table>"
    )


def _evidence_cells(evidence: RunEvidence | None) -> list[str]:
    if evidence is None:
        return ["not recorded"] * 6
    ranks = evidence.processes
    libraries = sorted(
        {
            f"{kind}: {copy.path} [{copy.origin} copy]"
            for process in ranks
            for kind, copies in process.libraries.items()
            for copy in copies
        }
    )
    user_namespaces = {p.user_ns for p in ranks}
    moved = sorted(evidence.counters.items(), key=lambda kv: -kv[1].total)[:6]
    return [
        str(len(ranks)),
        "<br>".join(f"<code>{escape(line)}</code>" for line in libraries) or "-",
        _e(", ".join(sorted({c for p in ranks for c in p.components})) or None),
        _e(", ".join(sorted({d for p in ranks for d in p.rdma_devices})) or "none"),
        str(len(user_namespaces)) if ranks else "-",
        "<br>".join(
            f"{escape(name)}: rx {human_bytes(b.rx_bytes)}, tx {human_bytes(b.tx_bytes)}"
            for name, b in moved
        )
        or "-",
    ]


def _evidence_section(verdict: Verdict) -> str:
    if not verdict.evidence:
        return ""
    labels = (
        "rank processes",
        "libraries mapped",
        "pml/mtl components",
        "RDMA devices opened",
        "user namespaces",
        "bytes per interface",
    )
    parts = []
    for entry in verdict.evidence:
        bare, container = _evidence_cells(entry.bare), _evidence_cells(entry.container)
        rows = "".join(
            f"<tr><th>{label}</th><td>{b}</td>"
            f'<td class="{"same" if b == c else "differs"}">{c}</td></tr>'
            for label, b, c in zip(labels, bare, container, strict=True)
        )
        findings = "".join(_finding(entry.suite, f) for f in entry.findings)
        parts.append(
            f'<h3 id="evidence-{escape(entry.suite)}">{escape(entry.suite)}</h3>'
            f"<table><tr><th></th><th>bare metal</th><th>container</th></tr>{rows}</table>"
            f"{findings}"
        )
    return (
        '<section id="evidence"><h2>Evidence beside the logs</h2>'
        "<p>Sampled from <code>/proc/&lt;pid&gt;/maps</code> and <code>/proc/&lt;pid&gt;/fd</code> "
        "of each rank of the logging run, and interface counters read before and after it. "
        "Container cells that differ from bare metal are highlighted.</p>"
        f"{''.join(parts)}</section>"
    )


def render_html(verdict: Verdict, data: RunData, *, csv_name: str = "results.csv") -> str:
    """The whole report page: verdict first, then metrics, plots, paths and findings."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>esdc report {escape(verdict.run_id)}: {escape(verdict.verdict)}</title>",
        f"<style>{CSS}</style></head><body>",
        _header(verdict),
        _preflight(verdict),
        _first_failure(verdict),
        _problems(verdict),
        _metrics(verdict),
        _figures(
            "Latency and bandwidth against message size", "plots", size_figures(data, verdict)
        ),
        _figures("Timers", "timers", timer_figures(data)),
        _versions(data, verdict),
        _transport(verdict),
        _findings(verdict),
        _evidence_section(verdict),
        f"<p>All numbers: <code>{escape(csv_name)}</code> (one row per mode, suite, benchmark, "
        "rep and size).</p>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"
