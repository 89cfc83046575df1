"""UCX analyser: versions, endpoint configurations (old and new), protocol tables, env, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.logs import ucx
from builder.logs.base import LibraryFacts
from builder.logs.engine import engine_class
from builder.logs.scan import scan_file
from builder.model.analysis import Evidence

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "logs" / "ucx"


def analyse(name: str) -> LibraryFacts:
    analyser = engine_class(ucx)()
    scan_file(FIXTURES / name, [analyser])
    return analyser.facts()


def feed_lines(*lines: str) -> LibraryFacts:
    analyser = engine_class(ucx)()
    for number, line in enumerate(lines, 1):
        analyser.feed(line, Evidence(file="t.log", line=number, text=line))
    return analyser.facts()


def paths(facts: LibraryFacts) -> set[tuple[str, str, str, str | None, int]]:
    return {(p.layer, p.scope, p.transport, p.device, p.count) for p in facts.paths}


def codes(facts: LibraryFacts) -> dict[str, str]:
    return {f.code: f.severity for f in facts.findings}


def test_real_intranode_sysv_cma_versions_and_paths() -> None:
    facts = analyse("real-02-intranode-sysv-cma.txt")
    assert facts.versions == {"1.13.1": ["vm:8041", "vm:8040"]}
    assert facts.loaded_from == {"/lib/x86_64-linux-gnu/libucp.so.0": ["vm:8041", "vm:8040"]}
    assert paths(facts) == {
        ("tag", "self", "self", "memory0", 2),
        ("tag", "self", "cma", "memory", 2),
        ("tag", "intra-node", "sysv", "memory", 2),
        ("tag", "intra-node", "cma", "memory", 2),
    }
    assert facts.version_evidence[0].line == 3
    assert all(e.text.find("ep_cfg[") > 0 for e in facts.path_evidence)
    # The DIAG line about rdmacm is informative, never an error.
    assert codes(facts) == {"UCX_NO_RDMA_DEVICE": "info"}


def test_real_ucx_tls_tcp_over_loopback_is_restricted_and_intra_node() -> None:
    facts = analyse("real-04-ucx-tls-tcp.txt")
    # Old format, only a network lane, but on the loopback interface: the peer is on this host.
    assert paths(facts) == {("tag", "intra-node", "tcp", "lo", 2)}
    assert codes(facts)["UCX_TLS_RESTRICTED"] == "warning"
    restricted = next(f for f in facts.findings if f.code == "UCX_TLS_RESTRICTED")
    assert "shared memory and RDMA" in restricted.message
    assert restricted.evidence[0].line == 6
    env = [o for o in facts.observations if o.kind == "ucx_env"]
    assert [o.value for o in env] == ["UCX_TLS=tcp UCX_NET_DEVICES=lo UCX_LOG_LEVEL=info"]


def test_real_two_netns_hosts_tcp_over_veth() -> None:
    facts = analyse("real-10-netns-2hosts-tcp-veth.txt")
    assert facts.versions["1.13.1"] == ["nodeb:12998", "nodea:12997"]
    assert ("tag", "inter-node", "tcp", "vhpcA", 1) in paths(facts)
    assert ("tag", "inter-node", "tcp", "vhpcB", 1) in paths(facts)


def test_real_srun_pmix_ucx_unpadded_prefix() -> None:
    facts = analyse("real-15-srun-pmix-ucx.txt")
    assert set(facts.versions["1.13.1"]) == {"vm:14544", "vm:14545"}
    assert ("tag", "intra-node", "sysv", "memory", 2) in paths(facts)


def test_real_charliecloud_cma_blocked_is_an_error_with_rank() -> None:
    facts = analyse("real-22-charliecloud-cma-blocked.txt")
    finding = next(f for f in facts.findings if f.code == "CMA_BLOCKED")
    assert finding.severity == "error"
    assert finding.evidence[0].line == 21
    assert "process_vm_readv" in finding.evidence[0].text
    blocked = [o for o in facts.observations if o.kind == "cma_blocked"]
    assert [o.rank for o in blocked] == ["vm:23078"]
    # The DIAG "Connection reset ... on cma/memory" line is not an error of its own.
    assert "UCX_ERROR" not in codes(facts)


def test_constructed_ucx_1_12_infiniband_two_nodes() -> None:
    facts = analyse("constructed-ucx-1.12-ib-two-nodes.txt")
    assert facts.versions == {
        "1.12.0": ["node01:20001", "node01:20002", "node02:30001", "node02:30002"]
    }
    assert paths(facts) == {
        ("tag", "self", "self", "memory0", 4),
        ("tag", "self", "knem", "memory", 4),
        # shared memory plus an RDMA lane for rendezvous: the peer is on the same node
        ("tag", "intra-node", "posix", "memory", 4),
        ("tag", "intra-node", "knem", "memory", 4),
        ("tag", "intra-node", "rc_mlx5", "mlx5_0:1", 4),
        ("tag", "inter-node", "rc_mlx5", "mlx5_0:1", 4),
        ("tag", "inter-node", "ud_verbs", "mlx5_0:1", 4),
    }
    assert facts.findings == []


def test_constructed_very_old_semicolon_and_continuation_lines() -> None:
    facts = analyse("constructed-ucx-1.8-very-old-semicolon.txt")
    assert facts.versions == {"1.8.1": ["oldnode:4711"]}
    assert paths(facts) == {
        ("tag", "self", "self", "memory", 1),
        ("tag", "self", "cma", "memory", 1),
        ("tag", "intra-node", "posix", "memory", 1),
        ("tag", "intra-node", "cma", "memory", 1),
        ("rma", "intra-node", "posix", "memory", 1),
        ("amo", "intra-node", "posix", "memory", 1),
        ("tag", "inter-node", "rc_verbs", "mlx4_0:1", 1),
        ("tag", "inter-node", "ud_verbs", "mlx4_0:1", 1),
        ("rma", "inter-node", "rc_verbs", "mlx4_0:1", 1),
        ("amo", "inter-node", "rc_verbs", "mlx4_0:1", 1),
    }


def test_constructed_new_format_scopes_dc_and_duplicate_lanes() -> None:
    facts = analyse("constructed-ucx-1.16-cfg-scopes-dc.txt")
    assert facts.versions == {"1.16.0": ["jrc0001.jureca:512001", "jrc0002.jureca:612001"]}
    assert list(facts.loaded_from) == ["/p/software/stages/2024/UCX/1.16.0/lib/libucp.so.0"]
    found = paths(facts)
    assert ("tag", "self", "xpmem", "memory", 2) in found
    assert ("ka", "self", "self", "memory0", 2) in found
    # printed scope wins over lane-based inference (an RDMA lane in an intra-node config)
    assert ("tag", "intra-node", "dc_mlx5", "mlx5_0:1", 1) in found
    # a lane printed twice in one group counts once per configuration
    assert ("tag", "inter-node", "dc_mlx5", "mlx5_0:1", 2) in found
    assert ("tag", "inter-node", "dc_mlx5", "mlx5_1:1", 2) in found
    assert ("ka", "inter-node", "ud_mlx5", "mlx5_0:1", 2) in found
    assert ("stream", "inter-node", "dc_mlx5", "mlx5_0:1", 2) in found
    # UCX_TLS=dc_x,self,sm keeps both shared memory and RDMA: no restriction finding
    assert "UCX_TLS_RESTRICTED" not in codes(facts)


def test_constructed_tcp_over_ipoib_address_and_absent_context() -> None:
    facts = analyse("constructed-ucx-1.17-tcp-ib0.txt")
    assert facts.versions == {"1.17.0": ["gpu-a01:7001", "gpu-a02:7101"]}
    assert facts.loaded_from == {
        "/opt/hpcx/ucx/lib/libucp.so.0": ["gpu-a01:7001"],
        "/usr/lib64/libucp.so.0": ["gpu-a02:7101"],
    }
    found = paths(facts)
    assert ("tag", "inter-node", "tcp", "ib0", 2) in found
    assert ("am", "inter-node", "tcp", "ib0", 2) in found
    assert ("tag", "self", "cuda_copy", "cuda", 1) in found
    restricted = next(f for f in facts.findings if f.code == "UCX_TLS_RESTRICTED")
    assert "excludes RDMA" in restricted.message
    assert "shared memory" not in restricted.message


def test_constructed_no_space_before_tag() -> None:
    facts = analyse("constructed-ucx-1.14-nospace-tag.txt")
    assert paths(facts) == {
        ("tag", "self", "sysv", "memory", 1),
        ("tag", "self", "cma", "memory", 1),
        ("tag", "self", "cuda_copy", "cuda", 1),
        ("rma", "self", "sysv", "memory", 1),
        ("tag", "intra-node", "sysv", "memory", 1),
        ("tag", "intra-node", "cma", "memory", 1),
        ("rma", "intra-node", "sysv", "memory", 1),
    }


def test_constructed_protocol_tables_old_and_new() -> None:
    facts = analyse("constructed-ucx-1.16-proto-table.txt")
    found = paths(facts)
    # 1.13-era header names ep_cfg[3]: its scope comes from that rank's ep_cfg[3] line
    assert ("tagged message/eager short", "inter-node", "rc_mlx5", "mlx5_0:1", 1) in found
    assert (
        "tagged message/rendezvous zero-copy read from remote",
        "inter-node",
        "rc_mlx5",
        "mlx5_0:1",
        1,
    ) in found
    # 1.16+ header prints the scope; a split row names both lanes
    assert ("tagged message/eager short", "intra-node", "sysv", "memory", 1) in found
    layer = "tagged message/rendezvous zero-copy flushed write to remote"
    assert (layer, "intra-node", "cma", "memory", 1) in found
    assert (layer, "intra-node", "rc_mlx5", "mlx5_0:1", 1) in found
    assert ("active message/short", "inter-node", "rc_mlx5", "mlx5_0:1", 1) in found
    assert ("active message/multi-frag copy-in", "inter-node", "rc_mlx5", "mlx5_0:1", 1) in found
    # neither the mpi4py row nor the perftest banner becomes a path
    assert all(p.transport in {"rc_mlx5", "sysv", "cma"} for p in facts.paths)


def test_constructed_decorated_lines_through_the_scanner() -> None:
    facts = analyse("constructed-ucx-decorated-crlf-colour-truncated.txt")
    assert facts.versions == {"1.13.1": ["vm:8041", "vm:8040"]}
    found = paths(facts)
    assert ("tag", "self", "self", "memory0", 1) in found
    assert ("tag", "intra-node", "sysv", "memory", 2) in found
    # the cut last line still names its complete lane; the cut one is kept as printed
    assert any(p.transport == "cma" and p.scope == "intra-node" for p in facts.paths)
    assert all(not e.text.startswith("[1,") for e in facts.path_evidence)


def test_constructed_errors_each_get_their_code() -> None:
    facts = analyse("constructed-ucx-errors.txt")
    assert codes(facts) == {
        "UCX_RESOURCE_UNAVAILABLE": "warning",
        "UCX_NO_AM_TRANSPORT": "error",
        "UCX_UNREACHABLE": "error",
        "UCX_API_INCOMPATIBLE": "error",
        "UCX_IFACE_OPEN_FAILED": "warning",
        "UCX_ERROR": "error",
        "UCX_WARNING": "info",
        "UCX_NO_RDMA_DEVICE": "info",
    }
    by_code = {f.code: f for f in facts.findings}
    assert [e.line for e in by_code["UCX_RESOURCE_UNAVAILABLE"].evidence] == [2, 3]
    assert "ibv_reg_mr" in by_code["UCX_ERROR"].message
    # the API error line also names the library it loaded
    assert facts.loaded_from == {"/usr/lib64/libucp.so.0": ["c1:104"]}


@pytest.mark.parametrize(
    ("value", "excluded"),
    [
        ("tcp", ["shared memory", "RDMA"]),
        ("tcp,self,sm", ["RDMA"]),
        ("sm,self", ["RDMA"]),
        ("rc,sm,self", []),
        ("dc_x,self,sm", []),
        ("ud_v,posix", []),
        ("all", []),
        ("^sm", ["shared memory"]),
        ("^ib", ["RDMA"]),
        ("^rc,dc,ud", ["RDMA"]),
        ("^tcp", []),
        ("^cma", []),
        ("", []),
    ],
)
def test_tls_exclusions(value: str, excluded: list[str]) -> None:
    assert ucx.tls_exclusions(value) == excluded


def test_scope_from_lanes() -> None:
    assert ucx.scope_from_lanes([("self", "memory0"), ("cma", "memory")]) == "self"
    assert ucx.scope_from_lanes([("sysv", "memory"), ("tcp", "eth0")]) == "intra-node"
    assert ucx.scope_from_lanes([("cuda_ipc", "cuda"), ("rc_mlx5", "mlx5_0:1")]) == "intra-node"
    assert ucx.scope_from_lanes([("rc_mlx5", "mlx5_0:1"), ("cuda_copy", "cuda")]) == "inter-node"
    assert ucx.scope_from_lanes([("tcp", "lo")]) == "intra-node"
    assert ucx.scope_from_lanes([("tcp", "lo"), ("tcp", "eth0")]) == "inter-node"
    assert ucx.scope_from_lanes([("cuda_copy", "cuda")]) == "unknown"
    assert ucx.scope_from_lanes([]) == "unknown"


def test_rank_prefix_variants() -> None:
    assert ucx.rank_of("[1.0] [node1:3473 :0] x.c:1 UCX  INFO  y") == "node1:3473"
    assert ucx.rank_of("[1.0] [node1:3473:0] x.c:1 UCX  INFO  y") == "node1:3473"
    assert ucx.rank_of("[vm:23078:0:23078]      cma_ep.c:81   process_vm_readv") == "vm:23078"
    assert ucx.rank_of("[1.0] [vm:896  :0]     ucp_context.c:1849") == "vm:896"
    assert ucx.rank_of("no prefix here") is None


def test_lines_without_rank_prefix_still_count() -> None:
    facts = feed_lines(
        "UCX  INFO  Version 1.15.0 (loaded from /opt/ucx/lib/libucp.so.0)",
        "ucp_context_0 intra-node cfg#1 tag(posix/memory)",
    )
    assert facts.versions == {"1.15.0": ["?"]}
    assert paths(facts) == {("tag", "intra-node", "posix", "memory", 1)}


def test_ucx_info_version_block() -> None:
    facts = feed_lines("# Library version: 1.16.0", "# Library path: /usr/lib64/libucs.so.0")
    assert facts.versions == {"1.16.0": ["?"]}
    assert facts.loaded_from == {"/usr/lib64/libucs.so.0": ["?"]}


def test_unrelated_lines_with_anchors_are_ignored() -> None:
    facts = feed_lines(
        "modules loaded from /etc/profile",
        "see docs | not a table | at all",
        "some text with am( inside",
        "cfg# used in a comment",
    )
    assert facts == engine_class(ucx)().facts()


def test_evidence_is_capped_per_finding() -> None:
    lines = [f"[1.0] [h:{i}:0] x.c:1 UCX  ERROR something broke {i}" for i in range(50)]
    facts = feed_lines(*lines)
    (finding,) = facts.findings
    assert len(finding.evidence) == 8
    assert "50 times" in finding.message


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=20))
def test_random_text_never_raises(lines: list[str]) -> None:
    analyser = engine_class(ucx)()
    for number, line in enumerate(lines, 1):
        analyser.feed(line, Evidence(file="r.log", line=number, text=line))
    analyser.facts()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "ep_cfg[",
                "cfg#",
                " tag(",
                " rma(",
                "|",
                " | ",
                "..",
                "inf",
                "/",
                "UCX  ERROR",
                "UCX_* env variable:",
                "UCX_TLS=",
                "^",
                ",",
                "loaded from",
                "Version 1.",
                "UCP version is 1.",
                "[h:1 :0]",
                "(",
                ")",
                ";",
                "intra-node",
                "process_vm_readv",
                "\x1b[31m",
                "\ufffd",
                " ",
                "0",
            ]
        ),
        max_size=30,
    )
)
def test_anchor_soup_never_raises(pieces: list[str]) -> None:
    line = "".join(pieces)
    analyser = engine_class(ucx)()
    analyser.feed(line, Evidence(file="s.log", line=1, text=line))
    analyser.feed("", Evidence(file="s.log", line=2, text=""))
    analyser.facts()


def test_real_ucx_info_v_old_version_line() -> None:
    facts = analyse("real-ucx-info-v.txt")
    assert facts.versions == {"1.13.1": ["?"]}


def test_version_mismatch_warnings_name_the_library_actually_loaded() -> None:
    facts = analyse("constructed-ucx-errors.txt")
    assert facts.versions == {"1.12.0": ["c1:104", "c1:109"]}
    incompatible = next(f for f in facts.findings if f.code == "UCX_API_INCOMPATIBLE")
    assert [e.line for e in incompatible.evidence] == [6, 12]


def test_ucx_version_printed_by_open_mpi_pml_ucx() -> None:
    facts = feed_lines(
        "[vm:00896] ../../ompi/mca/pml/ucx/pml_ucx.c:197 mca_pml_ucx_open: UCX version 1.13.1"
    )
    assert facts.versions == {"1.13.1": ["vm:896"]}


def test_newest_version_line_with_git_branch_and_revision() -> None:
    facts = feed_lines(
        "[1761234.567890] [host:12345:0]     ucp_context.c:2737  UCX  INFO  Version 1.19.0 "
        "(loaded from /usr/lib64/libucp.so.0), git branch 'master', revision a1b2c3d"
    )
    assert facts.versions == {"1.19.0": ["host:12345"]}
    assert facts.loaded_from == {"/usr/lib64/libucp.so.0": ["host:12345"]}


def test_real_ucx_info_d_lists_no_rdma_device() -> None:
    facts = analyse("real-ucx-info-d.txt")
    assert [o for o in facts.observations if o.kind == "rdma_device"] == []
    assert facts.paths == []


def test_constructed_ucx_info_d_lists_an_rdma_device_once() -> None:
    facts = analyse("constructed-ucx-info-d-mlx5.txt")
    devices = [o for o in facts.observations if o.kind == "rdma_device"]
    # Line 11 repeats line 7 word for word: a repeated line is read once.
    assert [(o.value, [e.line for e in o.evidence]) for o in devices] == [("mlx5_0:1", [7])]


def test_new_form_without_scope_word_is_read_like_the_old_form() -> None:
    facts = feed_lines(
        "[1.0] [h:1:0] ucp_worker.c:1 UCX  INFO  0x2d96 cfg#1 tag(sysv/memory rc_mlx5/mlx5_0:1)",
        "[1.0] [h:1:0] ucp_worker.c:1 UCX  INFO    ucp_context_0 cfg#2 tag(rc_mlx5/mlx5_0:1)",
        "[1.0] [h:1:0] ucp_worker.c:1 UCX  INFO    inter-node cfg#3 tag(tcp/eth0)",
    )
    assert paths(facts) == {
        ("tag", "intra-node", "sysv", "memory", 1),
        ("tag", "intra-node", "rc_mlx5", "mlx5_0:1", 1),
        ("tag", "inter-node", "rc_mlx5", "mlx5_0:1", 1),
        ("tag", "inter-node", "tcp", "eth0", 1),
    }


def test_every_lane_keeps_a_line_that_names_it() -> None:
    lines = [
        f"[1.0] [n{i}:{i}:0] ucp_worker.c:1 UCX  INFO  ep_cfg[{j}]: tag({lane})"
        for i in range(20)
        for j, lane in enumerate(["self/memory0 cma/memory", "sysv/memory cma/memory"])
    ]
    lines.append("[1.0] [n0:0:0] ucp_worker.c:1 UCX  INFO  ep_cfg[2]: tag(tcp/eth0)")
    facts = feed_lines(*lines)
    for path in facts.paths:
        needle = f"{path.transport}/{path.device}"
        assert any(needle in e.text for e in facts.path_evidence), needle
    assert len(facts.path_evidence) <= ucx.MAX_PATH_EVIDENCE


@pytest.mark.parametrize(
    "line",
    [
        "ep_cfg[0]: " + "a(" + "b c " * 300_000,
        "[h:1:0] x.c:1 UCX  INFO    rma(" + "bbbb c(" * 100_000 + "!",
        "[h:1:0] UCX  INFO  cfg#1 " + "tag(x/y " * 100_000,
        " | " * 300_000,
    ],
)
def test_megabyte_lines_are_cut_before_parsing(line: str) -> None:
    analyser = engine_class(ucx)()
    analyser.feed(
        "[h:1:0] x.c:1 UCX  INFO  ep_cfg[0]: tag(posix/memory)", Evidence(file="l", line=1, text="")
    )
    analyser.feed(line, Evidence(file="l", line=2, text=line[:100]))
    assert analyser.facts().library == "ucx"


def test_many_ranks_keep_memory_flat_and_counts_exact() -> None:
    analyser = ucx.Analyser()  # the stateful reader itself
    for pid in range(10_000):
        line = f"[1.0] [h:{pid}:0] ucp_worker.c:1 UCX  INFO  ep_cfg[0]: tag(sysv/memory)"
        analyser.feed(line, Evidence(file="m.log", line=pid + 1, text=line))
        assert len(analyser._pending) <= ucx.MAX_OPEN_CONFIGS
    assert paths(analyser.facts()) == {("tag", "intra-node", "sysv", "memory", 10_000)}


def test_cma_failure_for_another_reason_is_not_a_block() -> None:
    facts = feed_lines(
        "[h:7:0:7]      cma_ep.c:81   process_vm_readv(pid=8 {0x1,8}-->{0x2,8}) returned -1: "
        "No such process",
        "[1.0] [h:9:0] cma_ep.c:81 UCX  ERROR process_vm_writev(pid=3 {0x1,8}-->{0x2,8}) "
        "returned -1: Operation not permitted",
    )
    assert codes(facts) == {"UCX_ERROR": "error", "CMA_BLOCKED": "error"}
    assert [o.rank for o in facts.observations if o.kind == "cma_blocked"] == ["h:9"]
