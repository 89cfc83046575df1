"""Real network-namespace hosts: creation, names, teardown, and a two-host mpirun pingpong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from builder.errors import EsdcError
from builder.run.netns import NetnsHosts, cleanup_stale, list_namespaces

pytestmark = pytest.mark.integration

OMPI_UCX = ["--mca", "pml", "ucx", "--mca", "pml_ucx_tls", "any", "--mca", "pml_ucx_devices", "any"]


def test_hosts_have_own_names_and_are_removed_on_exit() -> None:
    with NetnsHosts(2, prefix="esdt") as net:
        namespaces = [h.netns for h in net.hosts]
        assert set(namespaces) <= set(list_namespaces())
        names = [
            subprocess.run(
                net.exec_argv(h, ["hostname"]), capture_output=True, text=True, check=True
            ).stdout.strip()
            for h in net.hosts
        ]
        assert names == ["esdta", "esdtb"]
    assert not set(namespaces) & set(list_namespaces())


def test_hosts_are_removed_when_the_body_raises() -> None:
    with pytest.raises(RuntimeError), NetnsHosts(3, prefix="esdt") as net:
        namespaces = [h.netns for h in net.hosts]
        raise RuntimeError("boom")
    assert not set(namespaces) & set(list_namespaces())


def test_requested_subnet_in_use_is_refused() -> None:
    with NetnsHosts(2, prefix="esdt") as net, pytest.raises(EsdcError, match="overlaps"):
        NetnsHosts(2, prefix="esdt", subnet=str(net.subnet)).__enter__()


def test_two_host_mpirun_pingpong_goes_over_tcp_on_veth(pingpong: Path) -> None:
    with NetnsHosts(2, prefix="esdt") as net:
        argv = net.exec_argv(
            net.hosts[0],
            [
                "mpirun",
                "--allow-run-as-root",
                "-np",
                "2",
                *net.mpirun_args(),
                *OMPI_UCX,
                "-x",
                "UCX_LOG_LEVEL=info",
                str(pingpong),
                "1024",
            ],
        )
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "rank 0/2 on esdta" in output and "rank 1/2 on esdtb" in output
    assert f"tag(tcp/{net.hosts[0].interface})" in output
    assert "pingpong bytes=1024" in output


def test_cleanup_stale_removes_hosts_of_a_killed_process() -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\n"
            "from builder.run.netns import NetnsHosts\n"
            "net = NetnsHosts(2, prefix='esdk').__enter__()\n"
            "print(' '.join(h.netns for h in net.hosts), flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        namespaces = child.stdout.readline().split()
        assert len(namespaces) == 2 and set(namespaces) <= set(list_namespaces())
        assert not set(namespaces) & set(cleanup_stale())  # owner alive: left alone
    finally:
        child.kill()
        child.wait()
    removed = cleanup_stale()
    assert set(namespaces) <= set(removed)
    assert not set(namespaces) & set(list_namespaces())


def test_three_hosts_share_a_bridge(pingpong: Path) -> None:
    with NetnsHosts(3, prefix="esdt") as net:
        argv = net.exec_argv(
            net.hosts[0],
            [
                "mpirun",
                "--allow-run-as-root",
                "-np",
                "3",
                *net.mpirun_args(),
                *OMPI_UCX,
                str(pingpong),
                "8",
            ],
        )
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {f"rank {i}/3 on esdt{c}" for i, c in enumerate("abc")} <= set(proc.stdout.splitlines())
