"""NEST outputs: a real NEST 3.10 run, hpc_benchmark log files, beNNch dictionaries, crashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.bench.nest import parse_nest
from builder.bench.text import split_lines
from builder.errors import EsdcError
from builder.model.bench import BenchResult

FIXTURES = Path(__file__).parents[2] / "fixtures" / "bench" / "nest"


def parse(text: str) -> list[BenchResult]:
    return parse_nest(split_lines(text), "nest.txt")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_real_nest_310_run_with_logger_lines_info_and_kernel_status() -> None:
    (result,) = parse(fixture("run_balanced_nest-3.10_2threads.txt"))
    assert result.suite == "nest"
    assert result.benchmark == "hpc_benchmark"
    assert result.version == "3.10.0"
    assert result.columns[0] == "rank"
    assert {"build_time_nodes", "build_edge_time", "presim_time", "sim_time"} <= set(result.columns)
    assert len(result.rows) == 1  # stdout and stderr copies of each line count once
    summary = result.summary
    assert summary["num_processes"] == 1  # "Not using MPI" and the kernel status agree
    assert summary["local_num_threads"] == 2
    assert summary["simulations_finished"] == 2
    assert isinstance(summary["sim_time"], float)
    assert isinstance(summary["time_simulate"], float)
    network_size = summary["network_size"]
    assert isinstance(network_size, int)
    assert summary["num_local_nodes"] == network_size + 2  # + generator, recorder
    per_thread = summary["per_thread"]
    assert isinstance(per_thread, dict)
    assert len(per_thread["time_communicate_prepare"]) == 2
    assert summary["time_communicate_prepare"] == max(per_thread["time_communicate_prepare"])
    assert "build_info" not in summary


def test_hpc_benchmark_log_files_of_two_ranks() -> None:
    (result,) = parse(fixture("nest-2.20_hpc_benchmark_logfile_2ranks_constructed.txt"))
    assert [row[0] for row in result.rows] == [0, 1]
    assert result.columns[-1] == "average_rate"
    sim = result.columns.index("sim_time")
    assert result.summary["sim_time"] == max(row[sim] for row in result.rows)  # type: ignore[type-var]
    assert result.summary["time_simulate"] == 11.52
    assert result.summary["num_processes"] == 2
    assert result.version is None


def test_bennch_dictionaries_of_two_ranks_with_wrapped_arrays_and_quoted_memory() -> None:
    (result,) = parse(fixture("nest-3.6_bennch_dict_2ranks_constructed.txt"))
    assert result.benchmark == "beNNch"
    assert result.version == "3.6.0"
    assert result.columns == [] and result.rows == []
    summary = result.summary
    assert summary["py_time_simulate"] == 28.81  # the slower rank
    assert summary["total_memory"] == 3051120  # quoted string in the dictionary
    assert summary["time_deliver_spike_data"] == 10.2211
    per_thread = summary["per_thread"]
    assert isinstance(per_thread, dict)
    assert per_thread["time_deliver_spike_data"] == [10.2211, 9.9901]
    assert summary["num_processes"] == 2
    assert summary["local_num_threads"] == 2
    assert summary["simulations_finished"] == 2
    assert result.source.line == 3  # the first banner


def test_banner_without_timers_is_truncated() -> None:
    with pytest.raises(EsdcError, match="truncated table at line 2: NEST started"):
        parse(fixture("nest_banner-only_crashed_constructed.txt"))


def test_two_runs_in_one_output_are_two_results() -> None:
    run = fixture("run_balanced_nest-3.10_2threads.txt")
    first, second = parse(run + run)
    assert second.source.line > first.source.line
    assert first.summary["sim_time"] == second.summary["sim_time"]


def test_bennch_key_value_log_file_lines() -> None:
    (result,) = parse("py_time_simulate 12.5\npy_time_create 0.25\ntotal_memory 310000\n")
    assert result.benchmark == "beNNch"
    assert result.summary == {
        "py_time_simulate": 12.5,
        "py_time_create": 0.25,
        "total_memory": 310000,
    }


def test_other_output_gives_no_nest_result() -> None:
    assert parse("# OSU MPI Latency Test v7.2\n1 0.5\nhello\n") == []


def test_info_messages_on_one_line_as_older_nest_printed_them() -> None:
    text = (
        "Mar 01 12:00:00 SimulationManager::start_updating_ [Info]: Number of local nodes: 1254"
        " Simulation time (ms): 100 Number of OpenMP threads: 4 Number of MPI processes: 8\n"
        "Mar 01 12:00:09 SimulationManager::run [Info]: Simulation finished.\n"
        "0 9.25 # sim_time\n"
    )
    (result,) = parse(text)
    assert result.summary == {
        "sim_time": 9.25,
        "num_local_nodes": 1254,
        "local_num_threads": 4,
        "num_processes": 8,
        "simulations_finished": 1,
    }


def test_real_nest_without_mpi_under_mpirun_fails_with_nests_message() -> None:
    text = fixture("run_balanced_nest-3.10_mpirun-without-mpi_fatal.txt")
    with pytest.raises(EsdcError, match=r"NEST failed at line 2 .*not compiled with MPI"):
        parse(text)


def test_error_message_after_timers_does_not_hide_them() -> None:
    text = "[ERROR] [2026-11-22 04:19:40] Something recoverable.\n0 9.25 # sim_time\n"
    (result,) = parse(text)
    assert result.summary["sim_time"] == 9.25


def test_unclosed_dictionary_does_not_swallow_the_rest_of_the_output() -> None:
    lines = ["{'time_simulate': 1.5, 'num_processes': 1,"] + ["x"] * 500 + ["0 9.25 # sim_time"]
    (result,) = parse("\n".join(lines))
    assert result.summary["time_simulate"] == 1.5
    assert result.summary["sim_time"] == 9.25
