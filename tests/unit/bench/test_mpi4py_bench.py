"""mpi4py.bench pingpong: real outputs from Debian's Open MPI, with and without stats and noise."""

from __future__ import annotations

from pathlib import Path

from builder.bench.mpi4py_bench import parse_mpi4py
from builder.bench.text import split_lines
from builder.model.bench import BenchResult

FIXTURES = Path(__file__).parents[2] / "fixtures" / "bench" / "mpi4py"
COLUMNS = ["size", "bandwidth_MBps", "time_mean_s", "time_std_s", "samples"]


def parse(text: str) -> list[BenchResult]:
    return parse_mpi4py(split_lines(text), "pp.txt")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_real_pingpong_under_pml_ucx() -> None:
    (result,) = parse(fixture("pingpong_ompi-ucx.txt"))
    assert result.suite == "mpi4py"
    assert result.benchmark == "pingpong"
    assert result.columns == COLUMNS
    assert [row[0] for row in result.rows] == [2**i for i in range(21)]
    _size, bandwidth, mean, std, samples = result.rows[0]
    assert isinstance(bandwidth, float) and isinstance(mean, float) and isinstance(std, float)
    assert samples == 10000
    assert result.source.line == 2


def test_real_pingpong_with_tag_output_glued_prefixes_and_ucx_lines() -> None:
    (result,) = parse(fixture("pingpong_ompi-ucx_tag-output_ucx-info.txt"))
    assert len(result.rows) == 17  # 1 B .. 64 KiB; "...10000[1,0]<stdout>:" rows included
    assert all(len(row) == 5 for row in result.rows)


def test_real_pingpong_without_stats() -> None:
    (result,) = parse(fixture("pingpong_ompi-ob1-vader_no-stats.txt"))
    assert result.columns == ["size", "bandwidth_MBps"]
    assert result.rows[-1][0] == 4096


def test_shared_reference_pingpong() -> None:
    # Real output of this machine's stack, copied from the project's reference logs (13-*).
    (result,) = parse(fixture("reference-13_pingpong_ompi-ucx-shm.txt"))
    assert result.rows[0] == [1, 0.55, 1.827734e-06, 1.9787e-05, 10000]


def test_mangled_plus_minus_and_nan_mean() -> None:
    text = (
        "# MPI PingPong Test\n"
        "# Size [B]  Bandwidth [MB/s] | Time Mean [s] +/- StdDev [s]  Samples\n"
        "         1              0.55 | 1.8277340e-06 \ufffd 1.9787e-05    10000\n"
        "         2               nan | nan +/- 0.0000e+00        1\n"
    )
    (result,) = parse(text)
    assert result.rows[0][2] == 1.827734e-06
    assert result.rows[1][1:3] == [None, None]


def test_cut_row_is_dropped_and_the_result_incomplete() -> None:
    text = fixture("pingpong_ompi-ucx.txt").rstrip("\n")
    lines = text.split("\n")
    full = parse(text)[0]
    lines[-2] = lines[-2][:30]
    (result,) = parse("\n".join(lines))
    assert len(result.rows) == len(full.rows) - 1
    assert not result.complete
    assert [p.line for p in result.problems] == [len(lines) - 1]


def test_header_without_rows_is_an_incomplete_result() -> None:
    (result,) = parse("# MPI PingPong Test\n# Size [B]  Bandwidth [MB/s]\n")
    assert result.rows == [] and not result.complete
    assert result.problems[0].line == 2
