"""Network-namespace test hosts: extra "nodes" on one machine for real multi-host MPI runs.

Each host is a network namespace with its own loopback and one veth interface on a private
IPv4 subnet; two hosts are joined by one veth pair, three or more by a bridge that lives in a
"switch" namespace of its own (so the root namespace is never touched). Commands run in a host
through ``ip netns exec NS unshare --uts`` so that each host also has its own host name, which
is what MPI libraries print in their logs (``[nodeb:1234:0] ...``).

``mpirun`` reaches the other hosts through an rsh agent script written by :class:`NetnsHosts`
(``--mca plm_rsh_agent SCRIPT``); :meth:`NetnsHosts.mpirun_args` gives the full set of options
that work on this stack, including the traps of design.md (``mpi_yield_when_idle`` so that
busy-polling ranks do not starve the network on two cores, and the subnet for ``oob``/``btl``).

Requires root (or CAP_NET_ADMIN + CAP_SYS_ADMIN) and ``ip`` and ``unshare`` on ``PATH``.
Every instance records itself under :data:`STATE_DIR` with its creator's pid, so that
:func:`cleanup_stale` can remove what a killed test left behind without touching the hosts of
a concurrent, still-running process.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

from pydantic import BaseModel, ConfigDict

from builder.errors import EsdcError
from builder.fsio import atomic_write_json, atomic_write_text

STATE_DIR = Path("/run/esdc-netns")
"""Where live instances record their namespaces (one JSON file each, named by instance id)."""

_SUBNET_POOL = ipaddress.IPv4Network("10.77.0.0/16")
_LINK_WAIT_S = 10.0


class NetnsHost(BaseModel):
    """One test host: its name (host name inside), namespace, address and interface."""

    model_config = ConfigDict(frozen=True)

    name: str
    netns: str
    address: str
    interface: str


class NetnsRecord(BaseModel):
    """What an instance leaves in :data:`STATE_DIR` so that a later run can clean up after it."""

    instance: str
    owner_pid: int
    subnet: str
    namespaces: list[str]


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``ip ARGS``; failures become :class:`EsdcError` with ip's own message."""
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        message = proc.stderr.strip() or f"exit status {proc.returncode}"
        raise EsdcError(f"ip {' '.join(args)}: {message}", where="netns")
    return proc


def _require_tools() -> None:
    missing = [tool for tool in ("ip", "unshare") if shutil.which(tool) is None]
    if missing:
        raise EsdcError(f"network-namespace hosts need {', '.join(missing)} on PATH", where="netns")
    if os.geteuid() != 0:
        raise EsdcError("network-namespace hosts need root (CAP_NET_ADMIN)", where="netns")


def list_namespaces() -> list[str]:
    """Names of the network namespaces that ``ip netns`` knows about."""
    proc = _ip("netns", "list", check=False)
    return [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]


def _networks_in_use() -> list[ipaddress.IPv4Network]:
    """IPv4 networks configured in the root namespace, in every named one, or reserved by us."""
    outputs = [_ip("-o", "-4", "addr", "show", check=False).stdout]
    outputs += [
        _ip("-n", ns, "-o", "-4", "addr", "show", check=False).stdout for ns in list_namespaces()
    ]
    networks: list[ipaddress.IPv4Network] = []
    for output in outputs:
        for line in output.splitlines():
            fields = line.split()
            if "inet" in fields:
                cidr = fields[fields.index("inet") + 1]
                networks.append(ipaddress.IPv4Interface(cidr).network)
    for record in _read_records():
        networks.append(ipaddress.IPv4Network(record.subnet))
    return networks


def _read_records() -> list[NetnsRecord]:
    records = []
    if STATE_DIR.is_dir():
        for path in sorted(STATE_DIR.glob("*.json")):
            with contextlib.suppress(OSError, ValueError):
                records.append(NetnsRecord.model_validate_json(path.read_text()))
    return records


