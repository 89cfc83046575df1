"""Run directories: a rep is complete exactly when its record parses; manifests round-trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.errors import EsdcError
from builder.model.run import CampaignManifest, RunRecord
from builder.run import rundir


def _record() -> RunRecord:
    return RunRecord(mode="bare", suite="s", rep="0", kind="perf", command=["x"], returncode=0,
                     started="a", ended="b", wall_s=1.0)  # fmt: skip


def test_rep_is_complete_only_with_a_valid_record(tmp_path: Path) -> None:
    folder = rundir.rep_dir(tmp_path, "bare", "s", "0")
    folder.mkdir(parents=True)
    assert not rundir.is_complete(folder)
    (folder / "record.json").write_text("{trunc")
    assert not rundir.is_complete(folder)
    rundir.write_record(folder, _record())
    assert rundir.read_record(folder) == _record()


def test_reset_rep_removes_partial_outputs(tmp_path: Path) -> None:
    folder = tmp_path / "bare" / "s" / "0"
    folder.mkdir(parents=True)
    (folder / "stdout").write_text("half")
    rundir.reset_rep(folder)
    assert folder.is_dir() and not any(folder.iterdir())


def test_manifest_round_trip_and_errors_name_the_file(tmp_path: Path) -> None:
    manifest = CampaignManifest(id="r", site="local", image="i", suites=["s"], reps=2,
                                created="t", toolkit_version="0")  # fmt: skip
    rundir.write_manifest(tmp_path, manifest)
    assert rundir.read_manifest(tmp_path) == manifest
    with pytest.raises(EsdcError, match="not a run directory"):
        rundir.read_manifest(tmp_path / "nope")
    (tmp_path / "run.json").write_text('{"id": 1}')
    with pytest.raises(EsdcError, match=r"run\.json: invalid run manifest"):
        rundir.read_manifest(tmp_path)


def test_run_ids_sort_by_time_and_name_the_site() -> None:
    from datetime import UTC, datetime

    first = rundir.new_run_id("local", datetime(2026, 1, 1, tzinfo=UTC))
    second = rundir.new_run_id("local", datetime(2026, 1, 2, tzinfo=UTC))
    assert first < second and "-local-" in first
