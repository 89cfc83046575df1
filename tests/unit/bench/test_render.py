"""Rendering for people: overview, first rows, summary, transposed wide results."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from builder.bench.api import parse_paths
from builder.bench.render import SHOWN_ROWS, format_cell, print_results

FIXTURES = Path(__file__).parents[2] / "fixtures" / "bench"


def rendered(*names: str) -> str:
    report = parse_paths([str(FIXTURES / name) for name in names])
    buffer = io.StringIO()
    print_results(report, Console(file=buffer, width=160, color_system=None))
    return buffer.getvalue()


def test_tables_show_first_rows_and_count_the_rest() -> None:
    out = rendered("nccl/nccl-tests-2.13_all_reduce_8gpus_constructed.txt")
    assert "Benchmark results" in out
    assert "all_reduce_perf 2.13.8" in out
    assert "oop_busbw_GBps" in out
    assert f"… {25 - SHOWN_ROWS} more rows" in out
    assert "avg_busbw" in out and "34.1725" in out


def test_nest_result_is_transposed_and_summarised() -> None:
    out = rendered("nest/nest-2.20_hpc_benchmark_logfile_2ranks_constructed.txt")
    assert "build_edge_time" in out and "time_simulate" in out
    row = next(line for line in out.splitlines() if "build_edge_time" in line)
    assert "4.01519" in row and "4.11201" in row  # one column per rank


def test_result_without_rows_prints_its_summary() -> None:
    out = rendered("nest/nest-3.6_bennch_dict_2ranks_constructed.txt")
    assert "beNNch 3.6.0" in out and "py_time_simulate" in out


def test_format_cell() -> None:
    assert format_cell(None) == "-"
    assert format_cell(1.23456789) == "1.23457"
    assert format_cell([1.0, 2.5]) == "[1, 2.5]"
    assert format_cell(True) == "true"
    assert format_cell("Pass") == "Pass"
