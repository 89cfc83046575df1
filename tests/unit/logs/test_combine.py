"""Combining analysers' facts into esdc.analysis/1: real logs of this machine, built facts."""

from __future__ import annotations

from pathlib import Path

from builder.logs.base import LibraryFacts, Observation
from builder.logs.combine import combine, merge_paths, merge_selected
from builder.logs.registry import new_analysers
from builder.logs.scan import scan_file
from builder.model.analysis import LIBRARIES, Analysis, Evidence, Finding, PathUse
from builder.model.site import Fabric, PmixInfo, Runtime, SiteProfile
from builder.profiles import load_site

ENGINE = Path(__file__).parents[2] / "fixtures" / "logs" / "engine"


def fixture(prefix: str) -> Path:
    (path,) = ENGINE.glob(f"{prefix}-*.txt")
    return path


def analyse(prefix: str, site: SiteProfile | None = None) -> Analysis:
    path = fixture(prefix)
    analysers = new_analysers()
    scan_file(path, analysers)
    return combine([str(path)], [a.facts() for a in analysers], site)


def codes(analysis: Analysis) -> dict[str, str]:
    return {f.code: f.severity for f in analysis.findings}


def ib_site(**fabric: object) -> SiteProfile:
    settings: dict[str, object] = {
        "kind": "ib",
        "inter_node": ["ib"],
        "intra_node": ["shm", "cma", "xpmem"],
        "ucx_tls": "rc,sm,self",
        "ofi_providers": ["verbs"],
    }
    settings.update(fabric)
    return SiteProfile(
        name="ibsite",
        scheduler="slurm",
        launcher="srun --mpi=pmix",
        pmix=PmixInfo(version="4.2.2"),
        fabric=Fabric.model_validate(settings),
        runtime=Runtime(kind="apptainer"),
        sources=["test"],
    )


def ev(line: int, text: str) -> Evidence:
    return Evidence(file="built.log", line=line, text=text)


# -- real logs from this machine --------------------------------------------------------------


def test_bare_metal_ucx_shared_memory_is_ok() -> None:
    analysis = analyse("02")
    assert set(analysis.libraries) == set(LIBRARIES)
    ucx = analysis.libraries["ucx"]
    assert ucx is not None and ucx.version == "1.13.1"
    assert ucx.loaded_from == "/lib/x86_64-linux-gnu/libucp.so.0"
    assert analysis.libraries["nccl"] is None
    assert analysis.intra_node == "shm"  # sysv + cma: shm names the path, cma stays in paths
    assert analysis.inter_node is None
    assert {(p.scope, p.transport) for p in analysis.paths} >= {
        ("intra-node", "sysv"),
        ("intra-node", "cma"),
    }
    assert analysis.degraded is False


def test_ucx_forced_to_tcp_on_loopback_is_intra_node_without_shared_memory() -> None:
    analysis = analyse("04")
    assert analysis.intra_node == "tcp"
    assert analysis.inter_node is None
    assert [p.scope for p in analysis.paths if p.transport == "tcp"] == ["intra-node"]
    assert codes(analysis)["NO_SHM_INTRA"] == "error"
    finding = next(f for f in analysis.findings if f.code == "NO_SHM_INTRA")
    assert [e.line for e in finding.evidence] == [10, 11]
    assert analysis.degraded is True


def test_two_hosts_over_veth_use_tcp_between_nodes_and_no_rdma_exists() -> None:
    analysis = analyse("10")
    assert analysis.inter_node == "tcp"
    assert "INTER_NODE_TCP" not in codes(analysis)  # no RDMA device anywhere: tcp is all there is
    assert analysis.degraded is False


def test_two_hosts_over_tcp_on_an_infiniband_site_is_an_error() -> None:
    analysis = analyse("10", site=ib_site())
    assert codes(analysis)["INTER_NODE_TCP"] == "error"
    assert analysis.degraded is True


def test_local_site_accepts_tcp_between_nodes() -> None:
    analysis = analyse("10", site=load_site("local"))
    assert "INTER_NODE_TCP" not in codes(analysis)
    assert analysis.degraded is False


def test_cm_with_ofi_over_eth0_on_one_node_is_a_fallback() -> None:
    analysis = analyse("25")
    assert analysis.selected.mtl == "ofi"
    assert analysis.selected.ofi_provider == "tcp"  # Open MPI printed the domain, eth0
    assert analysis.intra_node == "tcp"
    assert [(p.library, p.layer, p.transport, p.device) for p in analysis.paths] == [
        ("openmpi", "mtl", "ofi", "eth0")
    ]
    found = codes(analysis)
    assert found["NO_SHM_INTRA"] == "error"
    assert found["PML_FALLBACK"] == "warning"
    assert analysis.degraded is True


def test_cm_fallback_is_an_error_where_the_site_expects_ucx() -> None:
    assert codes(analyse("25", site=ib_site()))["PML_FALLBACK"] == "error"


def test_mtl_without_a_named_provider_is_an_unknown_path() -> None:
    analysis = analyse("06")
    assert analysis.intra_node == "unknown"
    # An unknown class is no complete, good path: health is never inferred from it.
    assert analysis.degraded is None


