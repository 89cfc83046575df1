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


def test_more_rdma_evidence_ipoib_nics_domains_and_transports() -> None:
    empty = ClassEvidence()
    assert rdma_in_log(observed("nic", "0 ib0"), empty) == [LINE]
    assert rdma_in_log(observed("nic", "3 eth0"), empty) is None
    assert rdma_in_log(observed("provider_available", "tcp/ib0"), empty) == [LINE]
    assert rdma_in_log(observed("provider_available", "tcp/eth0"), empty) is None
    assert rdma_in_log(observed("rdma_transport", "rc_mlx5"), empty) == [LINE]


def _judged(*facts: LibraryFacts) -> dict[str, str]:
    from builder.logs.combine import combine

    return {f.code: f.severity for f in combine(["x"], list(facts)).findings}


def test_pmix_init_that_some_ranks_never_finish_is_an_error() -> None:
    def obs(kind: str, rank: str) -> Observation:
        return Observation(kind=kind, value=rank, rank=rank, evidence=[LINE])

    called = [obs("pmix_init_called", "n:1"), obs("pmix_init_called", "n:2")]
    hung = LibraryFacts(library="pmix", observations=[*called, obs("pmix_init_done", "n:1")])
    assert _judged(hung)["PMIX_INIT_INCOMPLETE"] == "error"
    finished = LibraryFacts(
        library="pmix",
        observations=[*called, obs("pmix_init_done", "n:1"), obs("pmix_init_done", "n:2")],
    )
    assert "PMIX_INIT_INCOMPLETE" not in _judged(finished)
    quiet = LibraryFacts(library="pmix", observations=called)  # not verbose enough to judge
    assert "PMIX_INIT_INCOMPLETE" not in _judged(quiet)


def test_several_singletons_are_an_error_one_is_not() -> None:
    two = Evidence(file="x", line=2, text="rank 0 of 1")
    many = Observation(kind="singleton", value="rank 0 of 1", evidence=[LINE, two])
    assert _judged(LibraryFacts(library="pmix", observations=[many]))["MPI_SINGLETONS"] == "error"
    one = Observation(kind="singleton", value="rank 0 of 1", evidence=[LINE])
    assert "MPI_SINGLETONS" not in _judged(LibraryFacts(library="pmix", observations=[one]))


def test_host_traffic_on_tcp_with_only_gpu_ipc_within_a_node_is_an_error() -> None:
    def lane(transport: str, device: str) -> PathUse:
        return PathUse(
            library="ucx", layer="am", scope="intra-node", transport=transport, device=device
        )

    gpu_only = LibraryFacts(
        library="ucx", paths=[lane("tcp", "eth1"), lane("cuda_ipc", "cuda")], path_evidence=[LINE]
    )
    assert _judged(gpu_only)["NO_SHM_INTRA"] == "error"
    with_shm = LibraryFacts(
        library="ucx",
        paths=[lane("tcp", "eth1"), lane("cuda_ipc", "cuda"), lane("sysv", "memory")],
        path_evidence=[LINE],
    )
    assert "NO_SHM_INTRA" not in _judged(with_shm)


def test_ucx_gpu_traffic_over_rdma_without_gdr_is_an_error() -> None:
    def lane(transport: str, device: str) -> PathUse:
        return PathUse(
            library="ucx", layer="tag", scope="inter-node", transport=transport, device=device
        )

    def ucx(gdr: bool, *lanes: PathUse) -> LibraryFacts:
        return LibraryFacts(
            library="ucx", paths=list(lanes), path_evidence=[LINE], selected={"gdr": gdr}
        )

    rdma, staged = lane("rc_mlx5", "mlx5_0:1"), lane("cuda_copy", "cuda")
    assert _judged(ucx(False, rdma, staged))["UCX_GDR_OFF"] == "error"
    assert "UCX_GDR_OFF" not in _judged(ucx(True, rdma, staged))
    assert "UCX_GDR_OFF" not in _judged(ucx(False, rdma))  # no GPU buffers seen
    assert "UCX_GDR_OFF" not in _judged(ucx(False, lane("tcp", "eth0"), staged))
