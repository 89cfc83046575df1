"""OSU micro-benchmark tables: titles, headers of 5.x-7.x, datatypes, options, noise, truncation."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.bench.osu import column_name, header_labels, parse_osu, program_name
from builder.bench.text import split_lines

FIXTURES = Path(__file__).parents[2] / "fixtures" / "bench" / "osu"


def parse(text: str) -> list:  # type: ignore[type-arg]
    return parse_osu(split_lines(text), "out.txt")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


@pytest.mark.parametrize(
    ("name", "rma", "program"),
    [
        ("Latency", None, "osu_latency"),
        ("Bandwidth", None, "osu_bw"),
        ("Bi-Directional Bandwidth", None, "osu_bibw"),
        ("Multiple Bandwidth / Message Rate", None, "osu_mbw_mr"),
        ("Multi-threaded Latency", None, "osu_latency_mt"),
        ("Latency Multi-threaded", None, "osu_latency_mt"),
        ("Allreduce Latency", None, "osu_allreduce"),
        ("Bcast Latency", None, "osu_bcast"),
        ("Barrier Latency", None, "osu_barrier"),
        ("Reduce-Scatter Latency", None, "osu_reduce_scatter"),
        ("All-to-All Personalized Exchange Latency", None, "osu_alltoall"),
        ("Non-blocking Allreduce Latency", None, "osu_iallreduce"),
        ("Persistent Allreduce Latency", None, "osu_allreduce_persistent"),
        ("Latency", "Put", "osu_put_latency"),
        ("Bandwidth", "Get", "osu_get_bw"),
        ("Bi-directional Bandwidth", "Put", "osu_put_bibw"),
        ("latency", "Get_accumulate", "osu_get_acc_latency"),
        ("latency", "Compare_and_swap", "osu_cas_latency"),
        ("Fancy New Thing", None, "osu_fancy_new_thing"),
    ],
)
def test_program_name_from_title_name(name: str, rma: str | None, program: str) -> None:
    assert program_name(name, rma) == program


@pytest.mark.parametrize(
    ("label", "column"),
    [
        ("Size", "size"),
        ("Latency (us)", "latency_us"),
        ("Avg Latency(us)", "latency_us"),
        ("Min Latency(us)", "min_latency_us"),
        ("Bandwidth (MB/s)", "bandwidth_MBps"),
        ("MB/s", "bandwidth_MBps"),
        ("Messages/s", "messages_per_s"),
        ("P99 Tail Lat(us)", "p99_latency_us"),
        ("P50 Tail BW(MB/s)", "p50_bandwidth_MBps"),
        ("Pure Comm.(us)", "pure_comm_us"),
        ("Overlap(%)", "overlap_percent"),
        ("Setup Time (ms)", "setup_time_ms"),
    ],
)
def test_column_names_are_snake_case_with_units(label: str, column: str) -> None:
    assert column_name(label) == column


def test_header_labels_split_known_labels_even_with_single_spaces() -> None:
    assert header_labels(" Size Avg Latency(us) P50 Tail Lat(us) Iterations") == [
        "Size",
        "Avg Latency(us)",
        "P50 Tail Lat(us)",
        "Iterations",
    ]


def test_osu_5x_file_with_three_benchmarks_and_noise() -> None:
    results = parse(fixture("osu-5.6.3_latency_bw_bibw_noise_constructed.txt"))
    assert [r.benchmark for r in results] == ["osu_latency", "osu_bw", "osu_bibw"]
    latency = results[0]
    assert latency.version == "5.6.3"
    assert latency.variant is None
    assert latency.columns == ["size", "latency_us"]
    assert latency.rows[0] == [0, 0.44]
    assert len(latency.rows) == 24  # the UCX line inside the table is skipped
    assert latency.summary == {}  # 5.x prints no datatype
    assert latency.source.line == 2
    assert results[1].columns == ["size", "bandwidth_MBps"]
    assert all(isinstance(row[0], int) for r in results for row in r.rows)


def test_osu_72_collectives_full_barrier_nonblocking_validation() -> None:
    results = parse(fixture("osu-7.2_collectives_full_validation_constructed.txt"))
    by_name = {r.benchmark: r for r in results}
    allreduce = by_name["osu_allreduce"]
    assert allreduce.columns == [
        "size",
        "latency_us",
        "min_latency_us",
        "max_latency_us",
        "iterations",
    ]
    assert allreduce.summary == {"datatype": "MPI_CHAR"}  # 7.1-7.3: datatype after the header
    assert allreduce.rows[0] == [1, 1.2, 1.08, 1.32, 1000]
    barrier = by_name["osu_barrier"]
    assert barrier.columns[0] == "size"
    assert barrier.rows == [[0, 1.87, 1.8, 1.95, 1000]]
    iallreduce = by_name["osu_iallreduce"]
    assert iallreduce.columns == [
        "size",
        "overall_us",
        "compute_us",
        "pure_comm_us",
        "overlap_percent",
    ]
    assert iallreduce.summary["datatype"] == "MPI_INT"
    bcast = by_name["osu_bcast"]
    assert bcast.columns == ["size", "latency_us", "validation"]
    assert {row[2] for row in bcast.rows} == {"Pass", "Fail"}


def test_osu_74_cuda_tail_columns_and_one_result_per_datatype() -> None:
    results = parse(fixture("osu-7.4_cuda-tail_mbw-mr_put_constructed.txt"))
    latency = [r for r in results if r.benchmark == "osu_latency"]
    assert [r.summary["datatype"] for r in latency] == ["MPI_CHAR", "MPI_INT"]
    first = latency[0]
    assert first.version == "7.4-mpich"
    assert first.variant == "CUDA"
    assert first.columns == [
        "size",
        "latency_us",
        "p50_latency_us",
        "p90_latency_us",
        "p99_latency_us",
    ]
    assert first.summary["send_buffer"] == "DEVICE"
    assert first.summary["receive_buffer"] == "DEVICE"
    assert first.source.line == 2
    assert latency[1].rows[0][0] == 4  # MPI_INT starts at its element size
    assert latency[1].source.line > first.source.line
    mbw = next(r for r in results if r.benchmark == "osu_mbw_mr")
    assert mbw.columns == ["size", "bandwidth_MBps", "messages_per_s"]
    assert mbw.summary["pairs"] == 1
    assert mbw.summary["window_size"] == 64
    put = next(r for r in results if r.benchmark == "osu_put_latency")
    assert put.summary["window_creation"] == "MPI_Win_allocate"
    assert put.summary["synchronization"] == "MPI_Win_flush"


def test_osu_with_tag_output_colours_and_crlf() -> None:
    (result,) = parse(fixture("osu-7.3_latency_tag-output_colour_crlf_constructed.txt"))
    assert result.benchmark == "osu_latency"
    assert result.version == "7.3"
    assert len(result.rows) == 12
    assert result.rows[0] == [1, 0.45]


def test_osu_74_order_datatype_then_header() -> None:
    text = (
        "# OSU MPI Latency Test v7.4\n# Datatype: MPI_CHAR.\n"
        "# Size       Avg Latency(us)\n1                       0.21\n2                       0.22\n"
    )
    (result,) = parse(text)
    assert result.summary == {"datatype": "MPI_CHAR"}
    assert result.rows == [[1, 0.21], [2, 0.22]]


def test_72_multiple_datatypes_reprint_the_header() -> None:
    text = (
        "# OSU MPI Allreduce Latency Test v7.2\n"
        "# Size       Avg Latency(us)\n# Datatype: MPI_CHAR.\n"
        "1 1.00\n2 1.10\n# Datatype: MPI_INT.\n# Size       Avg Latency(us)\n4 1.20\n"
    )
    first, second = parse(text)
    assert (first.summary["datatype"], second.summary["datatype"]) == ("MPI_CHAR", "MPI_INT")
    assert second.rows == [[4, 1.2]]
    assert second.source.line == 6


def test_title_without_version_and_unknown_test_name() -> None:
    (result,) = parse("# OSU MPI Fancy Widget Test\n# Size  Latency (us)\n8   1.00\n")
    assert result.benchmark == "osu_fancy_widget"
    assert result.version is None


def test_rocm_variant_and_header_without_title() -> None:
    (rocm,) = parse("# OSU MPI-ROCM Bandwidth Test v7.1\n# Size  Bandwidth (MB/s)\n1  0.50\n")
    assert rocm.variant == "ROCM"
    (untitled,) = parse("# Size  Latency (us)\n1  0.50\n")
    assert untitled.benchmark == "osu_unknown"


def test_cut_last_row_keeps_the_rows_before_it() -> None:
    text = "# OSU MPI Latency Test v7.2\n# Size          Latency (us)\n1   0.45\n2   0.46   0.47\n"
    (result,) = parse(text)
    assert result.rows == [[1, 0.45]]
    assert not result.complete
    assert [p.line for p in result.problems] == [4]
    assert "1 of 2 cells" not in result.problems[0].message  # it had 3 cells
    assert "3 of 2 cells" in result.problems[0].message


def test_header_without_rows_is_an_incomplete_result() -> None:
    (result,) = parse("# OSU MPI Bandwidth Test v7.2\n# Size      Bandwidth (MB/s)\n")
    assert result.rows == [] and not result.complete
    assert result.problems[0].line == 2 and "header without rows" in result.problems[0].message


def test_header_followed_by_another_title_is_an_incomplete_result() -> None:
    text = (
        "# OSU MPI Latency Test v7.2\n# Size  Latency (us)\n"
        "# OSU MPI Bandwidth Test v7.2\n# Size  Bandwidth (MB/s)\n1  0.5\n"
    )
    latency, bandwidth = parse(text)
    assert not latency.complete and latency.problems[0].line == 2
    assert bandwidth.complete and bandwidth.rows == [[1, 0.5]]


def test_foreign_comment_ends_the_table_and_numbers_after_it_are_ignored() -> None:
    text = (
        "# OSU MPI Latency Test v5.9\n# Size  Latency (us)\n1  0.40\n"
        "# MPI PingPong Test\n# Size [B]  Bandwidth [MB/s]\n         1              1.22\n"
    )
    (result,) = parse(text)
    assert result.rows == [[1, 0.4]]


def test_no_osu_output_gives_no_results() -> None:
    assert parse("hello\n1 2 3\n# something\n") == []


def test_row_with_other_output_glued_to_it_is_dropped_and_named() -> None:
    text = (
        "# OSU MPI Latency Test v7.2\n# Size          Latency (us)\n1   0.45\n"
        "2   0.46[1700000000.1] [node1:3473 :0] ucp_worker.c:1763 UCX  INFO ep_cfg[1]\n"
        "4   0.47\n"
    )
    (result,) = parse(text)
    assert result.rows == [[1, 0.45], [4, 0.47]]
    assert not result.complete
    assert result.problems[0].line == 4 and "garbled" in result.problems[0].message


def test_nest_logger_lines_after_a_table_are_not_garbled_rows() -> None:
    text = "# OSU MPI Latency Test v7.2\n# Size  Latency (us)\n1   0.45\n0 1.25 # sim_time\n"
    (result,) = parse(text)
    assert result.rows == [[1, 0.45]]


def test_header_of_a_custom_build_with_single_spaces() -> None:
    text = "# OSU MPI Bandwidth Test v7.2\n# Size Bandwidth (MB/s) Validation\n8 12.50 Pass\n"
    (result,) = parse(text)
    assert result.columns == ["size", "bandwidth_MBps", "validation"]


def test_75_validation_with_loader_warnings_before_the_title() -> None:
    text = (
        "/opt/omb/pt2pt/osu_latency: /lib/libnl-3.so.200: no version information available\n"
        "\n# OSU MPI Latency Test v7.5\n# Datatype: MPI_CHAR.\n"
        "# Size       Avg Latency(us)        Validation\n"
        "1                       3.00              Pass\n"
        "2                       2.99              Pass\n"
    )
    (result,) = parse(text)
    assert result.columns == ["size", "latency_us", "validation"]
    assert result.rows == [[1, 3.0, "Pass"], [2, 2.99, "Pass"]]
    assert result.summary == {"datatype": "MPI_CHAR"}


# Constructed inline outputs in the layouts of OSU 5.x-7.x (osu_util.c), with launcher prefixes.
CTIME_TAGGED = """\
Mon Mar  4 10:00:01 2024[1,0]<stdout>:# OSU MPI Latency Test v5.6.3
Mon Mar  4 10:00:01 2024[1,0]<stdout>:# Size          Latency (us)
Mon Mar  4 10:00:01 2024[1,1]<stdout>:rank 1 ready
Mon Mar  4 10:00:01 2024[1,0]<stdout>:0                       1.10
Mon Mar  4 10:00:02 2024[1,0]<stdout>:1                       1.12
"""


def test_timestamp_and_tag_prefixes_are_removed() -> None:
    (result,) = parse(CTIME_TAGGED)
    assert (result.benchmark, result.version) == ("osu_latency", "5.6.3")
    assert result.rows == [[0, 1.1], [1, 1.12]]
    assert result.complete


@pytest.mark.parametrize(
    "prefix",
    ["2024-03-04T10:00:01.123Z ", "[2024-03-04 10:00:01] ", "Mar  4 10:00:01 ", "10:00:01.5 0: "],
)
def test_iso_syslog_and_clock_timestamps_with_srun_labels(prefix: str) -> None:
    text = "".join(
        prefix + line + "\n"
        for line in ["# OSU MPI Bandwidth Test v7.1", "# Size  Bandwidth (MB/s)", "1  0.5"]
    )
    (result,) = parse(text)
    assert result.benchmark == "osu_bw" and result.rows == [[1, 0.5]]


def test_full_statistics_columns_of_5x_collectives() -> None:
    text = (
        "# OSU MPI Allreduce Latency Test v5.9\n"
        "# Size       Avg Latency(us)   Min Latency(us)   Max Latency(us)  Iterations\n"
        "4                       2.10              1.90              2.40        1000\n"
    )
    (result,) = parse(text)
    assert result.columns == [
        "size",
        "latency_us",
        "min_latency_us",
        "max_latency_us",
        "iterations",
    ]
    assert result.rows == [[4, 2.1, 1.9, 2.4, 1000]]


def test_tail_latency_columns() -> None:
    text = (
        "# OSU MPI Latency Test v7.4\n# Datatype: MPI_CHAR.\n"
        "# Size       Avg Latency(us)   P50 Tail Lat(us)   P90 Tail Lat(us)   P99 Tail Lat(us)\n"
        "1                       1.00               0.98               1.10               1.50\n"
    )
    (result,) = parse(text)
    assert result.columns[2:] == ["p50_latency_us", "p90_latency_us", "p99_latency_us"]


@pytest.mark.parametrize(("send", "recv"), [("D", "D"), ("H", "D")])
def test_device_buffer_variants(send: str, recv: str) -> None:
    where = {"D": "DEVICE", "H": "HOST"}
    text = (
        "# OSU MPI-CUDA Bi-Directional Bandwidth Test v7.5\n"
        f"# Send Buffer on {where[send]} ({send}) and Receive Buffer on {where[recv]} ({recv})\n"
        "# Datatype: MPI_CHAR.\n# Size      Bandwidth (MB/s)        Validation\n"
        "1                       0.32              Pass\n"
    )
    (result,) = parse(text)
    assert (result.benchmark, result.variant) == ("osu_bibw", "CUDA")
    assert result.summary["send_buffer"] == where[send]
    assert result.summary["receive_buffer"] == where[recv]
    assert result.rows == [[1, 0.32, "Pass"]]


def test_multiple_bandwidth_message_rate() -> None:
    text = (
        "# OSU MPI Multiple Bandwidth / Message Rate Test v5.8\n"
        "# [ pairs: 1 ] [ window size: 64 ]\n"
        "# Size                  MB/s        Messages/s\n"
        "1                       4.22      4220336.68\n"
    )
    (result,) = parse(text)
    assert result.benchmark == "osu_mbw_mr"
    assert result.columns == ["size", "bandwidth_MBps", "messages_per_s"]
    assert result.summary == {"pairs": 1, "window_size": 64}


def test_two_runs_concatenated_give_two_results() -> None:
    run = "# OSU MPI Latency Test v7.2\n# Size  Latency (us)\n1  0.45\n2  0.46\n"
    first, second = parse(run + "\n" + run.replace("0.4", "0.5"))
    assert first.rows == [[1, 0.45], [2, 0.46]]
    assert second.rows == [[1, 0.55], [2, 0.56]]
    assert second.source.line == 6


def test_two_runs_interleaved_without_prefixes_are_read_apart() -> None:
    # Two singleton ranks under srun without --label: every line printed twice, interleaved.
    text = (
        "# OSU MPI Latency Test v7.2\n# OSU MPI Latency Test v7.2\n"
        "# Size  Latency (us)\n# Size  Latency (us)\n"
        "1  0.40\n1  0.41\n2  0.50\n4  0.60\n2  0.51\n4  0.61\n"
    )
    first, second = parse(text)
    assert first.rows == [[1, 0.4], [2, 0.5], [4, 0.6]] and first.summary == {"run": 1}
    assert second.rows == [[1, 0.41], [2, 0.51], [4, 0.61]] and second.summary == {"run": 2}
    assert first.complete and second.complete


def test_two_runs_side_by_side() -> None:
    text = (
        "# OSU MPI Bandwidth Test v5.8\n"
        "# Size      Bandwidth (MB/s)    # Size      Bandwidth (MB/s)\n"
        "1                       3.10    1                       4.20\n"
        "2                       6.20    2                       8.40\n"
    )
    left, right = parse(text)
    assert left.columns == right.columns == ["size", "bandwidth_MBps"]
    assert left.rows == [[1, 3.1], [2, 6.2]] and right.rows == [[1, 4.2], [2, 8.4]]
    assert (left.summary["run"], right.summary["run"]) == (1, 2)


LATENCY_512 = "# OSU MPI Latency Test v7.2\n# Size  Latency (us)\n512  0.44\n"
KILLED = [
    "slurmstepd: error: *** STEP 42.0 ON node1 CANCELLED AT 2024-03-04T10:00:00 ***",
    "mpirun noticed that process rank 1 with PID 0 on node node2 exited on signal 9 (Killed).",
    "srun: error: node2: task 1: Exited with exit code 137",
    "[node1:01234] Caught signal 11 (Segmentation fault: address not mapped)",
]
DAMAGED = ["1x24  0.45", "1024  0.4.5", "1024  0,45"]


@pytest.mark.parametrize(
    ("after", "rows"),
    [
        *((f"{ending}\n", [[512, 0.44]]) for ending in KILLED),
        *((f"{damaged}\n2048  0.46\n", [[512, 0.44], [2048, 0.46]]) for damaged in DAMAGED),
    ],
)
def test_a_killed_job_or_a_damaged_row_makes_the_table_incomplete(
    after: str, rows: list[list[object]]
) -> None:
    (result,) = parse(LATENCY_512 + after)
    assert result.rows == rows
    assert not result.complete and result.problems[0].line == 4


@pytest.mark.parametrize("noise", ["real 0m1.2s", "2 warnings", "we killed nothing"])
def test_ordinary_noise_after_the_last_row_keeps_the_table_complete(noise: str) -> None:
    (result,) = parse(f"{LATENCY_512}{noise}\n")
    assert result.complete


def test_header_without_title_takes_the_program_of_the_command_line() -> None:
    text = "$ srun -n 2 /opt/omb/pt2pt/osu_bw -m 1:2\n# Size  Bandwidth (MB/s)\n1  0.5\n2  1.0\n"
    (result,) = parse(text)
    assert result.benchmark == "osu_bw" and result.rows == [[1, 0.5], [2, 1.0]]


def test_a_shell_reporting_the_program_killed_still_marks_the_table_cut() -> None:
    text = "$ ./osu_bw\n# Size  Bandwidth (MB/s)\n1  0.5\n/bin/sh: line 1: 4242 Killed  ./osu_bw\n"
    (result,) = parse(text)
    assert result.benchmark == "osu_bw" and not result.complete


@pytest.mark.parametrize(
    ("title", "row", "columns"),
    [
        ("Latency", "8  1.25", ["size", "latency_us"]),
        ("Bandwidth", "8  12.5", ["size", "bandwidth_MBps"]),
        ("Allreduce Latency", "8  3.1  2.9  3.3  1000", ["size", "latency_us", "min_latency_us",
                                                       "max_latency_us", "iterations"]),
    ],
)  # fmt: skip
def test_rows_whose_header_is_missing_take_the_columns_of_the_title(
    title: str, row: str, columns: list[str]
) -> None:
    (result,) = parse(f"# OSU MPI {title} Test v5.6\n{row}\n")
    assert result.columns == columns
    assert result.rows[0][0] == 8
    assert result.summary["columns_implied"] is True


def test_rows_that_fit_no_known_layout_after_a_title_are_not_guessed() -> None:
    assert parse("# OSU MPI Latency Test v5.6\n8  1.25  7  9\n") == []
