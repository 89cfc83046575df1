"""Suite declarations: selection by name or family, placeholders, site applicability."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from builder.errors import EsdcError
from builder.model.site import SiteProfile
from builder.run.suites import (
    SUITES,
    missing_tools,
    resolve_program,
    select_suites,
    site_reason_to_skip,
)


def _suite(name: str):  # type: ignore[no-untyped-def]
    return next(s for s in SUITES if s.name == name)


def test_select_by_family_gives_every_suite_of_it() -> None:
    assert [s.name for s in select_suites(["osu"])] == [
        "osu_latency", "osu_latency_inter", "osu_bw", "osu_bw_inter", "osu_allreduce",
    ]  # fmt: skip


def test_select_none_gives_all_and_no_duplicates() -> None:
    assert select_suites(None) == list(SUITES)
    assert [s.name for s in select_suites(["osu_bw", "osu"])][:2] == ["osu_bw", "osu_latency"]


def test_a_suite_name_selects_that_suite_not_its_family() -> None:
    assert [s.name for s in select_suites(["pingpong"])] == ["pingpong"]
    assert [s.name for s in select_suites(["nccl"])] == ["nccl_all_reduce"]


def test_unknown_suite_lists_the_known_ones() -> None:
    with pytest.raises(EsdcError, match=r"unknown suite 'hpl'.*mpi4py"):
        select_suites(["hpl"])


def test_resolve_program_expands_whole_words_and_substrings() -> None:
    tools = {"nest_python": ["/usr/bin/python3", "-u"], "nest_script": ["/b/brunel.py"]}
    argv = resolve_program(["{nest_python}", "{nest_script}", "--x={nest_python}"], tools)
    assert argv == ["/usr/bin/python3", "-u", "/b/brunel.py", "--x=/usr/bin/python3 -u"]


def test_missing_tools_names_the_unresolved_placeholders() -> None:
    mpi4py = _suite("mpi4py")
    assert missing_tools(mpi4py, {"mpi4py_python": None}) == ["mpi4py_python", "mpi4py_pingpong"]
    tools = {"mpi4py_python": ["python3"], "mpi4py_pingpong": ["-m", "mpi4py.bench", "pingpong"]}
    assert missing_tools(mpi4py, tools) == []
    with pytest.raises(EsdcError, match="no mpi4py_python"):
        resolve_program(mpi4py.program, {})


def test_gpu_suites_are_skipped_on_sites_without_gpus(local_site: SiteProfile) -> None:
    assert site_reason_to_skip(_suite("nccl_all_reduce"), local_site) == "site testsite has no GPUs"
    assert site_reason_to_skip(_suite("mpi4py"), local_site) is None


def test_gpu_suites_apply_on_gpu_sites(site_factory: Callable[..., SiteProfile]) -> None:
    gpus = {"vendor": "nvidia", "model": "A100", "per_node": 4, "driver_floor": "535.104",
            "cuda_max": "12.2", "cuda_arch": "80"}  # fmt: skip
    site = site_factory(gpus=gpus, scheduler="slurm", launcher="srun --mpi=pmix")
    assert site_reason_to_skip(_suite("nccl_all_reduce"), site) is None


def test_point_to_point_suites_run_intra_and_inter_node_collectives_on_two_nodes() -> None:
    shapes = {s.name: (s.nodes, s.ranks) for s in SUITES}
    for name in ("pingpong", "mpi4py", "osu_latency", "osu_bw"):
        assert shapes[name] == (1, 2), name
        assert shapes[f"{name}_inter"] == (2, 2), name
    assert shapes["osu_allreduce"][0] >= 2
    assert shapes["nccl_all_reduce"][0] >= 2


def test_inter_node_suites_need_two_declared_hosts_at_a_local_site(
    site_factory: Callable[..., SiteProfile],
) -> None:
    one = site_factory()
    two = site_factory(nodes=[{"name": "a"}, {"name": "b"}])
    assert site_reason_to_skip(_suite("pingpong_inter"), one) == (
        "site testsite declares fewer than 2 nodes"
    )
    assert site_reason_to_skip(_suite("pingpong_inter"), two) is None


def test_debug_program_is_shorter_than_the_performance_one() -> None:
    mpi4py = _suite("mpi4py")
    assert mpi4py.argv(debug=True)[-2:] == ["-l", "100"]
    assert mpi4py.argv(debug=False)[-1] == "1048576"
    assert mpi4py.tools() == ["mpi4py_python", "mpi4py_pingpong"]
