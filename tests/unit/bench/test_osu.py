"""OSU micro-benchmark tables: titles, headers of 5.x-7.x, datatypes, options, noise, truncation."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.bench.osu import column_name, header_labels, parse_osu, program_name
from builder.bench.text import split_lines
from builder.errors import EsdcError

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


def test_cut_last_row_is_a_truncated_table() -> None:
    text = "# OSU MPI Latency Test v7.2\n# Size          Latency (us)\n1   0.45\n2   0.46   0.47\n"
    with pytest.raises(EsdcError, match=r"truncated table at line 4") as error:
        parse(text)
    assert error.value.where == "out.txt"
    assert error.value.line == 4


def test_header_without_rows_is_a_truncated_table() -> None:
    with pytest.raises(EsdcError, match=r"truncated table at line 2: .*header without rows"):
        parse("# OSU MPI Bandwidth Test v7.2\n# Size      Bandwidth (MB/s)\n")


def test_header_followed_by_another_title_is_a_truncated_table() -> None:
    text = "# OSU MPI Latency Test v7.2\n# Size  Latency (us)\n# OSU MPI Bandwidth Test v7.2\n"
    with pytest.raises(EsdcError, match="line 2"):
        parse(text)


def test_foreign_comment_ends_the_table_and_numbers_after_it_are_ignored() -> None:
    text = (
        "# OSU MPI Latency Test v5.9\n# Size  Latency (us)\n1  0.40\n"
        "# MPI PingPong Test\n# Size [B]  Bandwidth [MB/s]\n         1              1.22\n"
    )
    (result,) = parse(text)
    assert result.rows == [[1, 0.4]]


def test_no_osu_output_gives_no_results() -> None:
    assert parse("hello\n1 2 3\n# something\n") == []


def test_row_with_other_output_glued_to_it_is_refused() -> None:
    text = (
        "# OSU MPI Latency Test v7.2\n# Size          Latency (us)\n1   0.45\n"
        "2   0.46[1700000000.1] [node1:3473 :0] ucp_worker.c:1763 UCX  INFO ep_cfg[1]\n"
    )
    with pytest.raises(EsdcError, match=r"truncated table at line 4: OSU row is garbled"):
        parse(text)


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
