"""Spack package metadata recorded from real Spack, read by ``esdc check``.

CI has no Spack: ``data/spack-builtin.json`` was written by ``scripts/record_spack_metadata.py``
run under ``spack python`` (the command is in ``data/README.md``). It holds every package name
of Spack's builtin repository and, for the packages the environments name, their versions,
variants, blanket compiler conflicts and the versions a variant setting leaves.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VariantInfo(_Strict):
    """One variant of a package: its default and, where Spack restricts them, its values."""

    default: str
    values: list[str] | None = Field(description="Allowed values; None where any is accepted.")
    multi: bool
    when: str | None = None


class PackageInfo(_Strict):
    """What Spack knows of one package."""

    versions: list[str]
    branch_versions: list[str] = Field(description="Versions that follow a git branch or tag.")
    variants: dict[str, VariantInfo]
    compiler_conflicts: dict[str, str] = Field(
        description="Build-image compiler -> message of an unconditional conflict with it."
    )
    variant_versions: dict[str, list[str]] = Field(
        default_factory=dict,
        description="'+x'/'~x' -> the versions that setting leaves (when conflicts remove some).",
    )


class SpackMetadata(_Strict):
    """The recorded builtin repository of one Spack commit."""

    spack_version: str
    spack_commit: str | None
    packages: list[str]
    details: dict[str, PackageInfo]

    @property
    def origin(self) -> str:
        """'Spack 0.23.0.dev0 (e8f8cf85)': what the data was recorded from."""
        commit = f" ({self.spack_commit[:8]})" if self.spack_commit else ""
        return f"Spack {self.spack_version}{commit}"


@cache
def builtin() -> SpackMetadata:
    """The recorded metadata of Spack's builtin repository (read once)."""
    text = resources.files("builder.generate").joinpath("data/spack-builtin.json").read_text()
    return SpackMetadata.model_validate(json.loads(text))


@cache
def builtin_names() -> frozenset[str]:
    """Every package name of the recorded builtin repository."""
    return frozenset(builtin().packages)
