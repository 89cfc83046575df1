"""The ``esdc.verdict/1`` contract: is the container as good as bare metal at this site?

``verdict.json`` in a run directory holds one :class:`Verdict`: the overall answer, the image and
its digest, the site, every judged metric (bare-metal and container median and spread, their
ratio, the bounds, a status) and the transport comparison (both modes' path classes and the
findings of the differential analysis, errors first).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from builder.model.analysis import Finding, LibraryInfo, PathClass, PathUse, Selected
from builder.model.evidence import SuiteEvidence
from builder.model.preflight import PreflightResult
from builder.model.run import Mode

VERDICT_SCHEMA = "esdc.verdict/1"

Overall = Literal["pass", "fail", "inconclusive"]
MetricStatus = Literal["pass", "fail", "insufficient", "missing"]
TransportStatus = Literal["pass", "fail", "inconclusive"]
#: How each mode's repetitions become the one number compared: ``median``, or ``best`` (the
#: fastest repetition: the minimum of a time, the maximum of a bandwidth).
Estimator = Literal["median", "best"]

#: Exit codes of ``esdc verify``: 0 pass, 1 fail, 2 could not judge.
EXIT_CODES: dict[str, int] = {"pass": 0, "fail": 1, "inconclusive": 2}


class Spread(BaseModel):
    """One mode's repetitions of one metric.

    ``median`` is the middle value; the spread is the full range ``min``..``max`` over the
    repetitions (with the 3 to 10 repetitions a campaign has, quartiles would be guesses).
    """

    n: int
    values: list[float] = Field(default_factory=list)
    median: float | None = None
    min: float | None = None
    max: float | None = None


class Bounds(BaseModel):
    """ReFrame-style reference: the container/bare ratio must lie in ``reference*(1+lower)``
    .. ``reference*(1+upper)``; ``None`` leaves that side open."""

    reference: float = 1.0
    lower: float | None = None
    upper: float | None = None

    def ratio_range(self) -> tuple[float | None, float | None]:
        """The allowed ratio interval as numbers (``None`` = unbounded)."""
        low = None if self.lower is None else self.reference * (1.0 + self.lower)
        high = None if self.upper is None else self.reference * (1.0 + self.upper)
        return low, high


class MetricVerdict(BaseModel):
    """One threshold applied to one benchmark: the numbers and what they mean."""

    suite: str
    check: str
    benchmark: str
    metric: str
    at_size: int | None = None
    better: Literal["lower", "higher"]
    bare: Spread
    container: Spread
    estimator: Estimator = "median"
    #: Container estimate over bare-metal estimate.
    ratio: float | None = None
    bounds: Bounds
    status: MetricStatus
    within_spread: bool = False
    note: str = ""


class ModePaths(BaseModel):
    """What one mode's debug logs say about its transport path."""

    inputs: list[str] = Field(default_factory=list)
    inter_node: PathClass | None = None
    intra_node: PathClass | None = None
    selected: Selected = Field(default_factory=Selected)
    libraries: dict[str, LibraryInfo | None] = Field(default_factory=dict)
    paths: list[PathUse] = Field(default_factory=list)
    degraded: bool | None = None


class SuiteTransport(BaseModel):
    """The differential transport check of one suite's logging runs."""

    suite: str
    status: TransportStatus
    bare: ModePaths | None = None
    container: ModePaths | None = None
    #: The container analysis' findings (differences added), severity error first.
    findings: list[Finding] = Field(default_factory=list)
    #: Codes of error findings that bare metal's own logs show too: a site or campaign setting
    #: rather than the image. They still fail the verdict, but are listed after the others.
    shared_with_bare: list[str] = Field(default_factory=list)
    #: Codes of findings of any severity that both modes' logs show: marked as such, since
    #: they describe the site or the campaign rather than the container.
    seen_in_both: list[str] = Field(default_factory=list)
    note: str = ""


class Problem(BaseModel):
    """Something that kept the verifier from judging: a missing or unparsable file, a failed job."""

    where: str
    message: str
    #: Set for a job that ran and failed (exit status, timeout, singleton ranks): which one.
    failed_job: tuple[Mode, str] | None = None


class Verdict(BaseModel):
    """The result of ``esdc verify``; serialised exactly as ``esdc.verdict/1``."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: str = Field(default=VERDICT_SCHEMA, alias="schema")
    run_id: str
    verdict: Overall
    #: One sentence for people: the first reason for the verdict.
    reason: str
    image: str
    image_digest: str | None = None
    site: str
    suites: list[str] = Field(default_factory=list)
    min_reps: int
    transport: list[SuiteTransport] = Field(default_factory=list)
    metrics: list[MetricVerdict] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
    #: Suites the campaign did not run at this site, with its reason (``skipped.json``).
    skipped: dict[str, str] = Field(default_factory=dict)
    #: The site's required suites (its profile's ``required_suites``) and, for each one that did
    #: not give a verdict, why: the banner names them.
    required: list[str] = Field(default_factory=list)
    required_missing: dict[str, str] = Field(default_factory=dict)
    #: Pre-flight checks run in the image before the campaign (reported first).
    preflight: list[PreflightResult] = Field(default_factory=list)
    #: Evidence beside the logs per suite (process maps, interface counters) and its findings.
    evidence: list[SuiteEvidence] = Field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 pass, 1 fail, 2 inconclusive (could not judge)."""
        return EXIT_CODES[self.verdict]

    def is_shared(self, suite: str, finding: Finding) -> bool:
        """Whether an error finding of ``suite`` also shows in bare metal's logs."""
        entry = next((t for t in self.transport if t.suite == suite), None)
        return entry is not None and finding.code in entry.shared_with_bare

    def error_findings(self) -> list[tuple[str, Finding]]:
        """Transport errors as (suite, finding): the container's own first, then shared ones."""
        errors = [
            (entry.suite, finding)
            for entry in self.transport
            for finding in entry.findings
            if finding.severity == "error"
        ]
        return sorted(errors, key=lambda pair: self.is_shared(*pair))

    def to_json_dict(self) -> dict[str, object]:
        """The contract's JSON object (``schema`` first)."""
        data = self.model_dump(by_alias=True, mode="json")
        return {"schema": data.pop("schema"), **data}
