"""Expectations from site profiles, and what counts as RDMA evidence in a log."""

from __future__ import annotations

import io

import pytest

from builder.logs.api import analyze_streams
from builder.logs.base import LibraryFacts, Observation
from builder.logs.judge import Expectation, expectation_from_site, rdma_in_log, tcp_forced_by
from builder.logs.lanes import ClassEvidence
from builder.model.analysis import Analysis, Evidence, PathUse
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
    # Intel MPI: NIC pinning rows and interface settings.
    assert rdma_in_log(observed("nic", "0 mlx5_0"), empty) == [LINE]
    assert rdma_in_log(observed("nic", "0 hfi1_0"), empty) == [LINE]
    assert rdma_in_log(observed("nic", "0 eth0"), empty) is None
    assert rdma_in_log(observed("iface", "ib0"), empty) == [LINE]
    assert rdma_in_log(observed("iface", "eth0"), empty) is None


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


# --- standalone judgement of constructed logs: the degraded kinds a held-out set showed -----


def analysed(text: str) -> Analysis:
    return analyze_streams([("constructed.log", io.BytesIO(text.encode()))])


def error_codes(analysis: Analysis) -> set[str]:
    return {f.code for f in analysis.findings if f.severity == "error"}


NCCL_IB = (
    "node1:1234:1300 [0] NCCL INFO NET/IB : Using [0]mlx5_0:1/IB ; OOB ib0:10.0.0.1<0>\n"
    "node1:1234:1300 [0] NCCL INFO Using network IB\n"
)
CHANNELS_WITHOUT_GDR = (
    "node1:1234:1300 [0] NCCL INFO Channel 00/0 : 0[3b000] -> 1[3b000] [receive] via NET/IB/0\n"
    "node2:2234:2300 [0] NCCL INFO Channel 00/0 : 1[3b000] -> 0[3b000] [send] via NET/IB/0\n"
)


@pytest.mark.parametrize(
    "extra",
    [
        "node1:1234:1300 [0] NCCL INFO NET/IB : GPU Direct RDMA Disabled for HCA 0 'mlx5_0' "
        "(no module)\n",
        "node1:1234:1300 [0] NCCL INFO NCCL_NET_GDR_LEVEL set by environment to 0.\n",
        "node1:1234:1300 [0] NCCL INFO NCCL_NET_GDR_LEVEL set by environment to LOC\n",
        "node1:1234:1300 [0] NCCL INFO NCCL_IB_CUDA_SUPPORT set by environment to 0.\n",
        "",
    ],
    ids=["gdr-disabled-line", "gdr-level-0", "gdr-level-loc", "ib-cuda-support-0", "channels-only"],
)
def test_nccl_on_ib_without_gpudirect_rdma_is_degraded(extra: str) -> None:
    analysis = analysed(extra + NCCL_IB + CHANNELS_WITHOUT_GDR)
    assert analysis.degraded is True
    assert analysis.selected.gdr is False
    assert analysis.inter_node == "ib"


def test_nccl_on_ib_with_gpudirect_rdma_off_by_environment_and_no_channels() -> None:
    analysis = analysed(
        "node1:1234:1300 [0] NCCL INFO NCCL_IB_CUDA_SUPPORT set by environment to 0.\n"
        + NCCL_IB
        + "node2:2234:2300 [0] NCCL INFO Using network IB\n"
    )
    assert analysis.degraded is True
    assert analysis.selected.gdr is False


def test_nccl_on_ib_with_gpudirect_rdma_is_healthy() -> None:
    analysis = analysed(NCCL_IB + CHANNELS_WITHOUT_GDR.replace("NET/IB/0", "NET/IB/0/GDRDMA"))
    assert analysis.degraded is False
    assert analysis.selected.gdr is True


@pytest.mark.parametrize(
    "verbs_line",
    [
        "pod-0:41:41 [0] NCCL INFO Failed to open libibverbs.so[.1]",
        "pod-0:41:41 [0] misc/ibvwrap.cc:63 NCCL WARN Failed to open libibverbs.so[.1]",
        "[1,0]<stdout>:pod-0:41:41 [0] NCCL INFO Failed to open libibverbs.so[.1]",
    ],
)
def test_nccl_on_sockets_after_libibverbs_failed_to_open_is_degraded(verbs_line: str) -> None:
    analysis = analysed(
        f"{verbs_line}\n"
        "pod-0:41:41 [0] NCCL INFO NET/Socket : Using [0]eth0:10.244.1.5<0>\n"
        "pod-0:41:41 [0] NCCL INFO Using network Socket\n"
        "pod-1:52:52 [0] NCCL INFO Using network Socket\n"
    )
    assert analysis.degraded is True
    assert "NCCL_SOCKET" in error_codes(analysis)


