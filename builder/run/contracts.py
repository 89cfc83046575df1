"""What this package needs from other packages, stated as protocols.

The container runtimes live in :mod:`builder.build`; the campaign only needs the argv that runs
one rank inside an image (the hybrid model: the host launcher starts ``ch-run``/``apptainer
exec`` once per rank).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from builder.build.runtime import NO_ENV


class RankRuntime(Protocol):
    """The part of a container runtime that starts one rank inside an image."""

    def exec_argv(
        self,
        image: str,
        argv: list[str],
        *,
        env: Mapping[str, str] = ...,
        binds: Sequence[str] = ...,
        join: bool = ...,
        gpu: bool = ...,
    ) -> list[str]:
        """The argv that runs ``argv`` inside ``image``."""
        ...


class HostStandInRuntime:
    """A :class:`RankRuntime` that runs the "container" ranks on the host itself.

    For exercising campaigns (bookkeeping, launchers, schedulers, overhead) where no image or
    container runtime is wanted: each rank runs as ``env ESDC_STAND_IN=IMAGE argv`` on the host.
    """

    def exec_argv(
        self,
        image: str,
        argv: list[str],
        *,
        env: Mapping[str, str] = NO_ENV,
        binds: Sequence[str] = (),
        join: bool = False,
        gpu: bool = False,
    ) -> list[str]:
        """``env ESDC_STAND_IN=IMAGE argv``: the rank, marked, on the host."""
        return ["env", f"ESDC_STAND_IN={image}", *argv]
