"""The debootstrap base: mirror discovery from apt sources and the commands it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.build.debian_base import (
    debootstrap_argv,
    make_base_tarball,
    mirror_from_sources,
    tar_argv,
)
from builder.errors import EsdcError

DEB822 = """Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
"""


def test_mirror_from_deb822_sources() -> None:
    assert mirror_from_sources([DEB822], "bookworm") == "http://deb.debian.org/debian"


def test_mirror_from_one_line_sources_with_options() -> None:
    text = (
        "deb http://security.debian.org/debian-security bookworm-security main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://ftp.de.debian.org/debian bookworm main\n"
    )
    assert mirror_from_sources([text], "bookworm") == "http://ftp.de.debian.org/debian"


def test_no_mirror_for_another_suite() -> None:
    assert mirror_from_sources([DEB822], "trixie") is None


def test_debootstrap_is_minbase() -> None:
    assert debootstrap_argv("bookworm", Path("/t/root"), "http://m/debian") == [
        "debootstrap",
        "--variant=minbase",
        "bookworm",
        "/t/root",
        "http://m/debian",
    ]


def test_tarball_leaves_out_device_nodes() -> None:
    # design.md: importing a directory followed /dev/full and filled the disk.
    assert "--exclude=./dev/*" in tar_argv(Path("/r"), Path("/b.tgz"))


def test_unknown_base_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EsdcError, match="no debootstrap recipe"):
        make_base_tarball("rockylinux:8", tmp_path / "b.tgz", tmp_path / "b.log")


def test_existing_tarball_is_reused(tmp_path: Path) -> None:
    tarball = tmp_path / "b.tgz"
    tarball.write_bytes(b"cached")
    assert make_base_tarball("debian:12", tarball, tmp_path / "b.log") == tarball
    assert not (tmp_path / "b.log").exists()
