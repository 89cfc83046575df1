"""Registry answers are input: manifest validation and the network limits' settings."""

from __future__ import annotations

import json

import pytest

from builder.errors import EsdcError
from builder.ship.oci import NetSettings, parse_index, parse_manifest

LAYER = {"mediaType": "x", "digest": "sha256:" + "a" * 64, "size": 3}


def test_a_valid_manifest_is_read() -> None:
    raw = json.dumps({"schemaVersion": 2, "config": LAYER, "layers": [LAYER]}).encode()
    assert parse_manifest(raw, where="r").layers[0].size == 3


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x00\x01", "not JSON"),
        (b'"text"', "not a JSON object"),
        (b'{"schemaVersion": 2, "manifests": []}', "index"),
        (b'{"schemaVersion": 2, "config": {}, "layers": []}', "config"),
        (
            json.dumps({"schemaVersion": 2, "config": LAYER, "layers": [{**LAYER, "size": "3"}]}),
            "size",
        ),
        (json.dumps({"schemaVersion": 2, "config": LAYER, "layers": {"a": 1}}), "layers"),
    ],
)
def test_malformed_manifests_name_the_field(raw: bytes | str, message: str) -> None:
    data = raw.encode() if isinstance(raw, str) else raw
    with pytest.raises(EsdcError, match=message) as excinfo:
        parse_manifest(data, where="host/repo:tag")
    assert str(excinfo.value).startswith("host/repo:tag: ")


def test_malformed_index_is_refused() -> None:
    with pytest.raises(EsdcError, match="malformed index"):
        parse_index(b'{"manifests": [{"digest": "md5:x"}]}', where="r")


def test_network_limits_come_from_the_environment() -> None:
    assert NetSettings.from_env({}).timeout_s == 10
    settings = NetSettings.from_env({"ESDC_NET_TIMEOUT": "2.5", "ESDC_NET_RETRIES": "0"})
    assert (settings.timeout_s, settings.retries) == (2.5, 0)
    for bad in (
        {"ESDC_NET_TIMEOUT": "-1"},
        {"ESDC_NET_TIMEOUT": "soon"},
        {"ESDC_NET_RETRIES": "99"},
    ):
        with pytest.raises(EsdcError, match="ESDC_NET_TIMEOUT"):
            NetSettings.from_env(bad)
