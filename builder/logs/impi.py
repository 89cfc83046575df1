"""Intel MPI log analyser (``I_MPI_DEBUG=5`` or more).

Every debug line starts with an identifier in brackets: the rank by default (``[0]``), or
``rank#pid@host`` style identifiers when ``I_MPI_DEBUG`` carries flags (``+5``, ``5,pid,host``);
``[-1]`` is printed before the rank is known. The routine name follows (``MPI startup():``)
unless the ``nofunc`` flag removed it. Lines read:

* ``Intel(R) MPI Library, Version 2021.10  Build 20230619 (id: c2e19c2f3e)`` (also ``Version 2019
  Update 9``, ``Version 5.1.3``) and the ``MPI_Get_library_version`` form ``Intel(R) MPI Library
  2021.10 for Linux* OS``;
* ``libfabric version: 1.18.0-impi``, ``libfabric loaded: libfabric.so.1``,
  ``libfabric provider: mlx`` (``psm3``, ``tcp;ofi_rxm``, ``verbs;ofi_rxm``, ``shm``, ...);
* ``I_MPI_*=value`` environment lines (``I_MPI_FABRICS=shm:ofi``, ``I_MPI_OFI_PROVIDER=...``);
* Intel MPI 2018 and older: ``shm and dapl data transfer modes`` (fabric names instead of OFI);
* the rank/pid/node/pin table and tuning-file lines are ignored.

The provider is ``selected.ofi_provider`` and a path of layer ``ofi``, scope ``inter-node``
(Intel MPI's shm fabric carries intra-node traffic unless ``I_MPI_FABRICS=ofi``). The old
data-transfer-mode line gives paths of layer ``fabric``: ``shm and dapl`` is shm within a node and
dapl (InfiniBand) between nodes; a single fabric (``tcp data transfer mode``) serves both.

Observation kinds: ``libfabric_version`` (Intel MPI's bundled libfabric), ``libfabric_loaded``,
``env`` (``I_MPI_FABRICS=shm:ofi``), ``fabrics`` (``shm:dapl`` from the old data-transfer-mode
line), ``nic`` (``I_MPI`` NIC pinning lines, ``<rank> <nic>``), ``iface`` (the interface an
``I_MPI_HYDRA_IFACE``/``I_MPI_TCP_NETMASK`` setting names; ``ib0`` shows InfiniBand).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import ClassVar

from builder.logs.base import (
    MAX_LINE,
    CodeInfo,
    LibraryFacts,
    LineAnalyser,
    ObservationBook,
    add_evidence,
    record_version,
    room_for,
)
from builder.logs.classify import ofi_provider_class
from builder.logs.libfabric import is_socket_provider
from builder.model.analysis import Evidence, Finding, PathUse, Scope

LIBRARY = "impi"

#: Old (pre-OFI) Intel MPI fabrics that are plain TCP.
_SOCKET_FABRICS = frozenset({"tcp", "sock"})

CODES: list[CodeInfo] = [
    CodeInfo(
        code="IMPI_TCP_PROVIDER",
        severity="warning",
        library=LIBRARY,
        summary="Intel MPI runs over a TCP/sockets libfabric provider (or the old tcp fabric).",
    ),
]

# "[0] ", "[0#4711@node17] ", "[0#4711:4712@node17] " and, with time flags, further bracketed
# fields ("[12:00:01.5] ") before the routine name.
_IDENT = re.compile(
    r"^\s*\[(?P<rank>-?\d+)(?:#(?P<pid>\d+))?(?::\d+)?(?:@(?P<host>[^\]\s]+))?[^\]]*\]\s*"
    r"(?:\[[^\]]*\]\s*)*(?:(?P<func>[A-Za-z_][\w ]*\(\)):\s*)?(?P<msg>.*?)\s*$"
)
_VERSION = re.compile(
    r"Intel\(R\) MPI Library,? (?:Version )?(?P<ver>\d{1,4}(?:\.\d+)*(?: Update \d+)?)"
)
_LF_VERSION = re.compile(r"^libfabric version: (?P<ver>\S+)")
_LF_LOADED = re.compile(r"^libfabric loaded: (?P<lib>\S+)")
_LF_PROVIDER = re.compile(r"^libfabric provider: (?P<prov>[^\s,]+)")
_ENV = re.compile(r"^(?P<var>I_MPI_[A-Z0-9_]+)=(?P<val>\S*)$")
_OLD_FABRICS = re.compile(
    r"^(?P<intra>\w+)(?: and (?P<inter>\w+))? data transfer modes?\b", re.IGNORECASE
)
#: ``I_MPI_*`` settings that name a network interface (``I_MPI_HYDRA_IFACE=ib0``).
_IFACE_VARS = re.compile(r"IFACE|NETMASK|_IF$")
_NIC = re.compile(r"^(?P<rank>\d+)\s+(?P<nic>(?:mlx|hfi|irdma|cxi|efa|bnxt|qedr|ib)\w*)\s*$")


#: Path classes of the fabrics of Intel MPI 2018 and older (``shm and dapl data transfer modes``).
_OLD_FABRIC_CLASSES: dict[str, str] = {
    "shm": "shm",
    "dapl": "ib",
    "ofa": "ib",
    "tmi": "psm2",
    "tcp": "tcp",
    "sock": "tcp",
}


def path_class(transport: str, device: str | None, *, roce: bool = False) -> str | None:
    """The class of an Intel MPI lane: the libfabric provider it opened, or an old fabric."""
    old = _OLD_FABRIC_CLASSES.get(transport.lower())
    if old is not None:
        return "roce" if old == "ib" and roce else old
    return ofi_provider_class(transport, roce=roce)


class Analyser(LineAnalyser):
    """Reads Intel MPI ``I_MPI_DEBUG`` startup lines."""

    library: ClassVar[str] = LIBRARY
    anchors: ClassVar[tuple[bytes, ...]] = (
        b"MPI startup",
        b"Intel(R) MPI Library",
        b"libfabric provider: ",
        b"libfabric version: ",
        b"data transfer mode",
    )

    def __init__(self) -> None:
        self._obs = ObservationBook()
        self._versions: dict[str, list[str]] = {}
        self._version_evidence: list[Evidence] = []
        self._providers: Counter[str] = Counter()
        self._provider_evidence: dict[str, list[Evidence]] = {}
        self._paths: dict[str, int] = {}
        self._path_evidence: list[Evidence] = []
        self._env: dict[str, str] = {}
        self._tcp_fabric: list[Evidence] = []
        self._old_lanes: dict[tuple[Scope, str], int] = {}

    def feed(self, text: str, evidence: Evidence) -> None:
        """Consume one cleaned line; lines that match no known shape are ignored."""
        try:
            self._feed(text, evidence)
        except Exception:  # an odd line must never stop the analysis
            return

    def _feed(self, text: str, evidence: Evidence) -> None:
        text = text[:MAX_LINE]
        ident = _IDENT.match(text)
        if ident is None:
            # MPI_Get_library_version() output has no identifier.
            if "Intel(R) MPI Library" in text:
                self._version(text, "unknown", evidence)
            return
        msg = ident["msg"]
        rank = self._rank(ident)
        if "Intel(R) MPI Library" in msg:
            self._version(msg, rank, evidence)
            return
        if msg.startswith("libfabric "):
            self._libfabric(msg, evidence)
            return
        if msg.startswith("I_MPI_"):
            env = _ENV.match(msg)
            if env is not None:
                if room_for(self._env, env["var"]):
                    self._env[env["var"]] = env["val"]
                self._obs.add("env", f"{env['var']}={env['val']}", evidence)
                if _IFACE_VARS.search(env["var"]) and env["val"]:
                    self._obs.add("iface", env["val"], evidence)
            return
        if "data transfer mode" in msg:
            self._old_fabrics(msg, evidence)
            return
        nic = _NIC.match(msg)
        if nic is not None:
            self._obs.add("nic", f"{nic['rank']} {nic['nic']}", evidence)

    @staticmethod
    def _rank(ident: re.Match[str]) -> str:
        if ident["host"] and ident["pid"]:
            return f"{ident['host']}:{ident['pid']}"
        return f"rank {ident['rank']}"

    def _version(self, text: str, rank: str, evidence: Evidence) -> None:
        version = _VERSION.search(text)
        if version is not None:
            record_version(self._versions, version["ver"].strip(), rank)
            add_evidence(self._version_evidence, evidence)

    def _libfabric(self, msg: str, evidence: Evidence) -> None:
        provider = _LF_PROVIDER.match(msg)
        if provider is not None:
            name = provider["prov"]
            if not room_for(self._providers, name):
                return
            self._providers[name] += 1
            add_evidence(self._provider_evidence.setdefault(name, []), evidence)
            if name not in self._paths:
                add_evidence(self._path_evidence, evidence)
            self._paths[name] = self._paths.get(name, 0) + 1
            return
        version = _LF_VERSION.match(msg)
        if version is not None:
            self._obs.add("libfabric_version", version["ver"], evidence)
            return
        loaded = _LF_LOADED.match(msg)
        if loaded is not None:
            self._obs.add("libfabric_loaded", loaded["lib"], evidence)

    def _old_fabrics(self, msg: str, evidence: Evidence) -> None:
        fabrics = _OLD_FABRICS.match(msg)
        if fabrics is None:
            return
        intra, inter = fabrics["intra"].lower(), (fabrics["inter"] or "").lower()
        self._obs.add("fabrics", f"{intra}:{inter}" if inter else intra, evidence)
        network = inter or intra
        # ``shm and dapl``: shm within a node, dapl between nodes; one fabric serves both.
        lanes: list[tuple[Scope, str]] = [("intra-node", intra), ("inter-node", network)]
        for scope, fabric in lanes:
            if fabric in _OLD_FABRIC_CLASSES and not (scope == "inter-node" and fabric == "shm"):
                key = (scope, fabric)
                if key not in self._old_lanes:
                    add_evidence(self._path_evidence, evidence)
                self._old_lanes[key] = self._old_lanes.get(key, 0) + 1
        if network in _SOCKET_FABRICS:
            add_evidence(self._tcp_fabric, evidence)

    def facts(self) -> LibraryFacts:
        """Version, the libfabric provider Intel MPI chose, observations and findings."""
        selected: dict[str, object] = {}
        if self._providers:
            selected["ofi_provider"] = self._providers.most_common(1)[0][0]
        paths = [
            PathUse(library=LIBRARY, layer="ofi", scope="inter-node", transport=name, count=n)
            for name, n in self._paths.items()
        ] + [
            PathUse(library=LIBRARY, layer="fabric", scope=scope, transport=fabric, count=n)
            for (scope, fabric), n in self._old_lanes.items()
        ]
        return LibraryFacts(
            library=LIBRARY,
            versions={k: list(v) for k, v in self._versions.items()},
            version_evidence=list(self._version_evidence),
            paths=paths,
            path_evidence=list(self._path_evidence),
            selected=selected,
            observations=self._obs.all(),
            findings=self._findings(),
        )

    def _findings(self) -> list[Finding]:
        tcp = sorted(name for name in self._providers if is_socket_provider(name))
        evidence: list[Evidence] = []
        for name in tcp:
            for ev in self._provider_evidence[name]:
                add_evidence(evidence, ev)
        for ev in self._tcp_fabric:
            add_evidence(evidence, ev)
        if not evidence:
            return []
        what = ", ".join(tcp) if tcp else "the tcp fabric"
        return [
            Finding(
                code="IMPI_TCP_PROVIDER",
                severity="warning",
                library=LIBRARY,
                message=f"Intel MPI uses {what}: inter-node traffic goes over TCP sockets",
                evidence=evidence,
            )
        ]
