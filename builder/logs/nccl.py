"""NCCL debug log analyser (``NCCL_DEBUG=INFO``), as a rule table and a small reader.

Line shapes (the prefix is searched for, not anchored, so timestamps and rank tags may precede
it):

* 2.3 and later: ``<host>:<pid>:<tid> [<dev>] NCCL INFO <msg>``; WARN lines put ``<file>:<line>``
  before ``NCCL WARN``;
* 2.2 and older: ``<host>:<pid>:<tid> [<dev>] INFO <msg>`` (no ``NCCL`` word);
* lines quoted without the host prefix (``NCCL INFO <msg>``) or without any prefix at all
  (``Using network IBext_v8``, as PyTorch or a poster leaves them);
* aws-ofi-nccl's own test programs: ``INFO: Function: ofi_init Line: 1033: NET/OFI ...``.

:data:`LINE_RULES` holds every message pattern as data: the kind of fact (:class:`Fact`), the
pattern, the finding it can lead to, its meaning and an example line. The reader keeps the
state some facts need (device tables per host to name ``NET/IB/0``, ranks per host to tell
whether a ``NET`` channel stays inside a node) and draws the conclusions in :meth:`Analyser.facts`.

Judgement without a site profile (see ``docs/findings.md``):

* Socket carrying traffic between nodes is an error when the log shows RDMA hardware or an RDMA
  attempt (an IB device table, IB queue pairs, an IPoIB interface, an IB net plugin, a
  ``libibverbs`` that failed to open, a net plugin that failed to load, ``NCCL_IB_DISABLE=1``),
  a warning otherwise;
* GPUDirect RDMA off (no ``NET`` lane with ``/GDRDMA``; without lanes: every ``GPU Direct RDMA``
  announcement ``Disabled``, aws-ofi-nccl finding no GDR-capable provider,
  ``NCCL_NET_GDR_LEVEL=LOC``) on an RDMA network that carries traffic between nodes is an error;
  some lanes without ``/GDRDMA`` are normal (send lanes on PCIe systems) and count as GDR in use;
* the IB transport without an out-of-band interface (empty ``OOB``, ``No IP interface found``),
  a failed verbs call, or aws-ofi-nccl failing to set up its endpoint is an error;
* ``nNodes 1``, a one-rank communicator, or every rank of the communicator on one host proves a
  single node: ``NET`` lanes then stay inside it and nothing crosses nodes;
* without ``NET`` channel lines, the selected network stands for the inter-node path unless one
  node is proven (or only intra-node channel lines and a single host are seen).

Observation kinds are the values of :class:`Fact` that the reader records (``net_selected``,
``ib_device``, ``socket_device``, ``link_layer``, ``plugin``, ``plugin_failed``,
``ofi_provider``, ``ofi_no_gdr``, ``ofi_gdr``, ``gdr_hca``, ``env``, ``ibverbs_missing``,
``ib_no_device``, ``ib_failed``, ``ib_oob``, ``ib_no_oob``, ``bootstrap_interface``, ``ib_qp``,
``libfabric_version``, ``plugin_version``, ...).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
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
from builder.logs.linerules import LineRule, ReaderErrors, first_match, rule
from builder.model.analysis import Evidence, Finding, PathUse, Scope, Severity

LIBRARY = "nccl"

#: Distinct WARN messages reported as separate findings; the rest are counted in the last one.
MAX_WARN_FINDINGS = 10
#: Hosts whose device tables are remembered (to name ``NET/IB/0`` as ``mlx5_0``).
MAX_HOSTS = 4096
#: Characters of a line that are looked at; NCCL's longest lines (device tables) are far shorter.
MAX_LINE = 8192
#: Characters before the level marker searched for the ``host:pid:tid [dev]`` prefix.
_PREFIX_WINDOW = 320


class Fact(StrEnum):
    """What an NCCL line tells; the reader dispatches on it and records it as an observation."""

    VERSION = "version"
    CHANNEL = "channel"
    COLLNET = "collnet"
    NET_SELECTED = "net_selected"
    DEVICE_TABLE = "device_table"
    DEVICE_LINE = "ib_device"
    SOCKET_DEVICE = "socket_device"
    LINK_LAYER = "link_layer"
    IB_OOB = "ib_oob"
    IB_NO_OOB = "ib_no_oob"
    BOOTSTRAP = "bootstrap_interface"
    NO_INTERFACE = "no_interface"
    IB_QP = "ib_qp"
    IB_NO_DEVICE = "ib_no_device"
    IBVERBS_MISSING = "ibverbs_missing"
    IB_FAILED = "ib_failed"
    PLUGIN = "plugin"
    PLUGIN_NONE = "plugin_none"
    PLUGIN_PROBE = "plugin_probe"
    PLUGIN_FAILED = "plugin_failed"
    PLUGIN_LOAD = "plugin_load"
    OFI_FAILED = "ofi_failed"
    PLUGIN_PATH = "plugin_path"
    OFI_PROVIDER = "ofi_provider"
    OFI_NO_GDR = "ofi_no_gdr"
    OFI_GDR = "ofi_gdr"
    OFI_ENDPOINT_FAILED = "ofi_endpoint_failed"
    LIBFABRIC_VERSION = "libfabric_version"
    PLUGIN_VERSION = "plugin_version"
    GDR = "gdr_hca"
    ENV = "env"
    COMM = "comm"
    NET_MENTION = "net_mention"


CODES: list[CodeInfo] = [
    CodeInfo(
        code="NCCL_SOCKET",
        severity="error",
        library=LIBRARY,
        summary="NCCL carries inter-node traffic over its Socket transport: an error when the log "
        "shows RDMA hardware or an RDMA attempt (IB devices or queue pairs, an IPoIB interface, "
        "an IB net plugin, libibverbs or a net plugin that failed to load, NCCL_IB_DISABLE=1), "
        "a warning otherwise.",
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
        severity="error",
        library=LIBRARY,
        summary="GPUDirect RDMA is off on an RDMA network that carries NCCL traffic between "
        "nodes (channels without /GDRDMA, every GPU Direct RDMA announcement Disabled, no "
        "GDR-capable OFI provider, NCCL_NET_GDR_LEVEL=LOC); a warning when the network lanes "
        "stay inside one node.",
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
        summary="NCCL's IB transport found no device (NET/IB : No device found).",
    ),
    CodeInfo(
        code="NCCL_IBVERBS_MISSING",
        severity="warning",
        library=LIBRARY,
        summary="NCCL could not open libibverbs (a container without the verbs library): the IB "
        "transport is unavailable.",
    ),
    CodeInfo(
        code="NCCL_NO_INTERFACE",
        severity="error",
        library=LIBRARY,
        summary="NCCL found no network interface to bootstrap or connect over (often "
        "NCCL_SOCKET_IFNAME matching nothing inside a container): communicators cannot start.",
    ),
    CodeInfo(
        code="NCCL_IB_FAILED",
        severity="error",
        library=LIBRARY,
        summary="A verbs call of NCCL's IB transport failed (ibv_open_device, ibv_reg_mr, "
        "ibv_create_qp, ...: often locked-memory limits or a device the container cannot use): "
        "the RDMA path does not work.",
    ),
    CodeInfo(
        code="NCCL_OFI_FAILED",
        severity="error",
        library=LIBRARY,
        summary="aws-ofi-nccl selected a libfabric provider but could not set up its endpoint, "
        "completion queue or address vector: the network path does not work.",
    ),
    CodeInfo(
        code="NCCL_PLUGIN_FAILED",
        severity="warning",
        library=LIBRARY,
        summary="A NCCL net plugin was found but could not be used (no supported ncclNetPlugin "
        "symbol, a library it needs missing, aws-ofi-nccl finding no libfabric provider); NCCL "
        "falls back to its internal networks.",
    ),
    CodeInfo(
        code="NCCL_IB_NO_OOB",
        severity="error",
        library=LIBRARY,
        summary="NCCL's IB transport has no out-of-band IP interface (an empty OOB in its "
        "device table, or 'No IP interface found'): IB connections cannot be set up.",
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
        summary="NCCL_P2P_DISABLE=1 (or NCCL_P2P_LEVEL=LOC) is set: GPU peer-to-peer transport "
        "is switched off.",
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
        summary="NCCL_NET_GDR_LEVEL (or NCCL_GDR_LEVEL) is set to LOC/0, or NCCL 2.2-2.3's "
        "NCCL_IB_CUDA_SUPPORT to 0: GPUDirect RDMA is switched off.",
    ),
    CodeInfo(
        code="NCCL_READER_ERROR",
        severity="info",
        library=LIBRARY,
        summary="A line the NCCL reader could not handle (a bug, not a transport problem): the "
        "line is named so that it can be reported; the rest of the log is still read.",
    ),
]
_SEVERITY: dict[str, Severity] = {info.code: info.severity for info in CODES}

# Environment switches worth a finding: variable -> (values that trigger, code, what it does).
_ENV_SWITCHES: dict[str, tuple[frozenset[str], str, str]] = {
    "NCCL_IB_DISABLE": (frozenset({"1"}), "NCCL_IB_DISABLED", "InfiniBand/RoCE transport off"),
    "NCCL_P2P_DISABLE": (frozenset({"1"}), "NCCL_P2P_DISABLED", "GPU peer-to-peer off"),
    "NCCL_P2P_LEVEL": (frozenset({"0", "LOC"}), "NCCL_P2P_DISABLED", "GPU peer-to-peer off"),
    "NCCL_SHM_DISABLE": (frozenset({"1"}), "NCCL_SHM_DISABLED", "shared-memory transport off"),
    "NCCL_NET_GDR_LEVEL": (frozenset({"0", "LOC"}), "NCCL_GDR_DISABLED", "GPUDirect RDMA off"),
    "NCCL_GDR_LEVEL": (frozenset({"0", "LOC"}), "NCCL_GDR_DISABLED", "GPUDirect RDMA off"),
    # NCCL 2.2-2.3: 0 turns GPUDirect RDMA off (1 forces it on).
    "NCCL_IB_CUDA_SUPPORT": (frozenset({"0"}), "NCCL_GDR_DISABLED", "GPUDirect RDMA off"),
}
_GDR_OFF_ENV = ("NCCL_NET_GDR_LEVEL", "NCCL_GDR_LEVEL", "NCCL_IB_CUDA_SUPPORT")


#: Every message NCCL (and aws-ofi-nccl) prints that the analysis reads, first match wins.
LINE_RULES: tuple[LineRule[Fact], ...] = (
    rule(
        Fact.CHANNEL,
        r"\b(?P<layer>Channel|Ring|Tree|CollNet|NVLS|Nvls)\s+\d+(?:/\d+)?\s*:\s*"
        r"(?P<src>\d+)(?:\[[0-9a-fA-F]+\])?\s*->\s*(?P<dst>\d+)(?:\[[0-9a-fA-F]+\])?\s*"
        r"(?:\[(?P<dir>send|receive)\]\s*)?via\s+(?P<via>.+?)\s*$",
        "gpu-a:2101:2190 [0] NCCL INFO Channel 00/0 : 0[0] -> 8[0] [send] via NET/IB/0/GDRDMA",
        "a connection and its transport, the authority on the path taken (NET/..., P2P/...,"
        " SHM/..., and 2.4's 'direct shared memory')",
        "GDR_OFF",
        needle=" via ",
    ),
    rule(
        Fact.COLLNET,
        r"\b(?:CollNet|Coll)\s+\d+(?:/\d+)?\s*:\s*\d+\s*\[(?:send|receive)\]\s*via\s+"
        r"(?P<via>.+?)\s*$",
        "gpu-a:2101:2190 [0] NCCL INFO CollNet 00/0 : 0 [send] via COLLNET/SHARP/0/GDRDMA",
        "a CollNet (SHARP) connection, which names one rank only",
        needle=" via ",
    ),
    rule(
        Fact.VERSION,
        r"NCCL version (?P<ver>\d+\.\d+(?:\.\d+)?\S*)",
        "gpu-a:2101:2101 [0] NCCL INFO NCCL version 2.21.5+cuda12.4",
        "the NCCL version a rank runs",
        needle="NCCL version",
    ),
    rule(
        Fact.NET_SELECTED,
        r"(?:^|\s)Using (?:internal )?[Nn]etwork (?P<net>(?!plugin\b)\S.*?)\s*$",
        "gpu-a:2101:2101 [0] NCCL INFO Using network IB",
        "the network NCCL selected (IB, Socket, or a plugin's name); 2.3 says 'internal Network'",
        needle="etwork ",
    ),
    rule(
        Fact.NET_SELECTED,
        r"NCCLNet device used on \S+ is (?P<net>.+?)\.?\s*$",
        "INFO: Function: main Line: 69: NET/OFI Process rank 0 started. NCCLNet device used on "
        "node13 is AWS Libfabric.",
        "aws-ofi-nccl's test programs name the network this way",
        needle="NCCLNet device",
    ),
    rule(
        Fact.OFI_PROVIDER,
        r"NET/OFI Selected [Pp]rovider is (?P<prov>[^\s,(]+)",
        "p5-a:6310:6318 [0] NCCL INFO NET/OFI Selected Provider is efa (found 16 nics)",
        "the libfabric provider aws-ofi-nccl uses",
        needle="NET/OFI",
    ),
    rule(
        Fact.OFI_NO_GDR,
        r"NET/OFI (?:Could not find any optimal provider supporting GPUDirect RDMA|"
        r"Using Libfabric [\d.]+ API, without GPUDirect RDMA support|"
        r"Could not disable CUDA API usage for HMEM, disabling GDR)",
        "TRACE: Function: find_ofi_provider Line: 525: NET/OFI Could not find any optimal "
        "provider supporting GPUDirect RDMA",
        "aws-ofi-nccl found no provider that can do GPUDirect RDMA",
        "GDR_OFF",
        needle="NET/OFI",
    ),
    rule(
        Fact.OFI_GDR,
        r"NET/OFI (?:Using Libfabric [\d.]+ API, with GPUDirect RDMA support|"
        r"Set endpoint option FI_OPT_CUDA_API_PERMITTED\. GDR Supported)",
        "p4d-a:101:101 [0] NCCL TRACE NET/OFI Using Libfabric 1.6 API, with GPUDirect RDMA support",
        "aws-ofi-nccl found a provider that can do GPUDirect RDMA",
        needle="NET/OFI",
    ),
    rule(
        Fact.OFI_ENDPOINT_FAILED,
        r"NET/OFI (?:Couldn't (?:allocate endpoint|open CQ|open AV|enable endpoint|bind EP)|"
        r"OFI call failed with RC|No viable endpoint found for TCP provider|"
        r"GDR support reported to NCCL but then couldn't be configured)",
        "node13:101:101 [0] NCCL WARN NET/OFI Couldn't allocate endpoint. RC: -22, ERROR: "
        "Invalid argument",
        "aws-ofi-nccl selected a provider but could not set up its endpoint: no traffic flows",
        "NCCL_OFI_FAILED",
        needle="NET/OFI",
    ),
    rule(
        Fact.LIBFABRIC_VERSION,
        r"NET/OFI Using Libfabric version (?P<ver>\S+)",
        "p5-a:6310:6318 [0] NCCL INFO NET/OFI Using Libfabric version 1.20",
        "the libfabric version under aws-ofi-nccl",
        needle="NET/OFI",
    ),
    rule(
        Fact.PLUGIN_VERSION,
        r"NET/OFI (?:Initializing|Using) aws-ofi-nccl (?P<ver>\S+)",
        "algo-1:462:462 [0] NCCL INFO NET/OFI Using aws-ofi-nccl 1.3.0aws",
        "the aws-ofi-nccl plugin version",
        needle="aws-ofi-nccl",
    ),
    rule(
        Fact.GDR,
        r"(?:^NET/(?P<net>[^\s:]+)\s*:\s*)?GPU Direct RDMA (?:\([^)]*\) )?"
        r"(?P<state>Enabled|Disabled|enabled|disabled)"
        r"(?: for (?:GPU (?P<gpu>\S+) / )?HCA (?P<idx>\d+)(?: '(?P<hca>[^']*)')?)?",
        "gpu-a:2101:2101 [0] NCCL INFO NET/IB : GPU Direct RDMA Disabled for HCA 0 'mlx5_0' "
        "(no module)",
        "whether GPUDirect RDMA works for a GPU/HCA pair (2.13+ names the GPU too)",
        "GDR_OFF",
        needle="GPU Direct RDMA",
    ),
    rule(
        Fact.ENV,
        r"^(?P<var>NCCL_[A-Z0-9_]+) set by environment to (?P<val>.*?)\.?\s*$",
        "gpu-a:2101:2101 [0] NCCL INFO NCCL_IB_DISABLE set by environment to 1.",
        "an NCCL_* setting the environment made",
        needle="set by environment",
    ),
    rule(
        Fact.DEVICE_TABLE,
        r"^NET/(?P<net>[^:]+?)\s*: Using (?P<list>\[\d+\].*)$",
        "gpu-a:2101:2101 [0] NCCL INFO NET/IB : Using [0]mlx5_0:1/IB [1]mlx5_1:1/RoCE ; OOB "
        "ib0:10.0.0.1<0>",
        "the devices a network initialised (IB: device:port/link layer; Socket: interfaces)",
        "NCCL_IB_NO_OOB",
        needle="Using [",
    ),
    rule(
        Fact.DEVICE_LINE,
        r"^NET/(?P<net>IB\w*)\s*:\s*\[(?P<idx>\d+)\]\s*(?P<name>[^\s:\[\]]+):(?P<port>\d+)/"
        r"(?P<ll>IB|RoCE)\b",
        "node05:1992:2014 [0] INFO NET/IB: [0] mlx4_0:1/IB",
        "one IB device per line (2.2 and 2.3, and per-device lines of later releases)",
    ),
    rule(
        Fact.SOCKET_DEVICE,
        r"^NET : Using interface (?P<name>[^\s:]+):",
        "ml3:32632:32662 [0] NCCL INFO NET : Using interface enp0s31f6:10.92.42.96<0>",
        "a socket interface (2.3)",
    ),
    rule(
        Fact.IB_OOB,
        r"^NET/IB\w* ?: Using interface (?P<name>\S+) for sideband communication",
        "VS004:18172:18962 [0] NCCL INFO NET/IB : Using interface ib0 for sideband communication",
        "the IB transport's out-of-band interface (2.3)",
    ),
    rule(
        Fact.NO_INTERFACE,
        r"Bootstrap ?: no socket interface found|NET/Socket ?: no interface found",
        "gpu-a:223645:223645 [0] bootstrap.cc:45 NCCL WARN Bootstrap : no socket interface found",
        "NCCL found no network interface (NCCL_SOCKET_IFNAME matches none): it cannot start",
        "NCCL_NO_INTERFACE",
    ),
    rule(
        Fact.BOOTSTRAP,
        r"^Bootstrap ?: Using (?:\[\d+\])?(?P<name>[^\s:]+):",
        "gpu-a:919:919 [0] NCCL INFO Bootstrap : Using ibp12s0:10.149.0.32<0>",
        "the interface NCCL bootstraps over (an ib* name is IPoIB: an HCA exists)",
    ),
    rule(
        Fact.IB_QP,
        r"^NET/IB\w*\s*: Dev \d+ Port \d+ qpn \d+",
        "node07:2451:2473 [0] INFO NET/IB: Dev 0 Port 1 qpn 3904 mtu 5 LID 4",
        "an IB queue pair was created (2.2): traffic runs on IB",
    ),
    rule(
        Fact.IB_NO_OOB,
        r"NET/IB\w* ?: No IP interface found",
        "gpu-a:2101:2101 [0] transport/net_ib.cc:484 NCCL WARN NET/IB : No IP interface found.",
        "the IB transport found no IP interface for connection setup: it does not start",
        "NCCL_IB_NO_OOB",
    ),
    rule(
        Fact.IB_NO_DEVICE,
        r"NET/IB\w* ?: No device found|Net/IB: call to devices\(\) returned 0 devices",
        "gcp-vm:525781:525957 [0] NCCL INFO NET/IB : No device found.",
        "the IB transport found no HCA",
        "NCCL_IB_NO_DEVICE",
    ),
    rule(
        Fact.IBVERBS_MISSING,
        r"Failed to open libibverbs",
        "pod-a:2340:2384 [4] NCCL INFO Failed to open libibverbs.so[.1]",
        "libibverbs is not there (INFO from 2.19, WARN before): no IB transport",
        "NCCL_IBVERBS_MISSING",
    ),
    rule(
        Fact.IB_FAILED,
        r"(?:Call to )?ibv_(?!fork)\w+ failed|NET/IB\w* ?: Unable to open device",
        "gpu-a:2101:2190 [0] misc/ibvwrap.cc:262 NCCL WARN Call to ibv_reg_mr failed with error "
        "Cannot allocate memory",
        "a verbs call of the IB transport failed (device open, memory registration, queue pair)",
        "NCCL_IB_FAILED",
        needle="ibv_",
    ),
    rule(
        Fact.PLUGIN,
        r"NET/Plugin ?: Loaded (?:net |coll(?:net)? )?plugin (?P<name>.+?)(?: \(v\d+\))?\s*$",
        "gpu-a:2101:2101 [0] NCCL INFO NET/Plugin: Loaded net plugin NCCL RDMA Plugin v8 (v8)",
        "a net or collnet plugin loaded",
        needle="Plugin",
    ),
    rule(
        Fact.PLUGIN,
        r"^P2P plugin (?P<name>\S+)",
        "gpu-a:2101:2101 [0] NCCL INFO P2P plugin IBext_v8",
        "the HPC-X (nccl-rdma-sharp) plugin names its network",
    ),
    rule(
        Fact.PLUGIN_PATH,
        r"^Plugin Path : (?P<path>\S+)",
        "gpu-a:2101:2101 [0] NCCL INFO Plugin Path : /opt/hpcx/nccl_rdma_sharp_plugin/lib/"
        "libnccl-net.so",
        "where the HPC-X plugin was loaded from",
    ),
    rule(
        Fact.PLUGIN_FAILED,
        r"NET/Plugin ?: Failed to find ncclNetPlugin symbol \(>= ?v\d+\)",
        "gcp-vm:525781:525781 [0] NCCL INFO NET/Plugin: Failed to find ncclNetPlugin symbol "
        "(>= v5). ncclNetPlugin symbols v4 and lower are not supported.",
        "a net plugin was found but offers no supported interface: it is not used",
        "NCCL_PLUGIN_FAILED",
        needle="Plugin",
    ),
    rule(
        Fact.PLUGIN_PROBE,
        r"NET/Plugin ?: Failed to find nccl(?:Coll)?NetPlugin_v\d+ symbol",
        "gpu-a:28331:28331 [0] NCCL INFO NET/Plugin: Failed to find ncclNetPlugin_v5 symbol.",
        "NCCL probing plugin interface versions, newest first (normal)",
        needle="Plugin",
    ),
    rule(
        Fact.PLUGIN_LOAD,
        r"NET/Plugin ?: Plugin load (?:\((?P<plugin>[^)]+)\) )?returned \d+ : "
        r"(?P<lib>[^:\s]+): cannot open shared object file",
        "gpu-a:2101:2101 [0] NCCL INFO NET/Plugin : Plugin load (libnccl-net.so) returned 2 : "
        "libfabric.so.1: cannot open shared object file: No such file or directory",
        "dlopen of the net plugin failed: normal when the plugin itself is absent, a failure "
        "when a library the plugin needs is missing",
        "NCCL_PLUGIN_FAILED",
        needle="Plugin load",
    ),
    rule(
        Fact.OFI_FAILED,
        r"NET/OFI (?:OFI fi_getinfo\(\) call failed|Couldn't find any optimal provider|"
        r"No eligible providers|Unable to find a protocol that worked)",
        "gpu-a:2101:2101 [0] NCCL INFO NET/OFI OFI fi_getinfo() call failed: No data available",
        "aws-ofi-nccl found no usable libfabric provider: the plugin cannot carry traffic",
        "NCCL_PLUGIN_FAILED",
        needle="NET/OFI",
    ),
    rule(
        Fact.PLUGIN_NONE,
        r"NET/Plugin ?: (?:No plugin found|Could not find)|No network plugin found|"
        r"NET/Plugin ?: Plugin load \(\S+\) returned|using internal implementation",
        "gpu-a:290:422 [0] NCCL INFO NET/Plugin : No plugin found (libnccl-net.so), using "
        "internal implementation",
        "no net plugin installed: NCCL uses its internal IB and Socket networks (normal)",
        needle="lugin",
    ),
    rule(
        Fact.COMM,
        r"(?:^|\s)rank (?P<rank>\d+) n[Rr]anks (?P<n>\d+)(?: nNodes (?P<nodes>\d+))?",
        "gpu-a:2101:2190 [0] NCCL INFO comm 0x7f0a rank 0 nRanks 16 nNodes 2 localRanks 8 "
        "localRank 0 MNNVL 0",
        "a communicator's size (and node count from 2.19): tells a single-node run",
        needle="anks ",
    ),
    rule(
        Fact.NET_MENTION,
        r"^NET/(?P<net>(?!Plugin\b|OFI\b)[A-Za-z][\w]*)\s*:",
        "learnfair062:32623:32734 [4] NCCL INFO NET/Socket : 1 interfaces found",
        "a network that printed something (names the network when nothing else does)",
    ),
)

# --- prefixes -----------------------------------------------------------------------------------

_LEVEL = re.compile(r"\bNCCL (?P<level>INFO|WARN|TRACE|ABORT)\b ?")
# NCCL 2.2 and older: "host:pid:tid [dev] INFO msg" (WARN lines: "[dev] file:line WARN msg").
_OLD_LEVEL = re.compile(
    r"(?:^|[\s\]:>])(?P<host>[^\s:\[\]]+):(?P<pid>\d+):\d+ \[\d+\] (?:\S+:\d+ )?"
    r"(?P<level>INFO|WARN) "
)
# aws-ofi-nccl's unit tests: "INFO: Function: ofi_init Line: 1033: NET/OFI ...".
_OFI_TEST = re.compile(r"\b(?P<level>INFO|TRACE|WARN|ERROR): Function: \S+ Line: \d+: ")

_IB_DEVICE = re.compile(r"\[(?P<idx>\d+)\](?P<name>[^\s:\[\]]+):(?P<port>\d+)/(?P<ll>IB|RoCE)")
_SOCKET_DEVICE = re.compile(r"\[(?P<idx>\d+)\](?P<name>[^\s:\[\]<]+):")
_OOB = re.compile(r";\s*OOB\s*(?P<oob>[^\s:<]*)")
# "NET/IB/0", "NET/IB/1(3)/GDRDMA", "NET/AWS Libfabric/0/GDRDMA/Shared", "NET/IB/0/GDRDMA(PCI)".
_VIA_NET = re.compile(
    r"^(?P<kind>NET|COLLNET)/(?P<name>.+?)/(?P<dev>\d+)(?:\((?P<proxy>\d+)\))?(?P<flags>(?:/.*)?)$"
)
#: An IP-over-InfiniBand interface name (``ib0``, ``ibp12s0``, ``ibs1``).
_IPOIB = re.compile(r"^ib(?:\d|p\d|s\d)", re.IGNORECASE)
#: Networks that move data over TCP, not RDMA.
_TCP_NETS = ("socket", "gpudirecttcpx", "fastrak")
#: libfabric providers that are plain sockets.
_SOCKET_PROVIDERS = frozenset({"tcp", "sockets", "udp", "net"})


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


@dataclass(frozen=True)
class Line:
    """One NCCL line split into its level, message and (when printed) host and rank."""

    level: str
    message: str
    host: str | None
    rank: str | None
    evidence: Evidence


def split_line(text: str, evidence: Evidence) -> Line:
    """The level and message of one line, whatever prefix (or none) it carries."""
    text = text[:MAX_LINE]
    marker = _LEVEL.search(text)
    if marker is not None:
        prefix = _prefix_before(text, marker.start())
        host = prefix[0] if prefix is not None else None
        rank = f"{prefix[0]}:{prefix[1]}" if prefix is not None else None
        return Line(marker["level"], text[marker.end() :].strip(), host, rank, evidence)
    head = text[:_PREFIX_WINDOW]
    old = _OLD_LEVEL.search(head) if " INFO " in head or " WARN " in head else None
    if old is not None:
        host = old["host"]
        return Line(old["level"], text[old.end() :].strip(), host, f"{host}:{old['pid']}", evidence)
    test = _OFI_TEST.search(text)
    if test is not None:
        return Line(test["level"], text[test.end() :].strip(), None, None, evidence)
    return Line("INFO", text.strip(), None, None, evidence)


def is_tcp_net(net: str) -> bool:
    """True for NCCL networks that move data over TCP (Socket, Google's TCPX)."""
    return net.strip().lower().startswith(_TCP_NETS)


def is_ofi_net(net: str) -> bool:
    """True for networks provided by a libfabric plugin (``AWS Libfabric``, ``Libfabric``)."""
    name = net.split("/", 1)[-1].lower()
    return "libfabric" in name or name.startswith(("ofi", "aws"))


class Analyser(LineAnalyser):
    """Reads ``NCCL_DEBUG=INFO`` output with :data:`LINE_RULES`."""

    library: ClassVar[str] = LIBRARY
    anchors: ClassVar[tuple[bytes, ...]] = (
        b"NCCL",
        b"NET/",
        b"Net/IB",
        b"Using internal Network",
        b"NET : ",
        b"Using network",
        b"P2P plugin",
        b"Plugin Path",
        b"GPU Direct RDMA",
        b" via P2P",
        b" via SHM",
        b"via direct shared memory",
        b"nranks",
        b"nRanks",
        b"Bootstrap",
        b"libibverbs",
    )

    def __init__(self) -> None:
        self._obs = ObservationBook()
        self._reader_errors = ReaderErrors()
        self._versions: dict[str, list[str]] = {}
        self._version_evidence: list[Evidence] = []
        self._nets: Counter[str] = Counter()
        self._net_evidence: list[Evidence] = []
        self._mentions: Counter[str] = Counter()
        # (host, net name) -> device index -> device name, to name "NET/IB/0" as "mlx5_0".
        self._devices: dict[tuple[str, str], dict[str, str]] = {}
        self._table_evidence: list[Evidence] = []
        self._paths: dict[tuple[str, Scope, str, str | None], int] = {}
        self._path_evidence: list[Evidence] = []
        self._net_channels = 0
        self._net_channels_gdr = 0
        self._rdma_inter_nogdr = 0
        self._net_nogdr_evidence: dict[str, list[Evidence]] = {}
        self._socket_channel_evidence: list[Evidence] = []
        self._shm_evidence: list[Evidence] = []
        self._p2p_channels = 0
        self._other_channels = 0
        self._gdr_enabled: list[Evidence] = []
        self._gdr_disabled: list[Evidence] = []
        self._ofi_no_gdr: list[Evidence] = []
        self._ofi_providers: Counter[str] = Counter()
        self._env: dict[str, str] = {}
        self._env_evidence: dict[str, list[Evidence]] = {}
        self._no_device: list[Evidence] = []
        self._no_verbs: list[Evidence] = []
        self._ib_failed_evidence: list[Evidence] = []
        self._ofi_failed: list[Evidence] = []
        self._plugin_failed: list[Evidence] = []
        self._no_oob: list[Evidence] = []
        self._no_interface: list[Evidence] = []
        self._rdma_evidence: list[Evidence] = []
        self._warns: dict[str, list[Evidence]] = {}
        self._warn_count = 0
        # NCCL rank number -> hosts that printed "comm 0x.. rank N nranks M" for it.
        self._rank_hosts: dict[str, set[str]] = {}
        self._nranks: set[int] = set()
        self._nodes: set[int] = set()
        # Hosts seen in line prefixes (two are enough to know the run spans nodes).
        self._hosts: set[str] = set()
        self._handlers: dict[Fact, Callable[[re.Match[str], Line], None]] = {
            Fact.CHANNEL: self._channel_line,
            Fact.COLLNET: self._collnet_line,
            Fact.VERSION: self._version_line,
            Fact.NET_SELECTED: self._net_selected,
            Fact.OFI_PROVIDER: self._ofi_provider,
            Fact.OFI_NO_GDR: self._ofi_no_gdr_line,
            Fact.OFI_GDR: self._ofi_gdr_line,
            Fact.OFI_ENDPOINT_FAILED: self._ofi_endpoint_failed,
            Fact.GDR: self._gdr,
            Fact.ENV: self._environment,
            Fact.DEVICE_TABLE: self._device_table,
            Fact.DEVICE_LINE: self._device_line,
            Fact.SOCKET_DEVICE: self._socket_device,
            Fact.IB_OOB: self._interface,
            Fact.BOOTSTRAP: self._interface,
            Fact.IB_QP: self._ib_qp,
            Fact.IB_NO_OOB: self._ib_no_oob,
            Fact.NO_INTERFACE: self._no_interface_line,
            Fact.IB_NO_DEVICE: self._ib_no_device,
            Fact.IBVERBS_MISSING: self._ibverbs_missing,
            Fact.IB_FAILED: self._ib_failed,
            Fact.PLUGIN: self._plugin,
            Fact.PLUGIN_FAILED: self._plugin_failed_line,
            Fact.OFI_FAILED: self._plugin_failed_line,
            Fact.PLUGIN_LOAD: self._plugin_load,
            Fact.COMM: self._comm_line,
            Fact.NET_MENTION: self._net_mention,
            Fact.PLUGIN_VERSION: self._plugin_version,
        }

    # -- feeding ----------------------------------------------------------------------------

    def feed(self, text: str, evidence: Evidence) -> None:
        """Consume one cleaned line; lines that match no known shape are ignored."""
        try:
            self._feed(text, evidence)
        except Exception as error:  # an odd line must never stop the analysis
            self._reader_errors.record(error, evidence)

    def _feed(self, text: str, evidence: Evidence) -> None:
        line = split_line(text, evidence)
        if line.host is not None and room_for(self._hosts, line.host, 2):
            self._hosts.add(line.host)
        if line.level == "WARN":
            self._warn(line.message, evidence)
        elif line.level not in {"INFO", "TRACE"}:
            return
        self.apply(line)

    def apply(self, line: Line) -> LineRule[Fact] | None:
        """Run :data:`LINE_RULES` on one split line; the rule that matched, if any."""
        found = first_match(LINE_RULES, line.message)
        if found is None:
            return None
        rule, match = found
        handler = self._handlers.get(rule.kind)
        if handler is not None:
            handler(match, line)
        else:
            value = next((v for v in match.groupdict().values() if v), None)
            self._obs.add(rule.kind.value, value, line.evidence)
        return rule

    def _version_line(self, match: re.Match[str], line: Line) -> None:
        record_version(self._versions, match["ver"], line.rank or "unknown")
        add_evidence(self._version_evidence, line.evidence)

    def _warn(self, msg: str, evidence: Evidence) -> None:
        self._warn_count += 1
        key = msg.strip()[:200]
        if key in self._warns:
            add_evidence(self._warns[key], evidence)
        elif len(self._warns) < MAX_WARN_FINDINGS:
            self._warns[key] = [evidence]

    def _net_selected(self, match: re.Match[str], line: Line) -> None:
        net = match["net"].strip()
        if room_for(self._nets, net):
            self._nets[net] += 1
        add_evidence(self._net_evidence, line.evidence)
        self._obs.add(Fact.NET_SELECTED.value, net, line.evidence)
        if net.lower().startswith("ib"):
            add_evidence(self._rdma_evidence, line.evidence)

    def _net_mention(self, match: re.Match[str], line: Line) -> None:
        net = match["net"]
        if room_for(self._mentions, net):
            self._mentions[net] += 1

    def _ofi_provider(self, match: re.Match[str], line: Line) -> None:
        provider = match["prov"]
        if room_for(self._ofi_providers, provider):
            self._ofi_providers[provider] += 1
        self._obs.add(Fact.OFI_PROVIDER.value, provider, line.evidence)

    def _plugin_version(self, match: re.Match[str], line: Line) -> None:
        self._obs.add(Fact.PLUGIN_VERSION.value, f"aws-ofi-nccl {match['ver']}", line.evidence)

    def _ofi_gdr_line(self, match: re.Match[str], line: Line) -> None:
        add_evidence(self._gdr_enabled, line.evidence)
        add_evidence(self._rdma_evidence, line.evidence)
        self._obs.add(Fact.OFI_GDR.value, None, line.evidence)

    def _ofi_endpoint_failed(self, match: re.Match[str], line: Line) -> None:
        add_evidence(self._ofi_failed, line.evidence)
        self._obs.add(Fact.OFI_ENDPOINT_FAILED.value, match.group(0), line.evidence)

    def _ofi_no_gdr_line(self, match: re.Match[str], line: Line) -> None:
        add_evidence(self._ofi_no_gdr, line.evidence)
        self._obs.add(Fact.OFI_NO_GDR.value, None, line.evidence)

    def _environment(self, match: re.Match[str], line: Line) -> None:
        var, value = match["var"], match["val"].strip()
        if not room_for(self._env, var):
            return
        self._env[var] = value
        add_evidence(self._env_evidence.setdefault(var, []), line.evidence)
        self._obs.add(Fact.ENV.value, f"{var}={value}", line.evidence)

    def _gdr(self, match: re.Match[str], line: Line) -> None:
        net = match["net"] or ""
        if net and room_for(self._mentions, net):
            self._mentions[net] += 1
        if is_tcp_net(net):
            # "NET/Socket : GPU Direct RDMA Disabled for HCA 0 'lan2'": topology search over
            # socket interfaces, no RDMA NIC involved; it still says GDR is not in use.
            add_evidence(self._gdr_disabled, line.evidence)
            self._obs.add(Fact.GDR.value, f"Disabled {match['hca'] or ''}".strip(), line.evidence)
            return
        enabled = match["state"].lower() == "enabled"
        add_evidence(self._gdr_enabled if enabled else self._gdr_disabled, line.evidence)
        hca = match["hca"] or (f"HCA {match['idx']}" if match["idx"] else "")
        state = "Enabled" if enabled else "Disabled"
        self._obs.add(Fact.GDR.value, f"{state} {hca}".strip(), line.evidence)
        add_evidence(self._rdma_evidence, line.evidence)

    def _device_table(self, match: re.Match[str], line: Line) -> None:
        net = match["net"].strip()
        listing = match["list"]
        devices = listing.split(";", 1)[0]
        table: dict[str, str] = {}
        ib_devices = list(_IB_DEVICE.finditer(devices))
        if ib_devices:
            for dev in ib_devices:
                table[dev["idx"]] = dev["name"]
                self._obs.add(
                    "ib_device", f"{dev['name']}:{dev['port']}/{dev['ll']}", line.evidence
                )
                self._obs.add(Fact.LINK_LAYER.value, dev["ll"], line.evidence)
            add_evidence(self._rdma_evidence, line.evidence)
            oob = _OOB.search(listing)
            if oob is not None:
                if oob["oob"]:
                    self._interface_name(oob["oob"], Fact.IB_OOB, line)
                else:
                    add_evidence(self._no_oob, line.evidence)
        else:
            for dev in _SOCKET_DEVICE.finditer(devices):
                table[dev["idx"]] = dev["name"]
                self._interface_name(dev["name"], Fact.SOCKET_DEVICE, line)
        add_evidence(self._table_evidence, line.evidence)
        if table and (line.host is None or len(self._devices) < MAX_HOSTS):
            self._devices[(line.host or "", net)] = table

    def _device_line(self, match: re.Match[str], line: Line) -> None:
        self._obs.add("ib_device", f"{match['name']}:{match['port']}/{match['ll']}", line.evidence)
        self._obs.add(Fact.LINK_LAYER.value, match["ll"], line.evidence)
        add_evidence(self._rdma_evidence, line.evidence)
        groups = match.groupdict()
        if groups.get("net") and groups.get("idx"):
            key = (line.host or "", str(groups["net"]))
            if key in self._devices or len(self._devices) < MAX_HOSTS:
                self._devices.setdefault(key, {})[str(groups["idx"])] = match["name"]
                add_evidence(self._table_evidence, line.evidence)

    def _socket_device(self, match: re.Match[str], line: Line) -> None:
        self._interface_name(match["name"], Fact.SOCKET_DEVICE, line)

    def _interface(self, match: re.Match[str], line: Line) -> None:
        kind = Fact.IB_OOB if "sideband" in line.message else Fact.BOOTSTRAP
        self._interface_name(match["name"], kind, line)

    def _interface_name(self, name: str, kind: Fact, line: Line) -> None:
        self._obs.add(kind.value, name, line.evidence)
        if _IPOIB.match(name):
            add_evidence(self._rdma_evidence, line.evidence)

    def _no_interface_line(self, match: re.Match[str], line: Line) -> None:
        add_evidence(self._no_interface, line.evidence)
        self._obs.add(Fact.NO_INTERFACE.value, None, line.evidence)

    def _ib_no_oob(self, match: re.Match[str], line: Line) -> None:
        add_evidence(self._no_oob, line.evidence)
        self._obs.add(Fact.IB_NO_OOB.value, None, line.evidence)

    def _ib_qp(self, match: re.Match[str], line: Line) -> None:
        self._obs.add(Fact.IB_QP.value, None, line.evidence)
        add_evidence(self._rdma_evidence, line.evidence)
        self._mentions["IB"] += 1

    def _ib_no_device(self, match: re.Match[str], line: Line) -> None:
        add_evidence(self._no_device, line.evidence)
        self._obs.add(Fact.IB_NO_DEVICE.value, None, line.evidence)

    def _ibverbs_missing(self, match: re.Match[str], line: Line) -> None:
        add_evidence(self._no_verbs, line.evidence)
        self._obs.add(Fact.IBVERBS_MISSING.value, None, line.evidence)

    def _ib_failed(self, match: re.Match[str], line: Line) -> None:
        add_evidence(self._ib_failed_evidence, line.evidence)
        add_evidence(self._rdma_evidence, line.evidence)
        self._obs.add(Fact.IB_FAILED.value, match.group(0), line.evidence)

    def _plugin(self, match: re.Match[str], line: Line) -> None:
        name = match["name"]
        self._obs.add(Fact.PLUGIN.value, name, line.evidence)
        if name.lower().startswith(("ib", "nccl rdma", "sharp")):
            add_evidence(self._rdma_evidence, line.evidence)

    def _plugin_load(self, match: re.Match[str], line: Line) -> None:
        lib = match["lib"]
        if lib.startswith("libnccl-net") or lib == match["plugin"]:
            self._obs.add(Fact.PLUGIN_NONE.value, None, line.evidence)  # no plugin installed
        else:
            self._plugin_failed_line(match, line)

    def _plugin_failed_line(self, match: re.Match[str], line: Line) -> None:
        add_evidence(self._plugin_failed, line.evidence)
        self._obs.add(Fact.PLUGIN_FAILED.value, None, line.evidence)

    def _comm_line(self, match: re.Match[str], line: Line) -> None:
        if len(self._nranks) < 64:
            self._nranks.add(int(match["n"]))
        if match["nodes"] and len(self._nodes) < 64:
            self._nodes.add(int(match["nodes"]))
        host = line.host
        if host is None:
            return
        hosts = self._rank_hosts.get(match["rank"])
        if hosts is None:
            if len(self._rank_hosts) >= MAX_HOSTS * 8:
                return
            self._rank_hosts[match["rank"]] = {host}
        elif host not in hosts and len(hosts) < 2:
            hosts.add(host)  # two hosts: this rank number is ambiguous (several communicators)

    # -- channels ---------------------------------------------------------------------------

    def _channel_line(self, match: re.Match[str], line: Line) -> None:
        self._channel(
            match["layer"].lower(),
            match["via"],
            line.host,
            line.evidence,
            (match["src"], match["dst"]),
        )

    def _collnet_line(self, match: re.Match[str], line: Line) -> None:
        self._channel("collnet", match["via"], line.host, line.evidence, None)

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
            device: str | None = self._device_name(host, name, net["dev"])
            # NET lanes cross nodes unless both ranks are known to live on one host (NCCL falls
            # back to NET inside a node when P2P and SHM are unavailable).
            scope: Scope = "intra-node" if self._same_host(peers) else "inter-node"
            self._net_channels += 1
            if "GDRDMA" in net["flags"]:
                self._net_channels_gdr += 1
            elif not is_tcp_net(name):
                if scope == "inter-node":
                    self._rdma_inter_nogdr += 1
                if room_for(self._net_nogdr_evidence, transport):
                    add_evidence(self._net_nogdr_evidence.setdefault(transport, []), evidence)
            if is_tcp_net(name) and scope == "inter-node":
                add_evidence(self._socket_channel_evidence, evidence)
        elif via.startswith("P2P"):
            parts = via.split("/")
            transport = f"P2P/{parts[1]}" if len(parts) > 1 and parts[1] else "P2P"
            device, scope = None, "intra-node"
            self._p2p_channels += 1
        elif via.startswith("SHM") or "shared memory" in via:
            transport, device, scope = "SHM", None, "intra-node"
            add_evidence(self._shm_evidence, evidence)
        else:
            transport, device, scope = via.split("/", 1)[0].strip(), None, "unknown"
            self._other_channels += 1
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
        single = self._single_node()
        merged: dict[tuple[str, Scope, str, str | None], int] = {}
        for (layer, scope, transport, device), count in self._paths.items():
            if provider is not None and is_ofi_net(transport) and (device or "").isdigit():
                # An OFI plugin prints no device table; the provider says what the lane is.
                device = provider
            if single is True and scope == "inter-node":
                scope = "intra-node"  # "nNodes 1": NET lanes connect GPUs of one node
            key = (layer, scope, transport, device)
            merged[key] = merged.get(key, 0) + count
        net = self._selected_net()
        path_evidence = list(self._path_evidence)
        selection = self._selection_path(net, provider)
        if selection is not None:
            merged[selection] = 1
            for ev in self._net_evidence or self._table_evidence:
                add_evidence(path_evidence, ev)
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
        if net is not None:
            selected["nccl_net"] = net
        if provider is not None:
            selected["ofi_provider"] = provider
        gdr = self._gdr_state()
        if gdr is not None:
            selected["gdr"] = gdr
        return LibraryFacts(
            library=LIBRARY,
            versions={k: list(v) for k, v in self._versions.items()},
            version_evidence=list(self._version_evidence),
            paths=paths,
            path_evidence=path_evidence,
            selected=selected,
            observations=self._obs.all(),
            findings=self._findings(net, provider, selection is not None),
        )

    def _selected_net(self) -> str | None:
        if self._nets:
            return self._nets.most_common(1)[0][0]
        # Logs without "Using network": the NET channels name it when they agree.
        names = {t.split("/", 1)[1] for (_l, _s, t, _d) in self._paths if t.startswith("NET/")}
        if not names:
            # NCCL prints the device table of each network that initialised; IB is tried before
            # Socket and wins when it has devices.
            names = {net for (_host, net) in self._devices}
        if not names:
            names = set(self._mentions)
        rdma = {n for n in names if not is_tcp_net(n)}
        if len(rdma) == 1:
            return rdma.pop()
        if not rdma and len(names) == 1:
            return names.pop()
        return None

    def _single_node(self) -> bool | None:
        """True when the log proves one node, False when it proves several, else None."""
        if self._nodes:
            return max(self._nodes) == 1
        if not self._nranks:
            return None
        size = max(self._nranks)
        if size == 1:
            return True
        hosts: set[str] = set()
        for rank in range(size):
            seen = self._rank_hosts.get(str(rank))
            if seen is None:
                return None
            hosts |= seen
        return len(hosts) == 1

    def _selection_path(
        self, net: str | None, provider: str | None
    ) -> tuple[str, Scope, str, str | None] | None:
        """The inter-node lane the selected network stands for when no channel line shows one."""
        single = self._single_node()
        if net is None or single is True or self._net_channels:
            return None  # NET channel lines, when printed, are the authority
        local = self._p2p_channels or self._shm_evidence or self._other_channels
        if local and single is None and len(self._hosts) < 2:
            return None  # only intra-node channels, and nothing shows a second node
        device: str | None
        if is_ofi_net(net):
            device = provider
        else:
            tables = [t for (_h, n), t in self._devices.items() if n.lower() == net.lower()]
            tables = tables or [t for (_h, n), t in self._devices.items() if not is_tcp_net(n)]
            if is_tcp_net(net):
                tables = [t for (_h, n), t in self._devices.items() if is_tcp_net(n)]
            device = next((t["0"] for t in tables if "0" in t), None)
        return ("net", "inter-node", f"NET/{net}", device)

    def _gdr_state(self) -> bool | None:
        if self._net_channels:
            # Some lanes without /GDRDMA are normal (send lanes when NCCL_NET_GDR_READ is off,
            # GPUs far from any NIC): GPUDirect RDMA is in use when any lane shows it.
            return self._net_channels_gdr > 0
        if self._ofi_no_gdr:
            return False
        if any(self._env.get(var, "").upper() in {"0", "LOC"} for var in _GDR_OFF_ENV):
            return False
        if self._gdr_enabled:
            return True
        if self._gdr_disabled:
            return False
        return None

    def _rdma_net(self, net: str | None, provider: str | None) -> bool:
        if net is None:
            return bool(self._net_channels and self._net_nogdr_evidence)
        if is_ofi_net(net):
            return provider is None or provider.split(";", 1)[0].lower() not in _SOCKET_PROVIDERS
        return not is_tcp_net(net)

    def _findings(self, net: str | None, provider: str | None, selection: bool) -> list[Finding]:
        findings: list[Finding] = []
        reader_error = self._reader_errors.finding("NCCL_READER_ERROR", LIBRARY)
        if reader_error is not None:
            findings.append(reader_error)
        self._socket_finding(net, selection, findings)
        if self._shm_evidence:
            findings.append(self._shm_finding())
        self._gdr_finding(net, provider, selection, findings)
        simple = (
            (
                "NCCL_IB_NO_OOB",
                self._no_oob,
                "NCCL's IB transport has no out-of-band IP interface: IB connections cannot be "
                "set up",
            ),
            (
                "NCCL_NO_INTERFACE",
                self._no_interface,
                "NCCL found no network interface to bootstrap or connect over: it cannot start",
            ),
            (
                "NCCL_IB_FAILED",
                self._ib_failed_evidence,
                "a verbs call of NCCL's IB transport failed: the RDMA path does not work",
            ),
            (
                "NCCL_OFI_FAILED",
                self._ofi_failed,
                "aws-ofi-nccl could not set up its libfabric endpoint: the network path does "
                "not work",
            ),
            (
                "NCCL_IBVERBS_MISSING",
                self._no_verbs,
                "NCCL could not open libibverbs: its IB transport is unavailable",
            ),
            ("NCCL_IB_NO_DEVICE", self._no_device, "NCCL's IB transport found no device"),
            (
                "NCCL_PLUGIN_FAILED",
                self._plugin_failed,
                "a NCCL net plugin was found but offers "
                "no supported interface; NCCL uses its internal networks",
            ),
        )
        for code, evidence, message in simple:
            if evidence:
                findings.append(_finding(code, _SEVERITY[code], message, evidence))
        for var, (values, code, effect) in _ENV_SWITCHES.items():
            value = self._env.get(var)
            if value is not None and value.upper() in values:
                findings.append(
                    _finding(
                        code,
                        _SEVERITY[code],
                        f"{var}={value} set by environment: {effect}",
                        self._env_evidence.get(var, []),
                    )
                )
        shown = 0
        for msg, evs in self._warns.items():
            shown += len(evs)
            findings.append(_finding("NCCL_WARN", "warning", f"NCCL WARN {msg}", evs))
        if self._warn_count > MAX_WARN_FINDINGS and self._warns:
            findings[-1].message += f" (and {self._warn_count - shown} more WARN lines)"
        return findings

    def _rdma_attempt(self) -> list[Evidence]:
        """Lines showing RDMA hardware, or an RDMA path that was tried and failed."""
        evidence: list[Evidence] = []
        ib_off = self._env.get("NCCL_IB_DISABLE", "") == "1"
        switched_off = self._env_evidence.get("NCCL_IB_DISABLE", []) if ib_off else []
        for source in (self._rdma_evidence, self._no_verbs, self._plugin_failed, switched_off):
            for ev in source:
                add_evidence(evidence, ev)
        return evidence

    def _socket_finding(self, net: str | None, selection: bool, findings: list[Finding]) -> None:
        if self._socket_channel_evidence and self._single_node() is not True:
            count = sum(c for (_l, _s, t, _d), c in self._paths.items() if is_tcp_net(t[4:]))
            what = f"{count} channel lines via NET/Socket"
            evidence = list(self._socket_channel_evidence)
        elif selection and net is not None and is_tcp_net(net):
            what = "Socket selected, and nothing shows a single node"
            evidence = list(self._net_evidence or self._table_evidence)
        else:
            return
        rdma = self._rdma_attempt()
        if rdma:
            for ev in rdma:
                add_evidence(evidence, ev)
            findings.append(
                _finding(
                    "NCCL_SOCKET",
                    "error",
                    f"NCCL inter-node traffic uses the Socket transport ({what}) although the log "
                    "shows RDMA hardware or a failed RDMA attempt",
                    evidence,
                )
            )
        else:
            findings.append(
                _finding(
                    "NCCL_SOCKET",
                    "warning",
                    f"NCCL inter-node traffic uses the Socket transport ({what}); no RDMA "
                    "device is visible in the log",
                    evidence,
                )
            )

    def _gdr_finding(
        self, net: str | None, provider: str | None, selection: bool, findings: list[Finding]
    ) -> None:
        if self._gdr_state() is not False or not self._rdma_net(net, provider):
            return
        evidence: list[Evidence] = []
        for evs in self._net_nogdr_evidence.values():
            for ev in evs:
                add_evidence(evidence, ev)
        for source in (self._ofi_no_gdr, self._gdr_disabled):
            for ev in source:
                add_evidence(evidence, ev)
        for var in _GDR_OFF_ENV:
            for ev in self._env_evidence.get(var, []):
                add_evidence(evidence, ev)
        if not evidence:
            return
        if self._net_channels:
            lanes = ", ".join(sorted(self._net_nogdr_evidence)) or "the network"
            what = (
                f"{self._net_channels - self._net_channels_gdr} of {self._net_channels} NCCL "
                f"network channel lines over {lanes} lack /GDRDMA"
            )
            inter = self._rdma_inter_nogdr > 0 and self._single_node() is not True
        else:
            what = f"GPUDirect RDMA is reported off for network {net}"
            inter = selection
        severity: Severity = "error" if inter else "warning"
        where = "between nodes" if inter else "within one node"
        findings.append(
            _finding(
                "GDR_OFF",
                severity,
                f"{what}: GPU data {where} is staged through host memory (no GPUDirect RDMA)",
                evidence,
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
        return _finding(
            "NCCL_SHM_NOT_P2P",
            "warning",
            f"{shm} intra-node NCCL channel lines go through SHM {why}",
            self._shm_evidence,
        )


def _finding(code: str, severity: Severity, message: str, evidence: list[Evidence]) -> Finding:
    return Finding(
        code=code, severity=severity, library=LIBRARY, message=message, evidence=list(evidence)
    )
