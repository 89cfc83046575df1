"""The verdict for people: the compared value in the unit people read."""

from __future__ import annotations

from builder.model.verdict import Bounds, MetricVerdict, Spread
from builder.verify.render import format_spread, unit_of


def metric(name: str, *, at_size: int | None, estimator: str, better: str) -> MetricVerdict:
    return MetricVerdict(
        suite="mpi4py", check="c", benchmark="pingpong", metric=name, at_size=at_size,
        better=better, bare=Spread(n=0), container=Spread(n=0), estimator=estimator,
        bounds=Bounds(), status="pass",
    )  # type: ignore[arg-type]  # fmt: skip


def test_message_times_in_us_and_the_best_repetition_first() -> None:
    spread = Spread(n=3, values=[8.5e-6, 5.5e-6, 1.2e-5], median=8.5e-6, min=5.5e-6, max=1.2e-5)
    shown = format_spread(
        spread, metric("time_mean_s", at_size=8, estimator="best", better="lower")
    )
    assert shown == "5.5 us\n[5.5..12] n=3"


def test_bandwidth_best_is_the_highest_and_median_stays_median() -> None:
    spread = Spread(n=3, values=[400.0, 900.0, 500.0], median=500.0, min=400.0, max=900.0)
    best = metric("bandwidth_MBps", at_size=1048576, estimator="best", better="higher")
    assert format_spread(spread, best).startswith("900 MB/s")
    median = metric("bandwidth_MBps", at_size=1048576, estimator="median", better="higher")
    assert format_spread(spread, median).startswith("500 MB/s")


def test_run_timers_stay_in_seconds() -> None:
    assert unit_of(metric("sim_time", at_size=None, estimator="best", better="lower")) == ("s", 1.0)
    assert unit_of(metric("half_rtt_us", at_size=8, estimator="best", better="lower"))[0] == "us"
