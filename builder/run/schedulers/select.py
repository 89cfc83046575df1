"""Choosing the scheduler a site profile asks for."""

from __future__ import annotations

from builder.model.site import SiteProfile
from builder.run.schedulers.base import Scheduler
from builder.run.schedulers.local import LocalScheduler
from builder.run.schedulers.slurm import SlurmScheduler


def scheduler_for(site: SiteProfile) -> Scheduler:
    """The scheduler of ``site``: local subprocesses, Slurm batch jobs, or UNICORE jobs."""
    if site.scheduler == "slurm":
        return SlurmScheduler(
            account=site.accounts[0] if site.accounts else None,
            partition=site.partitions.get("benchmark") or site.partitions.get("batch"),
        )
    if site.scheduler == "unicore":
        from builder.run.schedulers.unicore import UnicoreScheduler

        scheduler: Scheduler = UnicoreScheduler.from_site(site)
        return scheduler
    return LocalScheduler()
