"""Collecting evidence beside the logs while a logging run runs (see :mod:`builder.model.evidence`).

Two witnesses, each a small table plus a reader:

- :data:`LIBRARY_FILES` names the library files looked for in ``/proc/<pid>/maps``; a rank is any
  process of the job (it carries :data:`TOKEN_VARIABLE` in its environment) that maps an MPI
  library. :class:`RankSampler` polls them while the job runs, so that libraries loaded late
  (transport plugins) and devices opened at ``MPI_Init`` are seen;
- :func:`read_net_counters` and :func:`read_ib_counters` read a sysfs tree (the real one, or a
  recorded one in tests); :func:`read_netns_counters` asks ``ip -s -j`` inside a network namespace
  (each local test host has its own interfaces). :func:`counter_delta` subtracts two snapshots.

Parsing is pure (text in, data out); only the ``read_*`` functions and the sampler touch /proc,
/sys or subprocesses.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from builder.model.evidence import InterfaceBytes, MappedCopy, Origin, RankProcess

#: Library kind -> file name pattern of its shared object (matched on the mapped path's name).
LIBRARY_FILES: dict[str, re.Pattern[str]] = {
    "mpi": re.compile(r"^lib(?:mpi|mpich|mpi_ibm|mpi_cray|mpi_intel)\.so(?:\.[\d.]+)?$"),
    "ucp": re.compile(r"^libucp\.so"),
    "uct": re.compile(r"^libuct(?:_\w+)?\.so"),
    "fabric": re.compile(r"^libfabric\.so"),
    "pmix": re.compile(r"^libpmix\.so"),
    "cuda": re.compile(r"^libcuda\.so"),
    "nccl": re.compile(r"^libnccl(?:-net)?\.so"),
    "verbs": re.compile(r"^libibverbs\.so"),
}
#: Open MPI point-to-point components (``mca_pml_ucx.so``): the selected ones stay mapped after
#: MPI_Init (every BTL stays loaded under pml ob1, so BTLs say little).
COMPONENT = re.compile(r"^mca_(?P<kind>pml|mtl)_(?P<name>\w+)\.so$")
#: RDMA devices among a process's open files.
RDMA_DEVICE = re.compile(r"^/dev/infiniband/(?:uverbs\d+|rdma_cm|issm\d+|umad\d+)$")
#: The variable every rank of a logging run carries, so that its processes can be found.
TOKEN_VARIABLE = "ESDC_EVIDENCE_TOKEN"
#: Seconds between two samples of the job's processes.
SAMPLE_INTERVAL_S = 0.1

_MAPS_LINE = re.compile(
    r"^[0-9a-f]+-[0-9a-f]+\s+\S+\s+[0-9a-f]+\s+(?P<dev>[0-9a-f]+:[0-9a-f]+)\s+(?P<inode>\d+)\s+"
    r"(?P<path>/\S.*)$"
)


def parse_maps(text: str) -> dict[str, tuple[str, int]]:
    """``/proc/<pid>/maps`` -> mapped file path -> (``major:minor`` in hex, inode) (pure)."""
    files: dict[str, tuple[str, int]] = {}
    for line in text.splitlines():
        match = _MAPS_LINE.match(line)
        if match is not None and not match["path"].endswith(" (deleted)"):
            files.setdefault(match["path"], (match["dev"], int(match["inode"])))
    return files


def library_kind(path: str) -> str | None:
    """The :data:`LIBRARY_FILES` kind of a mapped file, or ``None`` (pure)."""
    name = path.rsplit("/", 1)[-1]
    return next((kind for kind, pattern in LIBRARY_FILES.items() if pattern.match(name)), None)


def components_of(paths: Iterable[str]) -> list[str]:
    """Open MPI components among mapped files, as ``pml_ucx`` (pure, sorted)."""
    found = {
        f"{m['kind']}_{m['name']}"
        for path in paths
        if (m := COMPONENT.match(path.rsplit("/", 1)[-1])) is not None
    }
    return sorted(found)


def rdma_devices(targets: Iterable[str]) -> list[str]:
    """RDMA device files among ``/proc/<pid>/fd`` link targets (pure, sorted)."""
    return sorted({t for t in targets if RDMA_DEVICE.match(t)})


def _same_file(identity: tuple[str, int], path: Path) -> bool:
    try:
        found = path.stat()
    except OSError:
        return False
    dev = f"{os.major(found.st_dev):02x}:{os.minor(found.st_dev):02x}"
    return found.st_ino == identity[1] and dev == identity[0]


def origin_of(path: str, identity: tuple[str, int], proc: Path) -> Origin:
    """Whose copy a mapped file is: the host's (same file at that path here) or the image's."""
    if _same_file(identity, Path(path)):
        return "host"
    if _same_file(identity, proc / "root" / path.lstrip("/")):
        return "image"
    # The maps line and stat may disagree on the device of overlay and FUSE files: fall back
    # to the file behind the mapping itself.
    return "unknown"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def _link(path: Path) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def snapshot_process(proc: Path) -> RankProcess | None:
    """The evidence of one process (``/proc/<pid>``), or ``None`` when it maps no MPI library."""
    maps = _read(proc / "maps")
    if maps is None:
        return None
    files = parse_maps(maps)
    libraries: dict[str, list[MappedCopy]] = {}
    for path, identity in files.items():
        kind = library_kind(path)
        if kind is not None:
            libraries.setdefault(kind, []).append(
                MappedCopy(path=path, origin=origin_of(path, identity, proc))
            )
    if "mpi" not in libraries:
        return None
    fd_dir = proc / "fd"
    try:
        targets = [t for entry in fd_dir.iterdir() if (t := _link(entry)) is not None]
    except OSError:
        targets = []
    cmdline = (_read(proc / "cmdline") or "").split("\0")
    return RankProcess(
        pid=int(proc.name),
        command=" ".join(word for word in cmdline if word)[:200],
        root=_link(proc / "root") or "?",
        user_ns=_link(proc / "ns" / "user"),
        net_ns=_link(proc / "ns" / "net"),
        libraries=libraries,
        components=components_of(files),
        rdma_devices=rdma_devices(targets),
    )


def merge_process(old: RankProcess, new: RankProcess) -> RankProcess:
    """Two samples of one process: the union of what each saw (pure)."""
    libraries = {k: list(v) for k, v in old.libraries.items()}
    for kind, copies in new.libraries.items():
        known = {c.path for c in libraries.get(kind, [])}
        libraries.setdefault(kind, []).extend(c for c in copies if c.path not in known)
    return new.model_copy(
        update={
            "libraries": libraries,
            "components": sorted({*old.components, *new.components}),
            "rdma_devices": sorted({*old.rdma_devices, *new.rdma_devices}),
        }
    )


def processes_with_token(token: str, proc_root: Path = Path("/proc")) -> list[Path]:
    """The ``/proc/<pid>`` folders of processes whose environment holds the job's token."""
    needle = f"{TOKEN_VARIABLE}={token}\0".encode()
    found: list[Path] = []
    for entry in proc_root.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "environ").read_bytes():
                found.append(entry)
    return found


