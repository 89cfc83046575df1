"""The local scheduler with real processes: outputs, return codes, and killing the whole group."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from builder.errors import EsdcError
from builder.run.jobs import LaunchPlan
from builder.run.schedulers.local import LocalScheduler


def test_outputs_and_returncode_are_collected(tmp_path: Path) -> None:
    plan = LaunchPlan(argv=["sh", "-c", 'echo out-$ESDC_X; echo err >&2; exit 3'],
                      environment={"ESDC_X": "1"})  # fmt: skip
    outcome = LocalScheduler().run(plan, tmp_path)
    assert outcome.returncode == 3 and not outcome.timed_out
    assert (tmp_path / "stdout").read_text() == "out-1\n"
    assert (tmp_path / "stderr").read_text() == "err\n"


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    # The child of the shell writes its pid; after the timeout it must be gone too.
    plan = LaunchPlan(argv=["sh", "-c", "sleep 60 & echo $! > child; wait"], timeout_s=0.5)
    start = time.monotonic()
    outcome = LocalScheduler().run(plan, tmp_path)
    assert outcome.timed_out and time.monotonic() - start < 10
    child = int((tmp_path / "child").read_text())
    assert _gone_or_zombie(child)


def _gone_or_zombie(pid: int) -> bool:
    # A killed orphan stays a zombie until init reaps it; it no longer runs either way.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return True
        if "State:\tZ" in status:
            return True
        time.sleep(0.05)
    return False


def test_missing_program_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(EsdcError, match="cannot start no-such-launcher"):
        LocalScheduler().run(LaunchPlan(argv=["no-such-launcher"]), tmp_path)
