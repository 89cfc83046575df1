"""DSSE signing and checking with PEM keys as openssl writes them (made here by cryptography)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from builder.errors import EsdcError
from builder.ship import dsse
from builder.ship.dsse import SignatureStatus


def write_key(path: Path, key: dsse.PrivateKey | rsa.RSAPrivateKey) -> tuple[Path, Path]:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pub = path.with_suffix(".pub")
    pub.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path, pub


@pytest.fixture(params=["ed25519", "p256"])
def keypair(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path]:
    key: dsse.PrivateKey = (
        ed25519.Ed25519PrivateKey.generate()
        if request.param == "ed25519"
        else ec.generate_private_key(ec.SECP256R1())
    )
    return write_key(tmp_path / "site.pem", key)


def test_pae_is_the_dsse_encoding() -> None:
    assert dsse.pae("a/b", b"hello") == b"DSSEv1 3 a/b 5 hello"


def test_signed_envelope_verifies_with_the_public_key(keypair: tuple[Path, Path]) -> None:
    private, public = keypair
    envelope = dsse.sign(b'{"x": 1}', dsse.load_signing_key(private))
    status, keyid = dsse.verify(envelope, [dsse.load_public_key(public)])
    assert status == SignatureStatus.VALID
    assert keyid == envelope.signatures[0].keyid and keyid.startswith("sha256:")


def test_changed_payload_is_invalid(keypair: tuple[Path, Path]) -> None:
    private, public = keypair
    envelope = dsse.sign(b'{"result": "FAILED"}', dsse.load_signing_key(private))
    envelope.payload = base64.b64encode(b'{"result": "PASSED"}').decode()
    status, _ = dsse.verify(envelope, [dsse.load_public_key(public)])
    assert status == SignatureStatus.INVALID


def test_another_key_is_untrusted(keypair: tuple[Path, Path], tmp_path: Path) -> None:
    private, _ = keypair
    _, other_pub = write_key(tmp_path / "other.pem", ed25519.Ed25519PrivateKey.generate())
    envelope = dsse.sign(b"{}", dsse.load_signing_key(private))
    status, keyid = dsse.verify(envelope, [dsse.load_public_key(other_pub)])
    assert status == SignatureStatus.UNTRUSTED and keyid == envelope.signatures[0].keyid


def test_signing_key_comes_from_the_environment(
    keypair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESDC_SIGNING_KEY", str(keypair[0]))
    assert dsse.load_signing_key() is not None
    monkeypatch.delenv("ESDC_SIGNING_KEY")
    with pytest.raises(EsdcError, match="ESDC_SIGNING_KEY"):
        dsse.load_signing_key()


def test_bad_key_files_are_one_line_without_their_content(tmp_path: Path) -> None:
    secret = tmp_path / "garbage.pem"
    secret.write_text("-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXN0dWZm\n-----END PRIVATE KEY-----\n")
    with pytest.raises(EsdcError) as excinfo:
        dsse.load_signing_key(secret)
    assert "c2VjcmV0" not in str(excinfo.value) and str(secret) in str(excinfo.value)
    rsa_key, rsa_pub = write_key(tmp_path / "rsa.pem", rsa.generate_private_key(65537, 2048))
    with pytest.raises(EsdcError, match="ed25519 or EC P-256"):
        dsse.load_signing_key(rsa_key)
    with pytest.raises(EsdcError, match="ed25519 or EC P-256"):
        dsse.load_public_key(rsa_pub)
    with pytest.raises(EsdcError, match="cannot read"):
        dsse.load_public_key(tmp_path / "absent.pub")


def test_malformed_envelopes_are_refused() -> None:
    with pytest.raises(EsdcError, match="not a DSSE envelope"):
        dsse.parse_envelope(b'{"payload": "x"}', where="here")
    envelope = dsse.parse_envelope(
        b'{"payloadType": "t", "payload": "%%%", "signatures": [{"sig": "AA=="}]}', where="here"
    )
    with pytest.raises(EsdcError, match="not base64"):
        envelope.payload_bytes()
