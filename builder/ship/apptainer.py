"""Apptainer's own signature on the pull path: ``apptainer verify --key PUBKEY IMAGE``.

A SIF signed at build time by ``apptainer sign --key KEY`` (``builder.build.signing``) carries
its signature inside the file; a verified pull can ask Apptainer to check it with the site's
public key before the file appears. Apptainer cannot be installed on the development machine:
this path is tested on the command it produces.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from builder.errors import EsdcError


def verify_argv(image: Path, public_key: Path, executable: str = "apptainer") -> list[str]:
    """``apptainer verify --key PUBKEY IMAGE`` (pure)."""
    return [executable, "verify", "--key", str(public_key), str(image)]


def verify_sif(image: Path, public_key: Path, *, shown_as: str) -> None:
    """Run ``apptainer verify`` on ``image``; one line naming ``shown_as`` when it fails."""
    executable = shutil.which("apptainer")
    if executable is None:
        raise EsdcError("--apptainer-verify needs apptainer on PATH", where=shown_as)
    done = subprocess.run(
        verify_argv(image, public_key, executable),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise EsdcError(f"apptainer verify failed: {last[:200]}", where=shown_as)
