"""Reading a run directory (layout: :mod:`builder.model.run`): the manifest, records and outputs.

These are the file-system edges of verification. Anything absent or broken that a verdict would
need becomes a :class:`~builder.model.verdict.Problem` naming the file, never a silent skip; only
a directory that is not a run directory at all raises :class:`~builder.errors.EsdcError`.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from builder.errors import EsdcError
from builder.fsio import open_binary_input
from builder.model.preflight import PreflightResult
from builder.model.run import CampaignManifest, Mode, RunRecord
from builder.model.verdict import Problem

MODES: tuple[Mode, Mode] = ("bare", "container")
DEBUG_REP = "debug"


def read_manifest(run_dir: Path) -> CampaignManifest:
    """``run.json`` of a run directory; :class:`EsdcError` naming the file when absent or broken."""
    path = run_dir / "run.json"
    if not run_dir.is_dir():
        raise EsdcError("not a directory", where=run_dir)
    if path.exists() and not path.is_file():
        # A FIFO would block the read forever; a directory cannot be a manifest.
        raise EsdcError("not a regular file", where=path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EsdcError("not a run directory: run.json is missing", where=path) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EsdcError(f"cannot read the campaign manifest: {exc}", where=path) from exc
    try:
        return CampaignManifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise EsdcError(f"invalid campaign manifest: {field}: {first['msg']}", where=path) from exc


def relative(path: Path, run_dir: Path) -> str:
    """``path`` as written in verdicts and reports: relative to the run directory when inside it."""
    try:
        return path.relative_to(run_dir).as_posix()
    except ValueError:
        return str(path)


def read_record(rep_dir: Path, run_dir: Path, problems: list[Problem]) -> RunRecord | None:
    """A rep's ``record.json``; ``None`` (and a problem) when the rep is incomplete or broken."""
    path = rep_dir / "record.json"
    where = relative(path, run_dir)
    if not rep_dir.is_dir():
        problems.append(
            Problem(where=relative(rep_dir, run_dir), message="job directory is missing")
        )
        return None
    if path.exists() and not path.is_file():
        problems.append(Problem(where=where, message="unreadable: not a regular file"))
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RunRecord.model_validate(data)
    except FileNotFoundError:
        problems.append(Problem(where=where, message="missing: the job did not complete"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(Problem(where=where, message=f"unreadable: {exc}"))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        problems.append(Problem(where=where, message=f"invalid record: {field}: {first['msg']}"))
    return None


def read_text(path: Path, run_dir: Path, problems: list[Problem]) -> str | None:
    """A job output as text (invalid UTF-8 replaced; ``.gz`` read through); ``None`` if absent."""
    if not path.is_file():
        problems.append(Problem(where=relative(path, run_dir), message="missing output file"))
        return None
    try:
        with open_binary_input(path) as handle:
            return handle.read().decode("utf-8", errors="replace")
    except EsdcError as exc:
        problems.append(Problem(where=relative(path, run_dir), message=f"unreadable: {exc}"))
        return None


def inside(rep_dir: Path, name: str) -> bool:
    """True when the file a record names stays in its job's directory (links resolved).

    A record naming ``../../bare/x/debug/stdout`` (or a link to it) would let one mode's logs
    stand for the other's: such a file is not this job's evidence.
    """
    try:
        (rep_dir / name).resolve().relative_to(rep_dir.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def perf_reps(run_dir: Path, mode: str, suite: str, expected: int) -> list[str]:
    """Rep names to read: ``0..expected-1`` plus any further numbered reps found on disk."""
    names = {str(rep) for rep in range(expected)}
    suite_dir = run_dir / mode / suite
    if suite_dir.is_dir():
        names |= {p.name for p in suite_dir.iterdir() if p.is_dir() and p.name.isdigit()}
    return sorted(names, key=int)


def _optional_json(run_dir: Path, name: str, problems: list[Problem]) -> object:
    """A run directory's optional JSON file, ``None`` when absent or unreadable (a problem)."""
    path = run_dir / name
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(Problem(where=name, message=f"unreadable: {exc}"))
        return None


def read_preflight(run_dir: Path, problems: list[Problem]) -> list[PreflightResult]:
    """``preflight.json``: the checks run in the image before the campaign (absent: none)."""
    data = _optional_json(run_dir, "preflight.json", problems)
    if data is None:
        return []
    try:
        if not isinstance(data, list):
            raise TypeError("expected a list of checks")
        return [PreflightResult.model_validate(item) for item in data]
    except (ValidationError, TypeError) as exc:
        problems.append(Problem(where="preflight.json", message=f"unreadable: {exc}"))
        return []


def read_required(run_dir: Path, problems: list[Problem]) -> list[str]:
    """``required.json``: the suites the site required (absent file: an older campaign, none)."""
    data = _optional_json(run_dir, "required.json", problems)
    if data is not None and not isinstance(data, list):
        problems.append(Problem(where="required.json", message="expected a list of suite names"))
        return []
    return [str(name) for name in data or []]


def read_skipped(run_dir: Path, problems: list[Problem]) -> dict[str, str]:
    """``skipped.json``: suites the campaign left out and why (absent file: none skipped)."""
    path = run_dir / "skipped.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(Problem(where="skipped.json", message=f"unreadable: {exc}"))
        return {}
    if not isinstance(data, dict):
        problems.append(Problem(where="skipped.json", message="expected an object suite -> reason"))
        return {}
    return {str(k): str(v) for k, v in data.items()}
