"""Wheels of an environment's ``pip_packages``, fetched into the build context before a build.

A generated definition of an OS-package site installs its pip packages from wheels in the build
context (``COPY .esdc-wheels/``), so whoever builds it (``esdc build``, ``esdc validate``, the
pipeline's build job) gets the wheels first, with the host's pip.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from builder.errors import EsdcError

#: Seconds one ``pip download`` may take.
WHEEL_TIMEOUT = 600


def wheel_download_argv(requirements: list[str], target: Path) -> list[str]:
    """The host pip command that fetches the wheels of an environment's pip_packages (pure)."""
    return [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--dest", str(target), *requirements,
    ]  # fmt: skip


def fetch_wheels(env: str) -> Path | None:
    """Fetch the environment's pip_packages wheels into the build context with the host's pip.

    The image build then needs no network access or certificates of its own (the host's pip is
    configured for this network: it installed the toolkit), and the image runs the very wheel
    the host runs. Returns the folder, or ``None`` when the environment has no pip packages.
    """
    from builder.generate.context import WHEELS_DIR
    from builder.profiles import load_env, project_root

    requirements = load_env(env).meta.pip_packages
    if not requirements:
        return None
    target = project_root() / WHEELS_DIR
    try:
        done = subprocess.run(
            wheel_download_argv(requirements, target),
            capture_output=True,
            text=True,
            timeout=WHEEL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise EsdcError(
            f"pip download took over {WHEEL_TIMEOUT} s", where=f"environment {env}"
        ) from exc
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise EsdcError(f"pip download failed: {last}", where=f"environment {env}")
    return target
