"""scripts/setup-local.sh from scratch: in a chroot of the debootstrap base, with a tiny package.

The real package list takes many minutes to install, so the test replaces it through
ESDC_SETUP_PACKAGES; everything else (root check, apt-get update only when needed, quiet
output, the policy-rc.d guard, idempotence) is the script as CI runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from builder.build.charliecloud import CharliecloudRuntime
from builder.build.debian_base import make_base_tarball

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("debootstrap") is None,
        reason="chroot and debootstrap need root",
    ),
]

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "setup-local.sh"


@pytest.fixture
def chroot(tmp_path: Path) -> Path:
    cache = CharliecloudRuntime().cache / "base"
    tarball = make_base_tarball("debian:12", cache / "debian-12.tgz", cache / "debian-12.log")
    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(["tar", "-C", str(root), "-xzf", str(tarball)], check=True)
    # The tarball has no device nodes (see debian_base); apt and bash need /dev/null.
    subprocess.run(["mknod", "-m", "666", str(root / "dev" / "null"), "c", "1", "3"], check=True)
    shutil.copy2("/etc/resolv.conf", root / "etc" / "resolv.conf")
    shutil.copy2(SCRIPT, root / "setup-local.sh")
    return root


def _run(root: Path, *env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "chroot",
            str(root),
            "/usr/bin/env",
            "-i",
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
            *env,
            "bash",
            "/setup-local.sh",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _age_package_lists(root: Path) -> None:
    lists = root / "var" / "lib" / "apt" / "lists"
    for index in lists.glob("*_Packages*"):
        os.utime(index, (0, 0))


def test_setup_installs_from_scratch_then_does_nothing(chroot: Path) -> None:
    _age_package_lists(chroot)
    first = _run(chroot, "ESDC_SETUP_PACKAGES=hello")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "setup-local: apt-get update" in first.stdout  # lists older than a day
    assert "done: 1 packages present" in first.stdout
    assert (chroot / "usr" / "bin" / "hello").is_file()
    assert not (chroot / "usr" / "sbin" / "policy-rc.d").exists()
    assert len(first.stdout.splitlines()) <= 4  # quiet: apt's output is in the log only

    second = _run(chroot, "ESDC_SETUP_PACKAGES=hello")
    assert second.returncode == 0
    assert second.stdout.strip() == "setup-local: all 1 packages already installed"


def test_setup_unknown_package_fails_with_a_clear_message(chroot: Path) -> None:
    proc = _run(chroot, "ESDC_SETUP_PACKAGES=no-such-package-esdc")
    assert proc.returncode == 1
    assert "setup-local: error: apt-get install failed" in proc.stderr
    assert "Unable to locate package no-such-package-esdc" in proc.stderr


def test_setup_refuses_to_run_unprivileged() -> None:
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "bash", str(SCRIPT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("setup-local: error: must run as root")
