"""Properties: any text parses or fails with EsdcError; printed OSU tables read back exactly."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.bench.api import parse_text
from builder.errors import EsdcError
from builder.model.bench import BenchReport

#: Fragments of every suite's lines, so that random texts reach deep into the parsers.
FRAGMENTS = [
    "# OSU MPI Latency Test v7.2",
    "# OSU MPI Barrier Latency Test v5.6",
    "# Size          Latency (us)",
    "# Avg Latency(us)   Min Latency(us)",
    "# Datatype: MPI_CHAR.",
    "#       size         count      type   redop    root     time   algbw   busbw #wrong",
    "# Out of bounds values : 0 OK",
    "# Avg bus bandwidth    : 3.5",
    "# MPI PingPong Test",
    "# Size [B]  Bandwidth [MB/s] | Time Mean [s] ± StdDev [s]  Samples",
    "         1              0.55 | 1.8e-06 ± 1.9e-05    10000",
    "-- N E S T --",
    "0 1.25 # sim_time",
    "{'time_simulate': array([1.0,",
    "2.0])}",
    "8    1.00",
    "8    2    float    sum    -1    1.0    0.0    0.0    0",
    "[1,0]<stdout>:",
    "\x1b[1m",
    "\r",
]
texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=25).map(
    "\n".join
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_any_text_parses_or_raises_esdc_error(text: str) -> None:
    try:
        results = parse_text(text, "fuzz.txt")
    except EsdcError as error:
        assert str(error).startswith("fuzz.txt")
        return
    report = BenchReport(results=results)
    data = json.loads(json.dumps(report.to_json_dict(), allow_nan=False))
    assert BenchReport.model_validate(data) == report


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2**30), st.floats(0, 1e6, allow_nan=False)),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["5.6.3", "7.2", "7.4-mpich"]),
)
def test_printed_osu_latency_table_reads_back(rows: list[tuple[int, float]], version: str) -> None:
    lines = [f"# OSU MPI Latency Test v{version}", f"{'# Size':<10}{'Latency (us)':>18}"]
    lines += [f"{size:<10d}{value:>18.2f}" for size, value in rows]
    (result,) = parse_text("\n".join(lines), "osu.txt")
    assert result.version == version
    assert result.rows == [[size, float(f"{value:.2f}")] for size, value in rows]
