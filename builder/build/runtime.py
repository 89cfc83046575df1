"""The one interface behind which container runtimes build images and run ranks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from builder.build.models import BuiltImage
from builder.errors import EsdcError
from builder.model.site import SiteProfile

NO_ENV: Mapping[str, str] = MappingProxyType({})
"""An empty, read-only environment: the default of :meth:`ContainerRuntime.exec_argv`."""


@runtime_checkable
class ContainerRuntime(Protocol):
    """A container runtime: builds images and gives the argv that runs one rank in one.

    The hybrid model is assumed throughout: the host's launcher (``mpirun``, ``srun``) starts
    one runtime process per rank, so :meth:`exec_argv` describes exactly one rank.
    """

    @property
    def name(self) -> str:
        """Runtime name as used in site profiles (``apptainer``, ``charliecloud``)."""
        ...

    def build(
        self, recipe: Path, tag: str, *, context: Path, output: Path | None = None
    ) -> BuiltImage:
        """Build ``recipe`` (definition or Dockerfile) into an image named ``tag``, at ``output``
        when given (else where the runtime keeps its images)."""
        ...

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
        """The argv that runs ``argv`` as ONE rank inside ``image``."""
        ...

    def versions(self) -> dict[str, str]:
        """Versions of the runtime's tools, e.g. ``{"ch-run": "0.31"}``."""
        ...


def runtime_for(site: SiteProfile) -> ContainerRuntime:
    """The runtime a site profile asks for.

    The profile's binds, environment and ``join_namespace`` are per-launch settings: callers
    pass them to :meth:`ContainerRuntime.exec_argv` (the campaign does, per job).
    """
    kind = site.runtime.kind
    if kind == "charliecloud":
        from builder.build.charliecloud import CharliecloudRuntime

        return CharliecloudRuntime()
    if kind == "apptainer":
        from builder.build.apptainer import ApptainerRuntime

        return ApptainerRuntime()
    raise EsdcError(f"unknown container runtime {kind!r}", where=f"site {site.name}")
