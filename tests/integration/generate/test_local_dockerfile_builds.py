"""The local site's Dockerfile builds with Charliecloud's ch-image and its checks pass in the image.

Needs ch-image (Charliecloud 0.31) and a Debian 12 minbase tarball (the build helper's cache
``~/.cache/esdc/charliecloud/base/debian-12.tgz``, or ``ESDC_DEBIAN12_TARBALL``); apt-get inside
the build reaches Debian's mirrors. Takes a few minutes on 2 cores.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from builder.generate.api import generate_definition

pytestmark = pytest.mark.integration

TARBALL = Path(
    os.environ.get(
        "ESDC_DEBIAN12_TARBALL",
        str(Path.home() / ".cache" / "esdc" / "charliecloud" / "base" / "debian-12.tgz"),
    )
)


def _ch_env(storage: Path) -> dict[str, str]:
    # design.md traps: /usr/bin first on PATH (Debian's lark), USER set, no REQUESTS_CA_BUNDLE.
    env = {k: v for k, v in os.environ.items() if k != "REQUESTS_CA_BUNDLE"}
    env.update(PATH="/usr/bin:/bin:/usr/sbin:/sbin", USER=env.get("USER", "root"))
    env["CH_IMAGE_STORAGE"] = str(storage)
    return env


@pytest.mark.skipif(shutil.which("ch-image", path="/usr/bin") is None, reason="no ch-image")
@pytest.mark.skipif(not TARBALL.is_file(), reason=f"no Debian 12 tarball at {TARBALL}")
def test_mpi_base_local_dockerfile_builds_and_its_checks_pass(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        generate_definition("mpi-base", "local", lock=None, fmt="dockerfile", commit="it")
    )
    env = _ch_env(tmp_path / "storage")

    def run(*argv: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(argv), env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    imported = run("ch-image", "import", str(TARBALL), "debian:12")
    assert imported.returncode == 0, imported.stderr
    built = run(
        "ch-image", "build", "--force", "-t", "esdc-it", "-f", str(dockerfile), str(tmp_path)
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    image = tmp_path / "image"
    converted = run("ch-convert", "-i", "ch-image", "-o", "dir", "esdc-it", str(image))
    assert converted.returncode == 0, converted.stderr
    checks = run("ch-run", str(image), "--", "sh", "/opt/esdc/test.sh", timeout=120)
    assert checks.returncode == 0, checks.stderr
    for library in (
        "Open MPI: Open MPI v4.1",
        "PMIx: PMIX: 4.2",
        "UCX: # Version 1.13",
        "libfabric:",
    ):
        assert library in checks.stdout
    labels = run("ch-run", str(image), "--", "cat", "/opt/esdc/labels", timeout=60)
    assert "org.ebrains.esdc.environment=mpi-base" in labels.stdout
    # ch-run applies the image's ENV (kept in /ch/environment) only with --set-env.
    environment = run(
        "ch-run", "--set-env", str(image), "--", "sh", "-c", "echo $OMPI_MCA_pml_ucx_tls"
    )
    assert environment.stdout.strip() == "any"
