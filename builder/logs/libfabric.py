"""libfabric (OFI) debug log analyser (``FI_LOG_LEVEL=info`` or ``warn``, and ``fi_info`` output).

libfabric changed its log prefix twice; all three shapes are read:

* before 1.7 or so the pid is missing: ``libfabric:<prov>:<subsys>:<func>():<line><<level>> msg``
* up to 1.13: ``libfabric:<pid>:<prov>:<subsys>:<func>():<line><<level>> msg``
* 1.14: ``libfabric:<pid>:<unix time>:<prov>:<subsys>:<func>():<line><<level>> msg``
* 1.15 and 2.x: ``libfabric:<pid>:<unix time>:<layer>:<prov>:<subsys>:<func>():<line><<level>> msg``
  where ``<layer>`` is usually empty (``::``) and names the utility provider (``ofi_rxm``) when a
  core provider logs on behalf of a layered one.

libfabric never prints one "selected provider" line: the consumer does (Open MPI, MPICH, NCCL's
aws-ofi plugin; their analysers set ``selected.ofi_provider``). This analyser reports what
libfabric itself knew: the providers registered, filtered out, failing, usable (``fi_info``
blocks) and the fabrics opened. The patterns are two tables of :class:`LineRule` rows:
:data:`LOG_RULES` for the message of a prefixed line, :data:`TEXT_RULES` for ``fi_info`` output
and consumer lines; each row carries an example line that a test runs through the analyser.

Judgement without a site profile: an ``fi_info`` listing is capability, not a path, so it never
makes a log healthy. Errors: no provider at all (``-61`` everywhere, ``No providers found``), a
fabric provider that found no device while it was the only candidate and nothing else worked
(``no PSM2 device is active``), GPU memory requested but unsupported (``FI_HMEM capability
requires RDMA``, which also sets ``selected.gdr`` false).

Observation kinds (``Observation.kind``):

``provider_registered``
    a provider loaded (value: name; its version is kept in ``provider_version``).
``provider_version``
    ``<name> <version>`` as printed at registration (``tcp 117.0``).
``provider_filtered``
    a provider skipped by ``FI_PROVIDER`` include/exclude lists.
``provider_failed``
    ``fi_getinfo`` failure of a provider (value: ``<name> <code> (<text>)``).
``provider_available``
    a provider that ``fi_info`` listed as usable (value: name, ``/domain`` when printed).
``provider_requested``
    a provider a layered provider was asked for (``Requesting provider tcp, skipping verbs``).
``provider_skipped`` / ``provider_preferred``
    ``Since <preferred> can be used, <skipped> has been skipped`` (libfabric's own preference).
``fabric_opened``
    ``Opened fabric: <name>`` (a consumer opened a fabric: something worked).
``consumer_selected``
    a consumer (Open MPI, MPICH, Intel MPI, aws-ofi-nccl) named the provider it uses.
``rdma_available``
    an RDMA/vendor-fabric provider is usable: listed by ``fi_info`` or named by a consumer.
    (``provider_registered`` alone proves nothing about hardware: Debian's libfabric registers
    psm2 and psm on machines without Omni-Path.)
``no_rdma_device``
    a fabric provider (verbs, psm2, psm3, cxi) found no device (value: the provider).
``hmem_unsupported``
    GPU memory (FI_HMEM) was requested and the device cannot do RDMA with it.
``no_provider``
    libfabric or ``fi_info`` reported that no provider matched.

The ``versions`` map uses the pid as the rank key: libfabric's prefix carries no host name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import ClassVar

from builder.logs.base import (
    MAX_LINE,
    MAX_RANKS_PER_VERSION,
    CodeInfo,
    LibraryFacts,
    LineAnalyser,
    ObservationBook,
    add_evidence,
    record_version,
    room_for,
)
from builder.logs.linerules import LineRule, ReaderErrors, first_match, rule
from builder.model.analysis import Evidence, Finding

LIBRARY = "libfabric"


#: Core providers that carry RDMA or a vendor fabric (anything better than sockets).
FAST_PROVIDERS = frozenset(
    {"verbs", "cxi", "efa", "psm2", "psm3", "opx", "mlx", "gni", "usnic", "bgq", "ucx", "lpp"}
)
#: Core providers that are plain TCP/UDP sockets.
SOCKET_PROVIDERS = frozenset({"tcp", "sockets", "udp", "net"})
#: Providers that are plumbing (hooks, utility layers), never a transport of their own.
_PLUMBING_PREFIXES = ("ofi_hook", "ofi_rxm", "ofi_rxd", "ofi_mrail", "ofi_perf", "hook_")

CODES: list[CodeInfo] = [
    CodeInfo(
        code="OFI_NO_PROVIDER",
        severity="error",
        library=LIBRARY,
        summary="libfabric found no usable provider (every provider returned -61 / "
        "'No providers found').",
    ),
    CodeInfo(
        code="OFI_PROVIDER_FILTERED",
        severity="info",
        library=LIBRARY,
        summary="Providers were skipped by an FI_PROVIDER include/exclude list.",
    ),
    CodeInfo(
        code="OFI_ONLY_TCP",
        severity="warning",
        library=LIBRARY,
        summary="Only socket providers (tcp/sockets/udp) were usable although an RDMA provider "
        "(verbs, cxi, efa, psm2, opx) was registered and failed.",
    ),
    CodeInfo(
        code="OFI_PROVIDER_NO_DEVICE",
        severity="error",
        library=LIBRARY,
        summary="A fabric provider (verbs, psm2, psm3, ...) initialised but found no usable "
        "device, it was the only candidate and nothing else worked (no fabric opened, no "
        "provider named by a consumer or listed by fi_info). Providers probe and give up "
        "routinely, so the line alone is only an observation.",
    ),
    CodeInfo(
        code="OFI_HMEM_UNSUPPORTED",
        severity="error",
        library=LIBRARY,
        summary="The consumer asked for GPU memory support (FI_HMEM) and the provider's device "
        "cannot do RDMA with it: no GPUDirect RDMA (selected.gdr is false).",
    ),
    CodeInfo(
        code="OFI_PROVIDER_UNPROBED",
        severity="error",
        library=LIBRARY,
        summary="fi_info lists a provider with endpoint type FI_EP_UNSPEC: a static template, "
        "not an endpoint of a probed device (opx before 1.16 is listed on machines without "
        "Omni-Path). An error when it is listed first, since consumers that take the first "
        "provider pick one that cannot work; a warning otherwise.",
    ),
    CodeInfo(
        code="OFI_PROVIDER_UNAVAILABLE",
        severity="error",
        library=LIBRARY,
        summary="A consumer required a named fabric provider (efa, verbs, cxi, psm2, opx) and "
        "libfabric did not return it: the application stops or runs on what was returned.",
    ),
    CodeInfo(
        code="OFI_READER_ERROR",
        severity="info",
        library=LIBRARY,
        summary="A line the libfabric reader could not handle (a bug, not a transport problem): "
        "the line is named so that it can be reported; the rest of the log is still read.",
    ),
]


def core_provider(name: str) -> str:
    """The core (transport) part of a possibly layered provider name.

    ``verbs;ofi_rxm`` -> ``verbs``; ``ofi_rxm`` alone stays ``ofi_rxm``; case is folded.
    """
    first = name.strip().split(";", 1)[0].strip().lower()
    return first


def is_socket_provider(name: str) -> bool:
    """True for tcp/sockets/udp providers, layered or not (``tcp;ofi_rxm``)."""
    return core_provider(name) in SOCKET_PROVIDERS


def is_fast_provider(name: str) -> bool:
    """True for RDMA or vendor-fabric providers, layered or not (``verbs;ofi_rxm``)."""
    return core_provider(name) in FAST_PROVIDERS


def is_plumbing_provider(name: str) -> bool:
    """True for hook and utility providers that do not carry traffic by themselves."""
    return core_provider(name).startswith(_PLUMBING_PREFIXES)


def evidence_by_name(table: dict[str, list[Evidence]]) -> list[Evidence]:
    """The evidence lines of a name -> lines table, names in sorted order, each line once."""
    evidence: list[Evidence] = []
    for name in sorted(table):
        for ev in table[name]:
            add_evidence(evidence, ev)
    return evidence


# --- line shapes --------------------------------------------------------------------------------

# The three prefixes in one pattern: the time and the layer field are optional; the function
# name must be followed by "()" so that the optional fields cannot swallow the wrong columns.
_PREFIX = re.compile(
    r"libfabric:(?:(?P<pid>\d+):)?"
    r"(?:(?P<time>\d+):(?:(?P<layer>[^:\s]*):)?)?"
    r"(?P<prov>[^:\s]*):(?P<subsys>[^:\s]*):(?P<func>[^:\s()]*)\(\):(?P<line>\d+)"
    r"<(?P<level>[a-z]+)>\s?(?P<msg>.*)$"
)


class Fact(StrEnum):
    """What a libfabric line tells; most values are also the observation kinds recorded."""

    REGISTERED = "provider_registered"
    FILTERED = "provider_filtered"
    FAILED = "provider_failed"
    OPENED = "fabric_opened"
    SKIPPED = "provider_skipped"
    REQUESTED = "provider_requested"
    NO_PROVIDER = "no_provider"
    NO_DEVICE = "no_rdma_device"
    NO_HMEM = "hmem_unsupported"
    VERSION = "version"
    CONSUMER = "consumer_selected"
    AVAILABLE = "provider_available"
    DOMAIN = "provider_domain"
    UNPROBED = "provider_unprobed"
    UNAVAILABLE = "provider_unavailable"


#: Messages of ``FI_LOG_LEVEL`` lines (after the ``libfabric:...<level>`` prefix).
LOG_RULES: tuple[LineRule[Fact], ...] = (
    rule(
        Fact.REGISTERED,
        r"registering provider: (?P<name>[^\s(]+)(?: \((?P<ver>[^)]*)\))?",
        "libfabric:8346:1795320246::core:core:ofi_register_provider():461<info> registering "
        "provider: tcp (117.0)",
        "a provider loaded (built-in ones print the library version as MAJOR*100+MINOR)",
    ),
    rule(
        Fact.FILTERED,
        r"\"(?P<name>[^\"]+)\" filtered by provider include/exclude list",
        'libfabric:8346:1795320246::core:core:ofi_register_provider():488<info> "psm2" '
        "filtered by provider include/exclude list, skipping",
        "FI_PROVIDER excluded the provider",
        "OFI_PROVIDER_FILTERED",
    ),
    rule(
        Fact.FAILED,
        r"fi_getinfo: provider (?P<name>\S+) returned (?P<code>-?\d+)(?: \((?P<text>[^)]*)\))?",
        "libfabric:72089:core:core:fi_getinfo_():889<warn> fi_getinfo: provider verbs returned "
        "-61 (No data available)",
        "a provider matched nothing for the consumer's request",
        "OFI_ONLY_TCP",
    ),
    rule(
        Fact.OPENED,
        r"Opened fabric: (?P<name>.+?)\s*$",
        "libfabric:8346:1795320246::core:core:fi_fabric_():1528<info> Opened fabric: 172.17.0.0/16",
        "a consumer opened a fabric: some provider worked",
    ),
    rule(
        Fact.SKIPPED,
        r"Since (?P<used>\S+) can be used, (?P<skipped>\S+) has been skipped",
        "libfabric:8346:1795320246::core:core:ofi_layering_ok():1021<info> Since tcp can be "
        "used, udp has been skipped",
        "libfabric's own preference between providers",
    ),
    rule(
        Fact.REQUESTED,
        r"Requesting provider (?P<name>[^\s,]+), skipping (?P<skipped>\S+)",
        "libfabric:8346:1795320246::ofi_rxm:core:ofi_check_info():1003<info> Requesting "
        "provider tcp, skipping verbs",
        "a layered provider was asked for one core provider",
    ),
    rule(
        Fact.NO_PROVIDER,
        r"No providers found",
        "libfabric:4242:1700000000::core:core:fi_getinfo_():1125<warn> No providers found",
        "nothing matched at all",
        "OFI_NO_PROVIDER",
    ),
    rule(
        Fact.NO_DEVICE,
        r"no RDMA devices found|no RDMA-capable devices|no PSM[23] device is (?:found|active)|"
        r"hfi1 units: total -?\d+, active 0\b|cxil_get_device_list failed|^No IFs found|"
        r"Unable to open HFI unit \d+",
        "libfabric:3251:1715881079:ofi_rxd:psm2:core:psmx2_getinfo():536<info> no PSM2 device "
        "is active.",
        "a fabric provider initialised but found no usable device",
        "OFI_PROVIDER_NO_DEVICE",
    ),
    rule(
        Fact.NO_HMEM,
        r"FI_HMEM capability requires RDMA, which this device does not support",
        "libfabric:462:1673041636:efa:core:rxr_info_to_rxr():506<warn> FI_HMEM capability "
        "requires RDMA, which this device does not support.",
        "the consumer asked for GPU memory support (FI_HMEM) and the device cannot do it",
        "OFI_HMEM_UNSUPPORTED",
    ),
)

#: Lines without the libfabric prefix: ``fi_info`` output and consumers naming their provider.
TEXT_RULES: tuple[LineRule[Fact], ...] = (
    rule(
        Fact.VERSION,
        r"^\s*(?:fi_info|libfabric): (?P<ver>\d+\.\d+(?:\.\d+)?\S*)\s*$",
        "libfabric: 1.17.0",
        "the library version (fi_info --version)",
    ),
    rule(
        Fact.NO_PROVIDER,
        r"No providers found|^\s*fi_getinfo(?:\(\))?: -?61\b",
        "fi_getinfo: -61",
        "fi_info (or a consumer) found no provider at all",
        "OFI_NO_PROVIDER",
    ),
    rule(
        Fact.CONSUMER,
        r"(?:mtl:ofi:provider:|libfabric provider:|Selected [Pp]rovider is)\s*"
        r"(?P<name>[^\s,(]+)",
        "[0] MPI startup(): libfabric provider: verbs;ofi_rxm",
        "a consumer (Open MPI, MPICH, Intel MPI, aws-ofi-nccl) names the provider it uses",
    ),
    rule(
        Fact.AVAILABLE,
        r"^\s*(?:provider|prov_name): (?P<name>[^\s,]+)\s*$",
        "provider: verbs;ofi_rxm",
        "fi_info lists a usable provider (prov_name: in fi_info -v)",
    ),
    rule(
        Fact.UNPROBED,
        r"^\s+type: FI_EP_UNSPEC\s*$",
        "    type: FI_EP_UNSPEC",
        "the provider fi_info listed last has no concrete endpoint type: a template entry "
        "returned without probing a device",
        "OFI_PROVIDER_UNPROBED",
    ),
    rule(
        Fact.UNAVAILABLE,
        r"(?i)\b(?:couldn'?t|could not|can'?t|cannot|unable to|failed to) (?:get|find|use|open|"
        r"select) (?:the )?(?P<name>efa|verbs|cxi|psm[23]|opx|mlx|gni|usnic) (?:as )?provider\b",
        "[22:31:52] src/./fabric_rma_van.h:659: Check failed: strcmp(ofi_provider_->fabric_attr"
        '->prov_name, "efa") == 0 couldn\'t get EFA as provider',
        "a consumer asked for a named provider and libfabric did not return it",
        "OFI_PROVIDER_UNAVAILABLE",
    ),
    rule(
        Fact.UNAVAILABLE,
        r"(?i)\b(?:provider|prov_name) \W?(?P<name>efa|verbs|cxi|psm[23]|opx|mlx)\W? "
        r"(?:is )?not available\b",
        "ERROR: provider 'efa' not available on this node",
        "a consumer asked for a named provider and libfabric did not return it",
        "OFI_PROVIDER_UNAVAILABLE",
    ),
    rule(
        Fact.DOMAIN,
        r"^\s+domain: (?P<name>\S+)\s*$",
        "    domain: mlx5_0",
        "the domain of the provider fi_info listed last",
    ),
)

_Handler = Callable[[re.Match[str], Evidence, "re.Match[str] | None"], None]


class Analyser(LineAnalyser):
    """Reads libfabric log lines and ``fi_info`` output with :data:`LOG_RULES` and
    :data:`TEXT_RULES`."""

    library: ClassVar[str] = LIBRARY
    anchors: ClassVar[tuple[bytes, ...]] = (
        b"libfabric:",
        b"fi_info: ",
        b"fi_getinfo",
        b"provider: ",
        b"prov_name: ",
        b"    domain: ",
        b"No providers found",
        b"Selected Provider is",
        b"Selected provider is",
        b"    type: FI_EP_UNSPEC",
        b"as provider",
        b"not available",
    )

    def __init__(self) -> None:
        self._obs = ObservationBook()
        self._reader_errors = ReaderErrors()
        self._versions: dict[str, list[str]] = {}
        self._version_evidence: list[Evidence] = []
        # provider -> evidence of its failures; top-level failures only (no layer field).
        self._failed: dict[str, list[Evidence]] = {}
        self._registered: set[str] = set()
        # Providers that printed anything (the prefix's provider field).
        self._speakers: set[str] = set()
        self._available: set[str] = set()
        self._no_provider: list[Evidence] = []
        self._no_device: list[Evidence] = []
        self._no_hmem: list[Evidence] = []
        self._opened = False
        self._consumer_selected = False
        self._fi_info_provider: str | None = None
        self._first_listed: str | None = None
        # provider -> evidence of fi_info entries without a concrete endpoint type.
        self._unprobed: dict[str, list[Evidence]] = {}
        self._unavailable: list[Evidence] = []
        self._wanted: set[str] = set()
        # libfabric version inferred from built-in providers' registration ("117.0" is 1.17).
        self._provider_version: str | None = None
        self._provider_version_ranks: list[str] = []
        self._handlers: dict[Fact, _Handler] = {
            Fact.REGISTERED: self._registered_line,
            Fact.FAILED: self._failed_line,
            Fact.OPENED: self._opened_line,
            Fact.SKIPPED: self._skipped_line,
            Fact.NO_PROVIDER: self._no_provider_line,
            Fact.NO_DEVICE: self._no_device_line,
            Fact.NO_HMEM: self._no_hmem_line,
            Fact.VERSION: self._version_line,
            Fact.CONSUMER: self._consumer_line,
            Fact.AVAILABLE: self._available_line,
            Fact.DOMAIN: self._domain_line,
            Fact.UNPROBED: self._unprobed_line,
            Fact.UNAVAILABLE: self._unavailable_line,
        }

    # -- feeding ----------------------------------------------------------------------------

    def feed(self, text: str, evidence: Evidence) -> None:
        """Consume one cleaned line; lines that match no known shape are ignored."""
        try:
            self._feed(text, evidence)
        except Exception as error:  # an odd line must never stop the analysis
            self._reader_errors.record(error, evidence)

    def _feed(self, text: str, evidence: Evidence) -> None:
        self.apply(text[:MAX_LINE], evidence)

    def apply(self, text: str, evidence: Evidence) -> LineRule[Fact] | None:
        """Run the rules on one line; the rule that matched, if any."""
        prefix = _PREFIX.search(text) if "libfabric:" in text else None
        if prefix is not None and prefix["prov"] and room_for(self._speakers, prefix["prov"]):
            self._speakers.add(prefix["prov"])
        rules, message = (LOG_RULES, prefix["msg"]) if prefix is not None else (TEXT_RULES, text)
        found = first_match(rules, message)
        if found is None:
            return None
        rule, match = found
        handler = self._handlers.get(rule.kind)
        if handler is not None:
            handler(match, evidence, prefix)
        else:
            value = next((v for v in match.groupdict().values() if v), None)
            self._obs.add(rule.kind.value, value, evidence)
        return rule

    def _registered_line(
        self, match: re.Match[str], evidence: Evidence, prefix: re.Match[str] | None
    ) -> None:
        name = match["name"]
        if room_for(self._registered, name):
            self._registered.add(name)
        self._obs.add(Fact.REGISTERED.value, name, evidence)
        if match["ver"]:
            pid = (prefix["pid"] if prefix is not None else None) or "unknown"
            self._obs.add("provider_version", f"{name} {match['ver']}", evidence)
            self._version_from_provider(name, match["ver"], pid, evidence)

    def _failed_line(
        self, match: re.Match[str], evidence: Evidence, prefix: re.Match[str] | None
    ) -> None:
        name = match["name"]
        text = f" ({match['text']})" if match["text"] else ""
        self._obs.add(Fact.FAILED.value, f"{name} {match['code']}{text}", evidence)
        layered = prefix is not None and bool(prefix["layer"])
        if not layered and room_for(self._failed, name):
            add_evidence(self._failed.setdefault(name, []), evidence)

    def _opened_line(
        self, match: re.Match[str], evidence: Evidence, prefix: re.Match[str] | None
    ) -> None:
        self._opened = True
        self._obs.add(Fact.OPENED.value, match["name"], evidence)

    def _skipped_line(
        self, match: re.Match[str], evidence: Evidence, prefix: re.Match[str] | None
    ) -> None:
        self._obs.add(Fact.SKIPPED.value, match["skipped"], evidence)
        self._obs.add("provider_preferred", match["used"], evidence)

    def _no_provider_line(
        self, match: re.Match[str], evidence: Evidence, prefix: re.Match[str] | None
    ) -> None:
        add_evidence(self._no_provider, evidence)
        self._obs.add(Fact.NO_PROVIDER.value, None, evidence)

    def _no_device_line(
        self, match: re.Match[str], evidence: Evidence, prefix: re.Match[str] | None
    ) -> None:
        provider = (prefix["prov"] if prefix is not None else "") or None
        add_evidence(self._no_device, evidence)
        self._obs.add(Fact.NO_DEVICE.value, provider, evidence)

    def _no_hmem_line(
        self, match: re.Match[str], evidence: Evidence, prefix: re.Match[str] | None
    ) -> None:
        add_evidence(self._no_hmem, evidence)
        self._obs.add(Fact.NO_HMEM.value, (prefix["prov"] if prefix else "") or None, evidence)

    def _version_line(
        self, match: re.Match[str], evidence: Evidence, prefix: re.Match[str] | None
    ) -> None:
        record_version(self._versions, match["ver"], "fi_info")
        add_evidence(self._version_evidence, evidence)

    def _consumer_line(
        self, match: re.Match[str], evidence: Evidence, prefix: re.Match[str] | None
    ) -> None:
        self._consumer_selected = True
        self._obs.add(Fact.CONSUMER.value, match["name"], evidence)
        if is_fast_provider(match["name"]):
            self._obs.add("rdma_available", match["name"], evidence)

    def _available_line(
        self, match: re.Match[str], evidence: Evidence, prefix: re.Match[str] | None
    ) -> None:
        name = match["name"]
        self._fi_info_provider = name
        if self._first_listed is None:
            self._first_listed = name
        if room_for(self._available, name):
            self._available.add(name)
        self._obs.add(Fact.AVAILABLE.value, name, evidence)
        if is_fast_provider(name):
            self._obs.add("rdma_available", name, evidence)

    def _domain_line(
        self, match: re.Match[str], evidence: Evidence, prefix: re.Match[str] | None
    ) -> None:
        if self._fi_info_provider is not None:
            self._obs.add(
                Fact.AVAILABLE.value, f"{self._fi_info_provider}/{match['name']}", evidence
            )

    def _unprobed_line(
        self, match: re.Match[str], evidence: Evidence, prefix: re.Match[str] | None
    ) -> None:
        name = self._fi_info_provider
        if name is not None and room_for(self._unprobed, name):
            add_evidence(self._unprobed.setdefault(name, []), evidence)
            self._obs.add(Fact.UNPROBED.value, name, evidence)

    def _unavailable_line(
        self, match: re.Match[str], evidence: Evidence, prefix: re.Match[str] | None
    ) -> None:
        name = match["name"].lower()
        if room_for(self._wanted, name):
            self._wanted.add(name)
        add_evidence(self._unavailable, evidence)
        self._obs.add(Fact.UNAVAILABLE.value, name, evidence)

    def _version_from_provider(self, name: str, ver: str, pid: str, evidence: Evidence) -> None:
        # Built-in providers report the library's own version as MAJOR*100+MINOR ("117.0" is
        # 1.17); external ones (cxi, efa from vendors) use their own numbering, so only the
        # built-in socket/shm providers are trusted for this.
        if core_provider(name) not in {"tcp", "udp", "sockets", "shm", "ofi_rxm"}:
            return
        number = ver.split(".", 1)[0]
        if not number.isdigit() or len(number) < 3:
            return
        value = int(number)
        major, minor = divmod(value, 100)
        if major < 1 or major > 9:
            return
        self._provider_version = f"{major}.{minor}"
        if pid not in self._provider_version_ranks and (
            len(self._provider_version_ranks) < MAX_RANKS_PER_VERSION
        ):
            self._provider_version_ranks.append(pid)
            add_evidence(self._version_evidence, evidence)

    # -- conclusions ------------------------------------------------------------------------

    def facts(self) -> LibraryFacts:
        """Versions, observations and libfabric's own findings."""
        versions = {k: list(v) for k, v in self._versions.items()}
        if self._provider_version is not None and not versions:
            # Only when the log printed no explicit version (fi_info --version).
            versions[self._provider_version] = list(self._provider_version_ranks)
        selected: dict[str, object] = {"gdr": False} if self._no_hmem else {}
        return LibraryFacts(
            library=LIBRARY,
            versions=versions,
            version_evidence=list(self._version_evidence),
            selected=selected,
            observations=self._obs.all(),
            findings=self._findings(),
        )

    def _findings(self) -> list[Finding]:
        findings: list[Finding] = []
        reader_error = self._reader_errors.finding("OFI_READER_ERROR", LIBRARY)
        if reader_error is not None:
            findings.append(reader_error)
        filtered = self._obs.values("provider_filtered")
        if filtered:
            findings.append(
                Finding(
                    code="OFI_PROVIDER_FILTERED",
                    severity="info",
                    library=LIBRARY,
                    message="providers skipped by the FI_PROVIDER include/exclude list: "
                    + ", ".join(sorted(filtered)),
                    evidence=self._obs.evidence("provider_filtered"),
                )
            )
        no_provider = self._no_provider_evidence()
        if no_provider is not None:
            findings.append(no_provider)
        only_tcp = self._only_tcp()
        if only_tcp is not None:
            findings.append(only_tcp)
        if self._no_device and no_provider is None:
            no_device = self._no_device_finding()
            if no_device is not None:
                findings.append(no_device)
        findings.extend(self._provider_findings())
        if self._no_hmem:
            findings.append(
                Finding(
                    code="OFI_HMEM_UNSUPPORTED",
                    severity="error",
                    library=LIBRARY,
                    message="GPU memory (FI_HMEM) was requested but the device cannot do RDMA "
                    "with it: no GPUDirect RDMA",
                    evidence=list(self._no_hmem),
                )
            )
        return findings

    def _provider_findings(self) -> list[Finding]:
        """Providers listed as templates, and providers a consumer wanted and did not get."""
        findings: list[Finding] = []
        if self._unprobed:
            names = sorted(self._unprobed)
            first = self._first_listed in self._unprobed
            evidence = evidence_by_name(self._unprobed)
            findings.append(
                Finding(
                    code="OFI_PROVIDER_UNPROBED",
                    severity="error" if first else "warning",
                    library=LIBRARY,
                    message=f"fi_info lists {', '.join(names)} with endpoint type FI_EP_UNSPEC: "
                    "a template entry, no device was probed"
                    + (
                        f"; {self._first_listed} is listed first, so consumers that take the "
                        "first provider pick one that cannot work"
                        if first
                        else ""
                    ),
                    evidence=evidence,
                )
            )
        if self._unavailable:
            findings.append(
                Finding(
                    code="OFI_PROVIDER_UNAVAILABLE",
                    severity="error",
                    library=LIBRARY,
                    message="the application required provider "
                    + ", ".join(sorted(self._wanted))
                    + " and libfabric did not return it",
                    evidence=list(self._unavailable),
                )
            )
        return findings

    def _no_device_finding(self) -> Finding | None:
        # Providers probe for their hardware and give up routinely (verbs prints "no RDMA
        # devices found" on every machine without an HCA); it only matters when that provider
        # was the only candidate and nothing else worked.
        worked = self._opened or bool(self._available) or self._consumer_selected
        providers = set(self._obs.values(Fact.NO_DEVICE.value))
        filtered = set(self._obs.values(Fact.FILTERED.value))
        others = {
            p
            for p in self._registered | self._speakers
            if p not in filtered
            and p not in providers
            and p != "core"
            and not is_plumbing_provider(p)
        }
        if worked or others:
            return None
        return Finding(
            code="OFI_PROVIDER_NO_DEVICE",
            severity="error",
            library=LIBRARY,
            message=f"{', '.join(sorted(providers)) or 'the provider'} found no usable device "
            "and no other provider worked",
            evidence=list(self._no_device),
        )

    def _no_provider_evidence(self) -> Finding | None:
        if self._no_provider:
            return Finding(
                code="OFI_NO_PROVIDER",
                severity="error",
                library=LIBRARY,
                message="libfabric found no usable provider",
                evidence=list(self._no_provider),
            )
        # Without an explicit message, only an info-level log can show that nothing worked:
        # every registered transport provider (not filtered out, not a hook or utility layer)
        # failed, and no fabric was ever opened, listed or named by a consumer. At warn level
        # the failures of utility providers are routine, so nothing is concluded there.
        worked = self._opened or bool(self._available) or self._consumer_selected
        filtered = set(self._obs.values("provider_filtered"))
        candidates = {
            p for p in self._registered if p not in filtered and not is_plumbing_provider(p)
        }
        if candidates and not worked and candidates <= set(self._failed):
            evidence = evidence_by_name(self._failed)
            return Finding(
                code="OFI_NO_PROVIDER",
                severity="error",
                library=LIBRARY,
                message="every provider libfabric tried failed ("
                + ", ".join(sorted(self._failed))
                + ") and no fabric was opened",
                evidence=evidence,
            )
        return None

    def _only_tcp(self) -> Finding | None:
        named = set(self._available) | set(self._obs.values("consumer_selected"))
        usable = {p for p in named if not is_plumbing_provider(p)}
        if not usable or not all(is_socket_provider(p) for p in usable):
            return None
        fast_failed = sorted(
            p
            for p in self._failed
            if is_fast_provider(p)
            and any(core_provider(r) == core_provider(p) for r in self._registered)
        )
        if not fast_failed:
            return None
        evidence: list[Evidence] = []
        for name in fast_failed:
            for ev in self._failed[name]:
                add_evidence(evidence, ev)
        for ev in self._obs.evidence("provider_available"):
            add_evidence(evidence, ev)
        return Finding(
            code="OFI_ONLY_TCP",
            severity="warning",
            library=LIBRARY,
            message="only socket providers are usable ("
            + ", ".join(sorted(usable))
            + "); RDMA providers registered but failed: "
            + ", ".join(fast_failed),
            evidence=evidence,
        )
