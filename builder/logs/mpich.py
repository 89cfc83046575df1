"""MPICH log analyser (debug summary, ``mpichversion``, ``MPI_Get_library_version``).

``MPIR_CVAR_DEBUG_SUMMARY=1`` turns the debug summary on.

What MPICH prints, by device:

* CH4/OFI with ``MPIR_CVAR_DEBUG_SUMMARY=1`` (rank 0 only): ``Required minimum FI_VERSION: <hex>,
  current version: <hex>``, one ``provider: <name>, score = <n>, pref = <n>, <address>`` line
  per candidate, then a ``==== Capability set configuration ====`` block opening with
  ``libfabric provider: <name> - <fabric>`` (older releases print the name alone) and
  ``MPIDI_OFI_ENABLE_<CAP>: <0|1>`` lines, ``==== Provider global thresholds ====``,
  ``==== Various sizes and limits ====`` and ``==== OFI dynamic settings ====`` (``num_nics``).
* CH4/UCX: ``==== UCX netmod Capability ====`` with ``MPIDI_UCX_*`` lines; UCX's own lines are
  the UCX analyser's business.
* every device: ``MPICH Version: 4.0.2``, ``MPICH Device: ch4:ofi`` (tab separated in
  ``MPI_Get_library_version``, padded in ``mpichversion``); Cray MPICH prints
  ``CRAY MPICH version 8.1.25.17 (ANL base 3.4a2)``.

The provider MPICH opened is ``selected.ofi_provider``; it is also reported as a path of layer
``ofi`` and scope ``inter-node`` (MPICH's netmod carries the inter-node traffic; CH4's shm
module, when built, carries the intra-node traffic and prints nothing here), with the fabric
name as the device.

Observation kinds: ``device`` (``ch4:ofi``), ``netmod`` (``ofi`` or ``ucx``, from the summary
blocks), ``fabric`` (the fabric name MPICH opened), ``provider_candidate`` (``<name> score=<n>
pref=<n>``), ``capability`` (``ENABLE_TAGGED=1``), ``libfabric_api`` (``1.14`` from the current
FI_VERSION), ``num_nics``, ``flavour`` (``cray``).
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
from builder.logs.rules import PathTemplate, Rule
from builder.model.analysis import Evidence, Finding, PathUse

LIBRARY = "mpich"

CODES: list[CodeInfo] = [
    CodeInfo(
        code="MPICH_OFI_INIT_FAILED",
        severity="error",
        library=LIBRARY,
        summary="The OFI netmod of MPICH (also inside Intel MPI and Cray MPICH) failed to "
        "initialise (getinfo/addrinfo/endpoint failed): typically no usable libfabric provider.",
    ),
]

#: Line shapes read by the rule engine (rules.py); MPICH's error stacks are shared by MPICH,
#: Cray MPICH and Intel MPI, so these rows serve all three.
RULES: tuple[Rule, ...] = (
    Rule(
        # "OFI addrinfo() failed", "OFI getinfo() failed", "OFI endpoint open failed (ofi_...".
        anchor="OFI ",
        pattern=r"OFI (?:get|addr)info\(\) failed|OFI call \w+ failed|OFI .{1,60}? failed \(ofi_",
        code="MPICH_OFI_INIT_FAILED",
        severity="error",
        summary=CODES[0].summary,
        message="the MPICH OFI netmod failed (no usable libfabric provider, endpoint or operation)",
        examples=(
            "MPIDI_OFI_mpi_init_hook(1546): OFI addrinfo() failed (ofi_init.c:1546:"
            "MPIDI_OFI_mpi_init_hook:No data available)",
            "create_vni_context(2253).....: OFI endpoint open failed (ofi_init.c:2253:"
            "create_vni_context:Input/output error)",
        ),
    ),
    Rule(
        anchor="Fatal error in ",
        pattern=r"Fatal error in (?P<call>\w+)",
        code="MPI_FATAL_ERROR",
        severity="error",
        summary="An MPICH-family library (MPICH, Cray MPICH, Intel MPI) aborted with a fatal "
        "error in an MPI call; its error stack follows. The run did not complete.",
        message="the MPI library aborted with a fatal error in {call}",
        examples=(
            "Abort(1614735) on node 0 (rank 0 in comm 0): Fatal error in PMPI_Init_thread: "
            "Unknown error class, error stack:",
            "Abort(808576911): Fatal error in internal_Finalize: Other MPI error, error stack:",
        ),
    ),
    Rule(
        anchor="BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES",
        pattern=r"BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES",
        code="MPI_BAD_TERMINATION",
        severity="error",
        summary="The Hydra launcher (MPICH, Intel MPI) reports that a rank died (signal or "
        "non-zero exit): the run did not complete.",
        message="the launcher reports a rank that terminated badly",
        examples=("=   BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES",),
    ),
    Rule(
        anchor="Assertion failed in file ",
        pattern=r"Assertion failed in file (?P<file>\S+)",
        code="MPI_FATAL_ERROR",
        severity="error",
        summary="An MPICH-family library aborted with a fatal error.",
        message="the MPI library failed an internal assertion in {file}",
        examples=(
            "Assertion failed in file ../../src/mpid/ch4/netmod/ofi/ofi_init.c at line 1203: 0",
        ),
    ),
    Rule(
        anchor="OFI poll failed",
        pattern=r"OFI poll failed \((?P<detail>[^)]*)\)",
        code="MPICH_OFI_POLL_FAILED",
        severity="error",
        summary="The OFI netmod got an error completion while polling (MPIDI_OFI_handle_cq_error): "
        "an operation on the network failed.",
        message="the OFI netmod reported a failed network completion ({detail})",
        examples=(
            "MPIDI_OFI_handle_cq_error(591)..: OFI poll failed (default nic=en8: Input/output "
            "error)",
        ),
    ),
    Rule(
        # The cxi provider's error strings are Cassini return codes (C_RC_*) in capitals:
        # PTLTE_NOT_FOUND, CANCELED, UNCOR, ... No other provider prints " - NAME)" there.
        anchor="OFI poll failed",
        pattern=r"OFI poll failed \([^()]*:[A-Za-z/ ]+ - (?P<rc>[A-Z][A-Z0-9_]{2,})\)",
        select=(("ofi_provider", "cxi"),),
        path=PathTemplate(layer="ofi", scope="unknown", transport="cxi"),
        examples=(
            "MPIDI_OFI_handle_cq_error(1075): OFI poll failed (ofi_events.c:1077:"
            "MPIDI_OFI_handle_cq_error:Input/output error - PTLTE_NOT_FOUND)",
        ),
    ),
)

_SECTION = re.compile(r"^=+ (?P<name>.+?) =+\s*$")
_PROVIDER = re.compile(
    r"^\s*libfabric provider:\s*(?P<prov>[^\s,]+)(?:\s+-\s+(?P<fabric>.+?))?\s*$"
)
_CANDIDATE = re.compile(
    r"^\s*provider: (?P<prov>[^\s,]+), score = (?P<score>-?\d+), pref = (?P<pref>-?\d+)"
)
_CAPABILITY = re.compile(r"^\s*MPIDI_OFI_(?P<cap>ENABLE_\w+): (?P<value>-?\d+)")
_FI_VERSION = re.compile(
    r"Required minimum FI_VERSION: \w+, current version: (?P<cur>[0-9a-fA-F]+)"
)
_VERSION = re.compile(
    r"(?:^\s*MPICH Version:\s*|\bMPICH [Vv]ersion\s+)(?P<ver>\d+\.\d+(?:\.\d+)?[\w.]*)"
)
_CRAY = re.compile(r"CRAY MPICH version (?P<ver>\d+\.\d+(?:\.\d+)*)")
_DEVICE = re.compile(r"^\s*MPICH Device:\s*(?P<dev>\S+)")
_NUM_NICS = re.compile(r"^\s*num_nics: (?P<n>\d+)")
# Intel MPI prints "[0] MPI startup(): libfabric provider: ..."; that line is the impi analyser's.
_IMPI_PREFIX = re.compile(r"^\s*\[-?\d+[^\]]*\]|MPI startup\(\)")


def path_class(transport: str, device: str | None, *, roce: bool = False) -> str | None:
    """The class of an MPICH lane: a libfabric provider, or a UCX lane of the UCX netmod."""
    from builder.logs import ucx

    if ucx.path_class(transport, device, roce=roce) != "unknown":
        return ucx.path_class(transport, device, roce=roce)
    return ofi_provider_class(transport, roce=roce)


class Analyser(LineAnalyser):
    """Reads MPICH's debug summary and version lines."""

    library: ClassVar[str] = LIBRARY
    anchors: ClassVar[tuple[bytes, ...]] = (
        b"MPICH",
        b"libfabric provider:",
        b"====",
        b"MPIDI_OFI_ENABLE_",
        b"FI_VERSION",
        b", score = ",
        b"num_nics: ",
        b"info() failed",
        b"OFI call ",
        b" failed (ofi_",
    )

    def __init__(self) -> None:
        self._obs = ObservationBook()
        self._versions: dict[str, list[str]] = {}
        self._version_evidence: list[Evidence] = []
        self._providers: Counter[str] = Counter()
        self._paths: dict[tuple[str, str | None], int] = {}
        self._path_evidence: list[Evidence] = []

    def feed(self, text: str, evidence: Evidence) -> None:
        """Consume one cleaned line; lines that match no known shape are ignored."""
        try:
            self._feed(text, evidence)
        except Exception:  # an odd line must never stop the analysis
            return

    def _feed(self, text: str, evidence: Evidence) -> None:
        text = text[:MAX_LINE]
        if "libfabric provider:" in text:
            if _IMPI_PREFIX.search(text) is None:
                provider = _PROVIDER.match(text)
                if provider is not None:
                    self._provider(provider["prov"], provider["fabric"], evidence)
            return
        if text.lstrip().startswith("="):
            section = _SECTION.match(text.strip())
            if section is not None:
                name = section["name"].lower()
                if "ucx netmod" in name:
                    self._obs.add("netmod", "ucx", evidence)
                elif "capability set" in name or "ofi dynamic" in name:
                    self._obs.add("netmod", "ofi", evidence)
            return
        if "MPIDI_OFI_ENABLE_" in text:
            cap = _CAPABILITY.match(text)
            if cap is not None:
                self._obs.add("capability", f"{cap['cap']}={cap['value']}", evidence)
            return
        if ", score = " in text:
            cand = _CANDIDATE.match(text)
            if cand is not None:
                value = f"{cand['prov']} score={cand['score']} pref={cand['pref']}"
                self._obs.add("provider_candidate", value, evidence)
            return
        if "FI_VERSION" in text:
            fi = _FI_VERSION.search(text)
            if fi is not None:
                number = int(fi["cur"], 16)
                self._obs.add("libfabric_api", f"{number >> 16}.{number & 0xFFFF}", evidence)
            return
        if "MPICH" in text:
            self._mpich_line(text, evidence)
            return
        if "num_nics" in text:
            nics = _NUM_NICS.match(text)
            if nics is not None:
                self._obs.add("num_nics", nics["n"], evidence)
            return

    def _mpich_line(self, text: str, evidence: Evidence) -> None:
        cray = _CRAY.search(text)
        if cray is not None:
            record_version(self._versions, cray["ver"], "unknown")
            add_evidence(self._version_evidence, evidence)
            self._obs.add("flavour", "cray", evidence)
            return
        version = _VERSION.search(text)
        if version is not None:
            record_version(self._versions, version["ver"], "unknown")
            add_evidence(self._version_evidence, evidence)
            return
        device = _DEVICE.match(text)
        if device is not None:
            self._obs.add("device", device["dev"], evidence)

    def _provider(self, provider: str, fabric: str | None, evidence: Evidence) -> None:
        key = (provider, fabric or None)
        if not room_for(self._paths, key):
            return
        self._providers[provider] += 1
        if fabric:
            self._obs.add("fabric", fabric, evidence)
        if key not in self._paths:
            add_evidence(self._path_evidence, evidence)
        self._paths[key] = self._paths.get(key, 0) + 1
        self._obs.add("netmod", "ofi", evidence)

    def facts(self) -> LibraryFacts:
        """Version, the OFI provider MPICH opened, observations and findings."""
        selected: dict[str, object] = {}
        if self._providers:
            selected["ofi_provider"] = self._providers.most_common(1)[0][0]
        paths = [
            PathUse(
                library=LIBRARY,
                layer="ofi",
                scope="inter-node",
                transport=provider,
                device=fabric,
                count=count,
            )
            for (provider, fabric), count in self._paths.items()
        ]
        findings: list[Finding] = []
        return LibraryFacts(
            library=LIBRARY,
            versions={k: list(v) for k, v in self._versions.items()},
            version_evidence=list(self._version_evidence),
            paths=paths,
            path_evidence=list(self._path_evidence),
            selected=selected,
            observations=self._obs.all(),
            findings=findings,
        )
