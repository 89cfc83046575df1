"""Speed of ``parse_text`` on a large campaign log: many OSU and nccl-tests tables with noise.

A benchmark, not a timed assertion: compare runs with ``pytest tests/perf --benchmark-enable``.
The generated text follows the constructed fixtures (OSU 7.x and nccl-tests 2.13 layouts).
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from builder.bench.api import parse_text

OSU_TABLES = 300
NCCL_TABLES = 60
SIZES = [2**i for i in range(23)]
UCX_NOISE = (
    "[1700000000.123456] [node1:3473 :0]     ucp_worker.c:1763 UCX  INFO    "
    "ep_cfg[1]: tag(sysv/memory cma/memory)"
)


def osu_table(index: int) -> list[str]:
    lines = [
        f"# OSU MPI Allreduce Latency Test v7.{index % 5}",
        "# Datatype: MPI_CHAR.",
        f"{'# Size':<10}{'Avg Latency(us)':>18}{'Min Latency(us)':>18}"
        f"{'Max Latency(us)':>18}{'Iterations':>12}",
    ]
    for size in SIZES:
        avg = 1.0 + size / 10000.0
        lines.append(f"{size:<10d}{avg:>18.2f}{avg * 0.9:>18.2f}{avg * 1.1:>18.2f}{1000:>12d}")
        if size == 64:
            lines.append(UCX_NOISE)
    return lines


def nccl_table() -> list[str]:
    lines = [
        "# nThread 1 nGpus 1 minBytes 8 maxBytes 134217728 step: 2(factor) warmup iters: 5",
        "#  Rank  0 Group  0 Pid  41000 on jrc0100 device  0 [0x03] NVIDIA A100-SXM4-40GB",
        "#       size         count      type   redop    root     time   algbw   busbw #wrong"
        "     time   algbw   busbw #wrong",
    ]
    for size in (8 * 2**i for i in range(25)):
        us = 12.0 + size / 150000.0
        bw = size / us / 1e3
        measured = f"  {us:7.1f}  {bw:6.2f}  {bw * 1.5:6.2f}  {0:6d}"
        leading = f"{size:12d}  {size // 4:12d}  {'float':>8}  {'sum':>6}  {-1:6d}"
        lines.append(leading + 2 * measured)
    lines += ["# Out of bounds values : 0 OK", "# Avg bus bandwidth    : 34.1725"]
    return lines


@pytest.fixture(scope="module")
def campaign_log() -> str:
    lines: list[str] = ["$ srun ./build/all_reduce_perf -b 8 -e 128M -f 2"]
    for index in range(OSU_TABLES):
        lines += osu_table(index)
        if index % (OSU_TABLES // NCCL_TABLES) == 0:
            lines += nccl_table()
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def tagged_log(campaign_log: str) -> str:
    """The campaign log as two ranks print it under ``mpirun --timestamp-output --tag-output``."""
    stamp = "Mon Mar  4 10:00:01 2024"
    lines = []
    for number, line in enumerate(campaign_log.splitlines()):
        lines.append(f"{stamp}[1,0]<stdout>:{line}")
        if number % 50 == 0:
            lines.append(f"{stamp}[1,1]<stdout>:# rank 1 note {number}")
    return "\n".join(lines) + "\n"


@pytest.mark.perf
@pytest.mark.parametrize("log", ["campaign_log", "tagged_log"])
def test_parse_large_osu_and_nccl_log(
    benchmark: BenchmarkFixture, request: pytest.FixtureRequest, log: str
) -> None:
    """The plain campaign log, and the same read as two ranks' tagged, timestamped streams."""
    text: str = request.getfixturevalue(log)
    results = benchmark(parse_text, text, f"{log}.log")
    assert sum(r.suite == "osu" for r in results) == OSU_TABLES
    assert sum(r.suite == "nccl" for r in results) == NCCL_TABLES
    benchmark.extra_info["lines"] = text.count("\n")
