"""NCCL debug log analyser (``NCCL_DEBUG=INFO``).

Lines look like ``<host>:<pid>:<tid> [<cuda dev>] NCCL INFO <msg>``; WARN lines put
``<file>:<line>`` before ``NCCL WARN``; newer versions and launchers may prefix a timestamp or a
rank tag, so the prefix is searched for, not anchored. What is read:

* version (``NCCL version 2.21.5+cuda12.4``), per rank (``host:pid``);
* the network (``Using network IB|Socket|AWS Libfabric|<plugin>``), the devices it found
  (``NET/IB : Using [0]mlx5_0:1/IB [1]mlx5_1:1/RoCE ; OOB ...``, ``NET/Socket : Using
  [0]eth0:...``), the plugin lines (``NET/Plugin ...``, ``NET/OFI ...``, ``NET/IBext_v8 ...``) and
  aws-ofi-nccl's provider (``NET/OFI Selected Provider is cxi``);
* GPUDirect RDMA announcements (``GPU Direct RDMA Enabled|Disabled for HCA ...``);
* channel lines, the authority on the path taken: ``Channel 00/0 : 0[0] -> 1[1] [send] via
  NET/IB/0/GDRDMA`` (2.12+; bus ids in brackets in 2.12-2.17), ``Channel 00 : 0[1a000] ->
  1[1a000] via NET/IB/0`` (older), ``Ring 00 : ...`` (2.4-era), intra-node ``via P2P/IPC``,
  ``P2P/direct pointer``, ``P2P/CUMEM``, ``SHM/direct/direct``;
* environment switches NCCL reports (``NCCL_IB_DISABLE set by environment to 1.``);
* WARN lines.

Observation kinds: ``net_selected`` (value: network name), ``ib_device`` (``<dev>:<port>/<link
layer>`` from a ``NET/IB : Using`` table, e.g. ``mlx5_0:1/RoCE``), ``socket_device`` (interface),
``link_layer`` (``IB`` or ``RoCE``), ``plugin`` (plugin load lines, value: plugin name or
``internal``), ``ofi_provider`` (aws-ofi-nccl's provider), ``gdr_hca`` (``Enabled mlx5_0`` /
``Disabled mlx5_0``), ``env`` (``NCCL_X=value``), ``ibverbs_missing``, ``libfabric_version``
and ``plugin_version`` (from aws-ofi-nccl's ``NET/OFI`` start-up lines).

Channels through a libfabric plugin (``NET/AWS Libfabric/0``) print no device table; their
device is reported as the provider the plugin selected (``cxi``), so that the lane can be
classified.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import ClassVar

from builder.logs.base import (
    CodeInfo,
    LibraryFacts,
    LineAnalyser,
    ObservationBook,
    add_evidence,
    record_version,
    room_for,
)
from builder.model.analysis import Evidence, Finding, PathUse, Scope

LIBRARY = "nccl"

#: Distinct WARN messages reported as separate findings; the rest are counted in the last one.
MAX_WARN_FINDINGS = 10
#: Hosts whose device tables are remembered (to name ``NET/IB/0`` as ``mlx5_0``).
MAX_HOSTS = 4096

CODES: list[CodeInfo] = [
    CodeInfo(
        code="NCCL_SOCKET",
        severity="error",
        library=LIBRARY,
        summary="NCCL carries inter-node traffic over its Socket transport (no RDMA).",
    ),
    CodeInfo(
        code="NCCL_SHM_NOT_P2P",
        severity="warning",
        library=LIBRARY,
        summary="Intra-node NCCL channels go through host shared memory (SHM) instead of GPU "
        "peer-to-peer (P2P/NVLink).",
    ),
    CodeInfo(
        code="GDR_OFF",
        severity="warning",
        library=LIBRARY,
        summary="NCCL network channels over an RDMA device run without GPUDirect RDMA "
        "(no /GDRDMA).",
    ),
    CodeInfo(
        code="NCCL_WARN",
        severity="warning",
        library=LIBRARY,
        summary="NCCL printed a WARN line.",
    ),
    CodeInfo(
        code="NCCL_IB_NO_DEVICE",
        severity="warning",
        library=LIBRARY,
        summary="NCCL's IB transport found no device or could not load libibverbs.",
    ),
    CodeInfo(
        code="NCCL_IB_DISABLED",
        severity="warning",
        library=LIBRARY,
        summary="NCCL_IB_DISABLE=1 is set: the InfiniBand/RoCE transport is switched off.",
    ),
    CodeInfo(
        code="NCCL_P2P_DISABLED",
        severity="warning",
        library=LIBRARY,
        summary="NCCL_P2P_DISABLE=1 is set: GPU peer-to-peer transport is switched off.",
    ),
    CodeInfo(
        code="NCCL_SHM_DISABLED",
        severity="info",
        library=LIBRARY,
        summary="NCCL_SHM_DISABLE=1 is set: the shared-memory transport is switched off.",
    ),
    CodeInfo(
        code="NCCL_GDR_DISABLED",
        severity="warning",
        library=LIBRARY,
        summary="NCCL_NET_GDR_LEVEL (or NCCL_GDR_LEVEL) is set to LOC/0: GPUDirect RDMA is "
        "switched off.",
    ),
]

# Environment switches worth a finding: variable -> (values that trigger, code, what it does).
_ENV_SWITCHES: dict[str, tuple[frozenset[str], str, str]] = {
    "NCCL_IB_DISABLE": (frozenset({"1"}), "NCCL_IB_DISABLED", "InfiniBand/RoCE transport off"),
    "NCCL_P2P_DISABLE": (frozenset({"1"}), "NCCL_P2P_DISABLED", "GPU peer-to-peer off"),
    "NCCL_P2P_LEVEL": (frozenset({"0", "LOC"}), "NCCL_P2P_DISABLED", "GPU peer-to-peer off"),
    "NCCL_SHM_DISABLE": (frozenset({"1"}), "NCCL_SHM_DISABLED", "shared-memory transport off"),
    "NCCL_NET_GDR_LEVEL": (frozenset({"0", "LOC"}), "NCCL_GDR_DISABLED", "GPUDirect RDMA off"),
    "NCCL_GDR_LEVEL": (frozenset({"0", "LOC"}), "NCCL_GDR_DISABLED", "GPUDirect RDMA off"),
}
_SEVERITY = {info.code: info.severity for info in CODES}

# --- line shapes --------------------------------------------------------------------------------

# The level marker is found first; the "<host>:<pid>:<tid> [<dev>] [<file>:<line>] " prefix is
# then read backwards from it with string operations (no pattern retried at every position, so
# neither long garbage lines nor the common case cost much).
_LEVEL = re.compile(r"\bNCCL (?P<level>INFO|WARN|TRACE|ABORT)\b ?")
#: Characters before the level marker searched for the prefix (host names are short).
_PREFIX_WINDOW = 320
#: Characters of a line that are looked at; NCCL's longest lines (device tables) are far shorter.
MAX_LINE = 8192
_VERSION = re.compile(r"NCCL version (?P<ver>\d+\.\d+(?:\.\d+)?\S*)")
_USING_NETWORK = re.compile(r"^Using network (?P<net>.+?)\s*$")
_NET_USING = re.compile(r"^NET/(?P<net>[^:]+?)\s*: Using (?P<list>.*)$")
_IB_DEVICE = re.compile(r"\[(?P<idx>\d+)\](?P<name>[^\s:\[\]]+):(?P<port>\d+)/(?P<ll>IB|RoCE)")
_LOOSE_IB_DEVICE = re.compile(
    r"(?:^|[\s\]])(?P<name>[A-Za-z][\w.+-]*):(?P<port>\d+)/(?P<ll>IB|RoCE)\b"
)
_SOCKET_DEVICE = re.compile(r"\[(?P<idx>\d+)\](?P<name>[^\s:\[\]<]+):")
_GDR = re.compile(
    r"GPU Direct RDMA (?:\([^)]*\) )?(?P<state>Enabled|Disabled|enabled|disabled)"
    r"(?: for HCA (?P<idx>\d+) '(?P<hca>[^']*)')?"
)
_OFI_SELECTED = re.compile(r"NET/OFI Selected [Pp]rovider is (?P<prov>[^\s,(]+)")
_OFI_LIBFABRIC = re.compile(r"NET/OFI Using Libfabric version (?P<ver>\S+)")
_OFI_PLUGIN = re.compile(r"NET/OFI Initializing aws-ofi-nccl (?P<ver>\S+)")
_PLUGIN_LOADED = re.compile(r"Loaded (?:net |coll )?plugin (?P<name>.+?)(?: \(v\d+\))?\s*$")
_ENV = re.compile(r"^(?P<var>NCCL_[A-Z0-9_]+) set by environment to (?P<val>.*?)\.?\s*$")
_CHANNEL = re.compile(
    r"\b(?P<layer>Channel|Ring|Tree|CollNet|NVLS|Nvls)\s+\d+(?:/\d+)?\s*:\s*"
    r"(?P<src>\d+)(?:\[[0-9a-fA-F]+\])?\s*->\s*(?P<dst>\d+)(?:\[[0-9a-fA-F]+\])?\s*"
    r"(?:\[(?P<dir>send|receive)\]\s*)?via\s+(?P<via>.+?)\s*$"
)
_COMM = re.compile(r"\bcomm 0x[0-9a-fA-F]+ rank (?P<rank>\d+) nranks (?P<n>\d+)")
# CollNet (SHARP) connections name one rank only (2.12+ shown; older ones print "Coll 00 :"):
# "CollNet 00/0 : 0 [send] via COLLNET/SHARP/0/GDRDMA".
_COLLNET = re.compile(
    r"\b(?:CollNet|Coll)\s+\d+(?:/\d+)?\s*:\s*\d+\s*\[(?:send|receive)\]\s*via\s+(?P<via>.+?)\s*$"
)
# "NET/IB/0", "NET/IB/1(3)/GDRDMA", "NET/AWS Libfabric/0/GDRDMA/Shared", "NET/IB/0/GDRDMA(PCI)".
_VIA_NET = re.compile(
    r"^(?P<kind>NET|COLLNET)/(?P<name>.+?)/(?P<dev>\d+)(?:\((?P<proxy>\d+)\))?(?P<flags>(?:/.*)?)$"
)


def _prefix_before(text: str, start: int) -> tuple[str, str] | None:
    """``(host, pid)`` from the ``host:pid:tid [dev] `` prefix ending before ``start``.

    Anything before the prefix (a timestamp, ``[rank3]:``) is ignored: the host is the last but
    two colon-separated field of the word in front of the ``[dev]`` bracket.
    """
    window = text[max(0, start - _PREFIX_WINDOW) : start]
    close = window.rfind("] ")
    if close < 0:
        return None
    open_ = window.rfind(" [", 0, close)
    if open_ < 0:
        return None
    word = window[window.rfind(" ", 0, open_) + 1 : open_]
    fields = word.rsplit(":", 3)
    if len(fields) < 3:
        return None
    host, pid, tid = fields[-3], fields[-2], fields[-1]
    if not (pid.isdigit() and tid.isdigit()) or not host or "[" in host or "]" in host:
        return None
    return host, pid


def _is_rdma_net(net: str) -> bool:
    """True for NCCL networks that use an RDMA device (IB, RoCE, IBext plugins, OFI plugins)."""
    return net.lower() not in {"socket"}


def _is_ofi_net(transport: str) -> bool:
    """True for channels through a libfabric plugin (``NET/AWS Libfabric``, ``NET/OFI``)."""
    name = transport.split("/", 1)[-1].lower()
    return "libfabric" in name or name.startswith(("ofi", "aws"))


class Analyser(LineAnalyser):
    """Reads ``NCCL_DEBUG=INFO`` output."""

    library: ClassVar[str] = LIBRARY
    anchors: ClassVar[tuple[bytes, ...]] = (b"NCCL INFO", b"NCCL WARN", b"NCCL version")

    def __init__(self) -> None:
        self._obs = ObservationBook()
        self._versions: dict[str, list[str]] = {}
        self._version_evidence: list[Evidence] = []
        self._nets: Counter[str] = Counter()
        self._net_evidence: list[Evidence] = []
        # (host, net name) -> device index -> device name, to name "NET/IB/0" as "mlx5_0".
        self._devices: dict[tuple[str, str], dict[str, str]] = {}
        self._paths: dict[tuple[str, Scope, str, str | None], int] = {}
        self._path_evidence: list[Evidence] = []
        self._net_channels = 0
        self._net_channels_gdr = 0
        self._net_nogdr_evidence: dict[str, list[Evidence]] = {}
        self._socket_channel_evidence: list[Evidence] = []
        self._shm_evidence: list[Evidence] = []
        self._p2p_channels = 0
        self._gdr_enabled: list[Evidence] = []
        self._gdr_disabled: list[Evidence] = []
        self._ofi_providers: Counter[str] = Counter()
        self._env: dict[str, str] = {}
        self._env_evidence: dict[str, list[Evidence]] = {}
        self._no_device: list[Evidence] = []
        self._warns: dict[str, list[Evidence]] = {}
        # NCCL rank number -> hosts that printed "comm 0x.. rank N nranks M" for it.
        self._rank_hosts: dict[str, set[str]] = {}
        self._warn_count = 0

    # -- feeding ----------------------------------------------------------------------------

    def feed(self, text: str, evidence: Evidence) -> None:
        """Consume one cleaned line; lines that match no known shape are ignored."""
        try:
            self._feed(text, evidence)
        except Exception:  # an odd line must never stop the analysis
            return

    def _feed(self, text: str, evidence: Evidence) -> None:
        text = text[:MAX_LINE]
        marker = _LEVEL.search(text)
        if marker is None:
            version = _VERSION.search(text)
            if version is not None:
                self._version(version["ver"], None, evidence)
            return
        level, msg = marker["level"], text[marker.end() :]
        prefix = _prefix_before(text, marker.start())
        host = prefix[0] if prefix is not None else None
        rank = f"{prefix[0]}:{prefix[1]}" if prefix is not None else None
        if level == "WARN":
            self._warn(msg, evidence)
            return
        if level != "INFO":
            return
        self._info(msg.strip(), host, rank, evidence)

    def _info(self, msg: str, host: str | None, rank: str | None, evidence: Evidence) -> None:
        if " via " in msg:
            channel = _CHANNEL.search(msg)
            if channel is not None:
                self._channel(
                    channel["layer"].lower(),
                    channel["via"],
                    host,
                    evidence,
                    (channel["src"], channel["dst"]),
                )
                return
            collnet = _COLLNET.search(msg)
            if collnet is not None:
                self._channel("collnet", collnet["via"], host, evidence, None)
                return
        if msg.startswith("NCCL version"):
            version = _VERSION.search(msg)
            if version is not None:
                self._version(version["ver"], rank, evidence)
            return
        if msg.startswith("Using network"):
            using = _USING_NETWORK.match(msg)
            if using is not None:
                net = using["net"]
                if room_for(self._nets, net):
                    self._nets[net] += 1
                add_evidence(self._net_evidence, evidence)
                self._obs.add("net_selected", net, evidence)
            return
        if "set by environment to" in msg:
            env = _ENV.match(msg)
            if env is not None:
                self._environment(env["var"], env["val"].strip(), evidence)
            return
        if "GPU Direct RDMA" in msg:
            self._gdr(msg, evidence)
            return
        if msg.startswith("NET/"):
            self._net_line(msg, host, evidence)
            return
        if "nranks" in msg:
            self._comm_line(msg, host)
            return
        if "Failed to open libibverbs" in msg:
            add_evidence(self._no_device, evidence)
            self._obs.add("ibverbs_missing", None, evidence)

    def _version(self, ver: str, rank: str | None, evidence: Evidence) -> None:
        record_version(self._versions, ver, rank or "unknown")
        add_evidence(self._version_evidence, evidence)

    def _warn(self, msg: str, evidence: Evidence) -> None:
        if "libibverbs" in msg or "No device found" in msg:
            add_evidence(self._no_device, evidence)
        self._warn_count += 1
        key = msg.strip()[:200]
        if key in self._warns:
            add_evidence(self._warns[key], evidence)
        elif len(self._warns) < MAX_WARN_FINDINGS:
            self._warns[key] = [evidence]

    def _environment(self, var: str, value: str, evidence: Evidence) -> None:
        if not room_for(self._env, var):
            return
        self._env[var] = value
        add_evidence(self._env_evidence.setdefault(var, []), evidence)
        self._obs.add("env", f"{var}={value}", evidence)

    def _gdr(self, msg: str, evidence: Evidence) -> None:
        gdr = _GDR.search(msg)
        if gdr is None:
            return
        enabled = gdr["state"].lower() == "enabled"
        add_evidence(self._gdr_enabled if enabled else self._gdr_disabled, evidence)
        hca = gdr["hca"] or ""
        self._obs.add("gdr_hca", f"{'Enabled' if enabled else 'Disabled'} {hca}".strip(), evidence)

    def _net_line(self, msg: str, host: str | None, evidence: Evidence) -> None:
        if msg.startswith("NET/OFI"):
            selected = _OFI_SELECTED.search(msg)
            if selected is not None:
                provider = selected["prov"]
                if room_for(self._ofi_providers, provider):
                    self._ofi_providers[provider] += 1
                self._obs.add("ofi_provider", provider, evidence)
                return
            libfabric = _OFI_LIBFABRIC.search(msg)
            if libfabric is not None:
                self._obs.add("libfabric_version", libfabric["ver"], evidence)
                return
            plugin = _OFI_PLUGIN.search(msg)
            if plugin is not None:
                self._obs.add("plugin_version", f"aws-ofi-nccl {plugin['ver']}", evidence)
            return
        if msg.startswith("NET/Plugin"):
            loaded = _PLUGIN_LOADED.search(msg)
            if loaded is not None:
                self._obs.add("plugin", loaded["name"], evidence)
            elif "internal" in msg:
                self._obs.add("plugin", "internal", evidence)
            return
        if "No device found" in msg:
            add_evidence(self._no_device, evidence)
            return
        using = _NET_USING.match(msg)
        if using is None:
            # Other per-device lines ("NET/IB : [0] mlx5_0:1/RoCE speed=..." in some releases)
            # still tell the device and its link layer.
            for dev in _LOOSE_IB_DEVICE.finditer(msg):
                self._obs.add("ib_device", f"{dev['name']}:{dev['port']}/{dev['ll']}", evidence)
                self._obs.add("link_layer", dev["ll"], evidence)
            return
        net = using["net"].strip()
        devices = using["list"].split(";", 1)[0]
        table: dict[str, str] = {}
        ib_devices = list(_IB_DEVICE.finditer(devices))
        if ib_devices:
            for dev in ib_devices:
                table[dev["idx"]] = dev["name"]
                self._obs.add("ib_device", f"{dev['name']}:{dev['port']}/{dev['ll']}", evidence)
                self._obs.add("link_layer", dev["ll"], evidence)
        else:
            for dev in _SOCKET_DEVICE.finditer(devices):
                table[dev["idx"]] = dev["name"]
                self._obs.add("socket_device", dev["name"], evidence)
        if table and (host is None or len(self._devices) < MAX_HOSTS):
            self._devices[(host or "", net)] = table

    def _comm_line(self, msg: str, host: str | None) -> None:
        comm = _COMM.search(msg)
        if comm is None or host is None:
            return
        hosts = self._rank_hosts.get(comm["rank"])
        if hosts is None:
            if len(self._rank_hosts) >= MAX_HOSTS * 8:
                return
            self._rank_hosts[comm["rank"]] = {host}
        elif host not in hosts and len(hosts) < 2:
            hosts.add(host)  # two hosts: this rank number is ambiguous (several communicators)

    def _same_host(self, peers: tuple[str, str] | None) -> bool:
        if peers is None:
            return False
        first = self._rank_hosts.get(peers[0])
        second = self._rank_hosts.get(peers[1])
        return first is not None and second is not None and len(first) == 1 and first == second

    def _device_name(self, host: str | None, net: str, index: str) -> str:
        table = self._devices.get((host or "", net))
        if table is not None and index in table:
            return table[index]
        # Plugins may print their device table under another name ("NET/IB : Using" from the
        # HPC-X IBext plugin): the same host's only table is the next best source, then any
        # host's tables when they all agree on this index.
        same_host = [t for (h, _n), t in self._devices.items() if h == (host or "")]
        if len(same_host) == 1 and index in same_host[0]:
            return same_host[0][index]
        names = {t[index] for t in self._devices.values() if index in t}
        if len(names) == 1:
            return names.pop()
        return index

    def _channel(
        self,
        layer: str,
        via: str,
        host: str | None,
        evidence: Evidence,
        peers: tuple[str, str] | None,
    ) -> None:
        """Record one connection line; ``layer`` is channel, ring, tree, collnet or nvls."""
        net = _VIA_NET.match(via)
        if net is not None:
            name = net["name"]
            transport = f"{net['kind']}/{name}"
            device = self._device_name(host, name, net["dev"])
            # NET lanes cross nodes unless both ranks are known to live on one host (NCCL falls
            # back to NET inside a node when P2P and SHM are unavailable).
            scope: Scope = "intra-node" if self._same_host(peers) else "inter-node"
            self._net_channels += 1
            if "GDRDMA" in net["flags"]:
                self._net_channels_gdr += 1
            else:
                if room_for(self._net_nogdr_evidence, transport):
                    add_evidence(self._net_nogdr_evidence.setdefault(transport, []), evidence)
            if name.lower() == "socket" and scope == "inter-node":
                add_evidence(self._socket_channel_evidence, evidence)
        elif via.startswith("P2P/"):
            parts = via.split("/")
            transport = f"P2P/{parts[1]}" if len(parts) > 1 and parts[1] else "P2P"
            device, scope = None, "intra-node"
            self._p2p_channels += 1
        elif via.startswith("SHM"):
            transport, device, scope = "SHM", None, "intra-node"
            add_evidence(self._shm_evidence, evidence)
        else:
            transport, device, scope = via.split("/", 1)[0].strip(), None, "unknown"
        key = (layer, scope, transport, device)
        if not room_for(self._paths, key):
            return
        if key not in self._paths:
            add_evidence(self._path_evidence, evidence)
        self._paths[key] = self._paths.get(key, 0) + 1

    # -- conclusions ------------------------------------------------------------------------

    def facts(self) -> LibraryFacts:
        """Versions, paths, selected network/provider/GDR, observations and findings."""
        provider = self._ofi_providers.most_common(1)[0][0] if self._ofi_providers else None
        merged: dict[tuple[str, Scope, str, str | None], int] = {}
        for (layer, scope, transport, device), count in self._paths.items():
            if provider is not None and _is_ofi_net(transport) and (device or "").isdigit():
                # An OFI plugin prints no device table; the provider says what the lane is.
                device = provider
            key = (layer, scope, transport, device)
            merged[key] = merged.get(key, 0) + count
        paths = [
            PathUse(
                library=LIBRARY,
                layer=layer,
                scope=scope,
                transport=transport,
                device=device,
                count=count,
            )
            for (layer, scope, transport, device), count in merged.items()
        ]
        selected: dict[str, object] = {}
        net = self._selected_net()
        if net is not None:
            selected["nccl_net"] = net
        if self._ofi_providers:
            selected["ofi_provider"] = self._ofi_providers.most_common(1)[0][0]
        gdr = self._gdr_state()
        if gdr is not None:
            selected["gdr"] = gdr
        return LibraryFacts(
            library=LIBRARY,
            versions={k: list(v) for k, v in self._versions.items()},
            version_evidence=list(self._version_evidence),
            paths=paths,
            path_evidence=list(self._path_evidence),
            selected=selected,
            observations=self._obs.all(),
            findings=self._findings(net),
        )

    def _selected_net(self) -> str | None:
        if self._nets:
            return self._nets.most_common(1)[0][0]
        # Older logs without "Using network": the NET channels name it when they agree.
        names = {t.split("/", 1)[1] for (_l, _s, t, _d) in self._paths if t.startswith("NET/")}
        if not names:
            # NCCL initialises its networks in order and prints the device table of the first
            # one that works only: a lone "NET/<name> : Using ..." table names the network.
            names = {net for (_host, net) in self._devices}
        if len(names) == 1:
            return names.pop()
        return None

    def _gdr_state(self) -> bool | None:
        if self._net_channels:
            return self._net_channels_gdr == self._net_channels
        if self._gdr_enabled and not self._gdr_disabled:
            return True
        if self._gdr_disabled and not self._gdr_enabled:
            return False
        return None

    def _findings(self, net: str | None) -> list[Finding]:
        findings: list[Finding] = []
        self._socket_findings(net, findings)
        if self._shm_evidence:
            findings.append(self._shm_finding())
        nogdr = {
            transport: evs
            for transport, evs in self._net_nogdr_evidence.items()
            if _is_rdma_net(transport.split("/", 1)[1])
        }
        if nogdr:
            evidence: list[Evidence] = []
            for evs in nogdr.values():
                for ev in evs:
                    add_evidence(evidence, ev)
            for ev in self._gdr_disabled:
                add_evidence(evidence, ev)
            findings.append(
                Finding(
                    code="GDR_OFF",
                    severity="warning",
                    library=LIBRARY,
                    message=f"{self._net_channels - self._net_channels_gdr} of "
                    f"{self._net_channels} NCCL network channel lines over "
                    + ", ".join(sorted(nogdr))
                    + " lack /GDRDMA: GPUDirect RDMA is not used",
                    evidence=evidence,
                )
            )
        if self._no_device:
            findings.append(
                Finding(
                    code="NCCL_IB_NO_DEVICE",
                    severity="warning",
                    library=LIBRARY,
                    message="NCCL's IB transport is unavailable (no device found or libibverbs "
                    "missing)",
                    evidence=list(self._no_device),
                )
            )
        for var, (values, code, effect) in _ENV_SWITCHES.items():
            value = self._env.get(var)
            if value is not None and value.upper() in values:
                findings.append(
                    Finding(
                        code=code,
                        severity=_SEVERITY[code],
                        library=LIBRARY,
                        message=f"{var}={value} set by environment: {effect}",
                        evidence=list(self._env_evidence.get(var, [])),
                    )
                )
        shown = 0
        for msg, evs in self._warns.items():
            shown += len(evs)
            findings.append(
                Finding(
                    code="NCCL_WARN",
                    severity="warning",
                    library=LIBRARY,
                    message=f"NCCL WARN {msg}",
                    evidence=list(evs),
                )
            )
        if self._warn_count > MAX_WARN_FINDINGS and findings and self._warns:
            last = findings[-1]
            last.message += f" (and {self._warn_count - shown} more WARN lines)"
        return findings

    def _socket_findings(self, net: str | None, findings: list[Finding]) -> None:
        if self._socket_channel_evidence:
            count = sum(
                c for (_l, _s, t, _d), c in self._paths.items() if t.lower() == "net/socket"
            )
            findings.append(
                Finding(
                    code="NCCL_SOCKET",
                    severity="error",
                    library=LIBRARY,
                    message=f"NCCL inter-node traffic uses the Socket transport ({count} channel "
                    "lines via NET/Socket): no RDMA",
                    evidence=list(self._socket_channel_evidence),
                )
            )
        elif net is not None and net.lower() == "socket":
            findings.append(
                Finding(
                    code="NCCL_SOCKET",
                    severity="warning",
                    library=LIBRARY,
                    message="NCCL selected the Socket network; no inter-node channel was seen "
                    "in the log",
                    evidence=list(self._net_evidence),
                )
            )

    def _shm_finding(self) -> Finding:
        p2p_off = self._env.get("NCCL_P2P_DISABLE", "").upper() == "1"
        p2p_loc = self._env.get("NCCL_P2P_LEVEL", "").upper() in {"0", "LOC"}
        if p2p_off:
            why = "because NCCL_P2P_DISABLE=1"
        elif p2p_loc:
            why = f"because NCCL_P2P_LEVEL={self._env['NCCL_P2P_LEVEL']}"
        elif self._p2p_channels:
            why = "although other GPU pairs use P2P"
        else:
            why = (
                "where P2P/NVLink is expected (check GPU topology and whether the container "
                "shares the GPUs' IPC/device namespace)"
            )
        shm = sum(c for (_l, _s, t, _d), c in self._paths.items() if t == "SHM")
        return Finding(
            code="NCCL_SHM_NOT_P2P",
            severity="warning",
            library=LIBRARY,
            message=f"{shm} intra-node NCCL channel lines go through SHM {why}",
            evidence=list(self._shm_evidence),
        )
