"""Environments: a Spack manifest, an optional lock, and the toolkit's own metadata (esdc.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from builder.model.values import Line

Flavour = Literal["cpu", "cuda"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Buildcache(_Strict):
    """A Spack binary mirror; its signing keys are installed and trusted, never skipped."""

    name: Line = Field(description="Mirror name as `spack mirror add` takes it.")
    url: Line = Field(description="Mirror URL (oci://, https://, s3://, file://).")


class SpackRepository(_Strict):
    """A Spack package repository besides builtin, cloned at a pinned commit in the build stage."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="Folder name.")
    url: str = Field(pattern=r"^https://\S+$", description="git URL (https).")
    commit: str = Field(pattern=r"^[0-9a-f]{40}$", description="The pinned commit (40 hex).")
    only_here: list[str] = Field(
        default_factory=list,
        description="Roots only this repository provides (not in Spack's builtin repository); "
        "`esdc check` cannot verify their variants and says so.",
    )


class EnvMeta(_Strict):
    """The toolkit's metadata of an environment (``spack-envs/<env>/esdc.yaml``)."""

    description: Line = ""
    flavour: Flavour = "cpu"
    includes: list[Line] = Field(
        default_factory=list,
        description="Environments whose specs, package preferences and os_packages come first.",
    )
    spack_version: Line = Field(default="0.22.2", description="Spack release of the build stage.")
    os_packages: list[Line] = Field(
        default_factory=list,
        description="Distribution packages that provide this environment at sites building from "
        "OS packages (the local site, Debian 12) instead of Spack.",
    )
    final_os_packages: list[Line] = Field(
        default_factory=list, description="Run-time OS packages the Spack-built final stage needs."
    )
    pip_packages: list[str] = Field(
        default_factory=list,
        description="Python packages from PyPI (requirement strings) installed after os_packages, "
        "at sites building from OS packages only (NEST is not packaged in Debian).",
    )
    buildcache: Buildcache | None = None
    repositories: list[SpackRepository] = Field(
        default_factory=list,
        description="Package repositories added before builtin (e.g. ebrains-spack-builds).",
    )
    tests: list[str] = Field(
        default_factory=list,
        description="Extra %test commands (shell), run after the version checks.",
    )
    runscript: str = Field(default='exec "$@"', description="The %runscript body.")


class SpecRequest(_Strict):
    """An abstract spec as written in spack.yaml, reduced to what the compatibility check needs."""

    text: str
    name: str
    version: str | None = None
    enabled: list[str] = Field(default_factory=list, description="Variants switched on (+x).")
    disabled: list[str] = Field(default_factory=list, description="Variants switched off (~x).")
    values: dict[str, list[str]] = Field(default_factory=dict, description="key=v1,v2 variants.")


class LockedPackage(_Strict):
    """One concrete spec of a spack.lock."""

    name: str
    version: str
    hash: str
    variants: dict[str, list[str]] = Field(
        default_factory=dict, description="Variant values as strings ('true', 'ucx', ...)."
    )


class LockInfo(_Strict):
    """A spack.lock: what will be installed exactly, and where it came from."""

    path: Path
    sha256: str
    lockfile_version: int
    spack_version: str | None = None
    spack_commit: str | None = None
    roots: list[str]
    packages: list[LockedPackage]
    platform_os: list[str] = Field(
        default_factory=list, description="Operating systems the specs were concretised for."
    )
    compilers: list[str] = Field(default_factory=list, description="e.g. ['gcc@12.2.0'].")

    def find(self, name: str) -> LockedPackage | None:
        """The first concrete spec named ``name``, if the lock has one."""
        return next((pkg for pkg in self.packages if pkg.name == name), None)


class EnvSpec(_Strict):
    """An environment ready for rendering: merged manifest (includes applied), lock, metadata."""

    name: str
    folder: Path
    manifest: dict[str, Any] = Field(
        description="The merged `spack:` mapping, written into the image as spack.yaml."
    )
    specs: list[SpecRequest]
    requirements: dict[str, list[str]] = Field(
        default_factory=dict, description="packages:<name>:require/variants strings, per package."
    )
    meta: EnvMeta = Field(default_factory=EnvMeta)
    lock: LockInfo | None = None
    own_specs_without_os_packages: list[str] = Field(
        default_factory=list,
        description="This environment's own specs (not included ones) when its esdc.yaml lists "
        "no os_packages: what an OS-package site could not provide.",
    )

    def spec(self, name: str) -> SpecRequest | None:
        """The root spec named ``name``, if any."""
        return next((spec for spec in self.specs if spec.name == name), None)
