"""Open MPI debug-log analyser (``--mca pml_base_verbose 10``, ``btl_/mtl_base_verbose``).

Lines start with ``[host:pid]``. What it reads:

* PML selection, old style (``select: initializing pml component ucx``, ``select: init returned
  priority 51``, ``selected ucx best priority 51``, ``select: component ucx selected``) and new
  style (``mca:base:select:(  pml) Selected component [ucx]``, the same for mtl);
* BTLs that initialised (``select: init of component vader returned success``), the TCP BTL's
  interfaces (``btl: tcp: Using interface: lo``), the OFI MTL's provider
  (``mtl:ofi:provider: eth0``, with or without a source-path prefix);
* the BTL each peer is reached through (``mca: bml: Using vader btl for send to [[1,1],1] on node
  vm``) as paths (layer ``btl``; scope from comparing the node with the rank's host), and the
  per-peer PML check (``check:select: checking my pml ob1 against process ... pml ucx``);
* versions (``Open MPI v4.1.4``, ``ompi_info``'s ``Open MPI: 4.1.4``, ``mpirun (Open MPI) 4.1.4``),
  and the errors Open MPI prints (see ``CODES``).

Observations it records (``kind``):

* ``pml_selected``/``mtl_selected``: per rank, so that a later stage can see ranks that disagree;
* ``pml_inferred``: the PML when no line names the winner (the best init priority seen, or cm
  when only an MTL selection is logged);
* ``btl_tcp_interface`` (``using ipv4 interface eth0``) and ``btl_tcp_if_list_entry``
  (``Using interface: sppp``: an entry of the include/exclude list, not an interface in use);
* ``package`` (``Package: Debian OpenMPI``), ``ucx_version`` (the UCX version pml ucx reported);
* ``pml_ucx_declined``: pml ucx found no usable UCX transport (``support level is none``);
* ``rdma_device``: an RDMA NIC named in a ``Local device:``/``Local adapter:`` help-text line;
* ``mpi_abort`` and ``process_signal``: the application aborted, died on a signal or hit a fatal
  MPI error; errors of other libraries after it are consequences.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from builder.logs.base import (
    CodeInfo,
    FindingTally,
    LibraryFacts,
    LineAnalyser,
    Observation,
    add_evidence,
)
from builder.logs.classify import ofi_provider_class
from builder.logs.rules import Obs, Rule
from builder.model.analysis import Evidence, Finding, PathUse, Scope, Severity

LIBRARY = "openmpi"

CODES: list[CodeInfo] = [
    CodeInfo(
        code="OMPI_PML_MISMATCH",
        severity="error",
        library=LIBRARY,
        summary="Ranks selected different PMLs ('selected pml ob1, but peer ... selected pml ucx', "
        "or different pml_selected per rank): the job cannot communicate correctly.",
    ),
    CodeInfo(
        code="OMPI_PML_NOT_SELECTABLE",
        severity="error",
        library=LIBRARY,
        summary="The requested PML could not be selected ('PML ucx cannot be selected').",
    ),
    CodeInfo(
        code="OMPI_NO_COMPONENTS",
        severity="error",
        library=LIBRARY,
        summary="'No components were able to be opened in the <framework> framework': the "
        "plugins or the libraries they need are missing (often a container lacking them).",
    ),
    CodeInfo(
        code="OMPI_UCX_WORKER_ADDRESS",
        severity="error",
        library=LIBRARY,
        summary="'Failed to receive UCX worker address': pml ucx could not exchange addresses "
        "through the runtime (PMIx modex), typically a launcher/PMIx mismatch.",
    ),
    CodeInfo(
        code="OMPI_UNREACHABLE",
        severity="error",
        library=LIBRARY,
        summary="'At least one pair of MPI processes are unable to reach each other': no BTL/PML "
        "path connects some ranks (interfaces, firewalls, missing transports in a container).",
    ),
    CodeInfo(
        code="OMPI_PML_UCX_ERROR",
        severity="error",
        library=LIBRARY,
        summary="pml ucx printed an error (pml_ucx.c ... Error: ...), e.g. an endpoint it could "
        "not create or resolve.",
    ),
    CodeInfo(
        code="OMPI_OFI_CALL_FAILED",
        severity="error",
        library=LIBRARY,
        summary="'Open MPI failed an OFI Libfabric library call': the OFI MTL/BTL could not use "
        "the provider it selected.",
    ),
    CodeInfo(
        code="OMPI_TCP_CONNECT_FAILED",
        severity="error",
        library=LIBRARY,
        summary="The TCP BTL could not connect to a peer (connect() to <address> failed): wrong "
        "interface selection or a blocked network between nodes.",
    ),
    CodeInfo(
        code="OMPI_OPENFABRICS_WARNING",
        severity="info",
        library=LIBRARY,
        summary="The openib BTL warned about an OpenFabrics device (typically harmless when pml "
        "ucx drives the device); it shows that an RDMA device is present.",
    ),
    CodeInfo(
        code="OMPI_NO_SLURM_PMI",
        severity="error",
        library=LIBRARY,
        summary="Ranks were direct-launched with srun but this Open MPI lacks the PMI flavour "
        "srun offered ('not built with SLURM's PMI support'): use srun --mpi=pmix.",
    ),
    CodeInfo(
        code="OMPI_OPAL_ERROR",
        severity="error",
        library=LIBRARY,
        summary="'OPAL ERROR: ...' (e.g. Unreachable): the runtime layer failed, usually while "
        "talking to the PMIx server of the launcher.",
    ),
    CodeInfo(
        code="VADER_CMA_FAILED",
        severity="error",
        library=LIBRARY,
        summary="The vader/sm BTL's CMA single copy failed ('Read -1, expected N, errno = 1'): CMA "
        "is refused between ranks in different user namespaces.",
    ),
    CodeInfo(
        code="VADER_CMA_USERNS",
        severity="error",
        library=LIBRARY,
        summary="The vader/sm BTL cannot use CMA because ranks run in different user namespaces "
        "(one container instance per rank, e.g. ch-run without --join): it falls back to "
        "copy-in/copy-out and large messages get several times slower than on bare metal.",
    ),
    CodeInfo(
        code="VADER_CMA_UNAVAILABLE",
        severity="warning",
        library=LIBRARY,
        summary="The vader/sm BTL reports CMA unavailable (restrictive ptrace settings, or ranks "
        "in different user namespaces such as one container per rank) and falls back to a "
        "slower single-copy mechanism.",
    ),
    CodeInfo(
        code="OMPI_PML_UCX_DECLINED",
        severity="info",
        library=LIBRARY,
        summary="pml ucx declined to run ('support level is none'): UCX offers no transport on a "
        "device Open MPI accepts, so ob1 or cm is used instead.",
    ),
    CodeInfo(
        code="OMPI_RANK_ABORTED",
        severity="warning",
        library=LIBRARY,
        summary="A rank called MPI_ABORT or died on a signal; errors printed after it are likely "
        "consequences, not causes.",
    ),
]

_SUMMARY = {info.code: info.summary for info in CODES}


def _row(code: str, anchor: str, pattern: str, message: str, *examples: str, **more: Any) -> Rule:
    """A rule row raising ``code`` with the summary the code has in ``CODES``."""
    severity = next(info.severity for info in CODES if info.code == code)
    return Rule(
        anchor=anchor,
        pattern=pattern,
        code=code,
        severity=severity,
        summary=_SUMMARY[code],
        message=message,
        examples=examples,
        **more,
    )


#: Line shapes read by the rule engine (rules.py); the stateful selection reader is below.
RULES: tuple[Rule, ...] = (
    _row(
        "OMPI_PML_NOT_SELECTABLE",
        "cannot be selected",
        r"\bPML (?P<pml>\S+) cannot be selected",
        "the requested PML cannot be selected",
        "[b7135fd2fee3:10793] PML ucx cannot be selected",
        detail="pml {pml}",
        unset=("pml",),
    ),
    _row(
        "OMPI_NO_COMPONENTS",
        "No components were able to be opened",
        r"No components were able to be opened in the (?P<fw>\w+) framework",
        "Open MPI could open no component of a framework",
        "No components were able to be opened in the pml framework.",
        detail="framework {fw}",
    ),
    _row(
        "OMPI_UCX_WORKER_ADDRESS",
        "Failed to receive UCX worker address",
        r"Failed to receive UCX worker address",
        "pml ucx failed to receive a peer's UCX worker address: the peer runs another PML, or "
        "the runtime's address exchange (PMIx) failed",
        "[n1:4242] pml_ucx.c:383  Error: Failed to receive UCX worker address: Not found (-13)",
    ),
    _row(
        "OMPI_PML_UCX_ERROR",
        "Error:",
        r"pml_ucx\w*\.c:\d+\s+Error:\s*+(?!Failed to receive UCX worker address)(?P<what>.*)$",
        "pml ucx errors",
        "[n1:4242] pml_ucx.c:424  Error: ucp_ep_create(proc=1) failed: Destination is unreachable",
        detail="{what}",
    ),
    _row(
        "OMPI_UNREACHABLE",
        "unable to reach each other",
        r"unable to reach each other",
        "some MPI processes are unable to reach each other",
        "At least one pair of MPI processes are unable to reach each other for",
    ),
    _row(
        "OMPI_OFI_CALL_FAILED",
        "failed an OFI Libfabric library call",
        r"failed an OFI Libfabric library call(?: \((?P<call>\w+)\))?",
        "a libfabric call failed in Open MPI",
        "Open MPI failed an OFI Libfabric library call (fi_endpoint).  This is highly",
        detail="{call}",
    ),
    _row(
        "OMPI_TCP_CONNECT_FAILED",
        "connect() to ",
        r"connect\(\) to (?P<peer>\S+) failed:\s*(?P<why>.{0,60})",
        "the TCP BTL could not connect to a peer",
        "[n1][[20187,1],1][btl_tcp_endpoint.c:803:mca_btl_tcp_endpoint_complete_connect] "
        "connect() to 192.168.122.1 failed: Connection refused (111)",
        detail="{peer}: {why}",
    ),
    _row(
        "OMPI_OPENFABRICS_WARNING",
        "OpenFabrics",
        r"OpenFabrics.*(?:WARNING|error)|(?:WARNING|error).*OpenFabrics",
        "the openib BTL warned about an OpenFabrics device; an RDMA device is present",
        "WARNING: There was an error initializing an OpenFabrics device.",
    ),
    _row(
        "OMPI_NO_SLURM_PMI",
        "SLURM's PMI support",
        r"SLURM's PMI support",
        "srun direct launch without matching PMI support in Open MPI: launch with srun --mpi=pmix",
        "OMPI was not built with SLURM's PMI support and therefore cannot",
    ),
    Rule(
        anchor="unable to open mca_",
        pattern=r"mca_base_component_repository_open: unable to open "
        r"mca_(?P<fw>pml|btl|mtl|osc)_(?P<comp>\w+): (?P<why>.{0,100})",
        code="OMPI_COMPONENT_LOAD_FAILED",
        severity="error",
        summary="A transport component of Open MPI (pml/btl/mtl/osc) could not be loaded, "
        "typically because the library it needs (libucp, libfabric, libibverbs) is missing or "
        "mismatched in the container: Open MPI silently falls back to another path.",
        message="Open MPI could not load its {fw} {comp} component",
        detail="{fw} {comp}: {why}",
        examples=(
            "[node1:12345] mca_base_component_repository_open: unable to open mca_pml_ucx: "
            "libucp.so.0: cannot open shared object file: No such file or directory (ignored)",
        ),
    ),
    _row(
        "VADER_CMA_FAILED",
        "-1, expected",
        r"\b(?:Read|Write) -1, expected \d+, errno = (?P<errno>\d+)",
        "vader/sm BTL's CMA single copy failed: ranks in different user namespaces cannot use CMA",
        "[n1:00011] Read -1, expected 87120, errno = 1",
        detail="errno {errno}",
    ),
    _row(
        "VADER_CMA_USERNS",
        "different-user-namespace",
        r"different-user-namespace",
        "vader/sm BTL: CMA refused between ranks in different user namespaces; copy-in/copy-out "
        "is used instead, large messages are several times slower; run the ranks in one "
        "namespace (e.g. ch-run --join)",
        "[vm:17934] 1 more process has sent help message help-btl-vader.txt / "
        "cma-different-user-namespace-warning",
    ),
    _row(
        "VADER_CMA_USERNS",
        "different user namespace",
        r"different user namespace",
        "vader/sm BTL: CMA refused between ranks in different user namespaces; copy-in/copy-out "
        "is used instead, large messages are several times slower; run the ranks in one "
        "namespace (e.g. ch-run --join)",
        "CMA is not available due to different user namespaces.",
    ),
    _row(
        "VADER_CMA_UNAVAILABLE",
        "restrictive ptrace",
        r"restrictive ptrace|cma-permission-denied",
        "vader/sm BTL: CMA not available, falling back to a slower single-copy mechanism",
        "Could not use CMA because of restrictive ptrace settings",
        detail="restrictive ptrace settings",
    ),
    Rule(
        anchor="lost communication with a remote daemon",
        pattern=r"(?P<rt>ORTE|PRTE|PRRTE) has lost communication with a remote daemon",
        code="OMPI_DAEMON_LOST",
        severity="error",
        summary="The Open MPI runtime (ORTE/PRRTE) lost a remote daemon (killed, out of memory, "
        "or the TCP connection between nodes broke): the job is aborted.",
        message="{rt} lost communication with a remote daemon; the job was aborted",
        examples=("ORTE has lost communication with a remote daemon.",),
    ),
    Rule(
        anchor="daemon has unexpectedly failed",
        pattern=r"(?P<rt>ORTE|PRTE|PRRTE) daemon has unexpectedly failed",
        code="OMPI_DAEMON_LOST",
        severity="error",
        summary="The Open MPI runtime (ORTE/PRRTE) lost a remote daemon.",
        message="an {rt} daemon failed after launch; the job was aborted",
        examples=("An ORTE daemon has unexpectedly failed after launch and before",),
    ),
    Rule(
        anchor="unable to reliably start",
        pattern=r"(?P<rt>ORTE|PRTE|PRRTE) was unable to reliably start one or more daemons",
        code="OMPI_DAEMON_START_FAILED",
        severity="error",
        summary="The Open MPI runtime could not start its daemons on the other nodes (ssh, "
        "launcher or library path problems): no rank ran there.",
        message="{rt} could not start its daemons on other nodes",
        examples=("ORTE was unable to reliably start one or more daemons.",),
    ),
    Rule(
        anchor="-1, expected",
        pattern=r"\bCMA (?:read|write) -1, expected \d+, errno = (?P<errno>1|13)\b",
        code="VADER_CMA_FAILED",
        severity="error",
        summary="The vader/sm BTL's CMA single copy failed ('Read -1, expected N, errno = 1'): CMA "
        "is refused between ranks in different user namespaces.",
        message="Open MPI's CMA single copy was refused (errno {errno}): ranks in different "
        "user namespaces or ptrace restricted (a container without CAP_SYS_PTRACE)",
        observe=Obs.CMA_BLOCKED,
        value="cma",
        examples=("[c669c7922905:00011] JJH 2: CMA read -1, expected 87120, errno = 1",),
    ),
    Rule(
        anchor="OMPI_MCA_pml",
        pattern=r"\bOMPI_MCA_pml\s*=\s*[\"']?(?P<pml>ob1|ucx|cm)\b",
        observe=Obs.FORCED_SETTING,
        value="pml={pml}",
        select=(("pml", "{pml}"),),
        examples=("$ export OMPI_MCA_pml=ucx",),
    ),
    Rule(
        anchor="mca pml ",
        pattern=r"(?:^|\s)--?mca\s+pml\s+[\"']?(?P<pml>ob1|ucx|cm)\b",
        observe=Obs.FORCED_SETTING,
        value="pml={pml}",
        select=(("pml", "{pml}"),),
        examples=(
            "mpirun -np 2 --mca pml ucx ./osu_latency",
            '  -bind-to none -map-by slot -mca plm_rsh_args "-p 12346" -mca pml ob1 '
            "-mca btl ^openib \\",
        ),
    ),
    Rule(
        anchor="mca btl ",
        pattern=r"(?:^|\s)--?mca\s+btl\s+[\"']?(?P<btl>\^?[\w,]+)",
        observe=Obs.FORCED_SETTING,
        value="btl={btl}",
        examples=(
            "mpirun -np 4 --mca btl tcp,self,vader ./a.out",
            "  -bind-to none -map-by slot -mca pml ob1 -mca btl ^openib \\",
        ),
    ),
    Rule(
        anchor="OMPI_MCA_btl",
        pattern=r"\bOMPI_MCA_btl\s*=\s*[\"']?(?P<btl>\^?[\w,]+)",
        observe=Obs.FORCED_SETTING,
        value="btl={btl}",
        examples=("OMPI_MCA_btl=^openib,uct", "$ export OMPI_MCA_btl=self,vader,tcp"),
    ),
    Rule(
        anchor="btl_tcp_if_include",
        pattern=r"btl_tcp_if_include(?:\s*=\s*|\s+)[\"']?(?P<ifs>[\w.,/:-]+)",
        observe=Obs.FORCED_SETTING,
        value="btl_tcp_if_include={ifs}",
        examples=(
            "  -mca btl_tcp_if_include ib0 -x NCCL_SOCKET_IFNAME=ib0 \\",
            "OMPI_MCA_btl_tcp_if_include=ib0",
        ),
    ),
)

_SEVERITY: dict[str, Severity] = {info.code: info.severity for info in CODES}

#: Component names that only exist as PMLs / MTLs, for selection lines that do not name the
#: framework when no ``initializing <framework> component`` line was seen for that rank.
KNOWN_PMLS = frozenset({"ob1", "ucx", "cm", "yalla", "monitoring", "v", "crcpw", "bfo"})
KNOWN_MTLS = frozenset({"ofi", "psm", "psm2", "mxm", "portals4"})

#: Path evidence: the first lines (a few ranks) of every distinct selection, provider and lane.
LINES_PER_KEY = 4
MAX_PATH_EVIDENCE = 64
#: Characters of a line that are parsed: real lines are far shorter.
MAX_PARSE_CHARS = 8192
#: Most ranks kept per selected component in observations.
MAX_RANKS_PER_VALUE = 256
MAX_OBSERVATIONS_PER_KIND = 64

_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_RANK_RE = re.compile(r"\[([A-Za-z0-9_.\-]+):0*(\d+)\]")
_INIT_RE = re.compile(r"select: initializing (\w+) component (\w+)")
_PRIORITY_RE = re.compile(r"select: init returned priority (-?\d+)")
_BEST_RE = re.compile(r"\bselected (\w+) best priority (-?\d+)")
_COMPONENT_SELECTED_RE = re.compile(r"select: component (\w+) selected")
_NEW_SELECTED_RE = re.compile(r"mca:base:select:\(\s*(\w+)\s*\)\s*Selected component \[(\w+)\]")
_BTL_SUCCESS_RE = re.compile(r"init of component (\w+) returned success")
#: ``btl:tcp: using ipv4 interface eth0``: an interface the TCP BTL really uses.
_TCP_IFACE_RE = re.compile(r"btl:\s*tcp:\s*using ipv[46] interface\s+(\S+)")
#: ``btl: tcp: Using interface: sppp`` is printed while the include/exclude list is resolved
#: (``sppp`` is in the default exclude list): an entry of that list, not an interface in use.
_TCP_IF_ENTRY_RE = re.compile(r"btl:\s*tcp:\s*Using interface:\s*(\S+)")
_OFI_PROVIDER_RE = re.compile(r"mtl:ofi:provider:\s*(\S+)")
_VERSION_RES = (
    re.compile(r"\bOpen MPI:\s*v?(\d+\.\d+(?:\.\d+)?[\w.+~\-]*)"),
    re.compile(r"\(Open MPI\)\s*v?(\d+\.\d+(?:\.\d+)?[\w.+~\-]*)"),
    re.compile(r"\bOpen MPI v(\d+\.\d+(?:\.\d+)?[\w.+~\-]*?)(?:,|\s|$)"),
)
_PACKAGE_RE = re.compile(r"\b[Pp]ackage:\s*([^,]*Open\s?MPI[^,]*?)\s*(?:,|$)")
_UCX_VERSION_RE = re.compile(r"mca_pml_ucx_open: UCX version\s+(\S+)")
_MISMATCH_RE = re.compile(r"selected pml (\w+), but peer (\S+) (?:on (\S+) )?selected pml (\w+)")
_OPAL_ERROR_RE = re.compile(r"OPAL ERROR:\s*(.*)$")
_LOCAL_DEVICE_RE = re.compile(r"Local (?:device|adapter):\s*(\S+)")
#: Device names of RDMA NICs (InfiniBand/RoCE/Omni-Path/EFA/iWARP/soft-RoCE/Slingshot).
_RDMA_DEVICE_RE = re.compile(
    r"^(?:mlx\d|mlx[45]_|hfi1_|qib|bnxt_re|irdma|i40iw|qedr|efa|rxe|siw|cxi|erdma|hns|ionic)"
)
_ABORT_RE = re.compile(r"MPI_ABORT was invoked on rank (\d+)")
_FATAL_RE = re.compile(r"\*\*\* An error occurred in (MPI_\w+)")
_BML_RE = re.compile(r"bml: Using (\w+) btl for send to (\S+) on node (\S+)")
#: Newer ``against process [[1,1],0] pml ob1``, older ``against rank=0 pml ob1``.
_PML_CHECK_RE = re.compile(r"checking my pml (\w+) against (?:process )?(\S+) pml (\w+)")
_SIGNAL_RE = re.compile(r"\*\*\* Process received signal \*\*\*|exited on signal (\d+)")


@dataclass
class _RankState:
    """What one rank's selection lines said so far."""

    framework_of: dict[str, str] = field(default_factory=dict)
    last_pml: str | None = None


