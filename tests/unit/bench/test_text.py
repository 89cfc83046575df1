"""Line cleaning and cell conversion shared by the parsers."""

from __future__ import annotations

import pytest

from builder.bench.text import (
    clean_line,
    clean_text,
    job_ended_abnormally,
    snake_case,
    split_lines,
    to_cell,
    to_float,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[1;32m# OSU MPI Latency Test v7.2\x1b[0m", "# OSU MPI Latency Test v7.2"),
        ("[1,0]<stdout>:# Size  Latency (us)", "# Size  Latency (us)"),
        # Open MPI 5 writes one space after the tag; a tag may also trail a row.
        (
            "[1,0]<stdout>: 128 41.85 | 3.05e-06 ± 1.0e-04  10000[1,0]<stdout>:",
            "128 41.85 | 3.05e-06 ± 1.0e-04  10000",
        ),
        ("0: # MPI PingPong Test", "# MPI PingPong Test"),
        ("1024   0.50\r", "1024   0.50"),
        ("progress 10%\rprogress 100%", "progress 100%"),
        ("a\x00b", "ab"),
    ],
)
def test_clean_text_removes_decorations(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    ("raw", "stream", "clean"),
    [
        ("[1,3]<stdout>:# Size  Latency (us)", "3", "# Size  Latency (us)"),
        ("Sun Dec 24 09:52:05 2017[1,0]<stdout>:8   1.25", "0", "8   1.25"),
        ("12: # OSU MPI Latency Test v7.2", "12", "# OSU MPI Latency Test v7.2"),
        ("[2] # OSU MPI Latency Test v7.2", "2", "# OSU MPI Latency Test v7.2"),
        ("2025-01-02T03:04:05.678+01:00 1024   0.50", "", "1024   0.50"),
        ("1024   0.50", "", "1024   0.50"),
        ("1073741824   9.50", "", "1073741824   9.50"),
        ("[1703411525.123456] 8   1.25", "", "8   1.25"),
        (
            "Dec 24 09:52:05 node1 slurmstepd[42]: # OSU MPI Latency Test",
            "",
            "# OSU MPI Latency Test",
        ),
        ("Dec 24 09:52:05 8   1.25", "", "8   1.25"),
        ("node01: # OSU MPI Latency Test v7.2", "node01", "# OSU MPI Latency Test v7.2"),
        ("jrc0001.fz.de: 8  0.45", "jrc0001.fz.de", "8  0.45"),
        ("Warning: something failed", "", "Warning: something failed"),
    ],
)
def test_clean_line_keeps_the_rank_of_a_prefix(raw: str, stream: str, clean: str) -> None:
    assert clean_line(raw) == (stream, clean)


def test_split_lines_numbers_from_one_and_counts_only_newlines() -> None:
    lines = split_lines("a\r\nb\x0bc\nd")
    assert [(line.number, line.text) for line in lines] == [(1, "a"), (2, "b\x0bc"), (3, "d")]


@pytest.mark.parametrize(
    ("token", "cell"),
    [
        ("8", 8),
        ("-1", -1),
        ("2.41", 2.41),
        ("7.0e-06", 7e-06),
        ("N/A", None),
        ("nan", None),
        ("inf", None),
        ("Pass", "Pass"),
        ("float", "float"),
    ],
)
def test_to_cell(token: str, cell: object) -> None:
    assert to_cell(token) == cell


def test_to_float_turns_non_finite_into_none() -> None:
    assert to_float("1e999") is None


def test_snake_case() -> None:
    assert snake_case("Reduce-Scatter  Latency") == "reduce_scatter_latency"


@pytest.mark.parametrize(
    ("line", "ended"),
    [
        ("Killed", True),
        ("/bin/sh: line 1: 4242 Killed   ./osu_bw", True),
        ("slurmstepd: error: *** JOB 7 ON n1 CANCELLED AT 2024-01-01T00:00:00 ***", True),
        ("application called MPI_Abort(MPI_COMM_WORLD, 1) - process 0", True),
        ("we killed nothing", False),
        ("# Size  Latency (us)", False),
    ],
)
def test_job_ended_abnormally(line: str, ended: bool) -> None:
    assert job_ended_abnormally(line) is ended
