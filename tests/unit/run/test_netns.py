"""Pure parts of builder.run.netns: subnet choice, the rsh agent text, the exec argv."""

from __future__ import annotations

import ipaddress
import subprocess

import pytest

from builder.errors import EsdcError
from builder.run.netns import NetnsHost, NetnsHosts, choose_subnet, host_exec_argv, render_rsh_agent

HOSTS = [
    NetnsHost(name="nodea", netns="esdc-1a2b-0", address="10.77.3.1", interface="e1a2bh0"),
    NetnsHost(name="nodeb", netns="esdc-1a2b-1", address="10.77.3.2", interface="e1a2bh1"),
]


def test_choose_subnet_skips_networks_in_use() -> None:
    used = [ipaddress.IPv4Network("10.77.0.0/24"), ipaddress.IPv4Network("10.77.1.0/24")]
    assert choose_subnet(used) == ipaddress.IPv4Network("10.77.2.0/24")


def test_choose_subnet_skips_a_wider_overlapping_network() -> None:
    used = [ipaddress.IPv4Network("10.77.0.0/23")]
    assert choose_subnet(used) == ipaddress.IPv4Network("10.77.2.0/24")


def test_choose_subnet_refuses_when_pool_is_full() -> None:
    with pytest.raises(EsdcError, match="no free /24"):
        choose_subnet([ipaddress.IPv4Network("10.0.0.0/8")])


def test_host_exec_argv_sets_hostname_in_own_uts_namespace() -> None:
    argv = host_exec_argv(HOSTS[1], ["hostname"])
    assert argv[:6] == ["ip", "netns", "exec", "esdc-1a2b-1", "unshare", "--uts"]
    assert argv[-2:] == ["nodeb", "hostname"]


def test_rsh_agent_maps_names_and_addresses_to_namespaces() -> None:
    script = render_rsh_agent(HOSTS)
    assert "nodea|10.77.3.1) ns=esdc-1a2b-0; name=nodea ;;" in script
    assert "nodeb|10.77.3.2) ns=esdc-1a2b-1; name=nodeb ;;" in script
    assert script.startswith("#!/bin/sh\n")


def test_rsh_agent_is_valid_shell() -> None:
    proc = subprocess.run(["sh", "-n"], input=render_rsh_agent(HOSTS), text=True, check=False)
    assert proc.returncode == 0


def test_rsh_agent_rejects_unknown_host(tmp_path) -> None:  # type: ignore[no-untyped-def]
    agent = tmp_path / "agent.sh"
    agent.write_text(render_rsh_agent(HOSTS))
    proc = subprocess.run(["sh", str(agent), "nodez", "true"], capture_output=True, text=True)
    assert proc.returncode == 255
    assert "unknown host 'nodez'" in proc.stderr


def test_netns_hosts_needs_two_hosts() -> None:
    with pytest.raises(EsdcError, match="at least 2"):
        NetnsHosts(1)


def test_netns_hosts_default_names_follow_prefix() -> None:
    assert NetnsHosts(3, prefix="node").names == ["nodea", "nodeb", "nodec"]


def test_netns_hosts_outside_with_block_is_an_error() -> None:
    with pytest.raises(EsdcError, match="outside its with block"):
        NetnsHosts(2).mpirun_args()