def test_container_cma_abort_is_degraded() -> None:
    analysis = analyse("22")
    assert analysis.intra_node == "shm"
    assert codes(analysis)["CMA_BLOCKED"] == "error"
    assert analysis.degraded is True


# -- built facts --------------------------------------------------------------------------------


def test_no_transport_evidence_means_degraded_is_unknown() -> None:
    analysis = combine(["app.log"], [LibraryFacts(library="ucx")])
    assert analysis.degraded is None
    assert analysis.libraries == dict.fromkeys(LIBRARIES)


def test_version_mismatch_picks_the_most_common_version() -> None:
    facts = LibraryFacts(
        library="ucx",
        versions={"1.13.1": ["a:1", "a:2", "b:3"], "1.16.0": ["b:4"]},
        loaded_from={
            "/lib/libucp.so.0": ["a:1", "a:2"],
            "/opt/ucx/lib/libucp.so.0": ["b:3", "b:4"],
        },
        version_evidence=[ev(1, "Version 1.13.1"), ev(2, "Version 1.16.0")],
    )
    analysis = combine(["x"], [facts])
    info = analysis.libraries["ucx"]
    assert info is not None and info.version == "1.13.1"
    assert codes(analysis) == {"VERSION_MISMATCH": "warning", "LOAD_PATH_MISMATCH": "warning"}
    assert analysis.degraded is None  # versions alone say nothing about paths


def test_tcp_between_nodes_where_the_log_shows_an_rdma_lane_is_an_error() -> None:
    facts = LibraryFacts(
        library="ucx",
        paths=[
            PathUse(library="ucx", layer="tag", scope="inter-node", transport="tcp", device="eth0"),
            PathUse(
                library="ucx",
                layer="rma",
                scope="intra-node",
                transport="rc_mlx5",
                device="mlx5_0:1",
            ),
            PathUse(
                library="ucx", layer="tag", scope="intra-node", transport="sysv", device="memory"
            ),
        ],
        path_evidence=[
            ev(7, "[1.0] [n1:1 :0] x UCX INFO inter-node cfg#1 tag(tcp/eth0) rma(rc_mlx5/mlx5_0:1)")
        ],
    )
    analysis = combine(["x"], [facts])
    assert analysis.inter_node == "tcp"
    assert analysis.intra_node == "shm"
    assert codes(analysis) == {"INTER_NODE_TCP": "error"}


def test_libfabric_observation_of_a_verbs_provider_counts_as_rdma_evidence() -> None:
    ompi = LibraryFacts(
        library="openmpi", selected={"pml": "cm", "mtl": "ofi", "ofi_provider": "tcp"}
    )
    fabric = LibraryFacts(
        library="libfabric",
        observations=[
            Observation(kind="provider_usable", value="verbs", evidence=[ev(3, "verbs")])
        ],
    )
    analysis = combine(["x"], [ompi, fabric])
    assert analysis.inter_node == "tcp"  # no host seen: a network lane is taken as inter-node
    assert codes(analysis) == {"INTER_NODE_TCP": "error", "OFI_FALLBACK_PROVIDER": "warning"}


def test_site_expecting_verbs_flags_a_tcp_provider() -> None:
    ompi = LibraryFacts(
        library="openmpi", selected={"pml": "cm", "mtl": "ofi", "ofi_provider": "tcp;ofi_rxm"}
    )
    assert codes(combine(["x"], [ompi], ib_site()))["OFI_FALLBACK_PROVIDER"] == "error"


def test_ob1_where_the_site_expects_ucx_is_a_fallback() -> None:
    ompi = LibraryFacts(
        library="openmpi",
        selected={"pml": "ob1", "btl": ["self", "vader", "tcp"]},
        observations=[Observation(kind="pml_selected", value="ob1", rank="n1:5")],
    )
    analysis = combine(["x"], [ompi], ib_site())
    assert codes(analysis)["PML_FALLBACK"] == "error"
    assert {(p.layer, p.transport) for p in analysis.paths} == {
        ("btl", "self"),
        ("btl", "vader"),
        ("btl", "tcp"),
    }
    assert analysis.intra_node == "shm"


def test_unexpected_classes_against_a_site() -> None:
    facts = LibraryFacts(
        library="ucx",
        paths=[
            PathUse(
                library="ucx",
                layer="tag",
                scope="inter-node",
                transport="rc_mlx5",
                device="mlx5_0:1",
            ),
            PathUse(
                library="ucx", layer="tag", scope="intra-node", transport="knem", device="memory"
            ),
        ],
    )
    analysis = combine(["x"], [facts], ib_site(inter_node=["cxi"], intra_node=["shm"]))
    assert codes(analysis) == {
        "INTER_NODE_UNEXPECTED": "warning",
        "INTRA_NODE_UNEXPECTED": "warning",
    }
    assert analysis.degraded is False


