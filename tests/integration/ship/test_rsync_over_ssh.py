"""rsync over a real sshd on 127.0.0.1, with the remote sha256 checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.errors import EsdcError
from builder.ship import rsync
from builder.ship.digest import file_sha256

pytestmark = pytest.mark.integration


def test_rsync_ship_checks_the_remote_digest(
    local_sshd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESDC_SSH_CONFIG", str(local_sshd))
    image = tmp_path / "nest@local.sqfs"
    image.write_bytes(b"squashfs" * 10000)
    remote_dir = tmp_path / "remote" / "images"
    result = rsync.ship(image, f"esdc-test:{remote_dir}")
    assert result.verified and result.digest == file_sha256(image)
    assert (remote_dir / image.name).read_bytes() == image.read_bytes()


def test_unreachable_ssh_host_names_the_host(
    local_sshd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESDC_SSH_CONFIG", str(local_sshd))
    image = tmp_path / "i.sqfs"
    image.write_bytes(b"x")
    with pytest.raises(EsdcError, match=r"^127\.0\.0\.1-nonexistent"):
        rsync.ship(image, "127.0.0.1-nonexistent:/tmp/x")