class RankSampler:
    """A thread sampling the job's rank processes until stopped (a context manager).

    Parameters
    ----------
    token
        The value of :data:`TOKEN_VARIABLE` in the job's environment.
    proc_root
        ``/proc`` (a recorded tree in tests).
    """

    def __init__(self, token: str, proc_root: Path = Path("/proc")) -> None:
        self.token = token
        self.proc_root = proc_root
        self.found: dict[int, RankProcess] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="esdc-rank-sampler", daemon=True)

    def __enter__(self) -> RankSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        """Take one sample of every rank process now."""
        for proc in processes_with_token(self.token, self.proc_root):
            seen = snapshot_process(proc)
            if seen is None:
                continue
            old = self.found.get(seen.pid)
            self.found[seen.pid] = seen if old is None else merge_process(old, seen)

    def processes(self) -> list[RankProcess]:
        """Every rank seen, by pid."""
        return [self.found[pid] for pid in sorted(self.found)]

    def _loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, ValueError):
                self.sample()
            self._stop.wait(SAMPLE_INTERVAL_S)


# --- counters ----------------------------------------------------------------------------------

#: ``port_xmit_data``/``port_rcv_data`` count 4-byte words (InfiniBand Architecture, PortCounters).
IB_DATA_WORD = 4
Snapshot = dict[str, dict[str, int]]


