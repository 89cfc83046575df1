"""Evidence rules: each known-bad variant is caught without the logs (pure)."""

from __future__ import annotations

from builder.model.evidence import InterfaceBytes, MappedCopy, RankProcess, RunEvidence
from builder.verify.witnesses import CODES, RULES, human_bytes, judge_evidence
from tests.unit.verify.test_judge import MPI4PY, run_data

HOST_MPI = MappedCopy(path="/usr/lib/x86_64-linux-gnu/libmpi.so.40.30.4", origin="host")
IMAGE_MPI = MappedCopy(path="/usr/lib/x86_64-linux-gnu/libmpi.so.40.30.4", origin="image")


def rank(
    pid: int,
    *,
    mpi: MappedCopy = HOST_MPI,
    components: tuple[str, ...] = ("pml_ucx",),
    user_ns: str = "user:[1]",
    net_ns: str = "net:[1]",
    rdma: tuple[str, ...] = (),
    cuda: MappedCopy | None = None,
) -> RankProcess:
    libraries = {"mpi": [mpi]}
    if cuda is not None:
        libraries["cuda"] = [cuda]
    return RankProcess(
        pid=pid,
        command="pingpong",
        root="/" if mpi.origin == "host" else "/img",
        user_ns=user_ns,
        net_ns=net_ns,
        libraries=libraries,
        components=list(components),
        rdma_devices=list(rdma),
    )


def shm(ranks: list[RankProcess], lo_bytes: int = 40_000) -> RunEvidence:
    return RunEvidence(
        processes=ranks, counters={"lo": InterfaceBytes(kind="net", rx_bytes=lo_bytes // 2,
                                                        tx_bytes=lo_bytes // 2)},
    )  # fmt: skip


BARE = shm([rank(1), rank(2)])
GOOD = shm([rank(11, mpi=IMAGE_MPI), rank(12, mpi=IMAGE_MPI)])


def codes(container: RunEvidence, bare: RunEvidence = BARE) -> list[str]:
    judged = judge_evidence("pingpong", bare, container)
    assert judged is not None
    return [f.code for f in judged.findings]


def test_a_good_container_has_no_evidence_finding() -> None:
    assert codes(GOOD) == []


def test_no_join_shows_as_ranks_in_separate_user_namespaces() -> None:
    container = shm(
        [rank(11, mpi=IMAGE_MPI, user_ns="user:[7]"), rank(12, mpi=IMAGE_MPI, user_ns="user:[8]")]
    )
    assert codes(container) == ["EVIDENCE_SPLIT_NAMESPACES"]
    # Ranks on two nodes (inter-node suite) may be in separate namespaces.
    apart = shm(
        [
            rank(11, mpi=IMAGE_MPI, user_ns="user:[7]", net_ns="net:[1]"),
            rank(12, mpi=IMAGE_MPI, user_ns="user:[8]", net_ns="net:[2]"),
        ]
    )
    assert codes(apart) == []


def test_missing_mca_defaults_show_as_other_components() -> None:
    container = shm(
        [rank(n, mpi=IMAGE_MPI, components=("mtl_ofi", "pml_cm")) for n in (11, 12)],
        lo_bytes=300_000_000,
    )
    found = judge_evidence("pingpong", BARE, container)
    assert found is not None
    assert [f.code for f in found.findings] == [
        "EVIDENCE_COMPONENTS_DIFFER",
        "EVIDENCE_TRAFFIC_DIFFERS",
    ]
    assert "mtl_ofi, pml_cm" in found.findings[0].message
    assert found.findings[1].message == "the container moved 300 MB over lo, bare metal 40 kB"


def test_ucx_tls_tcp_shows_as_traffic_over_loopback() -> None:
    container = shm([rank(11, mpi=IMAGE_MPI), rank(12, mpi=IMAGE_MPI)], lo_bytes=2_100_000_000)
    assert codes(container) == ["EVIDENCE_TRAFFIC_DIFFERS"]


def test_host_mpi_image_driver_and_unopened_rdma_device() -> None:
    bare = shm([rank(1, rdma=("/dev/infiniband/uverbs0",)), rank(2)])
    container = shm(
        [rank(11), rank(12, mpi=IMAGE_MPI, cuda=MappedCopy(path="/usr/lib/libcuda.so.1",
                                                           origin="image"))]
    )  # fmt: skip
    assert codes(container, bare) == [
        "EVIDENCE_HOST_MPI",
        "EVIDENCE_IMAGE_DRIVER",
        "EVIDENCE_NO_RDMA_DEVICE",
    ]


def test_unseen_ranks_are_information_only() -> None:
    assert codes(RunEvidence()) == ["EVIDENCE_NO_RANKS"]
    assert judge_evidence("x", None, None) is None


def test_every_rule_code_is_in_the_table() -> None:
    # One code per rule, and the log comparison's own.
    assert len(RULES) + 1 == len(CODES) and "EVIDENCE_LOG_DISAGREES" in CODES
    assert human_bytes(900e6) == "900 MB" and human_bytes(12) == "12 B"


def test_an_evidence_error_fails_the_verdict_and_lands_in_verdict_json() -> None:
    from builder.verify.judge import judge_run

    data = run_data()
    container = shm([rank(11, mpi=IMAGE_MPI), rank(12, mpi=IMAGE_MPI)], lo_bytes=2_100_000_000)
    judged = judge_evidence("mpi4py", BARE, container)
    assert judged is not None
    data.evidence.append(judged)
    verdict = judge_run(data, {"mpi4py": MPI4PY})
    assert verdict.verdict == "fail"
    assert verdict.reason.startswith("mpi4py: evidence EVIDENCE_TRAFFIC_DIFFERS")
    dumped = verdict.to_json_dict()["evidence"]
    assert isinstance(dumped, list) and dumped[0]["container"]["counters"]["lo"]["rx_bytes"] > 0


def test_the_terminal_shows_evidence_findings_and_both_sides() -> None:
    from rich.console import Console

    from builder.verify.judge import judge_run
    from builder.verify.render import print_verdict

    data = run_data()
    container = shm([rank(11, mpi=IMAGE_MPI), rank(12, mpi=IMAGE_MPI)], lo_bytes=2_100_000_000)
    judged = judge_evidence("mpi4py", BARE, container)
    assert judged is not None
    data.evidence.append(judged)
    console = Console(record=True, width=80, force_terminal=False)
    print_verdict(judge_run(data, {"mpi4py": MPI4PY}), console)
    text = console.export_text()
    assert "error mpi4py (evidence): EVIDENCE_TRAFFIC_DIFFERS: the container moved 2.1 GB" in text
    assert "2 ranks, libmpi host copy, pml_ucx; lo 40 kB" in text
    assert "2 ranks, libmpi image copy, pml_ucx; lo 2.1 GB" in text


def test_a_log_that_disagrees_with_the_mapped_components_is_a_finding() -> None:
    from builder.verify.witnesses import log_disagreements

    cm = shm([rank(11, mpi=IMAGE_MPI, components=("mtl_ofi", "pml_cm"))])
    (found,) = log_disagreements("container", "ucx", None, cm)
    assert found.code == "EVIDENCE_LOG_DISAGREES" and found.severity == "warning"
    assert found.message == "the container log says pml ucx, its ranks kept pml_cm mapped"
    assert log_disagreements("container", "cm", "ofi", cm) == []
    assert log_disagreements("container", None, None, cm) == []
