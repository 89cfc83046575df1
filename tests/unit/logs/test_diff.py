"""Differential mode: the Charliecloud cases against bare metal, and every kind of difference."""

from __future__ import annotations

from pathlib import Path

from builder.logs.api import analyze_paths
from builder.logs.base import LibraryFacts
from builder.logs.combine import combine_detailed
from builder.logs.diff import compare
from builder.model.analysis import PathUse

ENGINE = Path(__file__).parents[2] / "fixtures" / "logs" / "engine"


def fixture(prefix: str) -> str:
    (path,) = ENGINE.glob(f"{prefix}-*.txt")
    return str(path)


def test_container_cm_ofi_over_eth0_against_bare_metal_ucx_shared_memory() -> None:
    analysis = analyze_paths([fixture("25")], baseline=[fixture("02")])
    assert analysis.inputs == [fixture("25")]  # the container's analysis, differences added
    differs = [f for f in analysis.findings if f.code == "PATH_DIFFERS"]
    assert [(f.severity, f.message.split(";")[0]) for f in differs] == [
        ("error", "intra-node path: baseline shm, container tcp")
    ]
    files = {Path(e.file).name[:2] for e in differs[0].evidence}
    assert files == {"25", "02"}  # evidence from both sides
    assert analysis.degraded is True


def test_container_cma_abort_against_bare_metal() -> None:
    analysis = analyze_paths([fixture("22")], baseline=[fixture("02")])
    found = {f.code: f.severity for f in analysis.findings}
    assert found["CMA_BLOCKED"] == "error"
    assert "PATH_DIFFERS" not in found  # same lanes: the abort is what differs
    assert analysis.degraded is True


def test_identical_runs_show_no_difference() -> None:
    analysis = analyze_paths([fixture("02")], baseline=[fixture("02")])
    assert not [f for f in analysis.findings if f.code.endswith("_DIFFERS")]
    assert analysis.degraded is False


def test_tcp_loopback_container_against_shared_memory_bare_metal_is_worse() -> None:
    analysis = analyze_paths([fixture("04")], baseline=[fixture("02")])
    assert any(f.code == "PATH_DIFFERS" and f.severity == "error" for f in analysis.findings)


def _combined(lanes: list[tuple[str, str, str]], version: str, where: str, pml: str) -> object:
    facts = [
        LibraryFacts(
            library="ucx",
            versions={version: ["n1:1"]},
            loaded_from={where: ["n1:1"]},
            paths=[
                PathUse(library="ucx", layer="tag", scope=scope, transport=t, device=d)  # type: ignore[arg-type]
                for scope, t, d in lanes
            ],
        ),
        LibraryFacts(library="openmpi", selected={"pml": pml}),
    ]
    return combine_detailed(["run.log"], facts)


def test_every_kind_of_difference_is_a_finding() -> None:
    bare = _combined(
        [("inter-node", "rc_mlx5", "mlx5_0:1"), ("intra-node", "sysv", "memory")],
        "1.16.0",
        "/usr/lib64/libucp.so.0",
        "ucx",
    )
    box = _combined(
        [("inter-node", "rc_mlx5", "mlx5_0:1"), ("intra-node", "sysv", "memory")],
        "1.15.0",
        "/opt/view/lib/libucp.so.0",
        "ob1",
    )
    analysis = compare(bare, box)  # type: ignore[arg-type]
    found = {f.code: f.severity for f in analysis.findings}
    assert found == {
        "VERSION_DIFFERS": "warning",
        "LOAD_PATH_DIFFERS": "info",
        # A different PML is a different path, whatever the lane classes say.
        "SELECTION_DIFFERS": "error",
        "PML_FALLBACK": "warning",  # the container's own: ob1 although an RDMA lane exists
    }
    assert analysis.degraded is True


def test_better_container_path_is_info_and_missing_one_is_a_warning() -> None:
    bare = _combined([("inter-node", "tcp", "eth0")], "1.16.0", "/lib/libucp.so.0", "ucx")
    box = _combined([("inter-node", "rc_mlx5", "mlx5_0:1")], "1.16.0", "/lib/libucp.so.0", "ucx")
    better = compare(bare, box)  # type: ignore[arg-type]
    assert [(f.code, f.severity) for f in better.findings] == [("PATH_DIFFERS", "info")]
    silent = _combined([], "1.16.0", "/lib/libucp.so.0", "ucx")
    missing = compare(bare, silent)  # type: ignore[arg-type]
    assert [(f.code, f.severity) for f in missing.findings] == [("PATH_DIFFERS", "warning")]
    assert missing.degraded is None  # the container's logs show no path: no health from silence
