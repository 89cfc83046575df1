"""Evidence beside the logs: maps and fd parsing, a constructed /proc, sysfs counter trees."""

from __future__ import annotations

import os
from pathlib import Path

from builder.run.evidence import (
    IB_DATA_WORD,
    TOKEN_VARIABLE,
    RankSampler,
    components_of,
    counter_delta,
    library_kind,
    parse_ip_stats,
    parse_maps,
    rdma_devices,
    read_ib_counters,
    read_net_counters,
)

SYSFS = Path(__file__).resolve().parents[2] / "fixtures" / "sysfs"

MAPS = """\
55d0c0a00000-55d0c0a01000 r--p 00000000 fd:01 1311 /tmp/pingpong
7f1c2a000000-7f1c2a100000 r-xp 00000000 fd:01 2622 /usr/lib/x86_64-linux-gnu/libmpi.so.40.30.4
7f1c2b000000-7f1c2b100000 r-xp 00000000 fd:01 2623 /usr/lib/x86_64-linux-gnu/libucp.so.0.0.0
7f1c2b200000-7f1c2b300000 r-xp 00000000 fd:01 2624 /usr/lib/x86_64-linux-gnu/ucx/libuct_cma.so.0
7f1c2c000000-7f1c2c100000 r-xp 00000000 fd:01 2625 /usr/lib/openmpi/mca_pml_ucx.so
7f1c2c200000-7f1c2c300000 r-xp 00000000 fd:01 2626 /usr/lib/openmpi/mca_btl_vader.so
7f1c2d000000-7f1c2d100000 rw-s 00000000 00:01 99 /dev/shm/vader_segment.vm.1 (deleted)
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
"""


def test_maps_give_libraries_and_components() -> None:
    files = parse_maps(MAPS)
    assert files["/usr/lib/x86_64-linux-gnu/libmpi.so.40.30.4"] == ("fd:01", 2622)
    assert "[stack]" not in files and not any("deleted" in f for f in files)
    kinds = {library_kind(path) for path in files}
    assert {"mpi", "ucp", "uct"} <= kinds
    assert library_kind("/usr/lib/libmpi_mpifh.so.40") is None  # Fortran bindings: not the MPI
    assert components_of(files) == ["pml_ucx"]


def test_rdma_devices_among_open_files() -> None:
    targets = ["/dev/null", "/dev/infiniband/uverbs0", "socket:[1234]", "/dev/infiniband/rdma_cm"]
    assert rdma_devices(targets) == ["/dev/infiniband/rdma_cm", "/dev/infiniband/uverbs0"]


def _fake_proc(root: Path, pid: int, token: str, maps: str, fds: list[str]) -> None:
    proc = root / str(pid)
    (proc / "fd").mkdir(parents=True)
    (proc / "ns").mkdir()
    (proc / "environ").write_bytes(f"PATH=/bin\0{TOKEN_VARIABLE}={token}\0".encode())
    (proc / "maps").write_text(maps)
    (proc / "cmdline").write_bytes(b"/tmp/pingpong\x001048576\x00")
    for number, target in enumerate(fds):
        os.symlink(target, proc / "fd" / str(number))
    os.symlink("user:[4026531837]", proc / "ns" / "user")
    os.symlink("net:[4026531840]", proc / "ns" / "net")
    os.symlink("/", proc / "root")


def test_sampler_finds_the_job_ranks_by_token_only(tmp_path: Path) -> None:
    _fake_proc(tmp_path, 101, "abc", MAPS, ["/dev/infiniband/uverbs0", "/dev/null"])
    _fake_proc(tmp_path, 102, "other-job", MAPS, [])
    _fake_proc(tmp_path, 103, "abc", "55d0 r--p 00000000 fd:01 1 /bin/orted\n", [])
    sampler = RankSampler("abc", proc_root=tmp_path)
    sampler.sample()
    (rank,) = sampler.processes()
    assert rank.pid == 101 and rank.command == "/tmp/pingpong 1048576"
    assert rank.rdma_devices == ["/dev/infiniband/uverbs0"]
    assert rank.components == ["pml_ucx"]
    assert rank.user_ns == "user:[4026531837]"
    # The recorded maps name files this machine does not have with those inodes.
    assert {c.origin for c in rank.libraries["mpi"]} == {"unknown"}


def test_ib_counters_from_a_recorded_tree_count_data_words_as_bytes() -> None:
    before = read_ib_counters(SYSFS / "before" / "class" / "infiniband")
    after = read_ib_counters(SYSFS / "after" / "class" / "infiniband")
    assert before["ib:mlx5_0/1"]["tx_bytes"] == 1000000 * IB_DATA_WORD
    moved = counter_delta(before, after)["mlx5_0/1"]
    assert moved.kind == "ib"
    assert moved.tx_bytes == 225000000 * IB_DATA_WORD == 900_000_000
    assert moved.other == {
        "counters/port_xmit_packets": 220000,
        "counters/port_rcv_packets": 220010,
        "hw_counters/rx_write_requests": 2,
    }


def test_ipoib_and_ethernet_counters_from_a_recorded_tree() -> None:
    before = read_net_counters(SYSFS / "before" / "class" / "net")
    after = read_net_counters(SYSFS / "after" / "class" / "net")
    moved = counter_delta(before, after)
    assert moved["ib0"].tx_bytes == 900_000_000 and moved["ib0"].rx_bytes == 0
    assert moved["eth0"].total == 200
    assert "lo" not in moved  # nothing changed


def test_ip_json_statistics_of_a_namespace() -> None:
    text = (
        '[{"ifname":"lo","stats64":{"rx":{"bytes":10,"packets":1},"tx":{"bytes":10}}},'
        '{"ifname":"veth0","stats64":{"rx":{"bytes":500},"tx":{"bytes":700}}}]'
    )
    assert parse_ip_stats(text, "nodea/") == {
        "net:nodea/lo": {"rx_bytes": 10, "tx_bytes": 10},
        "net:nodea/veth0": {"rx_bytes": 500, "tx_bytes": 700},
    }
    assert parse_ip_stats("not json") == {}


def test_missing_sysfs_gives_no_counters(tmp_path: Path) -> None:
    assert read_ib_counters(tmp_path / "none") == {}
    assert read_net_counters(tmp_path / "none") == {}
