"""nccl-tests tables: old and new layouts, N/A cells, footer figures, names, truncation."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.bench.nccl_tests import header_columns, parse_nccl
from builder.bench.text import split_lines
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
        "validation": "OK",
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


def test_table_without_footer_keeps_its_rows_and_is_incomplete() -> None:
    text = fixture("nccl-tests-2.13_all_reduce_8gpus_constructed.txt")
    (result,) = parse(text[: text.index("# Out of bounds")])
    assert len(result.rows) == 25
    assert not result.complete
    assert result.problems[0].line == 19
    assert "footer" in result.problems[0].message
    assert "avg_busbw" not in result.summary


def test_row_with_missing_cells_is_dropped_and_the_table_incomplete() -> None:
    text = fixture("nccl-tests-2.13_all_reduce_8gpus_constructed.txt")
    lines = text.splitlines()
    row_index = next(i for i, line in enumerate(lines) if line.strip().startswith("1024 "))
    lines[row_index] = lines[row_index][:60]
    (result,) = parse("\n".join(lines))
    assert len(result.rows) == 24
    assert 1024 not in [row[0] for row in result.rows]
    assert not result.complete
    assert [p.line for p in result.problems] == [row_index + 1]
    assert result.summary["avg_busbw"] == 34.1725


def test_footer_right_after_header_is_an_incomplete_table_without_rows() -> None:
    text = (
        "#       size         count      type   redop    root     time   algbw   busbw #wrong\n"
        "# Out of bounds values : 0 OK\n# Avg bus bandwidth    : 0\n"
    )
    (result,) = parse(text)
    assert result.rows == [] and not result.complete
    assert "without rows" in result.problems[0].message


def test_osu_or_mpi4py_headers_are_not_nccl_headers() -> None:
    assert header_columns("# Size          Latency (us)") is None
    assert header_columns("# Size [B]  Bandwidth [MB/s]") is None


# Constructed inline tables, laid out as nccl-tests prints them (src/common.cu).
OLD_NO_HASH = """\
./build/all_gather_perf -g 8 -b 1M -e 2M -f 2
                                             out-of-place                       in-place
       size         count    type     time   algbw   busbw  error     time   algbw   busbw  error
        (B)    (elements)             (us)  (GB/s)  (GB/s)            (us)  (GB/s)  (GB/s)
     1048576         32768   float    101.5   10.33    9.04  0e+00    99.80   10.51    9.19  0e+00
     2097152         65536   float    180.2   11.64   10.18  0e+00    178.9   11.72   10.26  0e+00
 Out of bounds values : 0 OK
 Avg bus bandwidth    : 9.6675
"""
ROWS_ONLY = """\
srun -N2 ./nccl-tests/build/reduce_scatter_perf -b 64M -e 128M -f 2 -g 1
    67108864  4194304  float  sum  -1  812.4  82.61  77.45  0  808.1  83.05  77.86  0
   134217728  8388608  float  sum  -1  1601.0  83.83  78.59  0  1598.2  83.98  78.73  0
