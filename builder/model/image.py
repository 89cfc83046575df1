"""ImageSpec: all a definition says, as pure data made from an environment, a site and a lock.

Renderers (Apptainer definition, Dockerfile) only format an ImageSpec; they decide nothing.
Values here are raw (unquoted); quoting happens when the template context is built.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from builder.model.env import Buildcache, Flavour, SpackRepository

SoftwareSource = Literal["spack", "os_packages"]
PackageManager = Literal["apt", "dnf"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnvVar(_Strict):
    """One variable of the image's run-time environment; ``origin`` names where it came from."""

    name: str
    value: str
    origin: str = Field(description="e.g. 'site.environment' (used in error messages).")


class Label(_Strict):
    """One provenance label."""

    key: str
    value: str


class VersionProbe(_Strict):
    """A %test step: a library that must be present, the program that proves it, how to ask it."""

    library: str = Field(description="Human name, e.g. 'Open MPI'.")
    program: str = Field(description="Program that must exist in the image, e.g. 'ompi_info'.")
    arguments: str = Field(description="Arguments printing the version, e.g. '--version'.")
    pattern: str = Field(description="Fixed string that marks the version line of its output.")


class LockRef(_Strict):
    """The lock installed exactly; ``source`` is relative to the build context (project root)."""

    source: str
    sha256: str
    spack_version: str | None = None


class ImageSpec(_Strict):
    """One image: where its software comes from, what the final stage holds, how it is checked."""

    env: str
    site: str
    flavour: Flavour
    source: SoftwareSource
    package_manager: PackageManager
    final_image: str = Field(description="Base image of the final (run-time) stage.")
    build_image: str | None = Field(default=None, description="Spack build image (spack source).")
    spack_version: str | None = None
    spack_yaml: str | None = Field(default=None, description="The manifest written into the image.")
    spack_commit: str | None = Field(
        default=None,
        description="Lock builds: the Spack commit that made the lock, checked out and used "
        "instead of the build image's own Spack (a lock is only valid for its Spack).",
    )
    repositories: list[SpackRepository] = Field(
        default_factory=list, description="Package repositories cloned at their pinned commits."
    )
    lock: LockRef | None = None
    buildcache: Buildcache | None = None
    build_os_packages: list[str] = Field(default_factory=list)
    final_os_packages: list[str] = Field(default_factory=list)
    #: PyPI requirements installed with the base OS's pip after its packages (OS-package sites).
    pip_packages: list[str] = Field(default_factory=list)
    environment: list[EnvVar] = Field(default_factory=list)
    probes: list[VersionProbe] = Field(default_factory=list)
    check_nccl: bool = Field(default=False, description="%test looks for libnccl in the view.")
    extra_tests: list[str] = Field(default_factory=list)
    runscript: str = 'exec "$@"'
    labels: list[Label] = Field(default_factory=list)
    help: str = ""
    notes: list[str] = Field(default_factory=list, description="Comment lines for reviewers.")
