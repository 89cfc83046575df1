"""The contract every per-library analyser fulfils.

An analyser is fed only the lines that contain one of its ``anchors`` (plain byte strings, so
that the scanner can find candidate lines fast and ``grep -F`` can be compared with it). Each line
arrives cleaned: colour codes, ``\\r``, ``mpirun --tag-output`` prefixes (``[1,0]<stdout>:``) and
``srun --label`` prefixes (``0: ``) removed, invalid UTF-8 replaced. The analyser keeps what it
learns in a :class:`LibraryFacts` and returns it from :meth:`LineAnalyser.facts`.

Rules for analysers:

* never raise on odd input: a line that does not parse is ignored;
* keep the evidence (file, line, text) for everything reported;
* keep memory bounded: counters and a capped number of evidence lines, not every line seen
  (use :func:`add_evidence`, which caps the list at :data:`MAX_EVIDENCE`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import BaseModel, Field

from builder.model.analysis import Evidence, Finding, PathUse, Severity

#: Evidence lines kept per fact; more would only repeat the same rank's story.
MAX_EVIDENCE = 8
#: Distinct observations kept per analyser; a garbage log must not grow memory without bound.
MAX_OBSERVATIONS = 512
#: Characters of a line that are looked at; longer lines are garbage or pasted binary data.
MAX_LINE = 8192
#: Distinct keys (providers, versions, paths, variables) kept per table; see :func:`room_for`.
MAX_KEYS = 1024
#: Ranks remembered per version.
MAX_RANKS_PER_VERSION = 4096


class Observation(BaseModel):
    """A named fact a later stage reasons about (for example ``cma_blocked`` or ``pml_selected``).

    ``kind`` is a short snake_case word documented in the analyser module; ``value`` carries the
    detail (a component, a provider, an error code). ``rank`` is the host:pid when known.
    """

    kind: str
    value: str | None = None
    rank: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)


class LibraryFacts(BaseModel):
    """Everything one library's analyser learnt from the inputs."""

    library: str
    #: Versions seen, mapped to the ranks (host:pid) that printed them.
    versions: dict[str, list[str]] = Field(default_factory=dict)
    #: Load paths seen (``loaded from ...``), mapped to ranks.
    loaded_from: dict[str, list[str]] = Field(default_factory=dict)
    version_evidence: list[Evidence] = Field(default_factory=list)
    paths: list[PathUse] = Field(default_factory=list)
    path_evidence: list[Evidence] = Field(default_factory=list)
    #: Contributions to ``Analysis.selected`` (keys: pml, btl, mtl, nccl_net, ofi_provider, gdr).
    selected: dict[str, object] = Field(default_factory=dict)
    observations: list[Observation] = Field(default_factory=list)
    #: Findings the library can decide on its own (errors it printed, switches it reported).
    findings: list[Finding] = Field(default_factory=list)

    def has_transport_evidence(self) -> bool:
        """True when the facts say anything about which path traffic took."""
        return bool(self.paths or self.selected)


def add_evidence(target: list[Evidence], evidence: Evidence) -> None:
    """Append ``evidence`` unless the list already holds :data:`MAX_EVIDENCE` lines."""
    if len(target) < MAX_EVIDENCE:
        target.append(evidence)


@dataclass
class FindingTally:
    """One finding code's running count, details and first evidence lines."""

    count: int = 0
    details: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    def times(self) -> str:
        """``once`` or ``N times``, for messages."""
        return "once" if self.count == 1 else f"{self.count} times"

    def detail(self) -> str:
        """``: a; b`` listing the details, or nothing."""
        return f": {'; '.join(self.details)}" if self.details else ""


class ObservationBook:
    """Observations deduplicated by (kind, value, rank), each with capped evidence.

    At most ``limit`` distinct observations are kept, so that a log full of odd variants cannot
    grow memory without bound.
    """

    def __init__(self, limit: int = MAX_OBSERVATIONS) -> None:
        self._items: dict[tuple[str, str | None, str | None], Observation] = {}
        self._limit = limit

    def add(
        self, kind: str, value: str | None, evidence: Evidence, rank: str | None = None
    ) -> None:
        """Record one sighting of ``kind``/``value``."""
        key = (kind, value, rank)
        found = self._items.get(key)
        if found is None:
            if len(self._items) >= self._limit:
                return
            found = Observation(kind=kind, value=value, rank=rank)
            self._items[key] = found
        add_evidence(found.evidence, evidence)

    def values(self, kind: str) -> list[str]:
        """Distinct values seen for ``kind``, in first-seen order."""
        seen: dict[str, None] = {}
        for (k, value, _rank), _obs in self._items.items():
            if k == kind and value is not None:
                seen.setdefault(value, None)
        return list(seen)

    def evidence(self, kind: str, value: str | None = None) -> list[Evidence]:
        """Capped evidence of every observation of ``kind`` (optionally one ``value``)."""
        out: list[Evidence] = []
        for (k, v, _rank), obs in self._items.items():
            if k == kind and (value is None or v == value):
                for ev in obs.evidence:
                    add_evidence(out, ev)
        return out

    def all(self) -> list[Observation]:
        """Every observation, in first-seen order."""
        return [obs.model_copy(deep=True) for obs in self._items.values()]


def room_for(table: Collection[object], key: object, limit: int = MAX_KEYS) -> bool:
    """True when ``key`` is in ``table`` or the table may still grow (memory stays bounded)."""
    return key in table or len(table) < limit


def record_version(
    versions: dict[str, list[str]], version: str, rank: str, limit: int = MAX_RANKS_PER_VERSION
) -> None:
    """Add ``rank`` to the ranks that printed ``version`` (bounded, no duplicates)."""
    if not room_for(versions, version, 64):
        return
    ranks = versions.setdefault(version, [])
    if rank not in ranks and len(ranks) < limit:
        ranks.append(rank)


class CodeInfo(BaseModel):
    """A finding code's documentation entry (each analyser module exposes ``CODES``)."""

    code: str
    severity: Severity
    library: str | None
    summary: str


class LineAnalyser(ABC):
    """One library's line analyser. Subclasses set ``library`` and ``anchors``."""

    library: ClassVar[str]
    #: Literal byte strings; a line containing any of them is fed to :meth:`feed`.
    anchors: ClassVar[tuple[bytes, ...]]

    @abstractmethod
    def feed(self, text: str, evidence: Evidence) -> None:
        """Consume one cleaned candidate line. ``evidence`` is that line's file/line/text."""

    @abstractmethod
    def facts(self) -> LibraryFacts:
        """What was learnt; called once after the last line."""
