"""libfabric analyser: real logs from this machine (1.17), constructed older and newer prefixes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.logs.base import LibraryFacts
from builder.logs.libfabric import (
    CODES,
    LOG_RULES,
    TEXT_RULES,
    Analyser,
    Fact,
    core_provider,
    is_fast_provider,
    is_plumbing_provider,
    is_socket_provider,
)
from builder.logs.linerules import LineRule
from builder.model.analysis import Evidence

FIXTURES = Path(__file__).parents[2] / "fixtures" / "logs" / "libfabric"


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


def observed(facts: LibraryFacts, kind: str) -> set[str | None]:
    return {o.value for o in facts.observations if o.kind == kind}


def test_real_fi_info_tcp_lists_usable_providers_and_registrations() -> None:
    facts = analyse("real-fi-info-tcp-info.txt")
    assert facts.versions == {"1.17": ["8063"]}
    assert "tcp;ofi_rxm" in observed(facts, "provider_available")
    assert "tcp;ofi_rxm/eth0" in observed(facts, "provider_available")
    assert {"tcp", "psm2", "shm", "ofi_rxm"} <= observed(facts, "provider_registered")
    assert "tcp 117.0" in observed(facts, "provider_version")
    assert "ofi_rxd -61 (No data available)" in observed(facts, "provider_failed")
    assert codes(facts) == {}
    assert not facts.has_transport_evidence()


def test_real_fi_info_without_rdma_device_has_no_provider() -> None:
    facts = analyse("real-fi-info-verbs-no-provider.txt")
    assert codes(facts) == {"OFI_NO_PROVIDER": "error"}
    finding = facts.findings[0]
    assert [ev.text for ev in finding.evidence] == ["fi_getinfo: -61"]
    assert observed(facts, "no_rdma_device") == {"verbs"}


def test_real_filtered_providers_are_reported_as_info() -> None:
    facts = analyse("real-fi-info-list-filtered.txt")
    assert codes(facts) == {"OFI_PROVIDER_FILTERED": "info"}
    assert observed(facts, "provider_filtered") == {"psm2", "psm", "shm", "udp", "sockets", "net"}


def test_real_fi_info_version_lines() -> None:
    facts = analyse("real-fi-info-list-version.txt")
    assert facts.versions == {"1.17.0": ["fi_info"]}
    assert [ev.line for ev in facts.version_evidence] == [2, 3]


def test_real_open_mpi_mtl_ofi_run_opened_a_fabric() -> None:
    facts = analyse("real-ompi-mtl-ofi-fi-log-info.txt")
    assert facts.versions == {"1.17": ["8396", "8395"]}
    assert observed(facts, "fabric_opened") == {"127.0.0.1/32"}
    assert observed(facts, "provider_requested") == {"tcp;ofi_rxm"}
    # tcp and utility providers returned -61 on some queries, yet a fabric opened: no error.
    assert codes(facts) == {"OFI_PROVIDER_FILTERED": "info"}


def test_pre_1_14_prefix_and_only_tcp_usable_while_verbs_failed() -> None:
    facts = analyse("constructed-libfabric-1.13-prefix-verbs-fails-tcp-only.txt")
    assert facts.versions == {"1.13": ["20111"]}
    assert codes(facts) == {"OFI_ONLY_TCP": "warning"}
    assert "verbs" in facts.findings[0].message


def test_1_14_prefix_every_provider_failing_is_no_provider() -> None:
    facts = analyse("constructed-libfabric-1.14-prefix-all-61.txt")
    assert facts.versions == {"1.14": ["3120"]}
    assert codes(facts) == {"OFI_NO_PROVIDER": "error"}
    assert len(facts.findings[0].evidence) == 4


def test_2x_prefix_with_layer_field_and_external_provider() -> None:
    facts = analyse("constructed-libfabric-2.x-prefix-cxi-layered.txt")
    assert facts.versions == {"2.0": ["77001"]}
    assert observed(facts, "provider_registered") == {"cxi", "tcp"}
    assert observed(facts, "fabric_opened") == {"cxi"}
    assert codes(facts) == {"OFI_PROVIDER_FILTERED": "info"}


def test_pid_less_prefix_and_skip_notice() -> None:
    facts = analyse("constructed-libfabric-old-no-pid.txt")
    assert observed(facts, "provider_skipped") == {"verbs"}
    assert observed(facts, "provider_preferred") == {"psm"}
    # sockets registered and never failed: not every provider failed.
    assert codes(facts) == {}
    assert facts.versions == {}


def test_no_providers_found_and_warn_level_failures() -> None:
    assert codes(analyse_lines(["ofi_init: No providers found"])) == {"OFI_NO_PROVIDER": "error"}
    warn_only = analyse_lines(
        [
            "libfabric:1:1700000000::core:core:fi_getinfo_():1230<warn> "
            "fi_getinfo: provider ofi_rxd returned -61 (No data available)"
        ]
    )
    assert codes(warn_only) == {}


def test_consumer_selection_counts_as_success_and_usable() -> None:
    lines = [
        "libfabric:9:core:core:ofi_register_provider():1<info> registering provider: verbs (113.0)",
        "libfabric:9:core:core:fi_getinfo_():1<info> fi_getinfo: provider verbs returned -61 "
        "(No data available)",
        "[n1:00009] mtl:ofi:provider: tcp;ofi_rxm",
    ]
    facts = analyse_lines(lines)
    assert codes(facts) == {"OFI_ONLY_TCP": "warning"}


@pytest.mark.parametrize(
    ("name", "core", "fast", "socket", "plumbing"),
    [
        ("verbs;ofi_rxm", "verbs", True, False, False),
        ("tcp;ofi_rxm", "tcp", False, True, False),
        ("sockets", "sockets", False, True, False),
        ("CXI", "cxi", True, False, False),
        ("ofi_rxm", "ofi_rxm", False, False, True),
        ("ofi_hook_noop", "ofi_hook_noop", False, False, True),
        ("shm", "shm", False, False, False),
    ],
)
def test_provider_classes(name: str, core: str, fast: bool, socket: bool, plumbing: bool) -> None:
    assert core_provider(name) == core
    assert is_fast_provider(name) is fast
    assert is_socket_provider(name) is socket
    assert is_plumbing_provider(name) is plumbing


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_garbage_never_raises(text: str) -> None:
    analyser = Analyser()
    evidence = Evidence(file="g", line=1, text=text)
    analyser._feed(text, evidence)  # the unguarded path: the parser itself must not raise
    analyser._feed("libfabric:1:2::core:core:f():3<info> " + text, evidence)
    analyser._feed("libfabric:" + text, evidence)
    analyser._feed("provider: " + text, evidence)
    analyser.facts()


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_truncated_real_lines_never_raise(data: st.DataObject) -> None:
    lines = (FIXTURES / "real-fi-info-tcp-info.txt").read_text().splitlines()
    line = data.draw(st.sampled_from(lines))
    cut = data.draw(st.integers(min_value=0, max_value=len(line)))
    analyser = Analyser()
    analyser._feed(line[:cut], Evidence(file="t", line=1, text=line[:cut]))
    analyser.facts()


def test_memory_is_bounded_by_distinct_observation_cap() -> None:
    analyser = Analyser()
    for n in range(5000):
        prefix = "libfabric:1:core:core:ofi_register_provider():1<info>"
        line = f"{prefix} registering provider: p{n} (1.0)"
        analyser.feed(line, Evidence(file="m", line=n + 1, text=line))
    assert len(analyser.facts().observations) <= 512


def test_verbose_fi_info_and_rdma_available() -> None:
    facts = analyse_lines(
        [
            "---",
            "fi_info:",
            "    fabric_attr:",
            "        name: IB-0xfe80000000000000",
            "        prov_name: verbs;ofi_rxm",
            "provider: cxi",
            "    domain: cxi0",
        ]
    )
    assert observed(facts, "provider_available") == {"verbs;ofi_rxm", "cxi", "cxi/cxi0"}
    assert observed(facts, "rdma_available") == {"verbs;ofi_rxm", "cxi"}
    # Registration alone is no proof of hardware (psm2 registers without Omni-Path).
    real = analyse("real-fi-info-tcp-info.txt")
    assert observed(real, "rdma_available") == set()


def test_real_warn_level_run_with_routine_utility_failures_is_quiet() -> None:
    facts = analyse("real-ompi-mtl-ofi-fi-log-warn.txt")
    assert codes(facts) == {}
    assert observed(facts, "consumer_selected") == {"eth0"}
    assert observed(facts, "provider_failed") == {
        "ofi_rxm -61 (No data available)",
        "ofi_rxd -61 (No data available)",
        "ofi_mrail -61 (No data available)",
    }


@pytest.mark.parametrize(
    "rule", [*LOG_RULES, *TEXT_RULES], ids=lambda r: f"{r.kind.value}:{r.example[-40:]}"
)
def test_every_rule_example_reaches_the_analyser_and_matches_its_rule(
    rule: LineRule[Fact],
) -> None:
    assert any(anchor in rule.example.encode() for anchor in Analyser.anchors), "no anchor"
    analyser = Analyser()
    assert analyser.apply(rule.example, Evidence(file="rules", line=1, text=rule.example)) is rule
    analyser.facts()


def test_every_rule_code_is_documented() -> None:
    documented = {info.code for info in CODES}
    assert {r.code for r in [*LOG_RULES, *TEXT_RULES] if r.code} <= documented


def test_a_reader_error_becomes_an_info_finding_naming_the_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    analyser = Analyser()

    def boom(match: object, evidence: object, prefix: object) -> None:
        raise KeyError("boom")

    monkeypatch.setitem(analyser._handlers, Fact.VERSION, boom)
    analyser.feed("libfabric: 1.17.0", Evidence(file="x.log", line=3, text="libfabric: 1.17.0"))
    finding = next(f for f in analyser.facts().findings if f.code == "OFI_READER_ERROR")
    assert finding.evidence[0].line == 3


def _fi_info_entry(provider: str, domain: str, ep_type: str) -> list[str]:
    return [
        f"provider: {provider}",
        "    fabric: FABRIC",
        f"    domain: {domain}",
        "    version: 115.0",
        f"    type: {ep_type}",
        "    protocol: FI_PROTO_UNSPEC",
    ]


def test_a_template_provider_listed_first_is_an_error() -> None:
    facts = analyse_lines(
        _fi_info_entry("opx", "hfi1", "FI_EP_UNSPEC")
        + _fi_info_entry("verbs;ofi_rxm", "mlx5_0", "FI_EP_RDM")
    )
    assert codes(facts) == {"OFI_PROVIDER_UNPROBED": "error"}
    assert observed(facts, "provider_unprobed") == {"opx"}


def test_a_template_provider_listed_after_a_probed_one_is_a_warning() -> None:
    facts = analyse_lines(
        _fi_info_entry("verbs;ofi_rxm", "mlx5_0", "FI_EP_RDM")
        + _fi_info_entry("opx", "hfi1", "FI_EP_UNSPEC")
    )
    assert codes(facts) == {"OFI_PROVIDER_UNPROBED": "warning"}


def test_probed_providers_raise_nothing() -> None:
    facts = analyse_lines(_fi_info_entry("verbs;ofi_rxm", "mlx5_0", "FI_EP_RDM"))
    assert codes(facts) == {}


@pytest.mark.parametrize(
    "line",
    [
        "F1130 src/van.h:659: Check failed: ok couldn't get EFA as provider",
        "ERROR: provider 'cxi' not available on this node",
    ],
)
def test_a_consumer_that_did_not_get_its_provider_is_an_error(line: str) -> None:
    facts = analyse_lines([line])
    assert codes(facts) == {"OFI_PROVIDER_UNAVAILABLE": "error"}
