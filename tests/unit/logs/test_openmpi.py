"""Open MPI analyser: PML/MTL/BTL selection (old and new style), per-peer BTLs, versions, errors."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from builder.logs import openmpi
from builder.logs.base import LibraryFacts
from builder.logs.engine import engine_class
from builder.logs.scan import scan_file
from builder.model.analysis import Evidence

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "logs" / "openmpi"


def analyse(name: str) -> LibraryFacts:
    analyser = engine_class(openmpi)()
    scan_file(FIXTURES / name, [analyser])
    return analyser.facts()


def feed_lines(*lines: str) -> LibraryFacts:
    analyser = engine_class(openmpi)()
    for number, line in enumerate(lines, 1):
        analyser.feed(line, Evidence(file="t.log", line=number, text=line))
    return analyser.facts()


def codes(facts: LibraryFacts) -> dict[str, str]:
    return {f.code: f.severity for f in facts.findings}


def observed(facts: LibraryFacts, kind: str) -> list[tuple[str | None, str | None]]:
    return [(o.value, o.rank) for o in facts.observations if o.kind == kind]


def test_real_ob1_with_btl_verbose() -> None:
    facts = analyse("real-ob1-btl-verbose.txt")
    assert facts.selected == {"pml": "ob1", "btl": ["tcp", "vader", "self"]}
    assert observed(facts, "pml_selected") == [("ob1", "vm:422"), ("ob1", "vm:421")]
    # bml lines say which BTL reaches each peer: vader to the other rank, self to itself
    assert {(p.layer, p.scope, p.transport, p.count) for p in facts.paths} == {
        ("btl", "intra-node", "vader", 2),
        ("btl", "self", "self", 2),
    }
    assert facts.findings == []


def test_real_pml_ucx_verbose() -> None:
    facts = analyse("real-pml-ucx-verbose.txt")
    assert facts.selected == {"pml": "ucx"}
    assert observed(facts, "ucx_version") == [("1.13.1", "vm:896")]
    assert facts.findings == []


def test_real_container_cm_mtl_ofi_with_path_prefixed_provider() -> None:
    # The log ends while ob1 initialises: cm's priority (25) is the best seen, and the OFI
    # provider line carries a source-path prefix.
    facts = analyse("real-25-container-cm-mtl-ofi.txt")
    assert facts.selected == {"mtl": "ofi", "pml": "cm", "ofi_provider": "eth0"}
    inferred = [o for o in facts.observations if o.kind == "pml_inferred"]
    assert [(o.value, o.evidence[0].line) for o in inferred] == [("cm", 53)]
    assert any("mtl:ofi:provider: eth0" in e.text for e in facts.path_evidence)


def test_real_mtl_verbose_only_implies_cm() -> None:
    facts = analyse("real-06-cm-mtl-ofi-tcp.txt")
    assert facts.selected == {"mtl": "ofi", "pml": "cm"}
    assert observed(facts, "mtl_selected") == [("ofi", "vm:9385"), ("ofi", "vm:9386")]


def test_real_pml_mismatch_between_ranks() -> None:
    facts = analyse("real-pml-mismatch-ob1-vs-ucx.txt")
    assert observed(facts, "pml_selected") == [("ob1", "vm:1467"), ("ucx", "vm:1468")]
    assert codes(facts) == {
        "OMPI_UCX_WORKER_ADDRESS": "error",
        "OMPI_RANK_ABORTED": "warning",
        "OMPI_PML_MISMATCH": "error",
    }
    mismatch = next(f for f in facts.findings if f.code == "OMPI_PML_MISMATCH")
    assert "ob1 on 1 rank(s), ucx on 1 rank(s)" in mismatch.message
    assert [e.line for e in mismatch.evidence] == [11, 21]


def test_real_pml_ucx_declined_and_nothing_selectable() -> None:
    facts = analyse("real-pml-ucx-declined.txt")
    assert "pml" not in facts.selected
    assert codes(facts) == {
        "OMPI_PML_UCX_DECLINED": "info",
        "OMPI_NO_COMPONENTS": "error",
        "OMPI_PML_NOT_SELECTABLE": "error",
    }
    assert observed(facts, "pml_ucx_declined") == [("none", "vm:1442")]
    not_selectable = next(f for f in facts.findings if f.code == "OMPI_PML_NOT_SELECTABLE")
    assert "ucx,ob1" in not_selectable.message


def test_real_signal_after_cma_failure() -> None:
    facts = analyse("real-22-charliecloud-signal.txt")
    assert codes(facts) == {"OMPI_RANK_ABORTED": "warning"}
    assert observed(facts, "process_signal") == [(None, "vm:23078"), ("6", None)]


def test_real_ompi_info_version_and_package() -> None:
    facts = analyse("real-ompi-info-version.txt")
    assert facts.versions == {"4.1.4": ["?"]}
    assert observed(facts, "package") == [("Debian OpenMPI", None)]


def test_constructed_new_style_pml_ucx_two_nodes() -> None:
    facts = analyse("constructed-ompi-5-pml-ucx-ib-new-style.txt")
    assert facts.selected == {"pml": "ucx"}
    assert observed(facts, "pml_selected") == [("ucx", "nodeA:12345"), ("ucx", "nodeB:2345")]
    assert facts.versions == {"5.0.3": ["?"]}
    assert observed(facts, "package") == [("Open MPI spack@login01 Distribution", None)]


def test_constructed_ob1_tcp_fallback_on_infiniband() -> None:
    facts = analyse("constructed-ompi-4.1-ob1-tcp-fallback.txt")
    assert facts.selected == {"pml": "ob1", "btl": ["tcp", "vader", "self"]}
    assert {(p.scope, p.transport, p.count) for p in facts.paths} == {
        ("self", "self", 2),
        ("inter-node", "tcp", 2),
    }
    assert observed(facts, "btl_tcp_interface") == [("ib0", "cn01:1001")]
    assert codes(facts) == {"OMPI_PML_UCX_DECLINED": "info", "VADER_CMA_UNAVAILABLE": "warning"}


def test_constructed_mismatch_message_and_check_line() -> None:
    facts = analyse("constructed-ompi-pml-mismatch-peer-message.txt")
    mismatch = [f for f in facts.findings if f.code == "OMPI_PML_MISMATCH"]
    assert len(mismatch) == 1
    assert "peer [[52456,1],0] on ko001 selected pml ucx" in mismatch[0].message
    assert [e.line for e in mismatch[0].evidence] == [4, 5]
    # the --tag-output prefix was removed before the rank was read
    assert ("ob1", "ko001.localdomain:19225") in observed(facts, "pml_selected")


def test_constructed_errors_each_get_their_code() -> None:
    facts = analyse("constructed-ompi-errors.txt")
    assert codes(facts) == {
        "OMPI_UCX_WORKER_ADDRESS": "error",
        "OMPI_PML_NOT_SELECTABLE": "error",
        "OMPI_NO_COMPONENTS": "error",
        "OMPI_OPAL_ERROR": "error",
        "VADER_CMA_FAILED": "error",
        "OMPI_RANK_ABORTED": "warning",
    }
    assert observed(facts, "mpi_abort") == [("3", None)]
    assert observed(facts, "process_signal") == [("9", None)]
    opal = next(f for f in facts.findings if f.code == "OMPI_OPAL_ERROR")
    assert "Unreachable" in opal.message


def test_old_style_component_selected_uses_the_framework_it_was_initialised_in() -> None:
    facts = feed_lines(
        "[h:1] select: initializing pml component cm",
        "[h:1] select: initializing mtl component psm2",
        "[h:1] select: init returned success",
        "[h:1] select: component psm2 selected",
        "[h:1] select: init returned priority 30",
        "[h:1] select: component cm selected",
    )
    assert facts.selected == {"pml": "cm", "mtl": "psm2"}


def test_selected_component_without_initialising_line_falls_back_on_known_names() -> None:
    facts = feed_lines(
        "[h:1] select: component ofi selected",
        "[h:2] select: component ob1 selected",
        "[h:3] select: component mystery selected",
    )
    assert facts.selected == {"pml": "ob1", "mtl": "ofi"}


def test_priorities_pick_the_best_pml_of_a_cut_log() -> None:
    facts = feed_lines(
        "[h:1] select: initializing pml component ob1",
        "[h:1] select: init returned priority 20",
        "[h:1] select: initializing pml component ucx",
        "[h:1] select: init returned priority 51",
    )
    assert facts.selected == {"pml": "ucx"}


def test_majority_pml_is_selected_and_minority_kept_per_rank() -> None:
    lines = [f"[n{i}:{i}] selected ucx best priority 51" for i in range(5)]
    lines.append("[n9:9] selected ob1 best priority 20")
    facts = feed_lines(*lines)
    assert facts.selected == {"pml": "ucx"}
    assert ("ob1", "n9:9") in observed(facts, "pml_selected")
    assert codes(facts) == {"OMPI_PML_MISMATCH": "error"}


def test_inter_node_bml_scope_and_fqdn_host() -> None:
    facts = feed_lines(
        "[n1.cluster:5] mca: bml: Using tcp btl for send to [[1,1],1] on node n2",
        "[n1.cluster:5] mca: bml: Using vader btl for send to [[1,1],2] on node n1",
    )
    assert {(p.scope, p.transport) for p in facts.paths} == {
        ("inter-node", "tcp"),
        ("intra-node", "vader"),
    }


def test_unrelated_anchor_lines_are_ignored() -> None:
    facts = feed_lines(
        "Open MPI failed to open the /dev/knem device",
        "We selected the best priority queue",
        "select: something else",
        "errno = 5 in some other tool",
    )
    assert facts == engine_class(openmpi)().facts()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=20))
def test_random_text_never_raises(lines: list[str]) -> None:
    analyser = engine_class(openmpi)()
    for number, line in enumerate(lines, 1):
        analyser.feed(line, Evidence(file="r.log", line=number, text=line))
    analyser.facts()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "[h:1] ",
                "[h:x] ",
                "select: ",
                "initializing ",
                "pml ",
                "mtl ",
                "btl ",
                "component ",
                "ucx",
                " selected",
                "init returned priority ",
                "-",
                "99999999999999999999",
                "best priority ",
                "mca:base:select:(  pml) Selected component [",
                "]",
                "mtl:ofi:provider:",
                "bml: Using ",
                " btl for send to ",
                " on node ",
                "support level is",
                "Open MPI",
                "v",
                "4.1",
                "Package:",
                "errno = ",
                "MPI_ABORT was invoked on rank ",
                "exited on signal ",
                " ",
            ]
        ),
        max_size=30,
    )
)
def test_anchor_soup_never_raises(pieces: list[str]) -> None:
    line = "".join(pieces)
    analyser = engine_class(openmpi)()
    analyser.feed(line, Evidence(file="s.log", line=1, text=line))
    analyser.feed("", Evidence(file="s.log", line=2, text=""))
    analyser.facts()


def test_constructed_more_errors_and_rdma_device_from_help_text() -> None:
    facts = analyse("constructed-ompi-more-errors.txt")
    assert codes(facts) == {
        "OMPI_OPENFABRICS_WARNING": "info",
        "OMPI_PML_UCX_ERROR": "error",
        "OMPI_UNREACHABLE": "error",
        "OMPI_TCP_CONNECT_FAILED": "error",
        "OMPI_OFI_CALL_FAILED": "error",
        "OMPI_NO_SLURM_PMI": "error",
        "OMPI_OPAL_ERROR": "error",
    }
    assert observed(facts, "rdma_device") == [("mlx5_0", None)]
    by_code = {f.code: f for f in facts.findings}
    assert "192.168.122.1" in by_code["OMPI_TCP_CONNECT_FAILED"].message
    assert "fi_endpoint" in by_code["OMPI_OFI_CALL_FAILED"].message
    assert "launcher's PMIx server" in by_code["OMPI_OPAL_ERROR"].message


def test_local_device_that_is_not_rdma_is_not_reported() -> None:
    facts = feed_lines("  Local device: eth0", "  Local device: hfi1_0", "  Local adapter: mlx5_1")
    assert observed(facts, "rdma_device") == [("hfi1_0", None), ("mlx5_1", None)]


def test_real_container_ob1_vader_cma_across_user_namespaces() -> None:
    facts = analyse("real-charliecloud-ob1-vader-cma-userns.txt")
    assert facts.selected == {"pml": "ob1", "btl": ["tcp", "vader", "self"]}
    assert ("eth0", "vm:17939") in observed(facts, "btl_tcp_interface")
    # "Using interface: sppp" names an entry of the default exclude list, not an interface
    assert "sppp" not in [value for value, _ in observed(facts, "btl_tcp_interface")]
    assert [value for value, _ in observed(facts, "btl_tcp_if_list_entry")] == ["sppp"]
    assert {(p.scope, p.transport) for p in facts.paths} == {
        ("intra-node", "vader"),
        ("self", "self"),
    }
    (finding,) = facts.findings
    assert (finding.code, finding.severity) == ("VADER_CMA_USERNS", "error")
    assert "different user namespaces" in finding.message
    assert [e.line for e in finding.evidence] == [144, 179]
    assert any("cma-different-user-namespace" in e.text for e in finding.evidence)


def test_provider_line_is_kept_as_evidence_after_many_selection_lines() -> None:
    lines = [f"[n{i}:{i}] mca:base:select:(  mtl) Selected component [ofi]" for i in range(40)]
    lines.append("[n0:0] mtl_ofi_component.c:365: mtl:ofi:provider: cxi0")
    facts = feed_lines(*lines)
    assert facts.selected == {"mtl": "ofi", "pml": "cm", "ofi_provider": "cxi0"}
    assert [e.line for e in facts.path_evidence] == [1, 2, 3, 4, 41]


def test_older_mismatch_and_check_line_forms() -> None:
    facts = feed_lines(
        "[n1:5] [[7,1],1] selected pml ob1, but peer [[7,1],0] selected pml cm",
        "[n1:5] check:select: checking my pml ob1 against rank=0 pml cm",
        "[n1:6] check:select: checking my pml cm against rank=0 pml cm",
    )
    (finding,) = facts.findings
    assert finding.code == "OMPI_PML_MISMATCH"
    assert [e.line for e in finding.evidence] == [1, 2]
    assert "peer [[7,1],0] selected pml cm" in finding.message