IMPI_RUN = (
    "[0] MPI startup(): Intel(R) MPI Library, Version 2019 Update 9  Build 20200923\n"
    "[0] MPI startup(): libfabric version: 1.10.1-impi\n"
    "[0] MPI startup(): libfabric provider: {provider}\n"
    "[0] MPI startup(): Rank    Pid      Node name  Pin cpu\n"
    "[0] MPI startup(): 0       1234     node1      {{0}}\n"
    "[0] MPI startup(): 1       2345     node2      {{0}}\n"
)


@pytest.mark.parametrize("provider", ["sockets", "tcp;ofi_rxm"])
@pytest.mark.parametrize(
    "device_lines",
    [
        "[0] MPI startup(): Rank    Pin nic\n[0] MPI startup(): 0       mlx5_0\n",
        "[0] MPI startup(): Rank    Pin nic\n[0] MPI startup(): 0       hfi1_0\n",
        "[0] MPI startup(): Rank    Pin nic\n[0] MPI startup(): 0       ib0\n",
        "[0] MPI startup(): I_MPI_HYDRA_IFACE=ib0\n",
    ],
    ids=["nic-mlx5_0", "nic-hfi1_0", "nic-ib0", "hydra-iface-ib0"],
)
def test_intel_mpi_on_a_socket_provider_beside_an_rdma_device_is_degraded(
    provider: str, device_lines: str
) -> None:
    analysis = analysed(IMPI_RUN.format(provider=provider) + device_lines)
    assert analysis.degraded is True
    assert "INTER_NODE_TCP" in error_codes(analysis)


def test_intel_mpi_on_tcp_without_rdma_in_sight_is_no_error() -> None:
    analysis = analysed(
        IMPI_RUN.format(provider="tcp;ofi_rxm")
        + "[0] MPI startup(): Rank    Pin nic\n[0] MPI startup(): 0       eth0\n"
    )
    assert error_codes(analysis) == set()


MPIRUN_OB1_TCP = (
    "/usr/local/mpi/bin/mpirun --allow-run-as-root -np 8 -H n1:4,n2:4 \\\n"
    "  -bind-to none -map-by slot -mca pml ob1 -mca btl ^openib \\\n"
    "  -mca btl_tcp_if_include ib0 -x NCCL_SOCKET_IFNAME=ib0 python3 train.py\n"
)


def test_open_mpi_forced_to_tcp_btls_beside_nccl_ib_is_degraded() -> None:
    analysis = analysed(
        MPIRUN_OB1_TCP + NCCL_IB + CHANNELS_WITHOUT_GDR.replace("/0\n", "/0/GDRDMA\n")
    )
    assert analysis.selected.pml == "ob1"
    assert analysis.degraded is True
    assert "OMPI_BTL_TCP_FORCED" in error_codes(analysis)


def test_open_mpi_tcp_btls_from_an_environment_dump() -> None:
    analysis = analysed(
        "OMPI_MCA_pml=ob1\nOMPI_MCA_btl=self,vader,tcp\n"
        + NCCL_IB
        + CHANNELS_WITHOUT_GDR.replace("/0\n", "/0/GDRDMA\n")
    )
    assert analysis.selected.pml == "ob1"
    assert "OMPI_BTL_TCP_FORCED" in error_codes(analysis)


def test_open_mpi_tcp_btls_without_rdma_in_sight_are_no_error() -> None:
    analysis = analysed(
        "mpirun -np 2 --mca pml ob1 --mca btl tcp,self ./a.out\n"
        "node1:1234:1300 [0] NCCL INFO NET/Socket : Using [0]eth0:10.0.0.1<0>\n"
    )
    assert "OMPI_BTL_TCP_FORCED" not in error_codes(analysis)


@pytest.mark.parametrize(
    ("settings", "tcp"),
    [
        (["btl=^openib"], True),
        (["btl=^openib,uct"], True),
        (["btl=tcp,self,vader"], True),
        (["btl=self,vader,openib,tcp"], False),
        (["btl=^tcp"], False),
        (["btl_tcp_if_include=ib0"], False),
        (["pml=ob1"], False),
    ],
)
def test_which_btl_settings_leave_only_tcp(settings: list[str], tcp: bool) -> None:
    assert tcp_forced_by(settings) is tcp
