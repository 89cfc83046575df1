"""Two network-namespace hosts: the mpirun launcher spreads ranks over them for real."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from builder.model.site import Node
from builder.profiles import load_site
from builder.run.campaign import run_site_campaign
from builder.run.contracts import HostStandInRuntime
from builder.run.jobs import JobSpec
from builder.run.launchers import HostLayout, MpirunLauncher, mca_from_environment
from builder.run.netns import NetnsHosts
from builder.run.probe import host_tools
from builder.run.schedulers.local import LocalScheduler

pytestmark = pytest.mark.integration


@pytest.fixture
def pingpong(tmp_path: Path) -> Path:
    found = host_tools(tmp_path / "cache")["pingpong"]
    if found is None:
        pytest.skip("mpicc is not installed")
    return Path(found[0])


def _layout(net: NetnsHosts) -> HostLayout:
    return HostLayout(
        hostfile=str(net.hostfile()),
        rsh_agent=str(net.rsh_agent),
        network=str(net.subnet),
        prefix=tuple(net.exec_argv(net.hosts[0], [])),
    )


def test_two_host_pingpong_through_the_launcher_uses_tcp_on_veth(
    pingpong: Path, tmp_path: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    with NetnsHosts(2, prefix="esdr") as net:
        launcher = MpirunLauncher(
            allow_run_as_root=True,
            mca=(("pml", "ucx"), *mca_from_environment(load_site("local").environment)),
            hosts=_layout(net),
        )
        job = JobSpec(
            name="netns",
            program=[str(pingpong), "65536"],
            ranks=2,
            nodes=2,
            environment={"UCX_LOG_LEVEL": "info"},
            timeout_s=120,
        )
        outcome = LocalScheduler().run(launcher.render(job), tmp_path)
        stdout = (tmp_path / "stdout").read_text()
        assert outcome.returncode == 0, (tmp_path / "stderr").read_text()[-2000:]
        assert f"rank 0/2 on {net.hosts[0].name}" in stdout
        assert f"rank 1/2 on {net.hosts[1].name}" in stdout
        # The inter-host endpoint goes over TCP on the hosts' veth interfaces.
        assert f"tag(tcp/{net.hosts[0].interface})" in stdout
        assert "pingpong bytes=65536" in stdout


def test_campaign_on_a_two_node_local_site_spreads_ranks_over_netns_hosts(
    pingpong: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pingpong").symlink_to(pingpong)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    site = load_site("local").model_copy(
        update={"nodes": [Node(name="esdnodea"), Node(name="esdnodeb")]}
    )

    run_dir = run_site_campaign(
        site,
        "stand-in",
        suites=["pingpong", "pingpong_inter"],
        reps=1,
        resume=None,
        runs_root=tmp_path / "runs",
        runtime=HostStandInRuntime(),
    )
    inter = sorted(run_dir.glob("*/pingpong_inter/*/record.json"))
    intra = sorted(run_dir.glob("*/pingpong/*/record.json"))
    assert len(inter) == 4 and len(intra) == 4
    for path in inter:
        record = json.loads(path.read_text())
        assert record["returncode"] == 0, path
        assert "--hostfile" in record["command"]
        stdout = (path.parent / "stdout").read_text()
        assert "rank 0/2 on esdnodea" in stdout and "rank 1/2 on esdnodeb" in stdout
    for path in intra:
        record = json.loads(path.read_text())
        assert record["returncode"] == 0, path
        assert "--hostfile" not in record["command"]
        stdout = (path.parent / "stdout").read_text()
        assert "rank 0/2 on esdnodea" in stdout and "rank 1/2 on esdnodea" in stdout
    # Evidence beside the logs: both ranks sampled, and the bytes went over the hosts' veth.
    evidence = json.loads(
        (run_dir / "bare" / "pingpong_inter" / "debug" / "evidence.json").read_text()
    )
    assert len(evidence["processes"]) == 2
    assert all(p["libraries"]["mpi"] for p in evidence["processes"])
    veth = {
        k: v for k, v in evidence["counters"].items() if k.startswith("esdnodea/") and "lo" not in k
    }
    assert veth and max(v["tx_bytes"] for v in veth.values()) > 100_000_000
