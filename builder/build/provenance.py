"""``provenance.json``: the facts of one build, gathered at the edges and assembled purely."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

from builder import __version__
from builder.build.definition import DefinitionFacts
from builder.build.models import BuiltImage, Provenance


def git_state(repo: Path) -> tuple[str | None, bool | None]:
    """The commit checked out in ``repo`` and whether tracked files differ from it."""
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    if head.returncode != 0:
        return None, None
    dirty = subprocess.run(
        ["git", "-C", str(repo), "diff", "--quiet", "HEAD", "--"], capture_output=True, check=False
    )
    return head.stdout.strip(), dirty.returncode != 0


def make_provenance(
    *,
    image: BuiltImage,
    definition: Path,
    definition_sha256: str,
    facts: DefinitionFacts,
    site: str | None,
    runtime_versions: dict[str, str],
    git_commit: str | None,
    git_dirty: bool | None,
    started: datetime,
    finished: datetime,
) -> Provenance:
    """Assemble the provenance record of one build (pure)."""
    return Provenance(
        image=str(image.path),
        image_digest=image.digest,
        tag=image.tag,
        definition=str(definition),
        definition_sha256=definition_sha256,
        site=site or facts.site,
        env=facts.env,
        lock_sha256=facts.lock_sha256,
        builder_version=__version__,
        git_commit=git_commit,
        git_dirty=git_dirty,
        runtime=image.runtime,
        runtime_versions=runtime_versions,
        base_image=facts.bases[0] if facts.bases else None,
        base_digest=image.base_digest,
        build_started=started,
        build_finished=finished,
        cached=image.cached,
    )
