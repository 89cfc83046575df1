"""Singleton detection: N ranks each reporting rank 0 of 1 is a failed run."""

from __future__ import annotations

from builder.run.singleton import singleton_evidence


def test_two_ranks_of_world_one_is_a_singleton_run() -> None:
    lines = ["rank 0/1 on vm", "pingpong: needs 2 ranks, got 1", "rank 0/1 on vm"]
    assert "2 ranks each reported a world of 1" in (singleton_evidence(lines, 2) or "")


def test_a_healthy_run_is_not_flagged() -> None:
    lines = [
        "rank 0/2 on vm",
        "rank 1/2 on vm",
        "pingpong bytes=8 iters=1000 half_rtt_us=0.6 bw_MBps=1",
    ]
    assert singleton_evidence(lines, 2) is None


def test_benchmark_title_printed_by_every_rank_is_a_singleton_run() -> None:
    lines = ["# MPI PingPong Test", "# Size [B] ...", "# MPI PingPong Test"]
    assert singleton_evidence(lines, 2) is not None
    osu = ["# OSU MPI Latency Test v7.2", "# Size Latency (us)", "# OSU MPI Latency Test v7.2"]
    assert singleton_evidence(osu, 2) is not None


def test_tagged_output_prefixes_are_ignored() -> None:
    lines = ["[1,0]<stdout>:rank 0/1 on a", "[1,1]<stdout>:rank 0/1 on a", "0: rank 0 of 1"]
    assert singleton_evidence(lines, 2) is not None


def test_one_rank_jobs_are_never_flagged() -> None:
    assert singleton_evidence(["rank 0/1 on vm", "rank 0/1 on vm"], 1) is None
