"""Run directories on disk: ids, rep folders, the manifest, and completion of a rep.

The layout is :mod:`builder.model.run`'s. A rep is complete exactly when its ``record.json``
exists and parses: the record is written last and atomically, so a campaign killed at any
moment leaves either a complete rep or one that a resumed campaign redoes from scratch.
"""

from __future__ import annotations

import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from builder.errors import EsdcError
from builder.fsio import atomic_write_json
from builder.model.run import CampaignManifest, Mode, RunRecord

MANIFEST_NAME = "run.json"
RECORD_NAME = "record.json"
ENV_NAME = "env.json"
VERSIONS_NAME = "versions.json"
SKIPPED_NAME = "skipped.json"
#: Evidence beside the logs of a logging run (builder.model.evidence).
EVIDENCE_NAME = "evidence.json"
#: The site profile's ``required_suites`` when the campaign began (read by the verifier).
REQUIRED_NAME = "required.json"
FAILURE_NAME = "esdc-failure.txt"


def new_run_id(site: str, now: datetime | None = None) -> str:
    """A sortable, unique run id: ``YYYYmmddTHHMMSSZ-SITE-XXXX``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{site}-{secrets.token_hex(2)}"


def rep_dir(run_dir: Path, mode: Mode, suite: str, rep: str) -> Path:
    """The folder of one rep: ``RUN/<mode>/<suite>/<rep>``."""
    return run_dir / mode / suite / rep


def read_record(folder: Path) -> RunRecord | None:
    """The rep's record, or ``None`` when the rep is not complete."""
    path = folder / RECORD_NAME
    try:
        return RunRecord.model_validate_json(path.read_bytes())
    except (OSError, ValidationError, ValueError):
        return None


def is_complete(folder: Path) -> bool:
    """Whether the rep in ``folder`` finished (its record exists and parses)."""
    return read_record(folder) is not None


def reset_rep(folder: Path) -> None:
    """Empty a rep folder that an interrupted campaign left incomplete."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def write_record(folder: Path, record: RunRecord) -> None:
    """Write ``record.json`` atomically; call it last, it marks the rep complete."""
    atomic_write_json(folder / RECORD_NAME, record.model_dump(mode="json", by_alias=True))


def write_manifest(run_dir: Path, manifest: CampaignManifest) -> None:
    """Write ``run.json`` atomically."""
    atomic_write_json(run_dir / MANIFEST_NAME, manifest.model_dump(mode="json", by_alias=True))


def read_manifest(run_dir: Path) -> CampaignManifest:
    """Read ``run.json`` of an existing run directory.

    Raises
    ------
    EsdcError
        When the folder is not a run directory or its manifest is unreadable.
    """
    path = run_dir / MANIFEST_NAME
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EsdcError(f"not a run directory: {exc.strerror or exc}", where=path) from exc
    try:
        return CampaignManifest.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EsdcError(f"invalid run manifest: {where}: {first['msg']}", where=path) from exc
