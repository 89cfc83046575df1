"""A real single-node Slurm cluster with its own munge, started and stopped by the tests.

Everything lives in a temporary folder: the munge key and socket, ``slurm.conf`` (free ports on
127.0.0.1, proctrack/linuxproc, task/none, no cgroups, no accounting), state and spool
folders. Clients find it through ``SLURM_CONF``. Teardown cancels every job and stops the three
daemons this fixture started, by their process ids.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from builder.run.probe import host_tools

SLURM_CONF_TEMPLATE = """\
ClusterName=esdctest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
AuthType=auth/munge
AuthInfo=socket={root}/munge/socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE
"""


@dataclass(frozen=True)
class SlurmCluster:
    """The running test cluster: its folder and the environment its clients need."""

    root: Path
    env: dict[str, str]
    pingpong: Path


def _free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        with socket.socket() as second:
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    needed = ("munged", "slurmctld", "slurmd", "srun", "sbatch", "mpicc")
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")
    if os.geteuid() != 0:
        pytest.skip("the test cluster runs its daemons as root")
    root = tmp_path_factory.mktemp("slurm")
    for name in ("munge", "state", "spool"):
        (root / name).mkdir()
    (root / "munge").chmod(0o711)
    key = root / "munge" / "key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    port = _free_port_pair()
    conf = root / "slurm.conf"
    conf.write_text(SLURM_CONF_TEMPLATE.format(root=root, ctld_port=port, d_port=port + 1))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    pingpong = host_tools(root / "cache")["pingpong"]
    assert pingpong is not None

    started: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for argv in (
            ["munged", "-F", "-f", "-S", f"{root}/munge/socket", f"--key-file={key}",
             f"--log-file={root}/munge/log", f"--pid-file={root}/munge/pid",
             f"--seed-file={root}/munge/seed"],
            ["slurmctld", "-D", "-f", str(conf)],
            ["slurmd", "-D", "-f", str(conf), "-N", "localhost"],
        ):  # fmt: skip
            log = open(root / f"{argv[0]}.out", "wb")  # noqa: SIM115 - closed in finally
            logs.append(log)
            started.append(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT))
            time.sleep(0.5 if argv[0] == "munged" else 0)
        _wait_for_idle_node(env, root)
        yield SlurmCluster(root=root, env=env, pingpong=Path(pingpong[0]))
    finally:
        subprocess.run(["scancel", "--user=root"], env=env, capture_output=True, check=False)
        for process in reversed(started):
            _stop(process)
        for log in logs:
            log.close()


def _wait_for_idle_node(env: dict[str, str], root: Path) -> None:
    deadline = time.monotonic() + 30
    state = ""
    while time.monotonic() < deadline:
        done = subprocess.run(
            ["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True, check=False
        )
        state = done.stdout.strip()
        if state == "idle":
            return
        time.sleep(0.2)
    logs = "".join(p.read_text(errors="replace")[-500:] for p in root.glob("*.log"))
    raise RuntimeError(f"test Slurm node not idle (state {state!r}): {logs}")
