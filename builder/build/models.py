"""What a build produces: the image, where its provenance and SBOM are, and what went into it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BuiltImage(_Frozen):
    """One image a runtime built.

    ``digest`` is the sha256 of the image file (SIF, SquashFS) or of the image directory tree
    (:func:`builder.build.hashing.tree_sha256`) for directory images.
    """

    tag: str
    path: Path = Field(description="Image file or directory, as the runtime runs it.")
    digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    runtime: str
    build_log: Path
    base_digest: str | None = Field(default=None, description="Digest of the imported base.")
    cached: bool = Field(default=False, description="Reused from the cache, nothing rebuilt.")
    unpacked: Path | None = Field(
        default=None,
        description="A directory copy runnable on this machine when ``path`` is an archive "
        "(SquashFS) that the runtime cannot mount here.",
    )


class Provenance(_Frozen):
    """``provenance.json``: how an image came to be (schema ``esdc.provenance/1``)."""

    schema_: str = Field(default="esdc.provenance/1", alias="schema")
    image: str = Field(description="Image path as written.")
    image_digest: str
    tag: str
    definition: str
    definition_sha256: str
    site: str | None
    env: str | None = Field(description="Environment named in the definition, when it says so.")
    lock_sha256: str | None
    builder_version: str
    git_commit: str | None
    git_dirty: bool | None
    runtime: str
    runtime_versions: dict[str, str]
    base_image: str | None
    base_digest: str | None
    build_started: datetime
    build_finished: datetime
    cached: bool

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class BuildResult(_Frozen):
    """What ``esdc build`` prints: the image and the files written beside it."""

    image: BuiltImage
    provenance: Path
    sbom: Path
    signature: Path | None = None
    sbom_components: int = Field(description="Number of components listed in the SBOM.")
