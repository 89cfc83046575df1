"""Probing tools: paired runs always run the same scripts; version lines; bound host binaries."""

from __future__ import annotations

from collections.abc import Sequence

from builder.run.probe import (
    BENCHMARKS_MOUNT,
    MPI4PY_BENCH_PINGPONG,
    benchmarks_dir,
    collect_versions,
    host_binary_in_image,
    pair_scripts,
)

SCRIPT = str(benchmarks_dir() / "mpi4py" / "pingpong.py")


def test_both_sides_with_mpi4py_bench_keep_it() -> None:
    host = {"mpi4py_python": ["py"], "mpi4py_pingpong": MPI4PY_BENCH_PINGPONG}
    image = {"mpi4py_python": ["python3"], "mpi4py_pingpong": MPI4PY_BENCH_PINGPONG}
    new_host, new_image, bind = pair_scripts(host, image)
    assert new_host["mpi4py_pingpong"] == new_image["mpi4py_pingpong"] == MPI4PY_BENCH_PINGPONG
    assert not bind


def test_image_without_mpi4py_bench_makes_both_run_the_script() -> None:
    host = {"mpi4py_python": ["py"], "mpi4py_pingpong": MPI4PY_BENCH_PINGPONG}
    image = {"mpi4py_python": ["python3"], "mpi4py_pingpong": None}
    new_host, new_image, bind = pair_scripts(host, image)
    assert new_host["mpi4py_pingpong"] == [SCRIPT]
    assert new_image["mpi4py_pingpong"] == [f"{BENCHMARKS_MOUNT}/mpi4py/pingpong.py"]
    assert bind


def test_image_without_mpi4py_stays_without() -> None:
    _, new_image, bind = pair_scripts({"mpi4py_python": ["py"]}, {"mpi4py_python": None})
    assert new_image.get("mpi4py_pingpong") is None and not bind


def test_nest_script_is_bound_only_where_nest_is_installed() -> None:
    _, image, bind = pair_scripts({}, {"nest_python": ["python3"], "nest_script": None})
    assert image["nest_script"] == [f"{BENCHMARKS_MOUNT}/nest/run_balanced.py"] and bind
    _, image, bind = pair_scripts({}, {"nest_python": None, "nest_script": None})
    assert image["nest_script"] is None and not bind


def test_versions_keep_the_first_line_or_none() -> None:
    answers = {
        "ompi_info": (0, "Open MPI v4.1.4\n\nhttps://www.open-mpi.org\n"),
        "ucx_info": (127, ""),
    }

    def runner(argv: Sequence[str]) -> tuple[int, str]:
        return answers.get(argv[-2] if argv[0] == "ch-run" else argv[0], (1, ""))

    versions = collect_versions("host", lambda argv: argv, runner)
    assert versions.libraries["openmpi"] == "Open MPI v4.1.4"
    assert versions.libraries["ucx"] is None


def test_host_binary_is_used_in_the_image_only_when_it_loads_there() -> None:
    calls: list[list[str]] = []

    def wrap(argv: list[str], bind: str) -> list[str]:
        return ["ch-run", f"--bind={bind}", "img", "--", *argv]

    def loads(argv: Sequence[str]) -> tuple[int, str]:
        calls.append(list(argv))
        return 1, "rank 0/1 on vm\npingpong: needs 2 ranks, got 1\n"

    found = host_binary_in_image("/cache/pingpong-abc", wrap, loads)
    assert found == (["/mnt/0/pingpong-abc"], "/cache:/mnt/0")
    assert calls[0][:2] == ["ch-run", "--bind=/cache:/mnt/0"]
    assert host_binary_in_image("/cache/pp", wrap, lambda argv: (127, "not found")) is None
