"""MPICH analyser: real Debian MPICH 4.0.2 (ch4:ucx) output, constructed ch4:ofi debug summaries."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from builder.logs.base import LibraryFacts
from builder.logs.engine import engine_class
from builder.logs.mpich import Analyser
from builder.model.analysis import Evidence

FIXTURES = Path(__file__).parents[2] / "fixtures" / "logs" / "mpich"


def analyse_lines(lines: list[str], name: str = "inline.log") -> LibraryFacts:
    engine = engine_class(sys.modules[Analyser.__module__])
    analyser = engine()
    for number, line in enumerate(lines, 1):
        if any(anchor.decode() in line for anchor in engine.anchors):
            analyser.feed(line, Evidence(file=name, line=number, text=line))
    return analyser.facts()


def analyse(fixture: str) -> LibraryFacts:
    path = FIXTURES / fixture
    return analyse_lines(path.read_text().splitlines(), str(path))


def observed(facts: LibraryFacts, kind: str) -> set[str | None]:
    return {o.value for o in facts.observations if o.kind == kind}


def test_real_debug_summary_on_ch4_ucx() -> None:
    facts = analyse("real-debug-summary-ch4-ucx.txt")
    assert facts.versions == {"4.0.2": ["unknown"]}
    assert observed(facts, "device") == {"ch4:ucx"}
    assert observed(facts, "netmod") == {"ucx"}
    assert facts.selected == {}
    assert facts.paths == []
    assert facts.findings == []


def test_real_debug_summary_interleaved_with_ucx_lines() -> None:
    facts = analyse("real-debug-summary-ch4-ucx-ucx-info.txt")
    assert facts.versions == {"4.0.2": ["unknown"]}
    assert observed(facts, "netmod") == {"ucx"}


def test_real_mpichversion_padded_columns() -> None:
    facts = analyse("real-mpichversion.txt")
    assert facts.versions == {"4.0.2": ["unknown"]}
    assert observed(facts, "device") == {"ch4:ucx"}


def test_constructed_ch4_ofi_summary_selects_verbs_provider() -> None:
    facts = analyse("constructed-debug-summary-ch4-ofi-verbs.txt")
    assert facts.versions == {"4.1.2": ["unknown"]}
    assert facts.selected == {"ofi_provider": "verbs;ofi_rxm"}
    [path] = facts.paths
    assert (path.layer, path.scope, path.transport, path.device) == (
        "ofi",
        "inter-node",
        "verbs;ofi_rxm",
        "IB-0xfe80000000000000",
    )
    assert observed(facts, "libfabric_api") == {"1.18"}
    assert "tcp;ofi_rxm score=5 pref=0" in observed(facts, "provider_candidate")
    assert "ENABLE_TAGGED=1" in observed(facts, "capability")
    assert observed(facts, "num_nics") == {"1"}
    assert observed(facts, "device") == {"ch4:ofi"}
    assert facts.findings == []


def test_constructed_old_summary_and_init_failure() -> None:
    facts = analyse("constructed-debug-summary-ch4-ofi-tcp-old.txt")
    assert facts.versions == {"3.4.3": ["unknown"]}
    assert facts.selected == {"ofi_provider": "sockets"}
    # The fatal error in MPI_Init and the netmod failure behind it are both errors.
    by_code = {f.code: f for f in facts.findings}
    assert {code: f.severity for code, f in by_code.items()} == {
        "MPI_FATAL_ERROR": "error",
        "MPICH_OFI_INIT_FAILED": "error",
    }
    assert "addrinfo() failed" in by_code["MPICH_OFI_INIT_FAILED"].evidence[0].text


def test_intel_mpi_provider_line_is_not_mpich() -> None:
    facts = analyse_lines(["[0] MPI startup(): libfabric provider: mlx"])
    assert facts.selected == {}


def test_cray_mpich_version() -> None:
    facts = analyse_lines(["MPI VERSION    : CRAY MPICH version 8.1.25.17 (ANL base 3.4a2)"])
    assert facts.versions == {"8.1.25.17": ["unknown"]}
    assert observed(facts, "flavour") == {"cray"}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_garbage_never_raises(text: str) -> None:
    analyser = Analyser()
    evidence = Evidence(file="g", line=1, text=text)
    analyser._feed(text, evidence)  # the unguarded path: the parser itself must not raise
    analyser._feed("libfabric provider: " + text, evidence)
    analyser._feed("Required minimum FI_VERSION: 1, current version: " + text, evidence)
    analyser._feed("==== " + text, evidence)
    analyser.facts()


def test_other_ofi_netmod_failures_in_error_stacks() -> None:
    facts = analyse_lines(
        [
            "MPIDI_OFI_mpi_init_hook(1601): OFI getinfo() failed "
            "(ofi_init.c:1601:MPIDI_OFI_mpi_init_hook:No data available)",
            "MPIDI_OFI_create_endpoint(1850): OFI endpoint open failed "
            "(ofi_init.c:1850:MPIDI_OFI_create_endpoint:Invalid argument)",
        ]
    )
    [finding] = facts.findings
    assert finding.code == "MPICH_OFI_INIT_FAILED"
    assert len(finding.evidence) == 2
