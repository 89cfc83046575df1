"""Scopes, hosts and the lanes implied by Open MPI's selection."""

from __future__ import annotations

import pytest

from builder.logs.base import LibraryFacts, Observation
from builder.logs.lanes import all_on_one_host, hosts_seen, lane_scopes, selection_paths
from builder.model.analysis import Evidence, PathUse, Selected


def ev(line: int, text: str) -> Evidence:
    return Evidence(file="built.log", line=line, text=text)


def lane(scope: str, transport: str, device: str | None = None) -> PathUse:
    return PathUse(library="ucx", layer="tag", scope=scope, transport=transport, device=device)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("[1795318394.349800] [vm:8041 :0]     ucp_context.c:1849 UCX  INFO  x", "vm"),
        ("[nodeb:12998:0]  cma_ep.c:81 process_vm_readv", "nodeb"),
        ("[vm:23143] select: component ofi selected", "vm"),
        ("gpu01:1234:1240 [0] NCCL INFO Using network IB", "gpu01"),
    ],
)
def test_hosts_from_line_prefixes(text: str, host: str) -> None:
    assert hosts_seen([LibraryFacts(library="x", path_evidence=[ev(1, text)])]) == {host}


def test_only_host_pid_ranks_name_hosts() -> None:
    facts = LibraryFacts(
        library="x",
        versions={"1": ["vm:12", "?", "rank 0", "9385", "nodeb: 7"]},
        observations=[Observation(kind="k", rank="unknown")],
    )
    assert hosts_seen([facts]) == {"vm", "nodeb"}


def test_one_host_or_several() -> None:
    one = LibraryFacts(library="ucx", versions={"1.13.1": ["vm:1", "vm:2"]})
    two = LibraryFacts(library="ucx", versions={"1.13.1": ["nodea:1", "nodeb:2"]})
    assert all_on_one_host([one]) is True
    assert all_on_one_host([two]) is False
    assert all_on_one_host([LibraryFacts(library="ucx")]) is None


@pytest.mark.parametrize(
    ("path", "cls", "single_host", "scopes"),
    [
        (lane("unknown", "sysv", "memory"), "shm", None, ("intra-node",)),
        (lane("inter-node", "tcp", "lo"), "tcp", False, ("intra-node",)),  # loopback stays home
        (lane("unknown", "tcp", "eth0"), "tcp", True, ("intra-node",)),
        (lane("unknown", "tcp", "eth0"), "tcp", False, ("inter-node",)),
        (lane("unknown", "tcp", "eth0"), "tcp", None, ("inter-node",)),  # the design's old-UCX rule
        (lane("inter-node", "rc_mlx5", "mlx5_0:1"), "ib", True, ("inter-node",)),  # printed: kept
        (lane("self", "cma", "memory"), "cma", True, ()),
    ],
)
def test_lane_scopes(
    path: PathUse, cls: str, single_host: bool | None, scopes: tuple[str, ...]
) -> None:
    assert lane_scopes(path, cls, single_host) == scopes


def test_ob1_btls_become_lanes_and_ucx_btls_do_not() -> None:
    ompi = LibraryFacts(
        library="openmpi",
        observations=[
            Observation(kind="pml_selected", value="ob1", rank=f"vm:{n}") for n in (1, 2)
        ],
    )
    ob1 = selection_paths([ompi], Selected(pml="ob1", btl=["vader", "tcp", "self"]), True)
    assert [(p.transport, p.scope, p.count) for p, _ in ob1] == [
        ("vader", "intra-node", 2),
        ("tcp", "intra-node", 2),
        ("self", "self", 2),
    ]
    assert selection_paths([ompi], Selected(pml="ucx", btl=["vader", "tcp"]), True) == []


def test_an_mtl_selection_stands_for_pml_cm() -> None:
    ompi = LibraryFacts(
        library="openmpi",
        observations=[
            Observation(
                kind="mtl_selected",
                value="ofi",
                rank="vm:1",
                evidence=[ev(47, "[vm:1] mca:base:select:(  mtl) Selected component [ofi]")],
            ),
        ],
        path_evidence=[ev(49, "[vm:1] mtl_ofi_component.c:365: mtl:ofi:provider: eth0")],
    )
    lanes = selection_paths([ompi], Selected(mtl="ofi", ofi_provider="eth0"), True)
    assert [(p.layer, p.transport, p.device, p.scope) for p, _ in lanes] == [
        ("mtl", "ofi", "eth0", "intra-node")
    ]
    assert [e.line for e in lanes[0][1]] == [49, 47]
    assert selection_paths([ompi], Selected(pml="ob1", mtl="ofi"), True) == []
