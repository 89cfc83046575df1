"""The Slurm scheduler: an sbatch script from a template, submission, polling, cancellation.

Rendering and parsing are pure functions; :class:`SlurmScheduler` is the edge that runs
``sbatch --parsable``, polls ``squeue`` (then ``scontrol``/``sacct`` for the final state) and
runs ``scancel`` when the job times out or the user presses Ctrl-C.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jinja2

from builder.errors import EsdcError
from builder.generate import quoting
from builder.run.jobs import JobOutcome, LaunchPlan
from builder.run.schedulers.base import STDERR_NAME, STDOUT_NAME, utc_now

SCRIPT_NAME = "job.sbatch"
TERMINAL_STATES = frozenset(
    {
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "TIMEOUT",
        "NODE_FAIL",
        "OUT_OF_MEMORY",
        "PREEMPTED",
        "BOOT_FAIL",
        "DEADLINE",
    }
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JOB_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("builder.run", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return env.get_template("sbatch.sh.j2")


def slurm_time(seconds: float) -> str:
    """A Slurm ``--time`` value (``H:MM:SS``) covering ``seconds``, at least one minute."""
    total = max(60, math.ceil(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def render_sbatch_script(
    plan: LaunchPlan,
    workdir: Path,
    *,
    account: str | None = None,
    partition: str | None = None,
) -> str:
    """The batch script for ``plan``: resources, output files, exported settings, the command.

    Raises
    ------
    EsdcError
        When a variable name cannot be exported by a shell.
    """
    for name, value in plan.environment.items():
        if not _NAME.match(name):
            raise EsdcError(f"cannot export environment variable {name!r} in an sbatch script")
        quoting.check_line(value, f"environment {name}")
    return _template().render(
        name=_JOB_NAME_UNSAFE.sub("_", plan.name) or "esdc",
        gpus=plan.gpus_per_node,
        # #SBATCH lines are read by sbatch, not a shell: names are checked, not quoted.
        account=quoting.slurm_name(account, "site accounts") if account else None,
        partition=quoting.slurm_name(partition, "site partitions") if partition else None,
        nodes=plan.nodes,
        ntasks=plan.ranks,
        time=slurm_time(plan.timeout_s),
        stdout=shlex.quote(str(workdir / STDOUT_NAME)),
        stderr=shlex.quote(str(workdir / STDERR_NAME)),
        environment=[
            (name, shlex.quote(value)) for name, value in sorted(plan.environment.items())
        ],
        command=shlex.join(plan.argv),
    )


def parse_job_id(text: str) -> str:
    """The job id printed by ``sbatch --parsable`` (``ID`` or ``ID;CLUSTER``)."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    job_id = first.split(";", 1)[0].strip()
    if not job_id.isdigit():
        raise EsdcError(f"sbatch printed no job id: {text.strip()[:200]!r}")
    return job_id


def exit_status(exit_code: str) -> int | None:
    """Slurm's ``ExitCode=RC:SIGNAL`` as a shell-style return code (128+signal when killed)."""
    match = re.match(r"^\s*(\d+):(\d+)\s*$", exit_code)
    if match is None:
        return None
    code, sig = int(match.group(1)), int(match.group(2))
    return 128 + sig if sig else code


def parse_scontrol_job(text: str) -> tuple[str | None, int | None]:
    """``(JobState, return code)`` from ``scontrol show job ID`` output."""
    state = re.search(r"\bJobState=(\S+)", text)
    code = re.search(r"\bExitCode=(\S+)", text)
    return (
        state.group(1) if state else None,
        exit_status(code.group(1)) if code else None,
    )


def parse_sacct(text: str) -> tuple[str | None, int | None]:
    """``(State, return code)`` from ``sacct -n -X -P -o State,ExitCode`` output."""
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) >= 2 and parts[0]:
            # "CANCELLED by 0" -> "CANCELLED"
            return parts[0].split()[0], exit_status(parts[1])
    return None, None


@dataclass(frozen=True)
class SlurmScheduler:
    """Submit jobs with sbatch and wait for them.

    Parameters
    ----------
    account, partition
        Written into the script when given.
    gpu_partition
        The partition of jobs that need GPUs (``partition`` when not given).
    poll_s
        Seconds between ``squeue`` polls.
    environment
        Environment of the Slurm commands themselves (e.g. ``SLURM_CONF`` of a test cluster);
        defaults to this process's.
    """

    account: str | None = None
    partition: str | None = None
    gpu_partition: str | None = None
    poll_s: float = 0.5
    environment: dict[str, str] | None = field(default=None)

    def run(self, plan: LaunchPlan, workdir: Path) -> JobOutcome:
        """Submit ``plan`` as a batch job and wait for its end (scancel on timeout or Ctrl-C)."""
        workdir = workdir.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        script = workdir / SCRIPT_NAME
        script.write_text(
            render_sbatch_script(
                plan,
                workdir,
                account=self.account,
                partition=(self.gpu_partition or self.partition)
                if plan.gpus_per_node
                else self.partition,
            )
        )
        started = utc_now()
        clock = time.perf_counter()
        job_id = parse_job_id(self._slurm(["sbatch", "--parsable", str(script)], cwd=workdir))
        timed_out = False
        try:
            timed_out = not self._wait_until_gone(job_id, deadline=clock + plan.timeout_s)
            if timed_out:
                self.cancel(job_id)
        except BaseException:
            self.cancel(job_id)
            raise
        state, returncode = self._final_state(job_id)
        if state is not None and state != "COMPLETED" and returncode == 0:
            returncode = 1  # a cancelled or failed job must never read as success
        (workdir / STDOUT_NAME).touch()
        (workdir / STDERR_NAME).touch()
        return JobOutcome(
            returncode=None if timed_out else returncode,
            started=started,
            ended=utc_now(),
            wall_s=time.perf_counter() - clock,
            timed_out=timed_out,
            scheduler_id=job_id,
        )

    def cancel(self, job_id: str) -> None:
        """``scancel`` the job; a job that already ended is not an error."""
        subprocess.run(
            ["scancel", job_id],
            env=self._env(),
            capture_output=True,
            check=False,
            timeout=30,
        )

    def _wait_until_gone(self, job_id: str, *, deadline: float) -> bool:
        while time.perf_counter() < deadline:
            listed = self._slurm(["squeue", "-h", "-j", job_id, "-o", "%T"], check=False)
            state = listed.strip().split()[0] if listed.strip() else ""
            if not state or state in TERMINAL_STATES:
                return True
            time.sleep(self.poll_s)
        return False

    def _final_state(self, job_id: str) -> tuple[str | None, int | None]:
        # scontrol knows recently ended jobs without accounting; sacct needs slurmdbd.
        state, code = parse_scontrol_job(
            self._slurm(["scontrol", "show", "job", job_id], check=False)
        )
        if state is None:
            state, code = parse_sacct(
                self._slurm(
                    ["sacct", "-n", "-X", "-P", "-j", job_id, "-o", "State,ExitCode"], check=False
                )
            )
        return state, code

    def _env(self) -> dict[str, str]:
        return dict(os.environ if self.environment is None else self.environment)

    def _slurm(self, argv: list[str], *, cwd: Path | None = None, check: bool = True) -> str:
        try:
            done = subprocess.run(
                argv, cwd=cwd, env=self._env(), capture_output=True, text=True, timeout=60
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EsdcError(f"{argv[0]} failed: {exc}") from exc
        if check and done.returncode != 0:
            raise EsdcError(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()[:300]}")
        return done.stdout
