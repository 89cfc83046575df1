"""The UNICORE scheduler: a job description, submission with pyunicore, polling, staging.

The job description (pure) follows UNICORE's REST job format: ``Executable``, ``Arguments``,
``Environment``, ``Imports``, ``Resources``, ``Stdout``/``Stderr``. The token comes from the
environment (:data:`TOKEN_ENV`) or from a file the user names (:data:`TOKEN_FILE_ENV`); it is
only ever put into the ``Authorization`` header, never printed or written to a run directory.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.errors import EsdcError
from builder.model.site import SiteProfile
from builder.run.jobs import JobOutcome, LaunchPlan
from builder.run.schedulers.base import STDERR_NAME, STDOUT_NAME, utc_now
from builder.ship.secrets import read_secret

TOKEN_ENV = "ESDC_UNICORE_TOKEN"
TOKEN_FILE_ENV = "ESDC_UNICORE_TOKEN_FILE"
FINAL_STATES = frozenset({"SUCCESSFUL", "FAILED"})


def job_description(
    plan: LaunchPlan,
    *,
    project: str | None = None,
    queue: str | None = None,
    imports: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The UNICORE job description of ``plan`` (pure).

    Parameters
    ----------
    plan
        The rendered launcher command (``srun --mpi=pmix ...``) and its environment.
    project, queue
        Accounting project and batch queue (partition), when the site has them.
    imports
        Files to stage in: destination name in the job directory -> source URL or local path
        (local files are uploaded by the client before the job starts).
    """
    resources: dict[str, Any] = {
        "Nodes": plan.nodes,
        "Runtime": f"{max(60, math.ceil(plan.timeout_s))}s",
    }
    if queue:
        resources["Queue"] = queue
    description: dict[str, Any] = {
        "Name": plan.name,
        "Job type": "batch",
        "Executable": plan.argv[0],
        "Arguments": plan.argv[1:],
        "Environment": dict(sorted(plan.environment.items())),
        "Resources": resources,
        "Stdout": STDOUT_NAME,
        "Stderr": STDERR_NAME,
    }
    if project:
        description["Project"] = project
    if imports:
        description["Imports"] = [
            {"From": source, "To": name}
            for name, source in sorted(imports.items())
            if "://" in source
        ]
    return description


def read_token(environment: Mapping[str, str]) -> str:
    """The UNICORE token from ``$ESDC_UNICORE_TOKEN`` or the file ``$ESDC_UNICORE_TOKEN_FILE``.

    Raises
    ------
    EsdcError
        When neither is set or the file cannot be read (the message never contains the token).
    """
    secret = read_secret("UNICORE_TOKEN", environment, label="token")
    if secret is None:
        raise EsdcError(f"UNICORE needs a token: set {TOKEN_ENV} or {TOKEN_FILE_ENV}")
    token = secret.get_secret_value().strip()
    if not token:
        raise EsdcError("the token is empty", where=environment.get(TOKEN_FILE_ENV) or TOKEN_ENV)
    return token
    file_name = environment.get(TOKEN_FILE_ENV)
    if not file_name:
        raise EsdcError(f"UNICORE needs a token: set {TOKEN_ENV} or {TOKEN_FILE_ENV}")
    try:
        token = Path(file_name).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise EsdcError(
            f"cannot read the token file: {exc.strerror or exc}", where=file_name
        ) from exc
    if not token:
        raise EsdcError("the token file is empty", where=file_name)
    return token


@dataclass(frozen=True)
class UnicoreScheduler:
    """Submit jobs to a UNICORE site and wait for them.

    Parameters
    ----------
    endpoint
        The site's REST base, e.g. ``https://host:9112/SITE/rest/core``.
    project, queue
        Written into the job description when given.
    uploads
        Local files to stage in: destination name -> local path.
    poll_s
        Seconds between status polls.
    environment
        Where the token is looked up (defaults to this process's environment).
    verify_tls
        Check the server's certificate.
    """

    endpoint: str
    project: str | None = None
    queue: str | None = None
    uploads: Mapping[str, str] = field(default_factory=dict)
    poll_s: float = 2.0
    environment: Mapping[str, str] | None = None
    verify_tls: bool = True

    @classmethod
    def from_site(cls, site: SiteProfile) -> UnicoreScheduler:
        """The scheduler of a UNICORE site profile (``transfer.unicore_endpoint``)."""
        from builder.run.schedulers.select import cpu_partition

        if not site.transfer.unicore_endpoint:
            raise EsdcError(
                "UNICORE scheduler needs transfer.unicore_endpoint", where=f"site {site.name}"
            )
        return cls(
            endpoint=site.transfer.unicore_endpoint,
            project=site.accounts[0] if site.accounts else None,
            queue=cpu_partition(site.partitions),
        )

    def client(self) -> Any:
        """A pyunicore client authenticated with the user's token."""
        from pyunicore.client import Client, Transport
        from pyunicore.credentials import OIDCToken

        token = read_token(os.environ if self.environment is None else self.environment)
        transport = Transport(OIDCToken(token), verify=self.verify_tls, use_security_sessions=False)
        try:
            return Client(transport, self.endpoint)
        except Exception as exc:  # pyunicore raises httpx and its own errors
            raise EsdcError(
                f"cannot reach UNICORE: {type(exc).__name__}", where=self.endpoint
            ) from exc

    def run(self, plan: LaunchPlan, workdir: Path) -> JobOutcome:
        """Submit ``plan``, wait for it, and download ``stdout``/``stderr`` into ``workdir``."""
        workdir.mkdir(parents=True, exist_ok=True)
        description = job_description(
            plan, project=self.project, queue=self.queue, imports=dict(self.uploads)
        )
        local_inputs = {name: src for name, src in self.uploads.items() if "://" not in src}
        started = utc_now()
        clock = time.perf_counter()
        job = self.client().new_job(description, inputs=local_inputs)
        timed_out = False
        try:
            status = self._wait(job, deadline=clock + plan.timeout_s)
            if status not in FINAL_STATES:
                timed_out = True
                job.abort()
        except BaseException:
            job.abort()
            raise
        working_dir = job.working_dir
        for name in (STDOUT_NAME, STDERR_NAME):
            try:
                working_dir.stat(name).download(str(workdir / name))
            except Exception:  # a job that failed early may have no output; keep an empty file
                (workdir / name).touch()
        code = job.exit_code
        if code is None and not timed_out:
            code = 0 if status == "SUCCESSFUL" else 1
        return JobOutcome(
            returncode=None if timed_out else code,
            started=started,
            ended=utc_now(),
            wall_s=time.perf_counter() - clock,
            timed_out=timed_out,
            scheduler_id=str(job.job_id),
        )

    def _wait(self, job: Any, *, deadline: float) -> str:
        status = str(job.properties["status"])
        while status not in FINAL_STATES and time.perf_counter() < deadline:
            time.sleep(self.poll_s)
            status = str(job.properties["status"])
        return status
