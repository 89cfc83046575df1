"""The toolkit's C ping-pong output: parsed, detected, and read by its thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.bench.api import parse_paths, parse_text
from builder.bench.pingpong import parse_pingpong
from builder.bench.text import split_lines
from builder.errors import EsdcError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bench" / "pingpong"
REAL = FIXTURES / "pingpong_ompi-4.1.4-ucx_tag-output_interleaved.txt"

TWO_HOSTS = """\
rank 0/2 on node1
rank 1/2 on node2
pingpong bytes=8 iters=1000 half_rtt_us=12.50 bw_MBps=0.6
pingpong bytes=1048576 iters=1000 half_rtt_us=900.00 bw_MBps=1165.1
rank 0/2 on node1
rank 1/2 on node1
pingpong bytes=8 iters=1000 half_rtt_us=0.30 bw_MBps=26.7
"""


def test_real_output_with_interleaved_rank_lines_is_one_table() -> None:
    results = [r for r in parse_paths([str(REAL)]).results if r.suite == "pingpong"]
    assert len(results) == 1
    result = results[0]
    assert result.benchmark == "pingpong"
    assert result.columns == ["size", "half_rtt_us", "bw_MBps", "iters"]
    assert [row[0] for row in result.rows] == [8, 1024, 65536, 1048576]
    assert result.summary == {"hosts": ["vm"], "ranks": 2}


def test_each_run_is_a_table_with_its_hosts() -> None:
    results = parse_pingpong(split_lines(TWO_HOSTS), "out.txt")
    assert [r.summary["hosts"] for r in results] == [["node1", "node2"], ["node1"]]
    assert results[0].rows[1] == [1048576, 900.0, 1165.1, 1000]
    assert [r.source.line for r in results] == [3, 7]


def test_detected_by_esdc_parse() -> None:
    assert [r.suite for r in parse_text(TWO_HOSTS, "out.txt")] == ["pingpong", "pingpong"]


def test_a_cut_line_names_the_file_and_line() -> None:
    with pytest.raises(EsdcError, match="does not parse"):
        parse_pingpong(split_lines("rank 0/2 on a\n\npingpong bytes=8 iters=1000 half_rtt_u"), "f")


def test_stderr_usage_message_is_not_a_row() -> None:
    assert parse_pingpong(split_lines("pingpong: needs 2 ranks, got 1\n"), "f") == []
