"""The human-readable rendering of an analysis."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from builder.logs.api import analyze_paths
from builder.logs.render import print_analysis
from builder.model.analysis import LIBRARIES, Analysis

ENGINE = Path(__file__).parents[2] / "fixtures" / "logs" / "engine"


def render(analysis: Analysis) -> str:
    console = Console(record=True, width=240, color_system=None)
    print_analysis(analysis, console)
    return console.export_text()


def test_paths_versions_findings_evidence_and_verdict_are_shown() -> None:
    (bare,) = ENGINE.glob("02-*.txt")
    (box,) = ENGINE.glob("25-*.txt")
    text = render(analyze_paths([str(box)], baseline=[str(bare)]))
    assert "intra-node │ openmpi │ mtl" in text
    assert "ofi_provider=tcp" in text
    assert "PATH_DIFFERS" in text and "NO_SHM_INTRA" in text
    assert f"{box}:49: [vm:23143]" in text  # evidence as file:line text, markup left alone
    assert "verdict: degraded" in text


def test_ok_and_unknown_verdicts() -> None:
    (bare,) = ENGINE.glob("02-*.txt")
    ok = render(analyze_paths([str(bare)]))
    assert "verdict: ok" in ok
    assert "1.13.1" in ok and "/lib/x86_64-linux-gnu/libucp.so.0" in ok
    empty = Analysis(inputs=["app.log"], libraries=dict.fromkeys(LIBRARIES))
    text = render(empty)
    assert "no transport lanes seen" in text
    assert "verdict: no transport evidence" in text


def test_names_from_logs_are_not_read_as_markup() -> None:
    from builder.model.analysis import LibraryInfo, PathUse

    analysis = Analysis(
        inputs=["x"],
        libraries={**dict.fromkeys(LIBRARIES), "ucx": LibraryInfo(version="[bold]1.0[/bold]")},
        paths=[
            PathUse(
                library="ucx", layer="tag", scope="intra-node", transport="[red]x", device="[/]"
            )
        ],
    )
    text = render(analysis)
    assert "[red]x" in text and "[/]" in text and "[bold]1.0[/bold]" in text


def test_differential_mode_prints_both_sides_and_the_differences() -> None:
    from builder.logs.api import analyze_both
    from builder.logs.render import difference_rows, print_differential

    engine = Path(__file__).parents[2] / "fixtures" / "logs" / "engine"
    (bare_log,) = engine.glob("02-*.txt")
    (box_log,) = engine.glob("25-*.txt")
    bare, box = analyze_both([str(box_log)], [str(bare_log)])
    rows = {aspect: (left, right) for aspect, left, right in difference_rows(bare, box)}
    assert rows["intra-node"] == ("shm", "tcp") and rows["pml"] == ("ucx", "cm")
    assert rows["verdict"] == ("ok", "degraded")
    assert difference_rows(bare, bare) == []
    console = Console(record=True, width=200)
    print_differential(bare, box, console)
    text = console.export_text()
    assert text.index("Baseline (bare metal)") < text.index("Container") < text.index("Differences")
    assert "PATH_DIFFERS" in text and text.rstrip().endswith("verdict: degraded")
