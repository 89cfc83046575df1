"""Path classes of lanes, providers and NCCL transports; ranking and the reported class."""

from __future__ import annotations

import pytest

from builder.logs.classify import (
    best_class,
    class_rank,
    nccl_transport_class,
    ofi_provider_class,
    ofi_provider_name,
    path_class,
    ucx_lane_class,
)


@pytest.mark.parametrize(
    ("transport", "expected"),
    [
        ("rc_mlx5", "ib"),
        ("dc_mlx5", "ib"),
        ("ud_verbs", "ib"),
        ("rc_verbs", "ib"),
        ("ud_mlx5", "ib"),
        ("tcp", "tcp"),
        ("sysv", "shm"),
        ("posix", "shm"),
        ("cma", "cma"),
        ("xpmem", "xpmem"),
        ("knem", "knem"),
        ("cuda_ipc", "p2p"),
        ("self", None),
        ("cuda_copy", None),
        ("gdr_copy", None),
        ("something_new", "unknown"),
    ],
)
def test_ucx_lanes(transport: str, expected: str | None) -> None:
    assert ucx_lane_class(transport) == expected


def test_ucx_rdma_lanes_are_roce_when_roce_is_known() -> None:
    assert ucx_lane_class("rc_mlx5", roce=True) == "roce"
    assert ucx_lane_class("tcp", roce=True) == "tcp"


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("verbs", "ib"),
        ("verbs;ofi_rxm", "ib"),
        ("ofi_rxm;verbs", "ib"),
        ("tcp;ofi_rxm", "tcp"),
        ("tcp", "tcp"),
        ("sockets", "tcp"),
        ("udp", "tcp"),
        ("cxi", "cxi"),
        ("efa", "efa"),
        ("psm2", "psm2"),
        ("opx", "opx"),
        ("shm", "shm"),
        ("mlx", "ib"),
        # Open MPI prints the domain, not the provider: ``mtl:ofi:provider: eth0``.
        ("eth0", "tcp"),
        ("ib0", "tcp"),
        ("lo", "tcp"),
        ("mlx5_0", "ib"),
        ("cxi0", "cxi"),
        ("hfi1_0", "psm2"),
        ("rdmap0s6-rdm", "efa"),
        ("mystery", "unknown"),
    ],
)
def test_ofi_providers_and_domains(provider: str, expected: str) -> None:
    assert ofi_provider_class(provider) == expected


@pytest.mark.parametrize(
    ("transport", "device", "expected"),
    [
        ("NET/IB/0/GDRDMA", None, "ib"),
        ("NET/IB/1", "mlx5_0:1/RoCE", "roce"),
        ("NET/IBext_v8/0", None, "ib"),
        ("NET/Socket/0", None, "socket"),
        ("P2P/IPC", None, "p2p"),
        ("P2P/direct pointer", None, "p2p"),
        ("P2P/CUMEM", None, "p2p"),
        ("SHM/direct/direct", None, "shm"),
        ("NET/OFI", "cxi", "cxi"),
        ("NET/OFI", None, "unknown"),
        ("IB", None, "ib"),
        ("Socket", None, "socket"),
        ("NET/gIB", None, "ib"),
        ("NET/GPUDirectTCPX", None, "tcp"),
    ],
)
def test_nccl_transports(transport: str, device: str | None, expected: str) -> None:
    assert nccl_transport_class(transport, device) == expected


def test_open_mpi_components() -> None:
    assert path_class("openmpi", "tcp", None) == "tcp"
    assert path_class("openmpi", "vader", None) == "shm"
    assert path_class("openmpi", "sm", None) == "shm"
    assert path_class("openmpi", "self", None) is None
    assert path_class("openmpi", "ofi", "eth0") == "tcp"
    assert path_class("openmpi", "ofi", None) == "unknown"
    assert path_class("mpich", "verbs;ofi_rxm", None) == "ib"
    assert path_class("mpich", "rc_mlx5", "mlx5_0:1") == "ib"
    assert path_class("impi", "mlx", None) == "ib"


def test_shared_memory_names_the_intra_node_path_when_copy_helpers_ride_along() -> None:
    assert best_class(["cma", "shm"], "intra-node") == "shm"
    assert best_class(["cma"], "intra-node") == "cma"
    assert best_class(["tcp", "shm"], "intra-node") == "shm"
    assert best_class(["tcp", "ib"], "intra-node") == "ib"
    assert best_class(["p2p", "shm"], "intra-node") == "p2p"


def test_best_inter_node_class_and_unknowns() -> None:
    assert best_class(["tcp", "ib"], "inter-node") == "ib"
    assert best_class(["socket", "tcp"], "inter-node") == "tcp"
    assert best_class(["unknown"], "inter-node") == "unknown"
    assert best_class([], "inter-node") is None


def test_ranks() -> None:
    assert (
        class_rank("ib", "inter-node")
        > class_rank("tcp", "inter-node")
        > class_rank(  # type: ignore[operator]
            "socket", "inter-node"
        )
    )
    assert class_rank("shm", "intra-node") > class_rank("tcp", "intra-node")  # type: ignore[operator]
    assert class_rank("unknown", "inter-node") is None
    assert class_rank(None, "intra-node") is None


@pytest.mark.parametrize(
    ("printed", "provider"),
    [
        ("eth0", "tcp"),
        ("lo", "tcp"),
        ("mlx5_0", "verbs"),
        ("cxi0", "cxi"),
        ("hfi1_0", "psm2"),
        ("rdmap0s6-rdm", "efa"),
        ("verbs;ofi_rxm", "verbs;ofi_rxm"),
        ("tcp", "tcp"),
        ("mystery", "mystery"),
    ],
)
def test_ofi_domain_names_map_to_their_provider(printed: str, provider: str) -> None:
    assert ofi_provider_name(printed) == provider


def test_each_library_classifies_its_own_lanes() -> None:
    from builder.logs import ucx
    from builder.logs.classify import _classifier

    # UCX's own transport sets decide (ze_ipc is GPU IPC like cuda_ipc and rocm_ipc).
    assert _classifier("ucx") is ucx.path_class
    for transport in sorted(ucx.GPU_IPC_TRANSPORTS):
        assert path_class("ucx", transport, "gpu") == "p2p"
    for transport in sorted(ucx.SHM_TRANSPORTS):
        assert path_class("ucx", transport, "memory") in {"shm", "cma", "xpmem", "knem"}
    for transport in sorted(ucx.LOCAL_COPY_TRANSPORTS | ucx.LOOPBACK_TRANSPORTS):
        assert path_class("ucx", transport, "x") is None
    assert path_class("impi", "psm3", None) == ofi_provider_class("psm3")
    assert path_class("mpich", "cxi", None) == "cxi"
