"""``esdc bench`` and ``esdc validate`` mistakes end in one line naming the culprit, exit 2."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _esdc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "builder.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_unknown_suite(tmp_path: Path) -> None:
    line = _one_line_error(
        _esdc("bench", "--site", "local", "--image", "x", "--suite", "hpl", cwd=tmp_path)
    )
    assert "unknown suite 'hpl'" in line and "pingpong" in line


def test_resume_of_a_folder_that_is_no_run_directory(tmp_path: Path) -> None:
    args = ("bench", "--site", "local", "--image", "x", "--resume", str(tmp_path / "nope"))
    line = _one_line_error(_esdc(*args, cwd=tmp_path))
    assert f"{tmp_path / 'nope' / 'run.json'}: not a run directory" in line


def test_unknown_site(tmp_path: Path) -> None:
    assert "unknown site 'nosuch'" in _one_line_error(
        _esdc("bench", "--site", "nosuch", "--image", "x", cwd=tmp_path)
    )


def test_image_that_cannot_run_is_named(tmp_path: Path) -> None:
    if shutil.which("ch-run") is None:
        pytest.skip("Charliecloud is not installed")
    missing = tmp_path / "no-image"
    args = ("bench", "--site", "local", "--image", str(missing), "--runs", str(tmp_path / "runs"))
    line = _one_line_error(_esdc(*args, cwd=tmp_path))
    assert line.startswith(f"esdc: error: {missing}: cannot run a command in the image")