@dataclass
class _Choice:
    """Which ranks selected which component of one framework (pml or mtl)."""

    #: component -> (rank, the line that said so), capped per component.
    ranks: dict[str, list[tuple[str, Evidence]]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    by_rank: dict[str, str] = field(default_factory=dict)

    def record(self, component: str, rank: str, evidence: Evidence) -> bool:
        """Note the choice; False when this rank already chose it (a repeated line)."""
        if self.by_rank.get(rank) == component:
            return False
        if len(self.by_rank) < 100_000:
            self.by_rank[rank] = component
        self.counts[component] = self.counts.get(component, 0) + 1
        ranks = self.ranks.setdefault(component, [])
        if len(ranks) < MAX_RANKS_PER_VALUE:
            ranks.append((rank, evidence))
        return True

    def most_common(self) -> str | None:
        """The component most ranks chose (the first seen on a tie)."""
        return max(self.counts, key=lambda c: self.counts[c]) if self.counts else None


#: Path class of each Open MPI component that carries traffic (``None``: no class of its own).
_COMPONENT_CLASSES: dict[str, str | None] = {
    "tcp": "tcp",
    "vader": "shm",
    "sm": "shm",
    "smcuda": "shm",
    "openib": "ib",
    "usnic": "tcp",
    "psm2": "psm2",
    "psm": "psm2",
    "ofi": None,
    "self": None,
    "ucx": None,
    "uct": None,
    "cm": None,
    "ob1": None,
}


def path_class(transport: str, device: str | None, *, roce: bool = False) -> str | None:
    """The class of an Open MPI lane: a BTL/MTL component, the MTL over its OFI provider."""
    name = transport.lower()
    if name == "ofi":
        # The MTL carries the traffic; its class is the provider's, unknown if unnamed.
        return ofi_provider_class(device, roce=roce) if device else "unknown"
    if name in _COMPONENT_CLASSES:
        return _COMPONENT_CLASSES[name]
    return ofi_provider_class(name, roce=roce)


class Analyser(LineAnalyser):
    """Reads Open MPI's component-selection and error lines; see the module docstring."""

    library: ClassVar[str] = LIBRARY
    anchors: ClassVar[tuple[bytes, ...]] = (
        b"select:",
        b"best priority",
        b"init of component",
        b"Using interface",
        b"btl:tcp: using ipv",
        b"mtl:ofi:provider",
        b"Open MPI",
        b"OpenMPI",
        b"pml_ucx",
        b"unable to reach each other",
        b"connect() to",
        b"OpenFabrics",
        b"Local device:",
        b"Local adapter:",
        b"support level is",
        b"selected pml",
        b"cannot be selected",
        b"No components were able to be opened",
        b"Failed to receive UCX worker address",
        b"OPAL ERROR",
        b"SLURM's PMI support",
        b"errno = ",
        b"restrictive ptrace",
        b"user namespace",
        b"user-namespace",
        b"cma-permission-denied",
        b"MPI_ABORT was invoked",
        b"Process received signal",
        b"exited on signal",
        b"An error occurred in MPI_",
        b"bml: Using",
    )

    def __init__(self) -> None:
        self._ranks: dict[str, _RankState] = {}
        self._choices: dict[str, _Choice] = {"pml": _Choice(), "mtl": _Choice()}
        self._btls: dict[str, None] = {}
        self._providers: dict[str, int] = {}
        self._versions: dict[str, dict[str, None]] = {}
        self._version_evidence: list[Evidence] = []
        self._path_evidence: list[Evidence] = []
        self._path_keys: dict[tuple[str, ...], int] = {}
        self._path_counts: dict[tuple[str, Scope, str], int] = {}
        #: PML -> (best priority its init returned, that line): the fallback for cut-off logs.
        self._pml_priorities: dict[str, tuple[int, Evidence]] = {}
        self._observations: dict[tuple[str, str | None], Observation] = {}
        self._tallies: dict[str, FindingTally] = {}

    def feed(self, text: str, evidence: Evidence) -> None:
        """Consume one cleaned candidate line; lines that do not parse are ignored."""
        if len(text) > MAX_PARSE_CHARS:
            text = text[:MAX_PARSE_CHARS]  # longer lines are garbage; keep regexes linear
        if "\x1b" in text:
            text = _ANSI_RE.sub("", text)
        match = _RANK_RE.search(text)
        rank = f"{match.group(1)}:{int(match.group(2))}" if match else "?"
        if "select" in text and self._feed_selection(text, rank, evidence):
            return
        if self._feed_transport_detail(text, rank, evidence):
            return
        if "Open" in text or "ackage" in text:
            self._feed_version(text, rank, evidence)
        self._feed_trouble(text, rank, evidence)

    # -- selection -----------------------------------------------------------------------------

    def _state(self, rank: str) -> _RankState:
        state = self._ranks.get(rank)
        if state is None:
            state = _RankState()
            if len(self._ranks) < 100_000:
                self._ranks[rank] = state
        return state

    def _feed_selection(self, text: str, rank: str, evidence: Evidence) -> bool:
        if match := _PML_CHECK_RE.search(text):
            mine, peer, theirs = match.groups()
            if mine != theirs:
                self._tally(
                    "OMPI_PML_MISMATCH", evidence, f"{rank} pml {mine}, process {peer} pml {theirs}"
                )
            return True
        if match := _INIT_RE.search(text):
            framework, component = match.group(1), match.group(2)
            state = self._state(rank)
            state.framework_of[component] = framework
            if framework == "pml":
                state.last_pml = component
            return True
        if match := _NEW_SELECTED_RE.search(text):
            self._select(match.group(1), match.group(2), rank, evidence)
            return True
        if match := _BEST_RE.search(text):
            self._select("pml", match.group(1), rank, evidence)
            return True
        if match := _COMPONENT_SELECTED_RE.search(text):
            component = match.group(1)
            framework = self._state(rank).framework_of.get(component)
            if framework is None and component in KNOWN_MTLS:
                framework = "mtl"
            elif framework is None and component in KNOWN_PMLS:
                framework = "pml"
            if framework is not None:
                self._select(framework, component, rank, evidence)
            return True
        if match := _BTL_SUCCESS_RE.search(text):
            component = match.group(1)
            framework = self._state(rank).framework_of.get(component, "btl")
            if framework == "btl":
                self._btls.setdefault(component, None)
                self._note_path(("btl", component), evidence)
            return True
        if match := _PRIORITY_RE.search(text):
            # Only the PML framework prints priorities; an MTL initialised in between (inside
            # pml cm's init) must not take the credit.
            last = self._state(rank).last_pml
            if last is not None:
                priority = int(match.group(1))
                best = self._pml_priorities.get(last)
                if best is None or priority > best[0]:
                    self._pml_priorities[last] = (priority, evidence)
            return True
        return False

    def _select(self, framework: str, component: str, rank: str, evidence: Evidence) -> None:
        if framework == "btl":
            self._btls.setdefault(component, None)
            self._note_path(("btl", component), evidence)
            return
        choice = self._choices.get(framework)
        if choice is None:
            return  # other frameworks (coll, osc, ...) say nothing about transport
        if choice.record(component, rank, evidence):
            self._note_path((framework, component), evidence)

    def _feed_transport_detail(self, text: str, rank: str, evidence: Evidence) -> bool:
        if match := _BML_RE.search(text):
            self._feed_bml(match.group(1), match.group(3), rank, evidence)
            return True
        if match := _OFI_PROVIDER_RE.search(text):
            provider = match.group(1)
            self._providers[provider] = self._providers.get(provider, 0) + 1
            self._note_path(("ofi_provider", provider), evidence)
            return True
        if match := _TCP_IFACE_RE.search(text):
            self._observe("btl_tcp_interface", match.group(1), rank, evidence)
            self._note_path(("btl_tcp_interface", match.group(1)), evidence)
            return True
        if match := _TCP_IF_ENTRY_RE.search(text):
            self._observe("btl_tcp_if_list_entry", match.group(1), rank, evidence)
            return True
        if match := _UCX_VERSION_RE.search(text):
            self._observe("ucx_version", match.group(1), rank, evidence)
            return True
        if "support level is" in text:
            level = text.rsplit("support level is", 1)[1].strip().split()
            value = level[0] if level else None
            if value == "none":
                self._observe("pml_ucx_declined", value, rank, evidence)
                self._tally("OMPI_PML_UCX_DECLINED", evidence, None)
            return True
        return False

    def _feed_bml(self, btl: str, node: str, rank: str, evidence: Evidence) -> None:
        """A peer reached through ``btl``: its scope is judged by the node it lives on."""
        host = rank.rsplit(":", 1)[0]
        scope: Scope
        if btl == "self":
            scope = "self"
        elif host == "?":
            scope = "unknown"
        elif node.split(".")[0] == host.split(".")[0]:
            scope = "intra-node"
        else:
            scope = "inter-node"
        key = ("btl", scope, btl)
        self._path_counts[key] = self._path_counts.get(key, 0) + 1
        self._note_path(("bml", scope, btl), evidence)

    def _note_path(self, key: tuple[str, ...], evidence: Evidence) -> None:
        """Keep the first lines of every distinct selection or lane as path evidence."""
        seen = self._path_keys.get(key, 0)
        if seen >= LINES_PER_KEY or len(self._path_evidence) >= MAX_PATH_EVIDENCE:
            return
        self._path_keys[key] = seen + 1
        self._path_evidence.append(evidence)

    def _feed_version(self, text: str, rank: str, evidence: Evidence) -> None:
        for pattern in _VERSION_RES:
            if match := pattern.search(text):
                version = match.group(1).rstrip(".,")
                ranks = self._versions.setdefault(version, {})
                if len(ranks) < MAX_RANKS_PER_VALUE:
                    ranks[rank] = None  # an insertion-ordered set
                add_evidence(self._version_evidence, evidence)
                break
        if match := _PACKAGE_RE.search(text):
            self._observe("package", match.group(1).strip(), None, evidence)

    # -- trouble -------------------------------------------------------------------------------

    def _feed_trouble(self, text: str, rank: str, evidence: Evidence) -> None:
        if match := _MISMATCH_RE.search(text):
            mine, peer, host, theirs = match.groups()
            where = f" on {host}" if host else ""
            self._tally(
                "OMPI_PML_MISMATCH",
                evidence,
                f"{rank} selected pml {mine}, peer {peer}{where} selected pml {theirs}",
            )
        elif match := _LOCAL_DEVICE_RE.search(text):
            device = match.group(1)
            if _RDMA_DEVICE_RE.match(device):
                self._observe("rdma_device", device, None, evidence)
        elif match := _OPAL_ERROR_RE.search(text):
            detail = " ".join(match.group(1).split())[:120]
            if re.search(r"\b(?:ext[234]x|pmix\d*x?)_client\.c", detail):
                detail += " (the PMIx client could not reach the launcher's PMIx server)"
            self._tally("OMPI_OPAL_ERROR", evidence, detail)
        elif match := _ABORT_RE.search(text):
            self._observe("mpi_abort", match.group(1), rank if rank != "?" else None, evidence)
            self._tally("OMPI_RANK_ABORTED", evidence, f"MPI_ABORT on rank {match.group(1)}")
        elif match := _FATAL_RE.search(text):
            self._observe("process_signal", match.group(1), rank if rank != "?" else None, evidence)
            self._tally("OMPI_RANK_ABORTED", evidence, f"fatal error in {match.group(1)}")
        elif match := _SIGNAL_RE.search(text):
            signal = match.group(1)
            self._observe("process_signal", signal, rank if rank != "?" else None, evidence)
            self._tally("OMPI_RANK_ABORTED", evidence, f"signal {signal}" if signal else None)

    def _observe(self, kind: str, value: str | None, rank: str | None, evidence: Evidence) -> None:
        key = (kind, value)
        observation = self._observations.get(key)
        if observation is None:
            same_kind = sum(1 for k in self._observations if k[0] == kind)
            if same_kind >= MAX_OBSERVATIONS_PER_KIND:
                return
            observation = Observation(kind=kind, value=value, rank=rank)
            self._observations[key] = observation
        add_evidence(observation.evidence, evidence)

    def _tally(self, code: str, evidence: Evidence, detail: str | None) -> None:
        tally = self._tallies.setdefault(code, FindingTally())
        tally.count += 1
        if detail and detail not in tally.details and len(tally.details) < 3:
            tally.details.append(detail)
        add_evidence(tally.evidence, evidence)

    # -- result --------------------------------------------------------------------------------

    def facts(self) -> LibraryFacts:
        """Selections, versions, per-rank choices and findings learnt so far."""
        selected: dict[str, object] = {}
        for framework, choice in self._choices.items():
            winner = choice.most_common()
            if winner is not None:
                selected[framework] = winner
        observations: list[Observation] = []
        if "pml" not in selected:
            inferred = self._inferred_pml(selected)
            if inferred is not None:
                selected["pml"] = inferred.value
                observations.append(inferred)
        if self._btls:
            selected["btl"] = list(self._btls)
        if self._providers:
            selected["ofi_provider"] = max(self._providers, key=lambda p: self._providers[p])
        observations += self._choice_observations() + list(self._observations.values())
        findings = [self._finding(code, tally) for code, tally in self._tallies.items()]
        split = self._split_choice_finding()
        if split is not None and "OMPI_PML_MISMATCH" not in self._tallies:
            findings.append(split)
        return LibraryFacts(
            library=LIBRARY,
            versions={k: list(v) for k, v in self._versions.items()},
            version_evidence=list(self._version_evidence),
            paths=[
                PathUse(library=LIBRARY, layer=layer, scope=scope, transport=btl, count=count)
                for (layer, scope, btl), count in self._path_counts.items()
            ],
            path_evidence=list(self._path_evidence),
            selected=selected,
            observations=observations,
            findings=findings,
        )

    def _inferred_pml(self, selected: dict[str, object]) -> Observation | None:
        """The PML when no line names the winner (a log cut short, or only mtl verbosity).

        Open MPI selects the PML with the best priority its init returned, so the best one seen
        is the winner unless a component that never reported would have beaten it; and the MTL
        framework is only selected inside pml cm's init, so a selected MTL alone implies cm.
        """
        if self._pml_priorities:
            name = max(self._pml_priorities, key=lambda c: self._pml_priorities[c][0])
            line = self._pml_priorities[name][1]
            return Observation(kind="pml_inferred", value=name, evidence=[line])
        if "mtl" in selected:
            lines = [line for ranks in self._choices["mtl"].ranks.values() for _, line in ranks]
            return Observation(kind="pml_inferred", value="cm", evidence=lines[:1])
        return None

    def _choice_observations(self) -> list[Observation]:
        return [
            Observation(kind=f"{framework}_selected", value=component, rank=rank, evidence=[line])
            for framework, choice in self._choices.items()
            for component, ranks in choice.ranks.items()
            for rank, line in ranks
        ]

    def _split_choice_finding(self) -> Finding | None:
        """Ranks that chose different PMLs, seen from the per-rank selection lines."""
        pml = self._choices["pml"]
        if len(pml.counts) < 2:
            return None
        evidence = [line for ranks in pml.ranks.values() for _, line in ranks[:2]]
        summary = ", ".join(f"{c} on {n} rank(s)" for c, n in pml.counts.items())
        return Finding(
            code="OMPI_PML_MISMATCH",
            severity=_SEVERITY["OMPI_PML_MISMATCH"],
            library=LIBRARY,
            message=f"ranks selected different PMLs: {summary}",
            evidence=evidence[:8],
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
    "OMPI_PML_MISMATCH": lambda t: f"ranks selected different PMLs ({t.times()}){t.detail()}",
    "OMPI_PML_NOT_SELECTABLE": lambda t: (
        f"the requested PML cannot be selected ({t.times()}){t.detail()}"
    ),
    "OMPI_NO_COMPONENTS": lambda t: (
        f"Open MPI could open no component of a framework ({t.times()}){t.detail()}"
    ),
    "OMPI_UCX_WORKER_ADDRESS": lambda t: (
        "pml ucx failed to receive a peer's UCX worker address "
        f"({t.times()}): the peer runs another PML, or the runtime's address exchange (PMIx) failed"
    ),
    "OMPI_UNREACHABLE": lambda t: (
        f"some MPI processes are unable to reach each other ({t.times()})"
    ),
    "OMPI_PML_UCX_ERROR": lambda t: f"pml ucx errors ({t.times()}){t.detail()}",
    "OMPI_OFI_CALL_FAILED": lambda t: (
        f"a libfabric call failed in Open MPI ({t.times()}){t.detail()}"
    ),
    "OMPI_TCP_CONNECT_FAILED": lambda t: (
        f"the TCP BTL could not connect to a peer ({t.times()}){t.detail()}"
    ),
    "OMPI_OPENFABRICS_WARNING": lambda t: (
        "the openib BTL warned about an OpenFabrics device "
        f"({t.times()}); an RDMA device is present"
    ),
    "OMPI_NO_SLURM_PMI": lambda t: (
        "srun direct launch without matching PMI support in Open MPI "
        f"({t.times()}): launch with srun --mpi=pmix"
    ),
    "OMPI_OPAL_ERROR": lambda t: f"Open MPI runtime error ({t.times()}){t.detail()}",
    "VADER_CMA_FAILED": lambda t: (
        "vader/sm BTL's CMA single copy failed "
        f"({t.times()}){t.detail()}: ranks in different user namespaces cannot use CMA"
    ),
    "VADER_CMA_USERNS": lambda t: (
        "vader/sm BTL: CMA refused between ranks in different user "
        f"namespaces ({t.times()}); copy-in/copy-out is used instead, large messages are several "
        "times slower; run the ranks in one namespace (e.g. ch-run --join)"
    ),
    "VADER_CMA_UNAVAILABLE": lambda t: (
        "vader/sm BTL: CMA not available, falling back to a "
        f"slower single-copy mechanism ({t.times()}){t.detail()}"
    ),
    "OMPI_PML_UCX_DECLINED": lambda t: (
        "pml ucx declined (support level none): no UCX transport "
        f"on an accepted device ({t.times()})"
    ),
    "OMPI_RANK_ABORTED": lambda t: f"a rank aborted ({t.times()}){t.detail()}",
}
