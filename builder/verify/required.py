"""Required suites: the site profile names the suites a verdict rests on (pure).

A verdict that passes on whatever happened to run would pass an image whose OSU was never found
(a module not loaded in the job's shell) on the strength of one ping-pong. So each required suite
that was skipped, not selected, or whose jobs failed is a gap, and any gap makes an otherwise
passing verdict ``inconclusive``, with the suite and the reason in its banner. The campaign
records the profile's list in the run directory (``required.json``), so that a run is judged by
what its site required when it ran.
"""

from __future__ import annotations

from collections.abc import Sequence

from builder.verify.collect import RunData


def required_gaps(required: Sequence[str], data: RunData) -> dict[str, str]:
    """Each required suite that gives no verdict, with why, in the profile's order."""
    gaps: dict[str, str] = {}
    for suite in required:
        if suite not in data.manifest.suites:
            reason = data.skipped.get(suite)
            gaps[suite] = (
                f"skipped: {reason}" if reason else "not run: the campaign did not select it"
            )
            continue
        failed = [p for p in data.problems if p.failed_job and p.failed_job[1] == suite]
        if failed:
            modes = " and ".join(dict.fromkeys(p.failed_job[0] for p in failed if p.failed_job))
            gaps[suite] = f"failed ({modes}): {failed[0].message}"
    return gaps


def describe_gaps(gaps: dict[str, str]) -> str:
    """One line for the verdict's reason: ``required suite(s) without a result: a (why); ...``."""
    listed = "; ".join(f"{suite} ({why})" for suite, why in gaps.items())
    return f"required suite{'s' if len(gaps) > 1 else ''} without a result: {listed}"
