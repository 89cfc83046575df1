"""Run a campaign in a child process for the interruption test.

Usage: ``python campaign_child.py RUNS [RESUME]``.

The "container" mode uses a host stand-in runtime (``env ESDC_STAND_IN=IMAGE prog``): the
test is about the campaign's bookkeeping, not about containers, and must not need an image.
"""

from __future__ import annotations

import sys
from pathlib import Path

from builder.run.campaign import run_campaign
from builder.run.contracts import HostStandInRuntime


def main() -> None:
    runs = Path(sys.argv[1])
    resume = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    run_dir = run_campaign(
        "local",
        "stand-in",
        suites=["pingpong"],
        reps=3,
        resume=resume,
        runs_root=runs,
        runtime=HostStandInRuntime(),
    )
    print(run_dir, flush=True)


if __name__ == "__main__":
    main()
