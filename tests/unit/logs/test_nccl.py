"""NCCL analyser: constructed fixtures for every documented line variant, plus robustness."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.logs.base import LibraryFacts
from builder.logs.linerules import LineRule
from builder.logs.nccl import CODES, LINE_RULES, Analyser, Fact, split_line
from builder.model.analysis import Evidence

FIXTURES = Path(__file__).parents[2] / "fixtures" / "logs" / "nccl"


def analyse_lines(lines: list[str], name: str = "inline.log") -> LibraryFacts:
    analyser = Analyser()
    for number, line in enumerate(lines, 1):
        if any(anchor.decode() in line for anchor in Analyser.anchors):
            analyser.feed(line, Evidence(file=name, line=number, text=line))
    return analyser.facts()


def analyse(fixture: str) -> LibraryFacts:
    path = FIXTURES / fixture
    return analyse_lines(path.read_text().splitlines(), str(path))


def codes(facts: LibraryFacts) -> dict[str, str]:
    return {f.code: f.severity for f in facts.findings}


def paths(facts: LibraryFacts) -> set[tuple[str, str, str, str | None, int]]:
    return {(p.layer, p.scope, p.transport, p.device, p.count) for p in facts.paths}


def test_old_channel_lines_with_bus_ids_name_ib_device_and_gdr() -> None:
    facts = analyse("constructed-nccl-2.8-ib-old-channels.txt")
    assert facts.versions == {"2.8.4+cuda11.2": ["unknown"]}
    assert facts.selected == {"nccl_net": "IB", "gdr": True}
    assert paths(facts) == {
        ("channel", "inter-node", "NET/IB", "mlx5_0", 4),
        ("channel", "intra-node", "P2P/IPC", None, 2),
    }
    assert codes(facts) == {}


def test_bracketed_roce_without_gdr_is_gdr_off() -> None:
    facts = analyse("constructed-nccl-2.14-bracketed-roce-nogdr.txt")
    assert facts.versions == {"2.14.3+cuda11.7": ["node-a:3301", "node-b:4401"]}
    assert facts.selected == {"nccl_net": "IB", "gdr": False}
    assert paths(facts) == {
        ("channel", "inter-node", "NET/IB", "mlx5_2", 4),
        ("channel", "inter-node", "NET/IB", "mlx5_3", 2),
    }
    assert codes(facts) == {"GDR_OFF": "error"}  # RDMA between nodes without GDR
    gdr_off = facts.findings[0]
    assert "6 of 6" in gdr_off.message
    assert any("no module" in ev.text for ev in gdr_off.evidence)
    observed = {(o.kind, o.value) for o in facts.observations}
    assert ("link_layer", "RoCE") in observed
    assert ("ib_device", "mlx5_2:1/RoCE") in observed


def test_new_format_with_timestamps_proxy_lane_and_cumem() -> None:
    facts = analyse("constructed-nccl-2.21-ib-gdr-timestamps.txt")
    assert facts.versions == {"2.21.5+cuda12.4": ["gpu-n1:5001", "gpu-n1:5002", "gpu-n2:6001"]}
    assert facts.selected == {"nccl_net": "IB", "gdr": True}
    assert paths(facts) == {
        ("channel", "intra-node", "P2P/CUMEM", None, 1),
        ("channel", "inter-node", "NET/IB", "mlx5_1", 1),
        ("channel", "inter-node", "NET/IB", "mlx5_0", 4),
    }
    assert codes(facts) == {}
    assert all(ev.line > 1 for ev in facts.path_evidence)


def test_socket_fallback_with_env_switches_shm_and_warn() -> None:
    facts = analyse("constructed-nccl-socket-fallback.txt")
    assert facts.selected == {"nccl_net": "Socket", "gdr": False}
    assert ("channel", "inter-node", "NET/Socket", "eth0", 4) in paths(facts)
    assert ("channel", "intra-node", "SHM", None, 1) in paths(facts)
    assert codes(facts) == {
        "NCCL_SOCKET": "error",
        "NCCL_SHM_NOT_P2P": "warning",
        "NCCL_IB_NO_DEVICE": "warning",
        "NCCL_IBVERBS_MISSING": "warning",
        "NCCL_IB_DISABLED": "warning",
        "NCCL_P2P_DISABLED": "warning",
        "NCCL_WARN": "warning",
    }
    shm = next(f for f in facts.findings if f.code == "NCCL_SHM_NOT_P2P")
    assert "NCCL_P2P_DISABLE=1" in shm.message
    warn = next(f for f in facts.findings if f.code == "NCCL_WARN")
    assert "Connection closed" in warn.message
    assert warn.evidence[0].line == 17
    env = {o.value for o in facts.observations if o.kind == "env"}
    assert "NCCL_SOCKET_IFNAME=eth0" in env


def test_hpcx_plugin_channels_are_named_by_plugin() -> None:
    facts = analyse("constructed-nccl-hpcx-ibext.txt")
    assert facts.selected == {"nccl_net": "IBext_v8", "gdr": True}
    assert paths(facts) == {("channel", "inter-node", "NET/IBext_v8", "mlx5_0", 2)}
    plugins = {o.value for o in facts.observations if o.kind == "plugin"}
    assert plugins == {"IBext_v8"}


def test_aws_ofi_plugin_reports_provider_and_spaced_network_name() -> None:
    facts = analyse("constructed-nccl-aws-ofi-cxi.txt")
    assert facts.selected == {"nccl_net": "AWS Libfabric", "ofi_provider": "cxi", "gdr": True}
    assert ("channel", "inter-node", "NET/AWS Libfabric", "cxi", 2) in paths(facts)
    assert ("channel", "intra-node", "P2P/direct pointer", None, 1) in paths(facts)
    assert codes(facts) == {}


def test_socket_selected_without_channels_is_only_a_warning() -> None:
    facts = analyse_lines(["h:1:1 [0] NCCL INFO Using network Socket"])
    assert codes(facts) == {"NCCL_SOCKET": "warning"}
    assert facts.selected == {"nccl_net": "Socket"}


def test_shm_with_p2p_elsewhere_says_so() -> None:
    facts = analyse_lines(
        [
            "h:1:1 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/IPC",
            "h:1:1 [0] NCCL INFO Channel 01/0 : 1[1] -> 2[2] via SHM/direct/direct",
        ]
    )
    shm = next(f for f in facts.findings if f.code == "NCCL_SHM_NOT_P2P")
    assert "other GPU pairs use P2P" in shm.message


def test_gdr_from_announcements_when_no_net_channel() -> None:
    enabled = analyse_lines(
        ["h:1:1 [0] NCCL INFO NET/IB : GPU Direct RDMA Enabled for HCA 0 'mlx5_0'"]
    )
    disabled = analyse_lines(
        ["h:1:1 [0] NCCL INFO NET/IB : GPU Direct RDMA Disabled for HCA 0 'mlx5_0' (no module)"]
    )
    old_topo = analyse_lines(
        ["h:1:1 [0] NCCL INFO GPU Direct RDMA Disabled for GPU 1b000 / HCA 0 (distance 5 > 4)"]
    )
    assert enabled.selected == {"nccl_net": "IB", "gdr": True}
    assert disabled.selected == {"nccl_net": "IB", "gdr": False}
    assert old_topo.selected == {"gdr": False}
    assert analyse_lines(["h:1:1 [0] NCCL INFO Init COMPLETE"]).selected == {}


def test_gdr_level_env_switch_and_ring_layer_and_bare_prefix() -> None:
    facts = analyse_lines(
        [
            "NCCL INFO NCCL_NET_GDR_LEVEL set by environment to LOC",
            "h:1:1 [0] NCCL INFO Ring 00 : 0[0] -> 1[1] via P2P/IPC",
            "h:1:1 [0] NCCL INFO Ring 00 : 3 -> 0 [receive] via NET/IB/0",
        ]
    )
    assert codes(facts) == {"NCCL_GDR_DISABLED": "warning", "GDR_OFF": "error"}
    assert {p.layer for p in facts.paths} == {"ring"}


def test_warn_lines_are_grouped_and_capped() -> None:
    lines = [f"h:1:1 [0] enqueue.cc:{n} NCCL WARN Cuda failure {n}" for n in range(30)]
    lines += ["h:1:1 [0] enqueue.cc:0 NCCL WARN Cuda failure 0"] * 3
    facts = analyse_lines(lines)
    warns = [f for f in facts.findings if f.code == "NCCL_WARN"]
    assert len(warns) == 10
    assert len(warns[0].evidence) == 4
    assert "more WARN lines" in warns[-1].message


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_garbage_never_raises(text: str) -> None:
    analyser = Analyser()
    evidence = Evidence(file="g", line=1, text=text)
    analyser._feed(text, evidence)  # the unguarded path: the parser itself must not raise
    analyser._feed("h:1:1 [0] NCCL INFO " + text, evidence)
    analyser._feed("h:1:1 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via " + text, evidence)
    analyser._feed("h:1:1 [0] NCCL INFO NET/IB : Using " + text, evidence)
    analyser.facts()


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_truncated_real_lines_never_raise(data: st.DataObject) -> None:
    lines = (FIXTURES / "constructed-nccl-2.21-ib-gdr-timestamps.txt").read_text().splitlines()
    line = data.draw(st.sampled_from(lines))
    cut = data.draw(st.integers(min_value=0, max_value=len(line)))
    analyser = Analyser()
    analyser._feed(line[:cut], Evidence(file="t", line=1, text=line[:cut]))
    analyser.facts()


def test_empty_input_has_no_transport_evidence() -> None:
    facts = analyse_lines(["", "   ", "\x00\x01"])
    assert not facts.has_transport_evidence()
    assert facts.findings == []


def test_collnet_lines_are_network_paths() -> None:
    facts = analyse_lines(
        [
            "h:1:1 [0] NCCL INFO CollNet 00/0 : 0 [send] via COLLNET/SHARP/0",
            "h:1:1 [0] NCCL INFO Coll 01 : 0 [receive] via COLLNET/SHARP/0",
        ]
    )
    assert {(p.layer, p.scope, p.transport) for p in facts.paths} == {
        ("collnet", "inter-node", "COLLNET/SHARP")
    }
    gdr_off = next(f for f in facts.findings if f.code == "GDR_OFF")
    assert "COLLNET/SHARP" in gdr_off.message
    assert facts.selected["gdr"] is False


def test_p2p_level_loc_counts_as_p2p_disabled() -> None:
    facts = analyse_lines(
        [
            "h:1:1 [0] NCCL INFO NCCL_P2P_LEVEL set by environment to LOC",
            "h:1:1 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via SHM/direct/direct",
        ]
    )
    assert {f.code for f in facts.findings} == {"NCCL_P2P_DISABLED", "NCCL_SHM_NOT_P2P"}
    shm = next(f for f in facts.findings if f.code == "NCCL_SHM_NOT_P2P")
    assert "NCCL_P2P_LEVEL=LOC" in shm.message


def test_warn_about_libibverbs_also_means_no_verbs() -> None:
    facts = analyse_lines(
        ["h:1:1 [0] misc/ibvwrap.cc:63 NCCL WARN Failed to open libibverbs.so[.1]"]
    )
    assert {f.code for f in facts.findings} == {"NCCL_WARN", "NCCL_IBVERBS_MISSING"}


def test_megabyte_lines_are_cut_not_backtracked() -> None:
    # A 1 MiB piece (the scanner's largest) holding an anchor must not make the prefix
    # pattern retry at every position; the line is cut and parsed in a bounded window.
    analyser = Analyser()
    for line in ("x" * 1_048_576 + "NCCL WARN boom", "a:" * 500_000 + " NCCL INFO x"):
        analyser.feed(line, Evidence(file="big", line=1, text=line[:500]))
    assert analyser.facts().library == "nccl"


def test_net_between_ranks_of_one_host_is_intra_node() -> None:
    facts = analyse("constructed-nccl-2.19-single-node-net-loopback.txt")
    assert paths(facts) == {("channel", "intra-node", "NET/IB", "mlx5_0", 4)}
    assert codes(facts) == {
        "GDR_OFF": "warning",
        "NCCL_P2P_DISABLED": "warning",
        "NCCL_SHM_DISABLED": "info",
    }


def test_rank_numbers_seen_on_two_hosts_are_not_trusted() -> None:
    facts = analyse_lines(
        [
            "a:1:1 [0] NCCL INFO comm 0x1 rank 0 nranks 2 cudaDev 0 busId 1000 - Init START",
            "a:2:2 [1] NCCL INFO comm 0x2 rank 1 nranks 2 cudaDev 1 busId 2000 - Init START",
            "b:3:3 [0] NCCL INFO comm 0x3 rank 0 nranks 2 cudaDev 0 busId 1000 - Init START",
            "a:1:1 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] [send] via NET/IB/0/GDRDMA",
        ]
    )
    assert {p.scope for p in facts.paths} == {"inter-node"}


def test_aws_ofi_startup_lines_are_observed() -> None:
    facts = analyse("constructed-nccl-aws-ofi-cxi.txt")
    observed = {(o.kind, o.value) for o in facts.observations}
    assert ("libfabric_version", "1.20") in observed
    assert ("plugin_version", "aws-ofi-nccl 1.9.1-aws") in observed


def test_tables_stay_bounded_on_endless_distinct_garbage() -> None:
    analyser = Analyser()
    for n in range(3000):
        for line in (
            f"h:1:1 [0] NCCL INFO Using network Net{n}",
            f"h:1:1 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via NET/X{n}/0",
            f"h:1:1 [0] NCCL INFO NCCL_X{n} set by environment to 1",
            f"h:1:1 [0] NCCL INFO NCCL version 2.{n}.1",
        ):
            analyser.feed(line, Evidence(file="m", line=n + 1, text=line))
    facts = analyser.facts()
    assert len(facts.paths) <= 1024
    assert len(facts.versions) <= 64
    assert len(facts.observations) <= 512


def test_launcher_prefixes_before_the_nccl_prefix() -> None:
    facts = analyse_lines(
        [
            "[rank3]:node1:1234:1234 [3] NCCL INFO NCCL version 2.20.5+cuda12.4",
            "[default0]:node2:77:77 [0] NCCL INFO Channel 00/0 : 3[3] -> 4[0] [send] via "
            "NET/IB/0/GDRDMA",
        ]
    )
    assert facts.versions == {"2.20.5+cuda12.4": ["node1:1234"]}
    assert {(p.transport, p.device) for p in facts.paths} == {("NET/IB", "0")}


def test_device_table_names_the_network_when_nothing_else_does() -> None:
    ib = analyse_lines(["h:1:1 [0] NCCL INFO NET/IB : Using [0]mlx5_0:1/IB ; OOB ib0:10.0.0.1<0>"])
    sock = analyse_lines(
        [
            "h:1:1 [0] NCCL INFO NET/IB : No device found.",
            "h:1:1 [0] NCCL INFO NET/Socket : Using [0]eth0:10.1.2.3<0>",
        ]
    )
    assert ib.selected == {"nccl_net": "IB"}
    assert sock.selected == {"nccl_net": "Socket"}


def test_other_per_device_lines_still_tell_the_link_layer() -> None:
    facts = analyse_lines(
        ["h:1:1 [0] NCCL INFO NET/IB : [0] mlx5_bond_0:1/RoCE provider=Mlx5 speed=200000"]
    )
    observed = {(o.kind, o.value) for o in facts.observations}
    assert ("ib_device", "mlx5_bond_0:1/RoCE") in observed
    assert ("link_layer", "RoCE") in observed


@pytest.mark.parametrize("rule", LINE_RULES, ids=lambda r: f"{r.kind.value}:{r.example[-40:]}")
def test_every_rule_example_reaches_the_analyser_and_matches_its_rule(
    rule: LineRule[Fact],
) -> None:
    assert any(anchor in rule.example.encode() for anchor in Analyser.anchors), "no anchor"
    analyser = Analyser()
    line = split_line(rule.example, Evidence(file="rules", line=1, text=rule.example))
    assert analyser.apply(line) is rule
    analyser.facts()  # conclusions never raise either


def test_every_rule_code_is_documented() -> None:
    documented = {info.code for info in CODES}
    assert {rule.code for rule in LINE_RULES if rule.code} <= documented


def test_nnodes_one_keeps_net_lanes_inside_the_node() -> None:
    facts = analyse_lines(
        [
            "n:1:1 [0] NCCL INFO comm 0x1 rank 0 nRanks 2 nNodes 1 localRanks 2 localRank 0",
            "n:1:1 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] [send] via NET/Socket/0",
            "n:1:1 [0] NCCL INFO Channel 01/0 : 0[0] -> 1[1] [send] via NET/IB/0",
        ]
    )
    assert {p.scope for p in facts.paths} == {"intra-node"}
    assert codes(facts) == {"GDR_OFF": "warning"}


def test_socket_between_nodes_is_an_error_only_with_rdma_in_sight() -> None:
    plain = ["a:1:1 [0] NCCL INFO Channel 00/0 : 1[1] -> 2[0] [send] via NET/Socket/0"]
    assert codes(analyse_lines(plain)) == {"NCCL_SOCKET": "warning"}
    for hint in (
        "a:1:1 [0] NCCL INFO NET/Socket : Using [0]ib0:10.0.0.1<0>",
        "a:1:1 [0] NCCL INFO Bootstrap : Using ibp12s0:10.149.0.32<0>",
        "a:1:1 [0] NCCL INFO NCCL_IB_DISABLE set by environment to 1.",
        "a:1:1 [0] NCCL INFO Failed to open libibverbs.so[.1]",
        "a:1:1 [0] NCCL INFO P2P plugin IBext",
    ):
        assert codes(analyse_lines([hint, *plain]))["NCCL_SOCKET"] == "error", hint


def test_selected_network_stands_for_the_inter_node_path_until_one_node_is_proven() -> None:
    init = [
        "a:1:1 [0] NCCL INFO NET/IB : Using [0]mlx5_3:1/RoCE ; OOB eth1:10.0.0.74<0>",
        "a:1:1 [0] NCCL INFO Using network IB",
    ]
    assert paths(analyse_lines(init)) == {("net", "inter-node", "NET/IB", "mlx5_3", 1)}
    one_rank = [*init, "a:1:1 [0] NCCL INFO comm 0x1 rank 0 nranks 1 cudaDev 0 - Init START"]
    assert paths(analyse_lines(one_rank)) == set()
    old = [
        "node05:1992:2014 [0] INFO NET/IB: [0] mlx4_0:1/IB",
        "node05:1992:2014 [0] INFO Using internal Network IB",
    ]
    assert analyse_lines(old).selected == {"nccl_net": "IB"}
    bare = ["Using network IBext_v8", "NET/IB : Using [0]ibp0:1/IB/SHARP [RO]; OOB eth0:1.2.3.4<0>"]
    assert paths(analyse_lines(bare)) == {("net", "inter-node", "NET/IBext_v8", "ibp0", 1)}


def test_empty_oob_interface_and_ofi_without_gdr_are_errors() -> None:
    no_oob = analyse_lines(["g:1:1 [0] NCCL INFO NET/IB : Using [0]mlx5_0:1/RoCE ; OOB :"])
    assert codes(no_oob)["NCCL_IB_NO_OOB"] == "error"
    ofi = analyse_lines(
        [
            "TRACE: Function: find_ofi_provider Line: 525: NET/OFI Could not find any optimal "
            "provider supporting GPUDirect RDMA",
            "INFO: Function: ofi_init Line: 1033: NET/OFI Selected Provider is psm2",
            "INFO: Function: main Line: 69: NET/OFI Process rank 0 started. NCCLNet device used "
            "on node13 is AWS Libfabric.",
        ]
    )
    assert ofi.selected == {"nccl_net": "AWS Libfabric", "ofi_provider": "psm2", "gdr": False}
    assert codes(ofi) == {"GDR_OFF": "error"}
    assert paths(ofi) == {("net", "inter-node", "NET/AWS Libfabric", "psm2", 1)}


def test_gdr_announcements_on_socket_interfaces_are_no_finding() -> None:
    facts = analyse_lines(
        ["q:1:1 [3] NCCL INFO NET/Socket : GPU Direct RDMA Disabled for HCA 1 'lan3'"]
    )
    assert facts.selected == {"nccl_net": "Socket", "gdr": False}
    assert "GDR_OFF" not in codes(facts)


def test_gdr_on_some_lanes_counts_as_gdr_in_use() -> None:
    # PCIe systems run send lanes without GDR read by default: only receive lanes show /GDRDMA.
    facts = analyse_lines(
        [
            "a:1:1 [0] NCCL INFO Channel 00 : 0[1a000] -> 1[1a000] [send] via NET/IB/0",
            "b:2:2 [0] NCCL INFO Channel 00 : 0[1a000] -> 1[1a000] [receive] via NET/IB/0/GDRDMA",
        ]
    )
    assert facts.selected == {"nccl_net": "IB", "gdr": True}
    assert "GDR_OFF" not in codes(facts)


def test_intra_node_channels_alone_hide_the_network_unless_a_second_node_shows() -> None:
    local = [
        "a:1:1 [0] NCCL INFO Using network IB",
        "a:1:1 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM",
    ]
    assert {p.layer for p in analyse_lines(local).paths} == {"channel"}
    two_nodes = [*local, "b:2:2 [0] NCCL INFO Using network IB"]
    assert ("net", "inter-node", "NET/IB", None, 1) in paths(analyse_lines(two_nodes))


def test_a_reader_error_becomes_an_info_finding_naming_the_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    analyser = Analyser()

    def boom(match: object, line: object) -> None:
        raise ValueError("boom")

    monkeypatch.setitem(analyser._handlers, Fact.VERSION, boom)
    text = "h:1:1 [0] NCCL INFO NCCL version 2.21.5+cuda12.4"
    analyser.feed(text, Evidence(file="x.log", line=7, text=text))
    finding = next(f for f in analyser.facts().findings if f.code == "NCCL_READER_ERROR")
    assert finding.severity == "info"
    assert "ValueError: boom" in finding.message
    assert finding.evidence[0].line == 7


def test_long_lines_without_a_level_marker_are_read_in_bounded_time() -> None:
    analyser = Analyser()
    for line in ("NET/" + "a" * 8000, "Using network " + "b" * 8000, "x INFO " + "c:" * 4000):
        analyser.feed(line, Evidence(file="big", line=1, text=line[:100]))
    assert analyser.facts().library == "nccl"
