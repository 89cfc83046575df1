"""``apptainer verify`` on the pull path, tested on the command it produces.

Apptainer cannot be installed here: a stand-in script on PATH records its arguments and
answers like ``apptainer verify`` would (exit 0 for a good signature, 255 otherwise).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.errors import EsdcError
from builder.ship.apptainer import verify_argv, verify_sif


def test_verify_command_as_produced() -> None:
    assert verify_argv(Path("n.sif"), Path("/k/site.pub")) == [
        "apptainer",
        "verify",
        "--key",
        "/k/site.pub",
        "n.sif",
    ]


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "apptainer"
    script.write_text(
        '#!/bin/sh\necho "$@" > "$(dirname "$0")/argv"\n'
        'case "$4" in *bad*) echo "FATAL: signature not valid" >&2; exit 255;; esac\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return bin_dir


def test_stand_in_apptainer_receives_the_command_as_produced(
    stand_in: Path, tmp_path: Path
) -> None:
    verify_sif(tmp_path / "good.sif", tmp_path / "site.pub", shown_as="reg/x:1")
    argv = (stand_in / "argv").read_text().split()
    assert argv == ["verify", "--key", str(tmp_path / "site.pub"), str(tmp_path / "good.sif")]


def test_a_failed_apptainer_verify_is_one_line(stand_in: Path, tmp_path: Path) -> None:
    with pytest.raises(EsdcError, match="reg/x:1: apptainer verify failed: FATAL: signature"):
        verify_sif(tmp_path / "bad.sif", tmp_path / "site.pub", shown_as="reg/x:1")


def test_missing_apptainer_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EsdcError, match="needs apptainer"):
        verify_sif(tmp_path / "x.sif", tmp_path / "k.pub", shown_as="r")