"""
LABELLED = """\
# nThread 1 nGpus 1 minBytes 8 maxBytes 64 step: 8(factor) warmup iters: 5 iters: 20
#  size  count  type  redop  root  time  algbw  busbw #wrong  time  algbw  busbw #wrong
[1,0]<stdout>:  8  2  float  sum  -1  11.90  0.00  0.00  0  11.85  0.00  0.00  0
rank0:  64  16  float  sum  -1  12.10  0.01  0.01  N/A  12.00  0.01  0.01  N/A
# Out of bounds values : 0 OK
# Avg bus bandwidth    : 0.005
"""


def test_old_layout_without_hash_marks_and_error_column() -> None:
    (result,) = parse(OLD_NO_HASH)
    assert result.benchmark == "all_gather_perf"
    assert result.columns[:4] == ["size", "count", "type", "oop_time_us"]
    assert result.columns[6] == "oop_error" and result.columns[10] == "ip_error"
    assert result.rows[1] == [
        2097152,
        65536,
        "float",
        180.2,
        11.64,
        10.18,
        0.0,
        178.9,
        11.72,
        10.26,
        0.0,
    ]
    assert result.summary == {"out_of_bounds": 0, "validation": "OK", "avg_busbw": 9.6675}
    assert result.complete


def test_rows_without_any_header_take_their_layout_from_the_row() -> None:
    (result,) = parse(ROWS_ONLY)
    assert result.benchmark == "reduce_scatter_perf"
    assert result.columns == NEW_COLUMNS
    assert [row[0] for row in result.rows] == [67108864, 134217728]
    assert result.rows[0][7] == 77.45 and result.rows[0][11] == 77.86
    assert not result.complete  # no footer: nothing says the run ended
    assert result.source.line == 2


def test_headerless_layout_without_redop_or_root_and_with_error_floats() -> None:
    from builder.bench.nccl_tests import headerless_columns

    tokens = ["8", "2", "float", "12.0", "0.00", "0.00", "0e+00", "12.0", "0.00", "0.00", "0e+00"]
    columns = headerless_columns(tokens)
    assert columns is not None
    assert [name for name, _ in columns][3] == "oop_time_us"
    assert columns[6] == ("oop_error", "float")
    broadcast = ["8", "2", "float", "0", "12.0", "0.00", "0.00", "0", "12.0", "0.00", "0.00", "0"]
    assert [name for name, _ in headerless_columns(broadcast) or []][3] == "root"
    assert headerless_columns(["8", "2", "apples", "1", "2", "3", "4"]) is None


def test_rank_labels_in_rows_and_na_wrong_cells() -> None:
    (result,) = parse(LABELLED)
    assert [row[0] for row in result.rows] == [8, 64]
    assert result.rows[1][8] is None and result.rows[1][12] is None
    assert result.complete


def test_damaged_cell_is_null_and_the_table_incomplete() -> None:
    damaged = LABELLED.replace("12.10", "12.1.0")
    (result,) = parse(damaged)
    assert result.rows[1][5] is None
    assert result.rows[1][7] == 0.01
    assert not result.complete
    assert result.problems[0].line == 4 and "12.1.0" in result.problems[0].message


def test_damaged_size_drops_the_row() -> None:
    (result,) = parse(LABELLED.replace("rank0:  64", "rank0:  6x4"))
    assert [row[0] for row in result.rows] == [8]
    assert not result.complete


def test_several_tables_in_one_file_each_named_by_its_command() -> None:
    first, second, third = parse(OLD_NO_HASH + LABELLED + ROWS_ONLY)
    assert [first.benchmark, second.benchmark, third.benchmark] == [
        "all_gather_perf",
        "all_gather_perf",
        "reduce_scatter_perf",
    ]
    assert first.complete and second.complete and not third.complete


def test_a_header_inside_a_table_ends_it_as_cut() -> None:
    text = LABELLED.split("# Out of bounds")[0] + LABELLED
    first, second = parse(text)
    assert not first.complete and len(first.rows) == 2
    assert second.complete and second.summary["avg_busbw"] == 0.005


@pytest.mark.parametrize(
    "garbage",
    ["\x00\x01\x02 8 2 float", "8 2 float sum -1 " + "9" * 400, "8\t2\tfloat\xff\xfe", "٣ ٣ float"],
)
def test_garbage_never_raises(garbage: str) -> None:
    for result in parse(LABELLED.replace("# Out of bounds", garbage + "\n# Out of bounds")):
        assert result.rows


def test_processes_printing_the_same_preamble_interleaved_form_one_table() -> None:
    # Constructed: two single-rank processes started without an MPI build of nccl-tests.
    preamble, header, row = LABELLED.splitlines()[:3]
    rank = "#  Rank  0 Group  0 Pid  4242 on node1 device  0 [0x07] NVIDIA H100 80GB HBM3"
    text = "\n".join(
        [preamble, preamble, rank, rank, header, header, row, row, "# Avg bus bandwidth : 0"]
    )
    (result,) = parse(text + "\n")
    assert len(result.rows) == 2 and result.complete
    assert result.summary["ranks"] == 2
    assert result.summary["devices"] == ["NVIDIA H100 80GB HBM3"]


def test_a_column_a_newer_release_adds_is_kept_by_its_name() -> None:
    columns = header_columns("#  size  count  type  redop  root  time  algbw  busbw  #wrong  graph")
    assert columns is not None and columns[-1] == ("oop_graph", "cell")
    assert header_columns("# size  count  time  busbw  $%&") is None


def test_rows_of_another_layout_without_a_header_open_another_table() -> None:
    broadcast = "      1024  256  float  0  12.0  0.09  0.09  0  11.8  0.09  0.09  0\n"
    allreduce, bcast = parse(ROWS_ONLY + broadcast)
    assert len(allreduce.rows) == 2 and allreduce.columns == NEW_COLUMNS
    assert bcast.columns[3] == "root" and bcast.rows[0][0] == 1024
