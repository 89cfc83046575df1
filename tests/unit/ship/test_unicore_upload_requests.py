"""UNICORE storage upload: the requests PyUNICORE makes, against the recording server.

A UNICORE server cannot run here; ``unicore`` (tests/conftest.py) records what the real client
sends and serves uploaded files back, so the digest check runs end to end over HTTP.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pyunicore.credentials as uc_credentials

from builder.errors import EsdcError
from builder.ship import unicore as ship_unicore
from builder.ship.digest import file_sha256

if TYPE_CHECKING:
    from conftest import FakeUnicore

TOKEN = "tok-upload-never-printed"


def test_unicore_upload_requests_put_the_image_and_read_it_back(
    unicore: FakeUnicore, tmp_path: Path
) -> None:
    image = tmp_path / "nest@jureca-dc.sif"
    image.write_bytes(b"SIF" * 1000)
    result = ship_unicore.ship(
        image,
        unicore.base,
        "J1-uspace",
        credential=uc_credentials.OIDCToken(TOKEN),
        verify_tls=False,
    )
    assert result.verified and result.digest == file_sha256(image)
    assert result.destination.endswith("/storages/J1-uspace/files/esdc/nest@jureca-dc.sif")
    puts = [r for r in unicore.requests if r[0] == "PUT"]
    assert [r[1] for r in puts] == [
        "/SITE/rest/core/storages/J1-uspace/files/esdc/nest@jureca-dc.sif"
    ]
    assert puts[0][3] == image.read_bytes()
    for _method, path, headers, body in unicore.requests:
        assert headers.get("Authorization") == f"Bearer {TOKEN}"
        assert TOKEN not in path and TOKEN.encode() not in body
    assert TOKEN not in result.model_dump_json()


def test_unicore_upload_without_credentials_says_which_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("TOKEN", "TOKEN_FILE", "USER", "PASSWORD", "USER_FILE", "PASSWORD_FILE"):
        monkeypatch.delenv(f"ESDC_UNICORE_{name}", raising=False)
    image = tmp_path / "i.sif"
    image.write_bytes(b"x")
    with pytest.raises(EsdcError, match="ESDC_UNICORE_TOKEN"):
        ship_unicore.ship(image, "https://unicore.example/rest/core", "HOME")
