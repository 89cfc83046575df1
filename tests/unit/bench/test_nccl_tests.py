"""nccl-tests tables: old and new layouts, N/A cells, footer figures, names, truncation."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.bench.nccl_tests import header_columns, parse_nccl
from builder.bench.text import split_lines
from builder.errors import EsdcError
from builder.model.bench import BenchResult

FIXTURES = Path(__file__).parents[2] / "fixtures" / "bench" / "nccl"
NEW_COLUMNS = [
    "size",
    "count",
    "type",
    "redop",
    "root",
    "oop_time_us",
    "oop_algbw_GBps",
    "oop_busbw_GBps",
    "oop_wrong",
    "ip_time_us",
    "ip_algbw_GBps",
    "ip_busbw_GBps",
    "ip_wrong",
]


def parse(text: str) -> list[BenchResult]:
    return parse_nccl(split_lines(text), "nccl.txt")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_new_layout_with_command_line_devices_and_interleaved_nccl_info() -> None:
    (result,) = parse(fixture("nccl-tests-2.13_all_reduce_8gpus_constructed.txt"))
    assert result.suite == "nccl"
    assert result.benchmark == "all_reduce_perf"  # from the srun command line
    assert result.version == "2.13.8"
    assert result.columns == NEW_COLUMNS
    assert len(result.rows) == 25  # the NCCL INFO line inside the table is skipped
    assert result.rows[0] == [8, 2, "float", "sum", -1, 12.0, 0.0, 0.0, 0, 11.9, 0.0, 0.0, 0]
    assert result.summary == {
        "ranks": 8,
        "devices": ["NVIDIA A100-SXM4-40GB"],
        "out_of_bounds": 0,
        "avg_busbw": 34.1725,
    }
    assert result.source.line == 3


def test_collective_test_starting_names_each_test_and_na_cells_are_null() -> None:
    alltoall, sendrecv = parse(fixture("nccl-tests-2.14_alltoall_na_sendrecv_constructed.txt"))
    assert (alltoall.benchmark, sendrecv.benchmark) == ("alltoall_perf", "sendrecv_perf")
    assert alltoall.rows[0][12] is None  # in-place "#wrong" is N/A for alltoall
    assert isinstance(alltoall.rows[0][9], float)
    assert sendrecv.version == "2.14.1"  # printed once, before both tests
    assert alltoall.summary["avg_busbw"] == 2.0711
    assert sendrecv.summary["avg_busbw"] == 3.5012


def test_old_layout_error_column_and_missing_root_or_redop() -> None:
    allreduce, broadcast = parse(fixture("nccl-tests-old-layout_error-column_constructed.txt"))
    assert allreduce.benchmark == "nccl_tests"  # nothing names the binary
    assert allreduce.columns[:5] == ["size", "count", "type", "redop", "oop_time_us"]
    assert allreduce.columns[7] == "oop_error"
    assert allreduce.rows[0][7] == 0.0
    assert allreduce.summary["ranks"] == 4
    assert broadcast.benchmark == "broadcast_perf"
    assert broadcast.columns[:4] == ["size", "count", "type", "root"]


def test_oldest_header_spelling_bytes_n_op_res() -> None:
    columns = header_columns("#      bytes     N    type      op     time  algbw  busbw    res")
    assert columns is not None
    assert [name for name, _ in columns] == [
        "size",
        "count",
        "type",
        "redop",
        "oop_time_us",
        "oop_algbw_GBps",
        "oop_busbw_GBps",
        "oop_error",
    ]


def test_table_without_footer_is_truncated() -> None:
    text = fixture("nccl-tests-2.13_all_reduce_8gpus_constructed.txt")
    cut = text[: text.index("# Out of bounds")]
    with pytest.raises(EsdcError, match=r"truncated table at line 19: .*footer"):
        parse(cut)


def test_row_with_missing_cells_is_truncated() -> None:
    text = fixture("nccl-tests-2.13_all_reduce_8gpus_constructed.txt")
    lines = text.splitlines()
    row_index = next(i for i, line in enumerate(lines) if line.strip().startswith("1024 "))
    lines[row_index] = lines[row_index][:60]
    with pytest.raises(EsdcError, match=rf"truncated table at line {row_index + 1}"):
        parse("\n".join(lines))


def test_footer_right_after_header_is_truncated() -> None:
    text = (
        "#       size         count      type   redop    root     time   algbw   busbw #wrong\n"
        "# Out of bounds values : 0 OK\n# Avg bus bandwidth    : 0\n"
    )
    with pytest.raises(EsdcError, match="without rows"):
        parse(text)


def test_osu_or_mpi4py_headers_are_not_nccl_headers() -> None:
    assert header_columns("# Size          Latency (us)") is None
    assert header_columns("# Size [B]  Bandwidth [MB/s]") is None
