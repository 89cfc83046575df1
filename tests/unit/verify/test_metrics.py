"""Reading a check's figure out of parsed results."""

from __future__ import annotations

from builder.model.bench import BenchResult, SourceRef
from builder.verify.metrics import metric_value, name_matches
from builder.verify.thresholds import Check

SRC = SourceRef(file="out", line=1)
OSU = BenchResult(
    suite="osu",
    benchmark="osu_latency",
    columns=["size", "latency_us"],
    rows=[[1, 0.5], [8, 0.52], [4194304, 300.0]],
    source=SRC,
)
NEST = BenchResult(
    suite="nest",
    benchmark="hpc_benchmark",
    columns=[],
    summary={"sim_time": 12.5, "time_simulate": [1.0, 3.0, 2.0], "note": "x"},
    source=SRC,
)


def test_row_at_size_smallest_and_largest() -> None:
    assert metric_value(OSU, Check(metric="latency_us", at_size=8, upper=0.05)) == 0.52
    assert metric_value(OSU, Check(metric="latency_us", at_size="smallest", upper=0.05)) == 0.5
    assert metric_value(OSU, Check(metric="latency_us", at_size="largest", upper=0.05)) == 300.0
    assert metric_value(OSU, Check(metric="latency_us", at_size=16, upper=0.05)) is None
    assert metric_value(OSU, Check(metric="bandwidth_MBps", at_size=8, upper=0.05)) is None


def test_first_metric_name_present_wins() -> None:
    check = Check(metric=["avg_latency_us", "latency_us"], at_size=8, upper=0.05)
    assert metric_value(OSU, check) == 0.52


def test_summary_values_and_per_thread_lists_take_the_slowest() -> None:
    assert metric_value(NEST, Check(metric="sim_time", upper=0.05)) == 12.5
    assert metric_value(NEST, Check(metric="time_simulate", upper=0.05)) == 3.0
    assert metric_value(NEST, Check(metric="note", upper=0.05)) is None
    assert metric_value(NEST, Check(metric="sim_time", at_size=8, upper=0.05)) is None


def test_benchmark_patterns() -> None:
    assert name_matches("pingpong", "*pingpong*")
    assert not name_matches("osu_bw", "osu_latency")
