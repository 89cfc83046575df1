"""UCX debug-log analyser (``UCX_LOG_LEVEL=info``, optionally ``UCX_PROTO_INFO=y``).

What it reads, per rank (``host:pid`` from the ``[host:pid :thread]`` prefix):

* versions: ``UCP version is 1.12 (release 0)`` (up to 1.12), ``Version 1.16.0 (loaded from
  /path/libucp.so.0)`` (1.13 and later), ``ucx_info -v``'s ``Library version:``/``Library path:``;
* endpoint configurations, old form ``ep_cfg[N]: tag(sysv/memory cma/memory)`` (scope inferred
  from the lanes) and new form ``<ctx> <scope> cfg#N tag(...) rma(...) ...`` (scope printed);
* protocol tables (``UCX_PROTO_INFO=y``): a header row naming the configuration and operation,
  then rows ``| 0..92 | eager short | sysv/memory |``;
* ``UCX_* env variable(s):`` settings, and errors/warnings UCX printed.

Observations it records (``kind``): ``ucx_env`` (the settings line), ``cma_blocked`` (a rank whose
CMA copy was refused), ``no_rdma_device`` (UCX found no RDMA device; informative only),
``rdma_device`` (an RDMA device listed by ``ucx_info -d``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from builder.logs.base import (
    CodeInfo,
    FindingTally,
    LibraryFacts,
    LineAnalyser,
    Observation,
    add_evidence,
)
from builder.logs.rules import Obs, Rule
from builder.model.analysis import Evidence, Finding, PathUse, Scope, Severity

LIBRARY = "ucx"

CODES: list[CodeInfo] = [
    CodeInfo(
        code="CMA_BLOCKED",
        severity="error",
        library=LIBRARY,
        summary="process_vm_readv/writev was refused (Operation not permitted): CMA copies fail "
        "between ranks in different user namespaces (e.g. one ch-run per rank) or under "
        "restrictive ptrace settings; large messages abort.",
    ),
    CodeInfo(
        code="UCX_NO_AM_TRANSPORT",
        severity="error",
        library=LIBRARY,
        summary="UCX found no active-message transport to a peer: the peer is unreachable with "
        "the transports and devices allowed (UCX_TLS, UCX_NET_DEVICES).",
    ),
    CodeInfo(
        code="UCX_UNREACHABLE",
        severity="error",
        library=LIBRARY,
        summary="UCX reported 'Destination is unreachable' while connecting to a peer.",
    ),
    CodeInfo(
        code="UCX_API_INCOMPATIBLE",
        severity="error",
        library=LIBRARY,
        summary="The loaded libucp is older than the API the application (or MPI) was built "
        "against: a container/host UCX mix-up.",
    ),
    CodeInfo(
        code="UCX_IFACE_OPEN_FAILED",
        severity="warning",
        library=LIBRARY,
        summary="uct_iface_open failed for a transport/device: UCX goes on without it, so the "
        "paths show whether the fast transport was lost.",
    ),
    CodeInfo(
        code="UCX_RESOURCE_UNAVAILABLE",
        severity="warning",
        library=LIBRARY,
        summary="A transport or network device requested through UCX_TLS/UCX_NET_DEVICES is not "
        "available on this host.",
    ),
    CodeInfo(
        code="UCX_TLS_RESTRICTED",
        severity="warning",
        library=LIBRARY,
        summary="UCX_TLS excludes shared memory or every RDMA transport, so UCX cannot take the "
        "fast path (e.g. UCX_TLS=tcp).",
    ),
    CodeInfo(
        code="UCX_ERROR",
        severity="error",
        library=LIBRARY,
        summary="Any other line UCX printed at ERROR level.",
    ),
    CodeInfo(
        code="UCX_WARNING",
        severity="info",
        library=LIBRARY,
        summary="Any other line UCX printed at WARN level (listed for context; not a verdict).",
    ),
    CodeInfo(
        code="UCX_NO_RDMA_DEVICE",
        severity="info",
        library=LIBRARY,
        summary="UCX could not open the RDMA connection manager (rdma_create_event_channel: No "
        "such device): the host has no RDMA device, or /dev/infiniband is not visible (a container "
        "without the device bound in); a problem only where the site has RDMA.",
    ),
]

_SUMMARY = {info.code: info.summary for info in CODES}
_SEVERITIES = {info.code: info.severity for info in CODES}


def _trouble(
    code: str, anchor: str, message: str, *examples: str, tail: str = "", **more: str
) -> Rule:
    """A claiming row for a trouble line UCX prints at any level but DIAG (UCX recovers)."""
    return Rule(
        anchor=anchor,
        pattern=r"^(?!.*\bUCX\s+DIAG\b)(?:.*?\[(?P<host>[\w.\-]+):\s*(?P<pid>\d+)\s*:[^\]]*\])?"
        r"(?:.*?\bUCX\s+[A-Z]+\s+)?(?P<msg>.*?" + re.escape(anchor) + r".*?" + tail + r".*)$",
        code=code,
        severity=_SEVERITIES[code],
        summary=_SUMMARY[code],
        message=message,
        detail="{msg}",
        rank="{host}:{pid}",
        claims=True,
        examples=examples,
        **more,  # type: ignore[arg-type]
    )


#: Line shapes read by the rule engine (rules.py); the stateful lane/table reader is below.
#: Claiming rows come first: the first that matches takes the line (as an elif chain would).
RULES: tuple[Rule, ...] = (
    _trouble(
        "UCX_NO_AM_TRANSPORT",
        "no active messages transport",
        "UCX found no active-message transport to a peer",
        "[1700000001.000003] [c1:102:0]      ucp_wireup.c:1096 UCX  ERROR no active messages "
        "transport to <no debug data>: self/memory - Destination is unreachable",
    ),
    _trouble(
        "UCX_API_INCOMPATIBLE",
        "version is incompatible",
        "the loaded libucp does not match the UCP API the program was built for",
        "[1645975021.374097] [c1:109 :0]     ucp_context.c:1796 UCX  WARN  UCP version is "
        "incompatible, required: 1.13, actual: 1.12 (release 0)",
        tail=r"actual:? (?P<ver>\d+\.\d+) \(release (?P<rel>\d+)\)",
        version="{ver}.{rel}",
    ),
    _trouble(
        "UCX_API_INCOMPATIBLE",
        "version is incompatible",
        "the loaded libucp does not match the UCP API the program was built for",
        "[1748179345.114806] [beaker:3019122:0]     ucp_context.c:2257 UCX  WARN  UCP API "
        "version is incompatible: required >= 1.20, actual 1.18.0 (loaded from "
        "/home/rshaw/local/ucx/lib/libucp.so.0)",
        tail=r"(?:.*?actual:? (?P<ver>\d+\.\d+\.\d+))?(?:.*?loaded from (?P<path>[^\s)]+))?",
        version="{ver}",
        loaded_from="{path}",
    ),
    _trouble(
        "UCX_UNREACHABLE",
        "Destination is unreachable",
        "UCX: destination unreachable",
        "[1554831347.603009] [abc:48104:1]     ucp_worker.c:495  UCX  ERROR error 'Destination "
        "is unreachable' will not be handled for ep 0x7f1890d4a048",
    ),
    _trouble(
        "UCX_IFACE_OPEN_FAILED",
        "uct_iface_open",
        "UCX could not open a transport interface",
        "[1700000001.000006] [c1:105:0]      ucp_worker.c:1356 UCX  ERROR uct_iface_open"
        "(rc_mlx5/mlx5_0:1) failed: Input/output error",
        tail=r"(?<=fail)",
    ),
    Rule(
        anchor="is not available",
        pattern=r"\[(?P<host>[\w.\-]+):\s*(?P<pid>\d+)\s*:.*?\bUCX\s+(?:WARN|ERROR)\s+"
        r"(?P<msg>.*is not available.*)$",
        code="UCX_RESOURCE_UNAVAILABLE",
        severity="warning",
        summary=_SUMMARY["UCX_RESOURCE_UNAVAILABLE"],
        message="a requested UCX transport or device is not available",
        detail="{msg}",
        rank="{host}:{pid}",
        claims=True,
        examples=(
            "[1700000001.000001] [c1:101:0]     ucp_context.c:1113 UCX  WARN  transport 'rc_mlx5' "
            "is not available, please use one or more of: posix, self, sysv, tcp",
        ),
    ),
    Rule(
        anchor="GPUDirect RDMA is disabled",
        pattern=r"(?P<dev>[\w.:\-]+): cuda GPUDirect RDMA is disabled",
        code="UCX_GDR_UNAVAILABLE",
        severity="info",
        summary="UCX found no GPUDirect RDMA support on an RDMA device (no nvidia-peermem / "
        "dmabuf): GPU buffers are staged through host memory on that device.",
        message="UCX: CUDA GPUDirect RDMA is disabled on {dev}",
        select=(("gdr", False),),
        observe=Obs.RDMA_DEVICE,
        value="{dev}",
        examples=(
            "[1716918990.461294] [gpu1:2588768:0]           ib_md.c:1128 UCX  DEBUG mlx5_0: "
            "cuda GPUDirect RDMA is disabled",
        ),
    ),
    Rule(
        anchor="GPUDirect RDMA is enabled",
        pattern=r"(?P<dev>[\w.:\-]+): cuda GPUDirect RDMA is enabled",
        select=(("gdr", True),),
        observe=Obs.RDMA_DEVICE,
        value="{dev}",
        examples=(
            "[1716918990.461294] [gpu1:2588768:0]           ib_md.c:1128 UCX  DEBUG mlx5_0: "
            "cuda GPUDirect RDMA is enabled",
        ),
    ),
    Rule(
        anchor="initialized device '",
        pattern=r"initialized device '(?P<dev>[^']+)' \((?:InfiniBand|Ethernet|RoCE)",
        observe=Obs.RDMA_DEVICE,
        value="{dev}",
        examples=(
            "[1716918990.461282] [gpu1:2588768:0]       ib_device.c:586  UCX  DEBUG initialized "
            "device 'mlx5_0' (InfiniBand channel adapter) with 1 ports",
        ),
    ),
    Rule(
        anchor="no usable transports",
        pattern=r"no usable transports(?:/devices)?(?: \(asked (?P<asked>[^)]*)\))?",
        code="UCX_NO_USABLE_TRANSPORT",
        severity="error",
        summary="UCX could not create its context: no transport in UCX_TLS is usable on the "
        "devices allowed (for example only a connection manager and CUDA helpers listed).",
        message="UCX found no usable transport (asked {asked})",
        claims=True,
        examples=(
            "[1605294229.512128] [r-vmb-ppc-jenkins:12834:0]    ucp_context.c:1108 UCX  ERROR no "
            "usable transports/devices (asked sockcm,cuda_copy,cuda_ipc on all devices)",
        ),
    ),
    Rule(
        anchor="max locked memory",
        pattern=r"(?P<call>ibv_\w+)\([^)]*\) failed: Cannot allocate memory.*max locked memory",
        code="RDMA_MEMLOCK_LIMIT",
        severity="error",
        summary="Registering memory or creating queues on the RDMA device failed because the "
        "locked-memory limit (ulimit -l) is too low (typically 64 KB in a container or a "
        "batch job without PAM limits): the RDMA transport cannot be used.",
        message="{call} failed for lack of locked memory (ulimit -l): the RDMA device is unusable",
        observe=Obs.RDMA_DEVICE,
        value="verbs",
        claims=True,
        examples=(
            "[1736959004.001121] [bernie:29714:0]        ib_iface.c:1060 UCX  ERROR ibv_create_cq"
            "(cqe=4096) failed: Cannot allocate memory : Please set max locked memory (ulimit -l) "
            "to 'unlimited' (current: 64 kbytes)",
        ),
    ),
    Rule(
        anchor="Transport: ",
        pattern=r"^#\s+Transport: (?P<tl>(?:rc|dc|ud)(?:_mlx5|_verbs)?)\s*$",
        observe=Obs.RDMA_TRANSPORT,
        value="{tl}",
        examples=("#      Transport: rc_mlx5",),
    ),
    Rule(
        anchor="address version mismatch",
        pattern=r"address version mismatch",
        code="UCX_VERSION_MISMATCH",
        severity="error",
        summary="Peers exchanged UCX worker addresses of different formats: ranks (or the "
        "program and the loaded library) use different UCX versions.",
        message="UCX peers run different UCX versions (address version mismatch)",
        claims=True,
        examples=(
            "[1618778295.702469] [jedi063:22469:0]        address.c:917  UCX  ERROR address "
            "version mismatch: expected 0, actual 12",
        ),
    ),
    Rule(
        anchor="no supported sockaddr auxiliary transports",
        pattern=r"no supported sockaddr auxiliary transports found for (?P<dev>\S+)",
        code="UCX_SOCKADDR_NO_TRANSPORT",
        severity="error",
        summary="UCX's sockaddr connection setup resolved the peer to a device without a "
        "usable transport (a down port, or one excluded by UCX_NET_DEVICES).",
        message="UCX sockaddr connection setup found no transport on {dev}",
        observe=Obs.RDMA_DEVICE,
        value="{dev}",
        claims=True,
        examples=(
            "[1554831347.602987] [abc:48104:1]      wireup_ep.c:467  UCX  ERROR no supported "
            "sockaddr auxiliary transports found for mlx5_4:1",
        ),
    ),
)

_SEVERITY: dict[str, Severity] = {info.code: info.severity for info in CODES}

#: Transports that reach only processes on the same node (shared memory, single-copy, GPU IPC).
SHM_TRANSPORTS = frozenset({"sysv", "posix", "mm", "cma", "xpmem", "knem"})
GPU_IPC_TRANSPORTS = frozenset({"cuda_ipc", "rocm_ipc", "ze_ipc"})
#: Memory-type helpers: they copy between host and device memory and say nothing about the peer.
LOCAL_COPY_TRANSPORTS = frozenset({"cuda_copy", "rocm_copy", "gdr_copy", "ze_copy", "rocm_gdr"})
LOOPBACK_TRANSPORTS = frozenset({"self"})

#: UCX_TLS words that name shared-memory transports, and those that name RDMA transports.
_TLS_SHM_WORDS = frozenset({"sm", "shm", "mm", "posix", "sysv", "cma", "xpmem", "knem"})
_TLS_RDMA_FAMILIES = ("rc", "dc", "ud", "ib", "srd")

#: Characters of a line that are parsed: real UCX lines are far shorter.
MAX_PARSE_CHARS = 8192
#: Most ranks listed per version / load path: enough to show a split, bounded for huge jobs.
MAX_RANKS_PER_VALUE = 512
#: Path evidence: the first lines (a few ranks) of every distinct lane, so that each path
#: reported can be shown with lines that name it, within an overall cap.
LINES_PER_LANE = 4
MAX_PATH_EVIDENCE = 64
#: Most ranks whose last configuration or table header is held open at once.
MAX_OPEN_CONFIGS = 4096
#: Most distinct ``UCX_*`` settings lines kept as observations.
MAX_ENV_OBSERVATIONS = 32

_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: ``[host:pid :thread]``, ``[host:pid:thread]`` and the backtrace form ``[host:pid:thread:tid]``.
#: Possessive quantifiers: the timestamp bracket before it fails at once instead of backtracking.
_RANK_RE = re.compile(r"\[([A-Za-z0-9_.\-]++):\s*+(\d++)\s*+:\s*+\d++(?::\d++)?\]")
_LEVEL_RE = re.compile(r"\bUCX\s+(ERROR|WARN|DIAG|INFO|DEBUG|TRACE|PRINT)\b\s*(.*)$")
_UCP_VERSION_RE = re.compile(r"UCP version is (\d+)\.(\d+)(?:\s*\(release (\d+)\))?")
_VERSION_RE = re.compile(r"\bVersion\s+v?(\d+\.\d+(?:\.\d+)?(?:[-~+][0-9A-Za-z.]+)?)")
#: ``ucx_info -v``: ``# Library version: 1.16.0`` (1.14+), ``# Version 1.13.1`` (older), and
#: ``UCX version 1.13.1`` as Open MPI's pml ucx and newer ``ucx_info`` print it.
_LIBRARY_VERSION_RE = re.compile(
    r"(?:Library version:|UCX version|^#\s*Version)\s*v?(\d+\.\d+(?:\.\d+)?(?:[-~+][\w.]+)?)"
)
#: The library actually loaded, named by a version-mismatch warning.
_ACTUAL_VERSION_RE = re.compile(r"incompatible.*\bactual:?\s*(\d+\.\d+(?:\.\d+)?)")
#: Open MPI's ``[host:pid]`` prefix, for the ``UCX version`` line pml ucx prints.
_OMPI_RANK_RE = re.compile(r"^\s*\[([A-Za-z0-9_.\-]+):0*(\d+)\]")
_LOADED_FROM_RE = re.compile(r"loaded from\s+([^\s)]+)")
_LIBRARY_PATH_RE = re.compile(r"Library path:\s*(\S+)")
_OLD_CFG_RE = re.compile(r"ep_cfg\[(\d+)\]\s*:?\s*(.*)$")
#: What follows ``cfg#`` in ``<ctx> <scope> cfg#N tag(...) ...``: the number, then the groups.
_CFG_NUMBER_RE = re.compile(r"\d+\s*(.*)$")
#: ``tag(a/b c/d)``; a cut-off last line may lack the closing parenthesis.
_GROUP_RE = re.compile(r"\b([a-z][a-z_]*)\(([^()]*)(?:\)|$)")
_LANE_RE = re.compile(r"\b([A-Za-z][A-Za-z0-9_]*)/([A-Za-z0-9_.:\-]+)")
#: First cell of a protocol-table row: a size or a size range (``0..92``, ``8K..inf``, ``0``).
_RANGE_RE = re.compile(r"^(?:\d[\w.]*|inf)(?:\.\.(?:\d[\w.]*|inf))?$")
_ENV_LINE_RE = re.compile(r"UCX_\*\s+env\s+variables?\s*:\s*(.*)$")
_ENV_PAIR_RE = re.compile(r"\b(UCX_[A-Z0-9_]+)=(\S*)")
#: Leading ``[time] [host:pid:thread]  file.c:NN`` of lines UCX prints without a level word.
_PREFIX_RE = re.compile(r"^\s*(?:\[[^\]]*\]\s*)*(?:[\w.\-]+\.c:\d+\s+)?")
_SCOPE_WORD_RE = re.compile(r"(?:^|\s)(intra-node|inter-node|self)(?:\s|$)")
_SCOPES: dict[str, Scope] = {"intra-node": "intra-node", "inter-node": "inter-node", "self": "self"}
#: ``ucx_info -d``'s ``#   Device: mlx5_0:1`` lines (run beside a job to list what UCX can use).
_INFO_DEVICE_RE = re.compile(r"^#\s+Device:\s*([A-Za-z0-9_.:\-]+)\s*$")
#: Device names of RDMA NICs (InfiniBand/RoCE/Omni-Path/EFA/iWARP/soft-RoCE/Slingshot).
_RDMA_DEVICE_RE = re.compile(
    r"^(?:mlx\d|mlx[45]_|hfi1_|qib|bnxt_re|irdma|i40iw|qedr|efa|rxe|siw|cxi|erdma|hns|ionic)"
)
#: A continuation line of very old versions: the message is nothing but lane groups.
_GROUPS_ONLY_RE = re.compile(r"^\s*(?:[a-z][a-z_]*\([^()]*\)[;\s]*)*(?:[a-z][a-z_]*\([^()]*)?$")


#: Path class of each UCX transport name (verbs lanes ``rc*``/``dc*``/``ud*`` are matched apart).
_CLASSES: dict[str, str | None] = {
    **dict.fromkeys(("sysv", "posix", "mm"), "shm"),
    **{name: name for name in ("cma", "xpmem", "knem")},
    **dict.fromkeys(GPU_IPC_TRANSPORTS, "p2p"),
    **dict.fromkeys(("tcp", "sockcm"), "tcp"),
    **dict.fromkeys(LOOPBACK_TRANSPORTS | LOCAL_COPY_TRANSPORTS, None),
}
_VERBS_LANE_RE = re.compile(r"^(?:rc|dc|ud)(?:_mlx5|_verbs|_x)?$")


def path_class(transport: str, device: str | None, *, roce: bool = False) -> str | None:
    """The path class of a UCX lane (``rc_mlx5`` -> ib, ``sysv`` -> shm, ``self`` -> None)."""
    name = transport.lower()
    if name in _CLASSES:
        return _CLASSES[name]
    if _VERBS_LANE_RE.match(name):
        return "roce" if roce else "ib"
    return "unknown"


def rank_of(text: str) -> str | None:
    """The ``host:pid`` of a UCX-prefixed line, or None when the line has no such prefix."""
    match = _RANK_RE.search(text)
    if match is None:
        return None
    return f"{match.group(1)}:{int(match.group(2))}"


def parse_lanes(cell: str) -> list[tuple[str, str]]:
    """``transport/device`` pairs in a group or table cell, in printed order."""
    lanes: list[tuple[str, str]] = _LANE_RE.findall(cell)
    return lanes


def parse_groups(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """``tag(a/b c/d) rma(e/f)`` → ``[("tag", [(a, b), (c, d)]), ("rma", [(e, f)])]``."""
    return [(name, parse_lanes(body)) for name, body in _GROUP_RE.findall(text)]


def scope_from_lanes(lanes: Iterable[tuple[str, str]]) -> Scope:
    """The peer a configuration without a printed scope connects to, judged by its lanes.

    A loopback lane is only ever chosen for the process itself; shared-memory and GPU-IPC lanes
    only reach the same node (even when network lanes ride along for rendezvous); network lanes
    alone mean another node, unless they all sit on the loopback interface (``tcp/lo``), which
    reaches nothing beyond the host.
    """
    lanes = list(lanes)
    transports = {transport for transport, _ in lanes}
    if transports & LOOPBACK_TRANSPORTS:
        return "self"
    if transports & (SHM_TRANSPORTS | GPU_IPC_TRANSPORTS):
        return "intra-node"
    network = [device for transport, device in lanes if transport not in LOCAL_COPY_TRANSPORTS]
    if not network:
        return "unknown"
    if all(device == "lo" for device in network):
        return "intra-node"
    return "inter-node"


def tls_exclusions(value: str) -> list[str]:
    """What a ``UCX_TLS`` value shuts out: ``"shared memory"`` and/or ``"RDMA"``; empty if neither.

    ``UCX_TLS`` is a comma list of transports or aliases (``sm``, ``rc``, ``dc_x``, ``ud``,
    ``tcp``, ``all``); a leading ``^`` turns it into an exclusion list.
    """
    words = [w.strip().lower() for w in value.split(",") if w.strip()]
    if not words:
        return []
    negated = words[0].startswith("^")
    words = [w.lstrip("^\\") for w in words]

    def is_rdma(word: str) -> bool:
        return any(word == f or word.startswith(f + "_") for f in _TLS_RDMA_FAMILIES)

    excluded: list[str] = []
    if negated:
        if any(w in {"sm", "shm", "mm"} for w in words):
            excluded.append("shared memory")
        families = {f for f in ("rc", "dc", "ud") for w in words if w == f or w.startswith(f + "_")}
        if "ib" in words or families == {"rc", "dc", "ud"}:
            excluded.append("RDMA")
        return excluded
    if "all" in words:
        return []
    if not any(w in _TLS_SHM_WORDS for w in words):
        excluded.append("shared memory")
    if not any(is_rdma(w) for w in words):
        excluded.append("RDMA")
    return excluded


@dataclass
class _PendingConfig:
    """An endpoint configuration whose lanes may still grow (very old UCX: one group a line)."""

    scope: Scope | None
    groups: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class _TableHeader:
    """The protocol table a rank is printing: its operation and scope."""

    operation: str
    scope: Scope


class Analyser(LineAnalyser):
    """Reads UCX's info-level log lines; see the module docstring for what it extracts."""

    library: ClassVar[str] = LIBRARY
    anchors: ClassVar[tuple[bytes, ...]] = (
        b"ep_cfg[",
        b"cfg#",
        b"UCP version",
        b"loaded from",
        b"Library version:",
        b"UCX version",
        b"# Version ",
        b"Library path:",
        b"UCX_* env variable",
        b"UCX  ERROR",
        b"UCX ERROR",
        b"UCX  WARN",
        b"UCX WARN",
        b"process_vm_",
        b"no active messages transport",
        b"Destination is unreachable",
        b"UCP API version",
        b"uct_iface_open",
        b"rdma_create_event_channel",
        b"Device: ",
        # Protocol-table rows and very old continuation lines (``rma(...)`` on its own line).
        b" | ",
        b" rma(",
        b" amo(",
        b" am(",
        b" stream(",
        b" ka(",
    )

    def __init__(self) -> None:
        self._versions: dict[str, dict[str, None]] = {}
        self._loaded_from: dict[str, dict[str, None]] = {}
        self._version_evidence: list[Evidence] = []
        self._path_counts: dict[tuple[str, Scope, str, str], int] = {}
        self._path_evidence: list[Evidence] = []
        self._path_evidence_seen: set[Evidence] = set()
        self._pending: dict[str | None, _PendingConfig] = {}
        self._old_cfg_scope: dict[tuple[str | None, int], Scope] = {}
        self._tables: dict[str | None, _TableHeader] = {}
        self._tallies: dict[str, FindingTally] = {}
        self._env: dict[str, Observation] = {}
        self._cma_blocked: dict[str, Observation] = {}
        self._no_rdma: Observation | None = None
        self._rdma_devices: dict[str, Observation] = {}

    # -- feeding ------------------------------------------------------------------------------

    def feed(self, text: str, evidence: Evidence) -> None:
        """Consume one cleaned candidate line; lines that do not parse are ignored."""
        if len(text) > MAX_PARSE_CHARS:
            text = text[:MAX_PARSE_CHARS]  # longer lines are garbage; keep regexes linear
        if "\x1b" in text:
            text = _ANSI_RE.sub("", text)
        rank = rank_of(text)
        if "|" in text and self._feed_table_row(text, rank, evidence):
            return
        if "ep_cfg[" in text and self._feed_old_config(text, rank, evidence):
            return
        if "cfg#" in text and self._feed_new_config(text, rank, evidence):
            return
        if "UCX_* env" in text:
            self._feed_env(text, rank, evidence)
            return
        if "Device:" in text and (device := _INFO_DEVICE_RE.match(text)):
            self._note_rdma_device(device.group(1), evidence)
            return
        # An error line may also name the library it loaded, so both readers see every line.
        seen_version = self._feed_version(text, rank, evidence)
        seen_trouble = self._feed_trouble(text, rank, evidence)
        if not (seen_version or seen_trouble):
            self._feed_continuation(text, rank, evidence)

    def _feed_old_config(self, text: str, rank: str | None, evidence: Evidence) -> bool:
        # find() first: a plain substring search is far cheaper than a regex scan of the line
        match = _OLD_CFG_RE.match(text, text.find("ep_cfg["))
        if match is None:
            return False
        self._flush_pending(rank)
        groups = parse_groups(match.group(2))
        pending = _PendingConfig(scope=None, groups=groups, evidence=[evidence])
        self._pending[rank] = pending
        self._old_cfg_scope[(rank, int(match.group(1)))] = scope_from_lanes(
            lane for _, lanes in groups for lane in lanes
        )
        if len(self._old_cfg_scope) > 4096:
            # Only needed to label old protocol tables; forget rather than grow without bound.
            self._old_cfg_scope.clear()
        return True

    def _feed_new_config(self, text: str, rank: str | None, evidence: Evidence) -> bool:
        """``<ctx> <scope> cfg#N groups``; without the scope word it reads like the old form."""
        at = text.find("cfg#")
        match = _CFG_NUMBER_RE.match(text, at + 4)
        if match is None or "(" not in match.group(1):
            return False
        before = text[max(0, at - 40) : at].split()
        scope = _SCOPES.get(before[-1]) if before else None
        self._flush_pending(rank)
        self._pending[rank] = _PendingConfig(
            scope=scope, groups=parse_groups(match.group(1)), evidence=[evidence]
        )
        return True

    def _feed_continuation(self, text: str, rank: str | None, evidence: Evidence) -> None:
        """Very old UCX printed ``rma(...)``/``amo(...)`` groups on lines of their own."""
        pending = self._pending.get(rank)
        if pending is None:
            return
        level = _LEVEL_RE.search(text)
        message = level.group(2) if level else text
        groups = parse_groups(message) if _GROUPS_ONLY_RE.match(message) else []
        if groups:
            pending.groups.extend(groups)
            add_evidence(pending.evidence, evidence)

    def _flush_pending(self, rank: str | None) -> None:
        pending = self._pending.pop(rank, None)
        if pending is not None:
            self._count_config(pending)
        if len(self._pending) >= MAX_OPEN_CONFIGS:
            # Only very old UCX continues a configuration on later lines; with this many ranks
            # open at once, count what is there rather than hold it all.
            for held in self._pending.values():
                self._count_config(held)
            self._pending.clear()

    def _count_config(self, pending: _PendingConfig) -> None:
        scope = pending.scope
        if scope is None:
            scope = scope_from_lanes(lane for _, lanes in pending.groups for lane in lanes)
        for layer, lanes in pending.groups:
            for transport, device in dict.fromkeys(lanes):
                self._count_path((layer, scope, transport, device), pending.evidence)

    def _count_path(self, key: tuple[str, Scope, str, str], evidence: list[Evidence]) -> None:
        """Count one lane; the first lines that showed it become its evidence."""
        count = self._path_counts.get(key, 0)
        self._path_counts[key] = count + 1
        if count < LINES_PER_LANE and len(self._path_evidence) < MAX_PATH_EVIDENCE:
            for line in evidence:
                if line not in self._path_evidence_seen:
                    self._path_evidence_seen.add(line)
                    self._path_evidence.append(line)

    def _feed_table_row(self, text: str, rank: str | None, evidence: Evidence) -> bool:
        start = text.find("|")
        cells = [c.strip() for c in text[start:].split("|")[1:]]
        if cells and cells[-1] == "":
            cells.pop()
        if len(cells) < 2:
            return False
        if _RANGE_RE.match(cells[0]):
            if len(cells) < 3:
                return False
            header = self._tables.get(rank)
            protocol = cells[1].removeprefix("(?)").strip()
            lanes = parse_lanes(cells[-1])
            if not lanes:
                return False
            operation = header.operation if header else "protocol"
            scope: Scope = header.scope if header else "unknown"
            for transport, device in dict.fromkeys(lanes):
                self._count_path((f"{operation}/{protocol}", scope, transport, device), [evidence])
            return True
        return self._feed_table_header(cells, rank)

    def _feed_table_header(self, cells: list[str], rank: str | None) -> bool:
        name, description = cells[0], cells[1]
        if " by " not in description and " from " not in description:
            return False
        scope: Scope = "unknown"
        named = _SCOPE_WORD_RE.search(name)
        if named:
            scope = _SCOPES[named.group(1)]
        old = _OLD_CFG_RE.search(name)
        if scope == "unknown" and old:
            scope = self._old_cfg_scope.get((rank, int(old.group(1))), "unknown")
        operation = description.split(" by ")[0].strip()
        if len(self._tables) >= MAX_OPEN_CONFIGS:
            self._tables.clear()  # headers of tables long finished; keep memory flat
        self._tables[rank] = _TableHeader(operation=operation, scope=scope)
        return True

    def _feed_version(self, text: str, rank: str | None, evidence: Evidence) -> bool:
        if "ersion" not in text and "loaded from" not in text and "Library path" not in text:
            return False  # cheap gate: most candidate lines are configurations or errors
        version: str | None = None
        match = _UCP_VERSION_RE.search(text)
        if match:
            version = f"{match.group(1)}.{match.group(2)}.{match.group(3) or 0}"
        elif "loaded from" in text or "UCX" in text:
            match = _VERSION_RE.search(text)
            if match and "API" not in text[: match.start()]:
                version = match.group(1)
        if version is None:
            match = _LIBRARY_VERSION_RE.search(text) or _ACTUAL_VERSION_RE.search(text)
            if match:
                version = match.group(1)
                if version.count(".") == 1 and "release" in text:
                    version += ".0"
        location = _LOADED_FROM_RE.search(text) or _LIBRARY_PATH_RE.search(text)
        if version is None and location is None:
            return False
        if location is not None and version is None and "UCX" not in text and "Library" not in text:
            return False  # some other program's "loaded from"
        if rank is None and (ompi := _OMPI_RANK_RE.search(text)):
            rank = f"{ompi.group(1)}:{int(ompi.group(2))}"
        who = rank or "?"
        if version is not None:
            _add_rank(self._versions, version, who)
        if location is not None:
            _add_rank(self._loaded_from, location.group(1), who)
        add_evidence(self._version_evidence, evidence)
        return True

    def _note_rdma_device(self, device: str, evidence: Evidence) -> None:
        """An RDMA device UCX could use (``ucx_info -d``): unused, it is worth a finding later."""
        if not _RDMA_DEVICE_RE.match(device):
            return
        seen = self._rdma_devices.get(device)
        if seen is None:
            if len(self._rdma_devices) >= 32:
                return
            seen = self._rdma_devices[device] = Observation(kind="rdma_device", value=device)
        add_evidence(seen.evidence, evidence)

    def _feed_env(self, text: str, rank: str | None, evidence: Evidence) -> None:
        match = _ENV_LINE_RE.search(text)
        if match is None:
            return
        pairs = dict(_ENV_PAIR_RE.findall(match.group(1)))
        settings = " ".join(f"{k}={v}" for k, v in pairs.items())
        seen = self._env.get(settings)
        if seen is None:
            if len(self._env) >= MAX_ENV_OBSERVATIONS:
                return
            seen = Observation(kind="ucx_env", value=settings, rank=rank)
            self._env[settings] = seen
        add_evidence(seen.evidence, evidence)
        tls = pairs.get("UCX_TLS")
        if tls:
            excluded = tls_exclusions(tls)
            if excluded:
                self._tally(
                    "UCX_TLS_RESTRICTED",
                    evidence,
                    f"UCX_TLS={tls} excludes {' and '.join(excluded)}",
                )

    def _feed_trouble(self, text: str, rank: str | None, evidence: Evidence) -> bool:
        level_match = _LEVEL_RE.search(text)
        level = level_match.group(1) if level_match else None
        message = level_match.group(2).strip() if level_match else _PREFIX_RE.sub("", text)
        if "process_vm_" in text and ("not permitted" in text or "ermission denied" in text):
            self._tally("CMA_BLOCKED", evidence, _first_words(message))
            if rank is not None and rank not in self._cma_blocked and len(self._cma_blocked) < 64:
                self._cma_blocked[rank] = Observation(kind="cma_blocked", value="cma", rank=rank)
            if rank is not None and rank in self._cma_blocked:
                add_evidence(self._cma_blocked[rank].evidence, evidence)
            return True
        if "rdma_create_event_channel" in text:
            if self._no_rdma is None:
                self._no_rdma = Observation(kind="no_rdma_device", value=None, rank=rank)
            add_evidence(self._no_rdma.evidence, evidence)
            self._tally("UCX_NO_RDMA_DEVICE", evidence, None)
            return True
        if level == "DIAG":
            return False  # diagnostics UCX recovers from by itself
        # Named troubles are rows of RULES (they claim their lines); what is left is generic.
        if level == "ERROR" or ("process_vm_" in text and "returned -1" in text):
            # a CMA copy failing for another reason (peer gone: No such process) is no block
            self._tally("UCX_ERROR", evidence, _first_words(message))
        elif level == "WARN":
            self._tally("UCX_WARNING", evidence, _first_words(message))
        else:
            return False
        return True

    def _tally(self, code: str, evidence: Evidence, detail: str | None) -> None:
        tally = self._tallies.setdefault(code, FindingTally())
        tally.count += 1
        if detail and detail not in tally.details and len(tally.details) < 3:
            tally.details.append(detail)
        add_evidence(tally.evidence, evidence)

    # -- result --------------------------------------------------------------------------------

    def facts(self) -> LibraryFacts:
        """Everything learnt so far; pending configurations are counted first."""
        for rank in list(self._pending):
            self._flush_pending(rank)
        paths = [
            PathUse(
                library=LIBRARY,
                layer=layer,
                scope=scope,
                transport=transport,
                device=device,
                count=count,
            )
            for (layer, scope, transport, device), count in self._path_counts.items()
        ]
        observations = (
            list(self._env.values())
            + list(self._cma_blocked.values())
            + list(self._rdma_devices.values())
        )
        if self._no_rdma is not None:
            observations.append(self._no_rdma)
        return LibraryFacts(
            library=LIBRARY,
            versions={k: list(v) for k, v in self._versions.items()},
            loaded_from={k: list(v) for k, v in self._loaded_from.items()},
            version_evidence=list(self._version_evidence),
            paths=paths,
            path_evidence=list(self._path_evidence),
            observations=observations,
            findings=[self._finding(code, tally) for code, tally in self._tallies.items()],
        )

    def _finding(self, code: str, tally: FindingTally) -> Finding:
        return Finding(
            code=code,
            severity=_SEVERITY[code],
            library=LIBRARY,
            message=_MESSAGES[code](tally),
            evidence=list(tally.evidence),
        )


