"""The shipped thresholds name figures the parsers really produce (on the parsers' fixtures).

A check whose metric name drifted from the parser's column names would make every verdict
"missing"; this test catches that drift on the bench fixtures (real where the suite runs here).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.bench.api import parse_paths
from builder.verify.metrics import benchmark_pattern, metric_value, name_matches
from builder.verify.thresholds import load_thresholds

BENCH = Path(__file__).resolve().parents[2] / "fixtures" / "bench"

CASES = [
    ("osu", "osu/osu-5.6.3_latency_bw_bibw_noise_constructed.txt", ["osu_latency", "osu_bw"]),
    (
        "nccl",
        "nccl/nccl-tests-2.13_all_reduce_8gpus_constructed.txt",
        ["nccl_avg_busbw", "nccl_busbw_largest"],
    ),
    ("nest", "nest/run_balanced_nest-3.10_2threads.txt", ["nest_simulate"]),
    ("nest", "nest/nest-3.6_bennch_dict_2ranks_constructed.txt", ["nest_simulate"]),
    ("mpi4py", "mpi4py/pingpong_ompi-ucx.txt", ["pingpong_time_small", "pingpong_bw_large"]),
    (
        "pingpong",
        "pingpong/pingpong_ompi-4.1.4-ucx_tag-output_interleaved.txt",
        ["pingpong_latency_small", "pingpong_bw_large"],
    ),
]


@pytest.mark.parametrize(("suite", "fixture", "checks"), CASES)
def test_checks_find_their_figure(suite: str, fixture: str, checks: list[str]) -> None:
    path = BENCH / fixture
    assert path.is_file(), f"{fixture} is missing (scripts/make-bench-fixtures.sh makes it)"
    thresholds = load_thresholds(suite)
    assert thresholds is not None
    results = [r for r in parse_paths([str(path)]).results if r.suite == suite]
    for name in checks:
        check = thresholds.checks[name]
        matching = [r for r in results if name_matches(r.benchmark, benchmark_pattern(name, check))]
        assert matching, f"{name}: no {benchmark_pattern(name, check)} in {fixture}"
        assert any(metric_value(r, check) is not None for r in matching), (
            f"{name}: no {check.metric} in {fixture}"
        )
