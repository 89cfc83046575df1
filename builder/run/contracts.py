"""What this package needs from other packages, stated as protocols.

The container runtimes live in :mod:`builder.build`; the campaign only needs the argv that runs
one rank inside an image (the hybrid model: the host launcher starts ``ch-run``/``apptainer
exec`` once per rank).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


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