_MESSAGES: dict[str, Callable[[FindingTally], str]] = {
    "CMA_BLOCKED": lambda t: (
        "UCX's CMA copy (process_vm_readv/writev) was refused "
        f"({t.times()}): ranks likely run in separate user namespaces (one container runtime "
        "instance per rank) or ptrace is restricted; large messages abort. Join one namespace "
        "(e.g. ch-run --join) or exclude cma (UCX_TLS=^cma)" + t.detail()
    ),
    "UCX_NO_AM_TRANSPORT": lambda t: (
        f"UCX found no active-message transport to a peer ({t.times()}){t.detail()}"
    ),
    "UCX_UNREACHABLE": lambda t: f"UCX: destination unreachable ({t.times()}){t.detail()}",
    "UCX_API_INCOMPATIBLE": lambda t: (
        "the loaded libucp does not match the UCP API the program "
        f"was built for ({t.times()}){t.detail()}"
    ),
    "UCX_IFACE_OPEN_FAILED": lambda t: (
        f"UCX could not open a transport interface ({t.times()}){t.detail()}"
    ),
    "UCX_RESOURCE_UNAVAILABLE": lambda t: (
        f"a requested UCX transport or device is not available ({t.times()}){t.detail()}"
    ),
    "UCX_TLS_RESTRICTED": lambda t: f"UCX transports restricted ({t.times()}){t.detail()}",
    "UCX_ERROR": lambda t: f"UCX printed errors ({t.times()}){t.detail()}",
    "UCX_WARNING": lambda t: f"UCX printed warnings ({t.times()}){t.detail()}",
    "UCX_NO_RDMA_DEVICE": lambda t: (
        f"UCX sees no RDMA device ({t.times()}): none on the host, or /dev/infiniband not visible "
        "to the process; only shared memory and TCP are possible there"
    ),
}


def _add_rank(target: dict[str, dict[str, None]], value: str, rank: str) -> None:
    """Note that ``rank`` printed ``value``; an insertion-ordered set, capped per value."""
    ranks = target.setdefault(value, {})
    if len(ranks) < MAX_RANKS_PER_VALUE:
        ranks[rank] = None


def _first_words(message: str, limit: int = 160) -> str:
    """A message trimmed for a finding's text (evidence keeps the whole line)."""
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 1] + "…"
