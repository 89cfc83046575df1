"""Expectations from site profiles, and what counts as RDMA evidence in a log."""

from __future__ import annotations

from builder.logs.base import LibraryFacts, Observation
from builder.logs.judge import Expectation, expectation_from_site, rdma_in_log
from builder.logs.lanes import ClassEvidence
from builder.model.analysis import Evidence, PathUse
from builder.profiles import load_site

LINE = Evidence(file="x", line=1, text="line")


def test_local_site_expectation() -> None:
    local = expectation_from_site(load_site("local"))
    assert local.site == "local"
    assert local.inter_node == frozenset({"tcp"})
    assert local.intra_node is not None and "shm" in local.intra_node
    assert local.expects_ucx  # it tunes pml ucx (OMPI_MCA_pml_ucx_tls)
    assert not local.roce
    assert Expectation().site is None and Expectation().inter_node is None


def observed(kind: str, value: str | None) -> list[LibraryFacts]:
    return [
        LibraryFacts(
            library="x", observations=[Observation(kind=kind, value=value, evidence=[LINE])]
        )
    ]


def test_rdma_evidence_from_observations() -> None:
    empty = ClassEvidence()
    assert rdma_in_log(observed("rdma_device", "mlx5_0"), empty) == [LINE]
    assert rdma_in_log(observed("ib_device", "mlx5_0:1/IB"), empty) == [LINE]
    assert rdma_in_log(observed("rdma_available", "verbs"), empty) == [LINE]
    assert rdma_in_log(observed("provider_available", "cxi"), empty) == [LINE]
    assert rdma_in_log(observed("btl_tcp_interface", "ib0"), empty) == [LINE]
    # A registered provider proves nothing: Debian registers psm2 on machines without it.
    assert rdma_in_log(observed("provider_registered", "psm2"), empty) is None
    assert rdma_in_log(observed("provider_available", "tcp"), empty) is None
    assert rdma_in_log(observed("no_rdma_device", None), empty) is None
    assert rdma_in_log(observed("btl_tcp_interface", "eth0"), empty) is None


def test_rdma_evidence_from_lanes() -> None:
    classes = ClassEvidence()
    classes.add("intra-node", "ib", [LINE])
    assert rdma_in_log([], classes) == [LINE]
    ipoib = LibraryFacts(
        library="ucx",
        paths=[
            PathUse(library="ucx", layer="tag", scope="inter-node", transport="tcp", device="ib0")
        ],
        path_evidence=[LINE],
    )
    assert rdma_in_log([ipoib], ClassEvidence()) == [LINE]