def choose_subnet(in_use: Sequence[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    """The first /24 of 10.77.0.0/16 that overlaps none of ``in_use`` (pure).

    Raises
    ------
    EsdcError
        When all 256 candidates are taken.
    """
    for candidate in _SUBNET_POOL.subnets(new_prefix=24):
        if not any(candidate.overlaps(used) for used in in_use):
            return candidate
    raise EsdcError(f"no free /24 left in {_SUBNET_POOL}", where="netns")


def render_rsh_agent(hosts: Sequence[NetnsHost]) -> str:
    """The rsh agent script for ``mpirun --mca plm_rsh_agent`` (pure).

    Open MPI calls the agent like ssh: ``AGENT HOST CMD...`` where CMD is shell text. The agent
    maps the host (by name or address) to its namespace and runs CMD there with the host's
    name set in a fresh UTS namespace.
    """
    cases = "\n".join(
        f"  {shlex.quote(h.name)}|{shlex.quote(h.address)}) ns={shlex.quote(h.netns)};"
        f" name={shlex.quote(h.name)} ;;"
        for h in hosts
    )
    return f"""#!/bin/sh
# rsh agent written by builder.run.netns: runs a command in a network-namespace test host.
# Open MPI may put ssh-style options before the host name; skip them.
while [ $# -gt 0 ]; do
  case "$1" in
    -x|-T|-t|-n) shift ;;
    -*) shift ;;
    *) break ;;
  esac
done
host="$1"; shift
case "$host" in
{cases}
  *) echo "esdc netns agent: unknown host '$host'" >&2; exit 255 ;;
esac
exec ip netns exec "$ns" unshare --uts sh -c 'hostname "$0" && exec sh -c "$1"' "$name" "$*"
"""


def host_exec_argv(host: NetnsHost, argv: Sequence[str]) -> list[str]:
    """The argv that runs ``argv`` inside ``host`` with the host's name set (pure)."""
    return [
        "ip",
        "netns",
        "exec",
        host.netns,
        "unshare",
        "--uts",
        "sh",
        "-c",
        'hostname "$0" && exec "$@"',
        host.name,
        *argv,
    ]


class NetnsHosts:
    """A context manager that creates ``count`` network-namespace hosts and removes them on exit.

    Parameters
    ----------
    count
        Number of hosts (at least 2). Two are joined by a veth pair, more by a bridge.
    prefix
        Start of the namespace names; host names are ``PREFIX`` + ``a``, ``b``, ...
        unless ``names`` is given.
    subnet
        IPv4 subnet for the hosts, e.g. ``"10.77.5.0/24"``; by default the first free /24 of
        10.77.0.0/16. A given subnet that is already in use is refused.
    names
        Host names, one per host.

    Examples
    --------
    >>> with NetnsHosts(2, prefix="esdc") as net:            # doctest: +SKIP
    ...     argv = net.exec_argv(net.hosts[0], ["mpirun", *net.mpirun_args(), "./pingpong"])
    """

    def __init__(
        self,
        count: int = 2,
        prefix: str = "esdc",
        subnet: str | None = None,
        names: Sequence[str] | None = None,
    ) -> None:
        if count < 2:
            raise EsdcError(f"need at least 2 hosts, got {count}", where="netns")
        if count > 26 and names is None:
            raise EsdcError("more than 26 hosts need explicit names", where="netns")
        if names is not None and len(names) != count:
            raise EsdcError(f"{len(names)} names given for {count} hosts", where="netns")
        self.count = count
        self.prefix = prefix
        self.requested_subnet = subnet
        self.names = (
            list(names)
            if names is not None
            else [f"{prefix}{chr(ord('a') + i)}" for i in range(count)]
        )
        # Short random id: interface names are limited to 15 characters, and two processes may
        # use the same prefix at the same time.
        self.instance = secrets.token_hex(2)
        self.hosts: list[NetnsHost] = []
        self.subnet: ipaddress.IPv4Network | None = None
        self.workdir: Path | None = None
        self._namespaces: list[str] = []

    # -- public helpers -------------------------------------------------------------------------

    @property
    def rsh_agent(self) -> Path:
        """Path of the rsh agent script (valid inside the ``with`` block)."""
        return self._work() / "rsh-agent.sh"

    def hostfile(self, slots: int = 1) -> Path:
        """Write (once per slot count) and return an Open MPI hostfile naming every host."""
        path = self._work() / f"hostfile-{slots}"
        atomic_write_text(path, "".join(f"{h.name} slots={slots}\n" for h in self.hosts))
        return path

    def exec_argv(self, host: NetnsHost | str, argv: Sequence[str]) -> list[str]:
        """The argv that runs ``argv`` inside ``host`` (a host or its name)."""
        return host_exec_argv(self._host(host), argv)

    def mpirun_args(self, slots: int = 1) -> list[str]:
        """Open MPI ``mpirun`` options spreading ranks over these hosts (run it in ``hosts[0]``)."""
        if self.subnet is None:
            raise EsdcError("NetnsHosts used outside its with block", where="netns")
        subnet = str(self.subnet)
        return [
            "--hostfile",
            str(self.hostfile(slots)),
            "--mca",
            "plm_rsh_agent",
            str(self.rsh_agent),
            "--mca",
            "oob_tcp_if_include",
            subnet,
            "--mca",
            "btl_tcp_if_include",
            subnet,
            "--mca",
            "mpi_yield_when_idle",
            "1",
        ]

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> NetnsHosts:
        _require_tools()
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        try:
            with _state_lock():
                cleanup_stale()
                self._create()
        except BaseException:
            self._destroy()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._destroy()

    def _create(self) -> None:
        in_use = _networks_in_use()
        if self.requested_subnet is None:
            self.subnet = choose_subnet(in_use)
        else:
            try:
                wanted = ipaddress.IPv4Network(self.requested_subnet)
            except ValueError as exc:
                raise EsdcError(
                    f"bad subnet {self.requested_subnet!r}: {exc}", where="netns"
                ) from exc
            clash = [str(n) for n in in_use if wanted.overlaps(n)]
            if clash:
                raise EsdcError(f"subnet {wanted} overlaps {', '.join(clash)}", where="netns")
            self.subnet = wanted
        addresses = list(self.subnet.hosts())
        if len(addresses) < self.count:
            raise EsdcError(f"subnet {self.subnet} too small for {self.count} hosts", where="netns")
        base = f"{self.prefix}-{self.instance}"
        namespaces = [f"{base}-{i}" for i in range(self.count)]
        bridged = self.count > 2
        switch = f"{base}-sw"
        self._namespaces = [*namespaces, *([switch] if bridged else [])]
        self.workdir = Path(tempfile.mkdtemp(prefix=f"esdc-netns-{self.instance}-"))
        # Record before creating anything so that a crash half-way can still be cleaned up.
        atomic_write_json(
            STATE_DIR / f"{self.instance}.json",
            NetnsRecord(
                instance=self.instance,
                owner_pid=os.getpid(),
                subnet=str(self.subnet),
                namespaces=self._namespaces,
            ).model_dump(),
        )
        for ns in self._namespaces:
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        self.hosts = [
            NetnsHost(
                name=self.names[i],
                netns=namespaces[i],
                address=str(addresses[i]),
                interface=f"e{self.instance}h{i}",
            )
            for i in range(self.count)
        ]
        if bridged:
            _ip("-n", switch, "link", "add", f"e{self.instance}br", "type", "bridge")
            _ip("-n", switch, "link", "set", f"e{self.instance}br", "up")
            for i, host in enumerate(self.hosts):
                port = f"e{self.instance}p{i}"
                _ip(
                    "link",
                    "add",
                    host.interface,
                    "netns",
                    host.netns,
                    "type",
                    "veth",
                    "peer",
                    "name",
                    port,
                    "netns",
                    switch,
                )
                _ip("-n", switch, "link", "set", port, "master", f"e{self.instance}br")
                _ip("-n", switch, "link", "set", port, "up")
        else:
            a, b = self.hosts
            _ip(
                "link",
                "add",
                a.interface,
                "netns",
                a.netns,
                "type",
                "veth",
                "peer",
                "name",
                b.interface,
                "netns",
                b.netns,
            )
        prefixlen = self.subnet.prefixlen
        for host in self.hosts:
            _ip(
                "-n",
                host.netns,
                "addr",
                "add",
                f"{host.address}/{prefixlen}",
                "dev",
                host.interface,
            )
            _ip("-n", host.netns, "link", "set", host.interface, "up")
        self._wait_for_links()
        atomic_write_text(self.rsh_agent, render_rsh_agent(self.hosts), mode=0o755)

    def _wait_for_links(self) -> None:
        # A job started the moment the link is configured can fail its first connect (seen as
        # an MPI_Barrier error); wait until every end reports carrier.
        deadline = time.monotonic() + _LINK_WAIT_S
        pending = list(self.hosts)
        while pending and time.monotonic() < deadline:
            pending = [h for h in pending if not _link_is_up(h)]
            if pending:
                time.sleep(0.05)
        if pending:
            names = ", ".join(h.name for h in pending)
            raise EsdcError(
                f"links of {names} did not come up in {_LINK_WAIT_S:.0f}s", where="netns"
            )

    def _destroy(self) -> None:
        for ns in self._namespaces:
            _remove_namespace(ns)
        self._namespaces = []
        (STATE_DIR / f"{self.instance}.json").unlink(missing_ok=True)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def _work(self) -> Path:
        if self.workdir is None:
            raise EsdcError("NetnsHosts used outside its with block", where="netns")
        return self.workdir

    def _host(self, host: NetnsHost | str) -> NetnsHost:
        if isinstance(host, NetnsHost):
            return host
        for candidate in self.hosts:
            if host in (candidate.name, candidate.address, candidate.netns):
                return candidate
        raise EsdcError(f"no such test host: {host}", where="netns")


def _link_is_up(host: NetnsHost) -> bool:
    out = _ip("-n", host.netns, "-o", "link", "show", "dev", host.interface, check=False).stdout
    return "state UP" in out or ",LOWER_UP" in out


def _remove_namespace(ns: str) -> None:
    """Kill what still runs in ``ns`` (processes a test started there), then delete it."""
    if ns not in list_namespaces():
        return
    for _ in range(2):
        pids = _ip("netns", "pids", ns, check=False).stdout.split()
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGTERM if _ == 0 else signal.SIGKILL)
        time.sleep(0.2)
    # Deleting a namespace destroys the veth ends inside it, and with them their peers.
    _ip("netns", "delete", ns, check=False)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_stale() -> list[str]:
    """Remove the namespaces of instances whose creating process is gone; return their names."""
    removed: list[str] = []
    for record in _read_records():
        if _pid_alive(record.owner_pid):
            continue
        for ns in record.namespaces:
            _remove_namespace(ns)
            removed.append(ns)
        (STATE_DIR / f"{record.instance}.json").unlink(missing_ok=True)
    return removed


@contextlib.contextmanager
def _state_lock() -> Iterator[None]:
    """Serialise subnet choice and creation between concurrent processes."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(STATE_DIR / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
