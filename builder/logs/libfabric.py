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
blocks) and the fabrics opened.

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
    the verbs provider found no RDMA device.
``no_provider``
    libfabric or ``fi_info`` reported that no provider matched.

The ``versions`` map uses the pid as the rank key: libfabric's prefix carries no host name.
"""

from __future__ import annotations

import re
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


# --- line shapes --------------------------------------------------------------------------------

# The three prefixes in one pattern: the time and the layer field are optional; the function
# name must be followed by "()" so that the optional fields cannot swallow the wrong columns.
_PREFIX = re.compile(
    r"libfabric:(?:(?P<pid>\d+):)?"
    r"(?:(?P<time>\d+):(?:(?P<layer>[^:\s]*):)?)?"
    r"(?P<prov>[^:\s]*):(?P<subsys>[^:\s]*):(?P<func>[^:\s()]*)\(\):(?P<line>\d+)"
    r"<(?P<level>[a-z]+)>\s?(?P<msg>.*)$"
)
_REGISTER = re.compile(r"registering provider: (?P<name>[^\s(]+)(?: \((?P<ver>[^)]*)\))?")
_FILTERED = re.compile(r"\"(?P<name>[^\"]+)\" filtered by provider include/exclude list")
_GETINFO_FAIL = re.compile(
    r"fi_getinfo: provider (?P<name>\S+) returned (?P<code>-?\d+)(?: \((?P<text>[^)]*)\))?"
)
_SKIPPED = re.compile(r"Since (?P<used>\S+) can be used, (?P<skipped>\S+) has been skipped")
_OPENED = re.compile(r"Opened fabric: (?P<name>.+?)\s*$")
_REQUESTING = re.compile(r"Requesting provider (?P<name>[^\s,]+), skipping (?P<skipped>\S+)")
# fi_info output: "provider: tcp;ofi_rxm" alone on its line (consumers add more after it).
_FI_INFO_PROVIDER = re.compile(r"^\s*provider: (?P<name>[^\s,]+)\s*$")
# fi_info -v prints YAML: "prov_name: verbs;ofi_rxm" inside fabric_attr.
_FI_INFO_PROV_NAME = re.compile(r"^\s*prov_name: (?P<name>[^\s,]+)\s*$")
_FI_INFO_DOMAIN = re.compile(r"^\s+domain: (?P<name>\S+)\s*$")
_VERSION = re.compile(r"^\s*(?:fi_info|libfabric): (?P<ver>\d+\.\d+(?:\.\d+)?\S*)\s*$")
# A consumer naming the provider it uses (Open MPI, MPICH/Intel MPI, aws-ofi-nccl): proof that
# some provider worked, although selecting it is the consumer analyser's business.
_CONSUMER = re.compile(
    r"(?:mtl:ofi:provider:|libfabric provider:|Selected [Pp]rovider is)\s*(?P<name>[^\s,(]+)"
)
_BARE_GETINFO = re.compile(r"^\s*fi_getinfo(?:\(\))?: -?61\b")


class Analyser(LineAnalyser):
    """Reads libfabric log lines and ``fi_info`` output."""

    library: ClassVar[str] = LIBRARY
    anchors: ClassVar[tuple[bytes, ...]] = (
        b"libfabric:",
        b"fi_info: ",
        b"fi_getinfo",
        b"provider: ",
        b"prov_name: ",
        b"    domain: ",
        b"No providers found",
    )

    def __init__(self) -> None:
        self._obs = ObservationBook()
        self._versions: dict[str, list[str]] = {}
        self._version_evidence: list[Evidence] = []
        # provider -> evidence of its failures; top-level failures only (no layer field).
        self._failed: dict[str, list[Evidence]] = {}
        self._registered: set[str] = set()
        self._available: set[str] = set()
        self._no_provider: list[Evidence] = []
        self._opened = False
        self._consumer_selected = False
        self._fi_info_provider: str | None = None
        # libfabric version inferred from built-in providers' registration ("117.0" is 1.17).
        self._provider_version: str | None = None
        self._provider_version_ranks: list[str] = []

    # -- feeding ----------------------------------------------------------------------------

    def feed(self, text: str, evidence: Evidence) -> None:
        """Consume one cleaned line; lines that match no known shape are ignored."""
        try:
            self._feed(text, evidence)
        except Exception:  # an odd line must never stop the analysis
            return

    def _feed(self, text: str, evidence: Evidence) -> None:
        text = text[:MAX_LINE]
        if "libfabric:" in text:
            match = _PREFIX.search(text)
            if match is not None:
                self._log_line(match, evidence)
                return
        version = _VERSION.match(text)
        if version is not None:
            record_version(self._versions, version["ver"], "fi_info")
            add_evidence(self._version_evidence, evidence)
            return
        if "No providers found" in text or _BARE_GETINFO.match(text):
            add_evidence(self._no_provider, evidence)
            self._obs.add("no_provider", None, evidence)
            return
        consumer = _CONSUMER.search(text)
        if consumer is not None:
            self._consumer_selected = True
            self._obs.add("consumer_selected", consumer["name"], evidence)
            if is_fast_provider(consumer["name"]):
                self._obs.add("rdma_available", consumer["name"], evidence)
            return
        provider = _FI_INFO_PROVIDER.match(text) or _FI_INFO_PROV_NAME.match(text)
        if provider is not None:
            name = provider["name"]
            self._fi_info_provider = name
            if room_for(self._available, name):
                self._available.add(name)
            self._obs.add("provider_available", name, evidence)
            if is_fast_provider(name):
                self._obs.add("rdma_available", name, evidence)
            return
        domain = _FI_INFO_DOMAIN.match(text)
        if domain is not None and self._fi_info_provider is not None:
            self._obs.add(
                "provider_available", f"{self._fi_info_provider}/{domain['name']}", evidence
            )

    def _log_line(self, match: re.Match[str], evidence: Evidence) -> None:
        msg = match["msg"]
        pid = match["pid"] or "unknown"
        if "registering provider" in msg:
            reg = _REGISTER.search(msg)
            if reg is not None:
                name = reg["name"]
                if room_for(self._registered, name):
                    self._registered.add(name)
                self._obs.add("provider_registered", name, evidence)
                if reg["ver"]:
                    self._obs.add("provider_version", f"{name} {reg['ver']}", evidence)
                    self._version_from_provider(name, reg["ver"], pid, evidence)
            return
        if "filtered by provider" in msg:
            filt = _FILTERED.search(msg)
            if filt is not None:
                self._obs.add("provider_filtered", filt["name"], evidence)
            return
        if "returned" in msg and "fi_getinfo" in msg:
            fail = _GETINFO_FAIL.search(msg)
            if fail is not None:
                name = fail["name"]
                text = f" ({fail['text']})" if fail["text"] else ""
                self._obs.add("provider_failed", f"{name} {fail['code']}{text}", evidence)
                if not match["layer"] and room_for(self._failed, name):
                    add_evidence(self._failed.setdefault(name, []), evidence)
            return
        if "Opened fabric" in msg:
            opened = _OPENED.search(msg)
            if opened is not None:
                self._opened = True
                self._obs.add("fabric_opened", opened["name"], evidence)
            return
        if "has been skipped" in msg:
            skipped = _SKIPPED.search(msg)
            if skipped is not None:
                self._obs.add("provider_skipped", skipped["skipped"], evidence)
                self._obs.add("provider_preferred", skipped["used"], evidence)
            return
        if "Requesting provider" in msg:
            req = _REQUESTING.search(msg)
            if req is not None:
                self._obs.add("provider_requested", req["name"], evidence)
            return
        if "No providers found" in msg:
            add_evidence(self._no_provider, evidence)
            self._obs.add("no_provider", None, evidence)
            return
        if "no RDMA devices found" in msg or "no RDMA-capable devices" in msg:
            self._obs.add("no_rdma_device", match["prov"] or None, evidence)

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
        return LibraryFacts(
            library=LIBRARY,
            versions=versions,
            version_evidence=list(self._version_evidence),
            observations=self._obs.all(),
            findings=self._findings(),
        )

    def _findings(self) -> list[Finding]:
        findings: list[Finding] = []
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
        return findings

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
            evidence: list[Evidence] = []
            for name in sorted(self._failed):
                for ev in self._failed[name]:
                    add_evidence(evidence, ev)
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