def test_roce_site_reports_roce() -> None:
    facts = LibraryFacts(
        library="ucx",
        paths=[
            PathUse(
                library="ucx",
                layer="tag",
                scope="inter-node",
                transport="rc_mlx5",
                device="mlx5_0:1",
            )
        ],
    )
    assert combine(["x"], [facts], ib_site(kind="roce", inter_node=["roce"])).inter_node == "roce"
    assert combine(["x"], [facts]).inter_node == "ib"


def test_nccl_checks_are_left_to_the_nccl_analyser() -> None:
    # The NCCL analyser decides NCCL_SOCKET, NCCL_SHM_NOT_P2P and GDR_OFF with their evidence;
    # the engine adds no copy of its own (an engine GDR_OFF had no evidence to show).
    nccl = LibraryFacts(
        library="nccl",
        paths=[
            PathUse(library="nccl", layer="channel", scope="inter-node", transport="NET/Socket"),
            PathUse(
                library="nccl", layer="channel", scope="intra-node", transport="SHM/direct/direct"
            ),
        ],
        selected={"nccl_net": "Socket", "gdr": False},
    )
    assert codes(combine(["x"], [nccl])) == {}
    on_ib = nccl.model_copy(
        update={
            "paths": [
                PathUse(library="nccl", layer="channel", scope="inter-node", transport="NET/IB")
            ],
            "selected": {"nccl_net": "IB", "gdr": False},
        }
    )
    assert codes(combine(["x"], [on_ib])) == {}
    own = Finding(code="NCCL_SOCKET", severity="error", library="nccl", message="own words")
    reported = combine(["x"], [nccl.model_copy(update={"findings": [own]})])
    assert [f.message for f in reported.findings if f.code == "NCCL_SOCKET"] == ["own words"]


def test_merging_paths_and_selections() -> None:
    lane = PathUse(
        library="ucx", layer="tag", scope="intra-node", transport="sysv", device="memory"
    )
    assert merge_paths([lane, lane, lane.model_copy(update={"count": 3})])[0].count == 5
    chosen = merge_selected(
        [
            LibraryFacts(library="openmpi", selected={"pml": "ucx", "btl": ["self", "vader"]}),
            LibraryFacts(
                library="nccl", selected={"nccl_net": "IB", "gdr": True, "btl": "vader,tcp"}
            ),
        ]
    )
    assert (chosen.pml, chosen.btl, chosen.nccl_net, chosen.gdr) == (
        "ucx",
        ["self", "vader", "tcp"],
        "IB",
        True,
    )


def test_tcp_over_ipoib_leaves_infiniband_unused() -> None:
    ucx = LibraryFacts(
        library="ucx",
        paths=[
            PathUse(library="ucx", layer="tag", scope="inter-node", transport="tcp", device="ib0")
        ],
        path_evidence=[ev(4, "[1.0] [cn01:7 :0] UCX INFO inter-node cfg#1 tag(tcp/ib0)")],
    )
    analysis = combine(["x"], [ucx])
    assert codes(analysis) == {"INTER_NODE_TCP": "error"}
    assert [e.line for e in analysis.findings[0].evidence] == [4]


def test_ob1_with_the_tcp_btl_on_ipoib_is_a_fallback() -> None:
    ompi = LibraryFacts(
        library="openmpi",
        selected={"pml": "ob1", "btl": ["tcp", "vader", "self"]},
        observations=[
            Observation(kind="pml_selected", value="ob1", rank="cn01:1"),
            Observation(kind="pml_selected", value="ob1", rank="cn02:2"),
            Observation(
                kind="btl_tcp_interface",
                value="ib0",
                rank="cn01:1",
                evidence=[ev(6, "[cn01:01001] btl: tcp: Using interface: ib0")],
            ),
        ],
    )
    analysis = combine(["x"], [ompi])
    assert analysis.inter_node == "tcp" and analysis.intra_node == "shm"
    assert codes(analysis) == {"INTER_NODE_TCP": "error", "PML_FALLBACK": "warning"}


def test_unknown_classes_are_not_judged_against_a_site() -> None:
    ompi = LibraryFacts(library="openmpi", selected={"pml": "cm", "mtl": "ofi"})
    analysis = combine(["x"], [ompi], ib_site())
    assert analysis.inter_node == "unknown"
    assert codes(analysis) == {}
    assert analysis.degraded is None  # an unknown path is no evidence of a good one


def test_some_inter_node_lanes_on_tcp_beside_rdma_is_a_warning() -> None:
    facts = LibraryFacts(
        library="ucx",
        paths=[
            PathUse(
                library="ucx",
                layer="tag",
                scope="inter-node",
                transport="rc_mlx5",
                device="mlx5_0:1",
            ),
            PathUse(library="ucx", layer="tag", scope="inter-node", transport="tcp", device="eth0"),
        ],
        path_evidence=[ev(3, "cfg#1 tag(rc_mlx5/mlx5_0:1)"), ev(9, "cfg#4 tag(tcp/eth0)")],
    )
    analysis = combine(["x"], [facts])
    assert analysis.inter_node == "ib"
    assert codes(analysis) == {"INTER_NODE_PARTIAL_TCP": "warning"}
    assert [e.line for e in analysis.findings[0].evidence] == [9]
