"""The scheduler contract and the small helpers every scheduler shares."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from builder.run.jobs import JobOutcome, LaunchPlan

STDOUT_NAME = "stdout"
STDERR_NAME = "stderr"


class Scheduler(Protocol):
    """Runs a rendered job to its end and leaves ``stdout`` and ``stderr`` in ``workdir``.

    Implementations stop the job on ``KeyboardInterrupt`` (and re-raise it) and when the plan's
    timeout expires (``JobOutcome.timed_out``).
    """

    def run(self, plan: LaunchPlan, workdir: Path) -> JobOutcome:
        """Run ``plan`` with ``workdir`` as its working directory."""
        ...


def utc_now() -> str:
    """The current time in ISO 8601 with microseconds, UTC (record timestamps)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")
