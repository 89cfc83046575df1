"""Statistics over repetitions: median, range, ratio, and what counts as noise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from builder.model.verdict import Bounds
from builder.verify.stats import describe_bounds, in_bounds, judge, ratio, summarize, within_spread

UPPER_5 = Bounds(reference=1.0, upper=0.05)
LOWER_3 = Bounds(reference=1.0, lower=-0.03)


def test_summarize_gives_median_and_full_range() -> None:
    spread = summarize([3.0, 1.0, 2.0, 10.0])
    assert (spread.n, spread.median, spread.min, spread.max) == (4, 2.5, 1.0, 10.0)
    assert summarize([]).median is None


def test_ratio_is_container_over_bare() -> None:
    assert ratio(summarize([2.0]), summarize([1.0])) == 2.0
    assert ratio(summarize([2.0]), summarize([0.0])) is None


def test_within_spread_needs_each_median_inside_the_other_range() -> None:
    bare = summarize([1.0, 1.1, 1.3])
    assert within_spread(bare, summarize([1.05, 1.2, 1.25]))
    assert not within_spread(bare, summarize([1.25, 1.4, 1.5]))


@pytest.mark.parametrize(
    ("bare", "container", "bounds", "better", "status"),
    [
        ([1.0, 1.0, 1.0], [1.02, 1.03, 1.01], UPPER_5, "lower", "pass"),
        ([1.0, 1.0, 1.0], [1.2, 1.2, 1.2], UPPER_5, "lower", "fail"),
        ([0.5, 0.5, 0.52], [9.0, 9.1, 9.2], UPPER_5, "lower", "fail"),
        ([100.0, 100.0, 100.0], [90.0, 90.0, 90.0], LOWER_3, "higher", "fail"),
        ([100.0, 100.0, 100.0], [150.0, 150.0, 150.0], LOWER_3, "higher", "pass"),
        # 20% slower, but bare metal itself wanders over the same range: noise, not a regression
        ([1.0, 1.3, 1.2], [1.1, 1.25, 1.4], UPPER_5, "lower", "pass"),
        ([1.0, 1.0], [1.0, 1.0], UPPER_5, "lower", "insufficient"),
        ([], [1.0, 1.0, 1.0], UPPER_5, "lower", "missing"),
    ],
)
def test_judge(
    bare: list[float], container: list[float], bounds: Bounds, better: str, status: str
) -> None:
    outcome = judge(summarize(bare), summarize(container), bounds, min_reps=3, better=better)  # type: ignore[arg-type]
    assert outcome.status == status
    if status == "insufficient":
        assert "too few repetitions to judge" in outcome.note
    if status == "pass" and outcome.note:
        assert outcome.within_spread


def test_min_reps_is_configurable() -> None:
    outcome = judge(summarize([1.0]), summarize([1.0]), UPPER_5, min_reps=1, better="lower")
    assert outcome.status == "pass"


def test_bounds_text() -> None:
    assert describe_bounds(UPPER_5) == "[-inf, 1.050]"
    assert describe_bounds(LOWER_3) == "[0.970, +inf]"


@given(st.lists(st.floats(min_value=1e-9, max_value=1e9), min_size=3, max_size=10))
def test_identical_repetitions_always_pass(values: list[float]) -> None:
    spread = summarize(values)
    assert spread.min is not None and spread.max is not None and spread.median is not None
    assert spread.min <= spread.median <= spread.max
    outcome = judge(spread, summarize(values), UPPER_5, min_reps=3, better="lower")
    assert outcome.status == "pass"
    assert in_bounds(1.0, UPPER_5)


def test_best_estimator_compares_the_fastest_repetitions() -> None:
    # Interference slowed one container run down: the median says 30% slower, the best says equal.
    bare, container = summarize([1.0, 1.02, 1.05]), summarize([1.0, 1.3, 1.4])
    assert judge(bare, container, UPPER_5, min_reps=3, better="lower").status == "fail"
    best = judge(bare, container, UPPER_5, min_reps=3, better="lower", estimator="best")
    assert best.status == "pass" and best.ratio == 1.0
    # for a bandwidth the best repetition is the highest
    high = judge(
        summarize([90.0, 100.0, 80.0]),
        summarize([99.0, 50.0, 60.0]),
        LOWER_3,
        min_reps=3,
        better="higher",
        estimator="best",
    )
    assert high.ratio == 0.99 and high.status == "pass"
    # a real slowdown shows in the best repetitions too
    slow = judge(
        summarize([0.5, 0.6, 0.9]),
        summarize([9.0, 9.1, 12.0]),
        UPPER_5,
        min_reps=3,
        better="lower",
        estimator="best",
    )
    assert slow.status == "fail"
