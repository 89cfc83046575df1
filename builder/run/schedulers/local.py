"""The local scheduler: the launcher's command as a subprocess of this process.

The job gets its own process group so that a timeout or Ctrl-C stops mpirun *and* every rank and
daemon it started, not just the launcher.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from builder.errors import EsdcError
from builder.run.jobs import JobOutcome, LaunchPlan
from builder.run.schedulers.base import STDERR_NAME, STDOUT_NAME, utc_now

#: Seconds between SIGTERM and SIGKILL when a job is stopped.
GRACE_S = 3.0


@dataclass(frozen=True)
class LocalScheduler:
    """Run jobs on this machine, in their own process group.

    Parameters
    ----------
    base_environment
        The environment the job starts from (defaults to this process's); the plan's
        variables are added on top.
    """

    base_environment: dict[str, str] | None = None

    def run(self, plan: LaunchPlan, workdir: Path) -> JobOutcome:
        """Run ``plan`` to its end, or kill its process group on timeout or Ctrl-C."""
        workdir.mkdir(parents=True, exist_ok=True)
        environment = dict(os.environ if self.base_environment is None else self.base_environment)
        environment.update(plan.environment)
        started = utc_now()
        clock = time.perf_counter()
        with (
            open(workdir / STDOUT_NAME, "wb") as out,
            open(workdir / STDERR_NAME, "wb") as err,
        ):
            try:
                process = subprocess.Popen(
                    plan.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    cwd=workdir,
                    env=environment,
                    start_new_session=True,
                )
            except OSError as exc:
                raise EsdcError(f"cannot start {plan.argv[0]}: {exc.strerror or exc}") from exc
            timed_out = False
            try:
                returncode: int | None = process.wait(timeout=plan.timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                stop_process_group(process)
                returncode = process.returncode
            except BaseException:
                stop_process_group(process)
                raise
        wall = time.perf_counter() - clock
        return JobOutcome(
            returncode=returncode,
            started=started,
            ended=utc_now(),
            wall_s=wall,
            timed_out=timed_out,
            scheduler_id=str(process.pid),
        )


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process's group, then SIGKILL what is left after a grace period."""
    for sig, wait_s in ((signal.SIGTERM, GRACE_S), (signal.SIGKILL, GRACE_S)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            continue
        # The launcher is gone; make sure nothing it started lingers in the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return
