"""Statistics over repetitions (pure functions).

The spread of a metric is its full range (``min`` .. ``max``) over the repetitions: campaigns
have 3 to 10 of them, too few for quartiles to mean anything, and the range is what a person
checks by eye. A container/bare-metal difference counts as noise when each mode's median lies
inside the other mode's range: then the repetitions of the two modes cannot be told apart.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from builder.model.verdict import Bounds, Estimator, MetricStatus, Spread


def summarize(values: Sequence[float]) -> Spread:
    """Median and range of ``values`` (an empty sequence gives an empty :class:`Spread`)."""
    if not values:
        return Spread(n=0)
    return Spread(
        n=len(values),
        values=list(values),
        median=statistics.median(values),
        min=min(values),
        max=max(values),
    )


def estimate(
    spread: Spread, estimator: Estimator = "median", better: Literal["lower", "higher"] = "lower"
) -> float | None:
    """The one number of a mode: the median, or the best repetition (``min`` or ``max``)."""
    if estimator == "median":
        return spread.median
    return spread.min if better == "lower" else spread.max


def ratio(
    container: Spread,
    bare: Spread,
    estimator: Estimator = "median",
    better: Literal["lower", "higher"] = "lower",
) -> float | None:
    """Container estimate over bare-metal estimate; ``None`` when either is missing or bare is 0."""
    top, bottom = estimate(container, estimator, better), estimate(bare, estimator, better)
    if top is None or bottom is None or bottom == 0:
        return None
    return top / bottom


def within_spread(bare: Spread, container: Spread) -> bool:
    """True when each mode's median lies inside the other mode's min..max range."""
    if None in (bare.median, bare.min, bare.max, container.median, container.min, container.max):
        return False
    assert bare.median is not None and container.median is not None  # narrowed for mypy
    assert bare.min is not None and bare.max is not None
    assert container.min is not None and container.max is not None
    return (
        bare.min <= container.median <= bare.max and container.min <= bare.median <= container.max
    )


def in_bounds(value: float, bounds: Bounds) -> bool:
    """Whether a ratio satisfies the reference and its (possibly open) bounds."""
    low, high = bounds.ratio_range()
    return (low is None or value >= low) and (high is None or value <= high)


class Judgement(BaseModel):
    """The outcome of comparing one metric's repetitions."""

    status: MetricStatus
    ratio: float | None
    within_spread: bool
    note: str


def judge(
    bare: Spread,
    container: Spread,
    bounds: Bounds,
    *,
    min_reps: int,
    better: Literal["lower", "higher"],
    estimator: Estimator = "median",
) -> Judgement:
    """Compare container against bare metal for one metric.

    ``missing`` when a mode has no value at all, ``insufficient`` when a mode has fewer than
    ``min_reps`` values ("too few repetitions to judge"), ``pass`` when the ratio is inside the
    bounds or the difference is inside both modes' run-to-run spread, ``fail`` otherwise.
    """
    value = ratio(container, bare, estimator, better)
    if bare.n == 0 or container.n == 0:
        absent = " and ".join(
            m for m, s in (("bare metal", bare), ("container", container)) if s.n == 0
        )
        return Judgement(
            status="missing", ratio=value, within_spread=False, note=f"no value from {absent}"
        )
    if value is None:
        return Judgement(
            status="missing", ratio=None, within_spread=False, note=f"bare-metal {estimator} is 0"
        )
    noise = within_spread(bare, container)
    if min(bare.n, container.n) < min_reps:
        return Judgement(
            status="insufficient",
            ratio=value,
            within_spread=noise,
            note=(
                f"too few repetitions to judge "
                f"({bare.n} bare, {container.n} container; need {min_reps})"
            ),
        )
    if in_bounds(value, bounds):
        return Judgement(status="pass", ratio=value, within_spread=noise, note="")
    worse = "slower" if better == "lower" else "lower"
    if noise:
        return Judgement(
            status="pass",
            ratio=value,
            within_spread=True,
            note=f"ratio {value:.3f} outside the bounds but inside both modes' run-to-run spread",
        )
    return Judgement(
        status="fail",
        ratio=value,
        within_spread=False,
        note=f"container {worse}: ratio {value:.3f}, allowed {describe_bounds(bounds)}",
    )


def describe_bounds(bounds: Bounds) -> str:
    """``[0.970, +inf]``-style text for the allowed ratio interval."""
    low, high = bounds.ratio_range()
    low_text = "-inf" if low is None else f"{low:.3f}"
    high_text = "+inf" if high is None else f"{high:.3f}"
    return f"[{low_text}, {high_text}]"
