"""Choosing the scheduler a site profile asks for."""

from __future__ import annotations

from collections.abc import Mapping

from builder.model.site import SiteProfile
from builder.run.schedulers.base import Scheduler
from builder.run.schedulers.local import LocalScheduler
from builder.run.schedulers.slurm import SlurmScheduler


def cpu_partition(partitions: Mapping[str, str]) -> str | None:
    """The partition of CPU benchmark jobs, by role: ``benchmark``, ``cpu`` or ``batch``."""
    for role in ("benchmark", "cpu", "batch"):
        if role in partitions:
            return partitions[role]
    return None


def scheduler_for(site: SiteProfile) -> Scheduler:
    """The scheduler of ``site``: local subprocesses, Slurm batch jobs, or UNICORE jobs."""
    if site.scheduler == "slurm":
        return SlurmScheduler(
            account=site.accounts[0] if site.accounts else None,
            partition=cpu_partition(site.partitions),
            gpu_partition=site.partitions.get("gpu"),
        )
    if site.scheduler == "unicore":
        from builder.run.schedulers.unicore import UnicoreScheduler

        scheduler: Scheduler = UnicoreScheduler.from_site(site)
        return scheduler
    return LocalScheduler()