def _int_file(path: Path) -> int | None:
    text = _read(path)
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def read_net_counters(class_net: Path = Path("/sys/class/net"), prefix: str = "") -> Snapshot:
    """``rx_bytes``/``tx_bytes`` of every interface under ``class_net`` (a sysfs tree)."""
    snapshot: Snapshot = {}
    if not class_net.is_dir():
        return snapshot
    for interface in sorted(class_net.iterdir()):
        values = {
            name: value
            for name in ("rx_bytes", "tx_bytes")
            if (value := _int_file(interface / "statistics" / name)) is not None
        }
        if values:
            snapshot[f"net:{prefix}{interface.name}"] = values
    return snapshot


def read_ib_counters(class_ib: Path = Path("/sys/class/infiniband")) -> Snapshot:
    """Every port's ``counters`` and ``hw_counters`` (data words made bytes) under ``class_ib``."""
    snapshot: Snapshot = {}
    if not class_ib.is_dir():
        return snapshot
    for device in sorted(class_ib.iterdir()):
        for port in sorted((device / "ports").glob("*")):
            values: dict[str, int] = {}
            for folder in ("counters", "hw_counters"):
                for counter in sorted((port / folder).glob("*")):
                    value = _int_file(counter)
                    if value is not None:
                        values[f"{folder}/{counter.name}"] = value
            xmit, rcv = values.get("counters/port_xmit_data"), values.get("counters/port_rcv_data")
            if xmit is not None:
                values["tx_bytes"] = xmit * IB_DATA_WORD
            if rcv is not None:
                values["rx_bytes"] = rcv * IB_DATA_WORD
            if values:
                snapshot[f"ib:{device.name}/{port.name}"] = values
    return snapshot


def parse_ip_stats(text: str, prefix: str = "") -> Snapshot:
    """``ip -s -j link show`` output -> the same snapshot as :func:`read_net_counters` (pure)."""
    snapshot: Snapshot = {}
    try:
        links = json.loads(text)
    except json.JSONDecodeError:
        return snapshot
    for link in links if isinstance(links, list) else []:
        stats = link.get("stats64") or link.get("stats") or {}
        rx, tx = stats.get("rx", {}).get("bytes"), stats.get("tx", {}).get("bytes")
        if isinstance(rx, int) and isinstance(tx, int):
            snapshot[f"net:{prefix}{link.get('ifname', '?')}"] = {"rx_bytes": rx, "tx_bytes": tx}
    return snapshot


def read_netns_counters(namespace: str, label: str) -> Snapshot:
    """Interface bytes inside a network namespace (``ip -n NS -s -j link show``)."""
    done = subprocess.run(
        ["ip", "-n", namespace, "-s", "-j", "link", "show"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return parse_ip_stats(done.stdout, f"{label}/") if done.returncode == 0 else {}


def read_counters(namespaces: Mapping[str, str] | None = None) -> Snapshot:
    """This host's interfaces and InfiniBand ports, and each test host's (label -> namespace)."""
    snapshot = {**read_net_counters(), **read_ib_counters()}
    for label, namespace in (namespaces or {}).items():
        snapshot.update(read_netns_counters(namespace, label))
    return snapshot


def counter_delta(before: Snapshot, after: Snapshot) -> dict[str, InterfaceBytes]:
    """What moved between two snapshots; interfaces where nothing changed are left out (pure)."""
    moved: dict[str, InterfaceBytes] = {}
    for key, values in after.items():
        old = before.get(key, {})
        diff = {name: value - old[name] for name, value in values.items() if name in old}
        changed = {name: d for name, d in diff.items() if d != 0}
        if not changed:
            continue
        kind = "ib" if key.startswith("ib:") else "net"
        moved[key.split(":", 1)[1]] = InterfaceBytes(
            kind=kind,
            rx_bytes=max(0, changed.get("rx_bytes", 0)),
            tx_bytes=max(0, changed.get("tx_bytes", 0)),
            other={
                name: d
                for name, d in changed.items()
                if name not in ("rx_bytes", "tx_bytes")
                and name not in ("counters/port_xmit_data", "counters/port_rcv_data")
            },
        )
    return moved
