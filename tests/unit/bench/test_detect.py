"""Suite detection: markers of each suite, alone and together."""

from __future__ import annotations

from builder.bench.detect import detect_suites
from builder.bench.text import split_lines


def suites(text: str) -> list[str]:
    return list(detect_suites(split_lines(text)))


def test_each_suite_is_detected_by_its_markers() -> None:
    assert suites("# OSU MPI Latency Test v7.2\n") == ["osu"]
    assert suites("# Size          Latency (us)\n") == ["osu"]
    assert suites("# nThread 1 nGpus 1 minBytes 8 maxBytes 1024 step: 2(factor)\n") == ["nccl"]
    assert suites(
        "#       size         count      type   redop    root     time   algbw   busbw\n"
    ) == ["nccl"]
    assert suites("# MPI PingPong Test\n") == ["mpi4py"]
    assert suites("              -- N E S T --\n") == ["nest"]
    assert suites("0 1.25 # sim_time\n") == ["nest"]
    assert suites("final: {'time_simulate': 1.0}\n") == ["nest"]


def test_several_suites_in_one_text_in_fixed_order() -> None:
    text = "0 1.25 # sim_time\n# MPI PingPong Test\n# OSU MPI Bandwidth Test v5.6\n"
    assert suites(text) == ["osu", "nest", "mpi4py"]


def test_noise_alone_detects_nothing() -> None:
    text = (
        "[1700000000.1] [node1:3473 :0] ucp_worker.c:1763 UCX  INFO ep_cfg[1]: tag(sysv/memory)\n"
    )
    assert suites(text + "# just a comment\n1 2 3\n") == []
