"""Intel MPI analyser: constructed I_MPI_DEBUG output (Intel MPI cannot be installed here)."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from builder.logs.base import LibraryFacts
from builder.logs.engine import engine_class
from builder.logs.impi import Analyser, path_class
from builder.model.analysis import Evidence

FIXTURES = Path(__file__).parents[2] / "fixtures" / "logs" / "impi"


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


def test_2021_mlx_provider() -> None:
    facts = analyse("constructed-impi-2021-mlx.txt")
    assert facts.versions == {"2021.10": ["rank 0"]}
    assert facts.selected == {"ofi_provider": "mlx"}
    [path] = facts.paths
    assert (path.layer, path.scope, path.transport) == ("ofi", "inter-node", "mlx")
    assert observed(facts, "libfabric_version") == {"1.18.0-impi"}
    assert observed(facts, "libfabric_loaded") == {"libfabric.so.1"}
    assert "I_MPI_FABRICS=shm:ofi" in observed(facts, "env")
    assert observed(facts, "nic") == {"0 mlx5_0"}
    assert facts.findings == []


def test_tcp_provider_with_debug_flags_and_old_tcp_fabric() -> None:
    facts = analyse("constructed-impi-2019-tcp-flags.txt")
    assert facts.versions == {
        "2019 Update 9": ["node17:4711", "unknown"],
        "2018 Update 3": ["rank 0"],
    }
    assert facts.selected == {"ofi_provider": "tcp;ofi_rxm"}
    assert facts.paths[0].count == 2
    assert observed(facts, "fabrics") == {"shm:tcp"}
    [finding] = facts.findings
    assert (finding.code, finding.severity) == ("IMPI_TCP_PROVIDER", "warning")
    assert [ev.line for ev in finding.evidence] == [4, 5, 10, 11]


def test_sockets_provider_and_old_dapl_fabric() -> None:
    sockets = analyse_lines(["[0] MPI startup(): libfabric provider: sockets"])
    assert [f.code for f in sockets.findings] == ["IMPI_TCP_PROVIDER"]
    dapl = analyse_lines(["[0] MPI startup(): shm and dapl data transfer modes"])
    assert dapl.findings == []
    assert observed(dapl, "fabrics") == {"shm:dapl"}


def test_mpich_summary_line_is_not_intel_mpi() -> None:
    facts = analyse_lines(["libfabric provider: verbs;ofi_rxm - IB-0xfe80000000000000"])
    assert facts.selected == {}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_garbage_never_raises(text: str) -> None:
    analyser = Analyser()
    evidence = Evidence(file="g", line=1, text=text)
    analyser._feed(text, evidence)  # the unguarded path: the parser itself must not raise
    analyser._feed("[0] MPI startup(): " + text, evidence)
    analyser._feed("[0] MPI startup(): libfabric " + text, evidence)
    analyser._feed("[" + text, evidence)
    analyser.facts()


def test_time_flag_fields_before_the_routine_name() -> None:
    facts = analyse_lines(
        ["[0#77@n1] [2024-05-01 12:00:01.5] MPI startup(): libfabric provider: psm3"]
    )
    assert facts.selected == {"ofi_provider": "psm3"}


def test_old_fabrics_give_paths_within_and_between_nodes() -> None:
    facts = analyse_lines(["[0] MPI startup(): shm and dapl data transfer modes"])
    lanes = {(p.layer, p.scope, p.transport) for p in facts.paths}
    assert lanes == {("fabric", "intra-node", "shm"), ("fabric", "inter-node", "dapl")}
    assert path_class("dapl", None) == "ib"
    assert path_class("dapl", None, roce=True) == "roce"
    assert path_class("tmi", None) == "psm2"


def test_one_old_fabric_serves_both_scopes() -> None:
    facts = analyse_lines(["[1] MPI startup(): tcp data transfer mode"])
    lanes = {(p.scope, p.transport) for p in facts.paths}
    assert lanes == {("intra-node", "tcp"), ("inter-node", "tcp")}
    shm_only = analyse_lines(["[0] MPI startup(): shm data transfer mode"])
    assert {(p.scope, p.transport) for p in shm_only.paths} == {("intra-node", "shm")}


def test_interface_settings_are_observed() -> None:
    facts = analyse_lines(["[0] MPI startup(): I_MPI_HYDRA_IFACE=ib0"])
    assert observed(facts, "iface") == {"ib0"}
