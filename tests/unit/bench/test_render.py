"""Rendering for people: every row and every cell whole, at any width; golden texts.

Refresh the golden texts after an intended change:
ESDC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/bench/test_render.py
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from builder.bench.api import parse_text
from builder.bench.render import format_cell, print_results, render_text, text_table
from builder.fsio import atomic_write_text
from builder.model.bench import BenchReport

FIXTURES = Path(__file__).parents[2] / "fixtures" / "bench"
GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "parse"
NCCL = "nccl/nccl-tests-2.13_all_reduce_8gpus_constructed.txt"
CASES = [
    NCCL,
    "osu/osu-7.2_collectives_full_validation_constructed.txt",
    "osu/osu-7.4_cuda-tail_mbw-mr_put_constructed.txt",
    "nest/nest-2.20_hpc_benchmark_logfile_2ranks_constructed.txt",
    "nest/nest-3.6_bennch_dict_2ranks_constructed.txt",
]
CUT = "# OSU MPI Latency Test v7.2\n# Size  Latency (us)\n1   0.45\n2\n"


def report_of(name: str) -> BenchReport:
    text = (FIXTURES / name).read_bytes().decode("utf-8")
    return BenchReport(results=parse_text(text, Path(name).name, keep_partial=True))


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("ESDC_UPDATE_GOLDEN") == "1":
        atomic_write_text(path, text)
    assert path.is_file(), f"missing golden {path}; ESDC_UPDATE_GOLDEN=1 creates it"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs from the golden text"


@pytest.mark.parametrize("name", CASES)
def test_golden_text(name: str) -> None:
    check_golden(Path(name).stem, render_text(report_of(name)))


def test_golden_text_of_a_cut_table() -> None:
    report = BenchReport(results=parse_text(CUT, "cut.txt", keep_partial=True))
    text = render_text(report)
    assert "[incomplete]" in text and "line 4:" in text
    check_golden("cut-osu-latency", text)


@pytest.mark.parametrize("width", [40, 80, 200])
def test_every_row_and_whole_cells_at_any_console_width(width: int) -> None:
    report = report_of(NCCL)
    buffer = io.StringIO()
    print_results(report, Console(file=buffer, width=width, color_system=None))
    out = buffer.getvalue()
    assert out == render_text(report)
    assert "…" not in out
    (result,) = report.results
    printed = [line.split() for line in out.splitlines()]
    for row in result.rows:
        assert [format_cell(cell) for cell in row] in printed


def test_cli_prints_every_row_when_stdout_is_not_a_terminal() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "builder.cli", "parse", str(FIXTURES / NCCL)],
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "more rows" not in out and "…" not in out
    sizes = [line.split()[0] for line in out.splitlines() if line[:1] == " " or line[:1].isdigit()]
    assert [int(size) for size in sizes if size.isdigit()] == [8 * 2**i for i in range(25)]


def test_text_table_aligns_numbers_right_and_text_left() -> None:
    lines = text_table(["name", "value"], [["a", "1.5"], ["bbb", "-"], ["cc", "10"]])
    assert lines == [
        "name  value",
        "----  -----",
        "a       1.5",
        "bbb       -",
        "cc       10",
    ]


def test_format_cell_is_exact() -> None:
    assert format_cell(None) == "-"
    assert format_cell(1.23456789) == "1.23456789"
    assert format_cell(1747057.96) == "1747057.96"
    assert format_cell([1.0, 2.5]) == "[1.0, 2.5]"
    assert format_cell(True) == "true"
    assert format_cell("Pass") == "Pass"


def test_an_ascii_terminal_gets_question_marks_not_a_traceback() -> None:
    report = report_of(NCCL)
    report.results[0].summary["devices"] = ["NVIDIA H100™"]
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    print_results(report, Console(file=stream, width=80, color_system=None))
    stream.flush()
    assert "NVIDIA H100?" in raw.getvalue().decode("ascii")
