"""``benchmarks/<suite>/thresholds.yaml``: ReFrame-style references per metric, with site overrides.

A file looks like this (bounds are fractions of the reference; the reference is the
container/bare-metal ratio, so ``1.0`` means "as fast as bare metal")::

    suite: osu
    min_reps: 3
    checks:
      osu_latency:                  # check name; also the benchmark name unless `benchmark` is set
        metric: latency_us          # a column (when at_size is set) or a summary key
        at_size: 8                  # a message size, "smallest", "largest", or absent for summaries
        reference: 1.0
        upper: 0.05                 # container at most 5% above bare metal
    sites:
      local:
        min_reps: 3
        checks:
          osu_latency: {upper: 0.30}

``metric`` may be a list: the first name a result carries is used (suites name the same figure
differently across versions). ``benchmark`` is a shell-style pattern (``*pingpong*``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

import builder
from builder.errors import EsdcError
from builder.model.verdict import Bounds, Estimator

SizeSelector = int | Literal["smallest", "largest"]
Better = Literal["lower", "higher"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Check(_Strict):
    """One performance threshold: which figure of which benchmark, and its allowed ratio."""

    benchmark: str | None = Field(default=None, description="Pattern; default: the check's name.")
    metric: str | list[str] = Field(description="Column or summary key (first present wins).")
    at_size: SizeSelector | None = Field(default=None, description="Row to read; None: summary.")
    better: Better | None = Field(
        default=None, description="Inferred from the open bound if unset."
    )
    reference: float = 1.0
    lower: float | None = None
    upper: float | None = None
    optional: bool = Field(default=False, description="Absent benchmark is not a reason to doubt.")

    @model_validator(mode="after")
    def _bounds_make_sense(self) -> Check:
        if self.lower is None and self.upper is None:
            raise ValueError("a check needs `lower`, `upper` or both")
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise ValueError("`lower` is above `upper`")
        if self.better is None and self.lower is not None and self.upper is not None:
            raise ValueError("set `better: lower|higher` when both bounds are given")
        return self

    @property
    def direction(self) -> Better:
        """Whether a smaller or a larger value is the better one."""
        if self.better is not None:
            return self.better
        return "lower" if self.upper is not None else "higher"

    @property
    def metric_names(self) -> list[str]:
        """The metric's names in order of preference."""
        return [self.metric] if isinstance(self.metric, str) else list(self.metric)

    def bounds(self) -> Bounds:
        """The check's reference and bounds as the verdict records them."""
        return Bounds(reference=self.reference, lower=self.lower, upper=self.upper)


class CheckOverride(_Strict):
    """A site's change to one check; unset fields keep the suite's value."""

    metric: str | list[str] | None = None
    at_size: SizeSelector | None = None
    reference: float | None = None
    lower: float | None = None
    upper: float | None = None
    optional: bool | None = None


TransportNeed = Literal["required", "optional"]


class SiteOverride(_Strict):
    """A site's changes: its own minimum of repetitions, transport need and per-check bounds."""

    min_reps: int | None = Field(default=None, ge=1)
    transport: TransportNeed | None = None
    estimator: Estimator | None = None
    checks: dict[str, CheckOverride] = Field(default_factory=dict)


class ThresholdFile(_Strict):
    """One suite's thresholds file."""

    suite: str
    min_reps: int = Field(default=3, ge=1)
    #: ``optional``: logs without any transport evidence in both modes are not a reason to doubt
    #: (a suite built without MPI); a difference found in the logs still counts.
    transport: TransportNeed = "required"
    #: ``median`` of the repetitions, or ``best`` (fastest) where other work shares the machine:
    #: interference only ever slows a run down, so the best repetition is the path's own speed.
    estimator: Estimator = "median"
    checks: dict[str, Check]
    sites: dict[str, SiteOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _overrides_name_checks(self) -> ThresholdFile:
        for site, override in self.sites.items():
            unknown = sorted(set(override.checks) - set(self.checks))
            if unknown:
                raise ValueError(f"sites.{site} overrides unknown check(s): {', '.join(unknown)}")
        return self


class SiteThresholds(BaseModel):
    """A suite's checks with one site's overrides applied."""

    suite: str
    min_reps: int
    transport: TransportNeed = "required"
    estimator: Estimator = "median"
    checks: dict[str, Check]


def resolve_for_site(thresholds: ThresholdFile, site: str) -> SiteThresholds:
    """Apply ``sites.<site>`` over the suite's checks (pure)."""
    override = thresholds.sites.get(site, SiteOverride())
    checks: dict[str, Check] = {}
    for name, check in thresholds.checks.items():
        change = override.checks.get(name)
        if change is None:
            checks[name] = check
            continue
        # fields_set keeps an explicit `lower: null` (open the bound) apart from "not mentioned".
        updates = {field: getattr(change, field) for field in change.model_fields_set}
        # The direction belongs to the metric, not to the site: keep the suite's.
        merged = check.model_dump() | updates | {"better": check.direction}
        try:
            checks[name] = Check.model_validate(merged)
        except ValidationError as exc:
            message = f"sites.{site}.checks.{name}: {exc.errors()[0]['msg']}"
            raise EsdcError(
                message, where=f"benchmarks/{thresholds.suite}/thresholds.yaml"
            ) from exc
    min_reps = override.min_reps if override.min_reps is not None else thresholds.min_reps
    return SiteThresholds(
        suite=thresholds.suite,
        min_reps=min_reps,
        transport=override.transport or thresholds.transport,
        estimator=override.estimator or thresholds.estimator,
        checks=checks,
    )


def parse_thresholds(text: str, source: Path) -> ThresholdFile:
    """Read a thresholds file's text; one clear :class:`EsdcError` naming the file when broken."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise EsdcError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", where=source, line=line
        ) from exc
    if not isinstance(data, dict):
        raise EsdcError("expected a mapping with `suite` and `checks`", where=source)
    try:
        return ThresholdFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "(top)"
        from builder.profiles import yaml_line

        line = yaml_line(source, tuple(first["loc"])) if source.is_file() else None
        raise EsdcError(
            f"invalid thresholds at {location}: {first['msg']}", where=source, line=line
        ) from exc


#: Names a folder of ``<suite>/thresholds.yaml`` files that replaces the source tree's.
THRESHOLDS_VARIABLE = "ESDC_THRESHOLDS_DIR"


def default_thresholds_dir() -> Path:
    """``$ESDC_THRESHOLDS_DIR`` when set (a site's own thresholds, kept outside the source
    tree), else ``benchmarks/`` of the source tree the package runs from."""
    chosen = os.environ.get(THRESHOLDS_VARIABLE)
    if chosen:
        return Path(chosen).expanduser()
    return Path(builder.__file__).resolve().parent.parent / "benchmarks"


def load_thresholds(suite: str, directory: Path | None = None) -> ThresholdFile | None:
    """Load ``<directory>/<suite>/thresholds.yaml``; ``None`` when the suite has no such file."""
    path = (directory or default_thresholds_dir()) / suite / "thresholds.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EsdcError(f"cannot read: {exc.strerror or exc}", where=path) from exc
    except UnicodeDecodeError as exc:
        raise EsdcError(f"not UTF-8 text: {exc}", where=path) from exc
    thresholds = parse_thresholds(text, path)
    if thresholds.suite != suite:
        raise EsdcError(f"file says suite {thresholds.suite!r}, folder says {suite!r}", where=path)
    return thresholds
