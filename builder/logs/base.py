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
from typing import ClassVar

from pydantic import BaseModel, Field

from builder.model.analysis import Evidence, Finding, PathUse, Severity

#: Evidence lines kept per fact; more would only repeat the same rank's story.
MAX_EVIDENCE = 8


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
