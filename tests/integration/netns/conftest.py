"""A compiled MPI pingpong for the network-namespace tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[3] / "benchmarks" / "pingpong" / "pingpong.c"


@pytest.fixture(scope="session")
def pingpong(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``benchmarks/pingpong/pingpong.c`` built with Open MPI's mpicc."""
    if shutil.which("mpicc") is None:
        pytest.skip("mpicc (Debian libopenmpi-dev) is not installed")
    binary = tmp_path_factory.mktemp("pingpong") / "pingpong"
    subprocess.run(["mpicc", "-O2", "-o", str(binary), str(SOURCE)], check=True)
    return binary


@pytest.fixture(autouse=True)
def _needs_root() -> None:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2")
