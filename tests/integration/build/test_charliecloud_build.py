"""Real Charliecloud builds: a tiny Dockerfile FROM the imported debian:12 base, run with ch-run.

The debootstrap base and built images are cached under ESDC_CACHE (default ~/.cache/esdc):
the first run on a fresh machine bootstraps Debian (about a minute), later runs reuse it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from builder.build.api import build_image
from builder.build.charliecloud import CharliecloudRuntime
from builder.build.hashing import file_sha256

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(2400),  # a cold image build can pass the default 600 s
    pytest.mark.skipif(
        not all(shutil.which(t) for t in ("ch-image", "ch-run", "debootstrap"))
        or os.geteuid() != 0,
        reason="Charliecloud and debootstrap (as root) needed",
    ),
]


def _context(tmp_path: Path, marker: str) -> Path:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "hello.txt").write_text(f"hello {marker}\n")
    (context / "Dockerfile").write_text(
        "FROM debian:12\n"
        "LABEL org.ebrains.esdc.environment=tiny org.ebrains.esdc.site=local\n"
        "COPY hello.txt /opt/hello.txt\n"
        "RUN echo built > /etc/esdc-test\n"
    )
    return context


def test_build_run_and_sidecars(tmp_path: Path) -> None:
    context = _context(tmp_path, "integration")
    result = build_image(context / "Dockerfile", output=tmp_path / "img", site=None)
    image = result.image
    assert image.runtime == "charliecloud" and image.path == tmp_path / "img"
    assert image.tag == "esdc/tiny:local"

    runtime = CharliecloudRuntime()
    argv = runtime.exec_argv(str(image.path), ["cat", "/opt/hello.txt", "/etc/esdc-test"])
    proc = subprocess.run(argv, env=runtime.env, capture_output=True, text=True, check=True)
    assert proc.stdout == "hello integration\nbuilt\n"

    provenance = json.loads(result.provenance.read_text())
    assert provenance["image_digest"] == image.digest
    assert provenance["base_image"] == "debian:12"
    assert provenance["base_digest"].startswith("sha256:")
    assert provenance["env"] == "tiny" and provenance["site"] == "local"
    assert provenance["runtime_versions"]["ch-run"]
    sbom = json.loads(result.sbom.read_text())
    names = {c["name"] for c in sbom["components"]}
    assert {"base-files", "dpkg", "libc6"} <= names
    assert result.sbom_components == len(sbom["components"])


def test_unchanged_definition_is_not_rebuilt(tmp_path: Path) -> None:
    context = _context(tmp_path, "cached")
    first = build_image(context / "Dockerfile", output=tmp_path / "a", site=None)
    second = build_image(context / "Dockerfile", output=tmp_path / "b", site=None)
    assert second.image.cached is True
    assert second.image.digest == first.image.digest


def test_hybrid_mpirun_launches_one_ch_run_per_rank(tmp_path: Path) -> None:
    # The image needs no MPI for this: each rank is a plain program started through ch-run.
    # With --join the first ch-run's command must outlive the others' joining (ch-run(1),
    # caveats); MPI ranks do, waiting for each other in MPI_Init; here a short sleep does.
    context = _context(tmp_path, "hybrid")
    image = build_image(context / "Dockerfile", output=tmp_path / "img", site=None).image
    runtime = CharliecloudRuntime()
    argv = [
        "mpirun",
        "--allow-run-as-root",
        "--oversubscribe",
        "-np",
        "2",
        *runtime.exec_argv(str(image.path), ["sh", "-c", "cat /opt/hello.txt; sleep 2"], join=True),
    ]
    proc = subprocess.run(argv, env=runtime.env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("hello hybrid") == 2


def test_squashfs_output_for_shipping(tmp_path: Path) -> None:
    context = _context(tmp_path, "squash")
    result = build_image(context / "Dockerfile", output=tmp_path / "img.sqfs", site=None)
    assert result.image.path.is_file()
    assert result.image.digest == file_sha256(result.image.path)
    assert result.image.unpacked is not None and result.image.unpacked.is_dir()
    assert result.sbom_components > 50  # listed from the unpacked copy
    listing = subprocess.run(
        ["unsquashfs", "-l", str(result.image.path)], capture_output=True, text=True, check=True
    ).stdout
    assert "/opt/hello.txt" in listing
