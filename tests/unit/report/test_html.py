"""The report page and the CSV, rendered from constructed verdicts and run data (pure)."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from builder.model.analysis import Evidence, Finding, Selected
from builder.model.bench import BenchResult, SourceRef
from builder.model.run import CampaignManifest
from builder.model.verdict import Bounds, MetricVerdict, ModePaths, Spread, SuiteTransport, Verdict
from builder.report.html import render_html
from builder.report.tables import render_csv, result_table
from builder.verify.collect import RepOutput, RunData

EVIL = '<script>alert("x")</script> & ranks'
SRC = SourceRef(file="stdout", line=1)
STDERR = "container/osu_latency/debug/stderr"


def data() -> RunData:
    manifest = CampaignManifest(
        id="r<1>",
        site="local",
        image="img",
        suites=["osu_latency", "nest"],
        reps=2,
        status="complete",
        created="t",
        toolkit_version="0.1.0",
    )
    outputs = []
    for mode, factor in (("bare", 1.0), ("container", 18.0)):
        for rep in ("0", "1"):
            osu = BenchResult(
                suite="osu",
                benchmark="osu_latency",
                columns=["size", "latency_us"],
                rows=[[1, 0.5 * factor], [8, 0.52 * factor], [1024, 1.5 * factor]],
                source=SRC,
            )
            nest = BenchResult(
                suite="nest",
                benchmark="hpc_benchmark",
                columns=[],
                summary={
                    "sim_time": 12.0,
                    "presim_time": 0.5,
                    "time_simulate": [1.0, 2.0],
                    "num_processes": 2,
                    "update_time_limit": float("inf"),
                },
                source=SRC,
            )
            outputs.append(
                RepOutput(mode=mode, suite="osu_latency", rep=rep, source="s", results=[osu])
            )  # type: ignore[arg-type]
            outputs.append(RepOutput(mode=mode, suite="nest", rep=rep, source="s", results=[nest]))  # type: ignore[arg-type]
    return RunData(manifest=manifest, outputs=outputs)


def verdict() -> Verdict:
    finding = Finding(
        code="PML_FALLBACK",
        severity="error",
        library="openmpi",
        message=f"cm+ofi {EVIL}",
        evidence=[Evidence(file=STDERR, line=49, text=f"mtl:ofi:provider: eth0 {EVIL}")],
    )
    metric = MetricVerdict(
        suite="osu",
        check="osu_latency",
        benchmark="osu_latency",
        metric="latency_us",
        at_size=8,
        better="lower",
        bare=Spread(n=2, values=[0.52, 0.52], median=0.52, min=0.52, max=0.52),
        container=Spread(n=2, values=[9.36, 9.36], median=9.36, min=9.36, max=9.36),
        ratio=18.0,
        bounds=Bounds(upper=0.05),
        status="fail",
        note="container slower",
    )
    paths = SuiteTransport(
        suite="osu_latency",
        status="fail",
        findings=[finding],
        bare=ModePaths(intra_node="shm", selected=Selected(pml="ucx")),
        container=ModePaths(intra_node="tcp", selected=Selected(mtl="ofi", ofi_provider="eth0")),
    )
    return Verdict(
        run_id="r<1>",
        verdict="fail",
        reason=f"osu_latency: transport PML_FALLBACK: {EVIL}",
        image="img",
        image_digest="sha256:ab",
        site="local",
        suites=["osu_latency", "nest"],
        min_reps=3,
        transport=[paths],
        metrics=[metric],
    )


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in ("href", "src")]


def test_page_is_self_contained_escaped_and_verdict_first() -> None:
    page = render_html(verdict(), data())
    parser = Tags()
    parser.feed(page)
    assert "script" not in parser.tags and not parser.urls
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page)
    body = page.index("<body>")
    order = [
        page.index(anchor, body)
        for anchor in (
            'id="verdict"',
            'id="first-failure"',
            'id="metrics"',
            'id="plots"',
            'id="timers"',
            'id="transport"',
            'id="findings"',
        )
    ]
    assert order == sorted(order)
    first = page[page.index('id="first-failure"') :]
    assert "PML_FALLBACK" in first[:400]
    assert "container/osu_latency/debug/stderr:49: mtl:ofi:provider: eth0" in page


def test_page_has_plots_per_sized_benchmark_and_timer_bars() -> None:
    page = render_html(verdict(), data())
    assert page.count('class="plot line-plot"') == 1
    assert page.count('class="plot bar-chart"') == 1
    assert (
        page.count('<polyline class="series bare"') == 1
        and page.count('<polyline class="series container"') == 1
    )
    assert "message size (bytes)" in page and "latency (us)" in page


def test_page_is_deterministic() -> None:
    assert render_html(verdict(), data()) == render_html(verdict(), data())


def test_csv_one_row_per_mode_suite_benchmark_rep_size() -> None:
    header, _ = result_table(data())
    assert header[:6] == ["mode", "suite", "benchmark", "variant", "rep", "size"]
    table = list(csv.DictReader(io.StringIO(render_csv(data()))))
    sized = [r for r in table if r["benchmark"] == "osu_latency"]
    assert len(sized) == 2 * 2 * 3
    assert {(r["mode"], r["rep"], r["size"]) for r in sized} >= {
        ("bare", "0", "8"),
        ("container", "1", "1024"),
    }
    assert (
        next(r for r in sized if r["mode"] == "container" and r["size"] == "8")["latency_us"]
        == "9.36"
    )
    nest = [r for r in table if r["benchmark"] == "hpc_benchmark"]
    assert len(nest) == 4 and nest[0]["size"] == "" and nest[0]["time_simulate"] == "2.0"


@given(st.text(min_size=1, max_size=80))
def test_any_evidence_text_comes_back_verbatim_as_text_never_as_markup(text: str) -> None:
    from html.parser import HTMLParser as Parser

    base = verdict()
    finding = (
        base.transport[0]
        .findings[0]
        .model_copy(update={"evidence": [Evidence(file="f", line=1, text=text)]})
    )
    entry = base.transport[0].model_copy(update={"findings": [finding]})
    page = render_html(base.model_copy(update={"transport": [entry]}), data())

    class Pres(Parser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.inside = False
            self.texts: list[str] = []
            self.tags: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append(tag)
            self.inside = tag == "pre"

        def handle_endtag(self, tag: str) -> None:
            self.inside = self.inside and tag != "pre"

        def handle_data(self, chunk: str) -> None:
            if self.inside:
                self.texts.append(chunk)

    parser = Pres()
    parser.feed(page)
    assert "script" not in parser.tags
    shown = "".join(parser.texts)
    expected = f"f:1: {text}".replace("\r\n", "\n").replace("\r", "\n")
    assert expected in shown.replace("\r\n", "\n").replace("\r", "\n")
