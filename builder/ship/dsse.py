"""DSSE envelopes signed with a site's key (Ed25519 or ECDSA P-256), with ``cryptography``.

Keys are PEM files as ``openssl genpkey -algorithm ed25519`` (or ``-algorithm EC -pkeyopt
ec_paramgen_curve:P-256``) writes them: the private key's path is in ``ESDC_SIGNING_KEY``, the
public key (``openssl pkey -in KEY -pubout``) is what a verifier trusts. Key material is never
printed, logged or written anywhere; messages name the key file and its key id only.
The key id is ``sha256:`` of the public key's DER SubjectPublicKeyInfo.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from pydantic import BaseModel, Field, ValidationError

from builder.errors import EsdcError

KEY_VARIABLE = "ESDC_SIGNING_KEY"
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


class Signature(BaseModel):
    """One DSSE signature."""

    keyid: str = ""
    sig: str = Field(min_length=1)


class Envelope(BaseModel):
    """A DSSE envelope (``payload`` and ``sig`` are standard base64)."""

    payload_type: str = Field(alias="payloadType")
    payload: str
    signatures: list[Signature] = Field(min_length=1)

    model_config = {"populate_by_name": True}

    def payload_bytes(self) -> bytes:
        """The decoded payload (raises EsdcError when it is not base64)."""
        return _b64decode(self.payload, "payload")


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is actually signed."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def key_id(public_key: PublicKey) -> str:
    """``sha256:`` of the public key's DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"sha256:{hashlib.sha256(der).hexdigest()}"


def load_signing_key(path: Path | None = None) -> PrivateKey:
    """The site's private key from ``path`` or the file named by ``ESDC_SIGNING_KEY``."""
    if path is None:
        value = os.environ.get(KEY_VARIABLE)
        if not value:
            raise EsdcError(f"no signing key: set {KEY_VARIABLE} to a PEM private key file")
        path = Path(value).expanduser()
    data = _read_key_file(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:
        raise EsdcError("encrypted private keys are not supported", where=path) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise EsdcError("not a PEM private key (ed25519 or EC P-256)", where=path) from exc
    if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) and _supported(
        key.public_key()
    ):
        return key
    raise EsdcError("unsupported key type: use ed25519 or EC P-256", where=path)


def load_public_key(path: Path) -> PublicKey:
    """A trusted public key (PEM SubjectPublicKeyInfo) from ``path``."""
    data = _read_key_file(path)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise EsdcError("not a PEM public key (ed25519 or EC P-256)", where=path) from exc
    if isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey) and _supported(key):
        return key
    raise EsdcError("unsupported key type: use ed25519 or EC P-256", where=path)


def _supported(key: PublicKey) -> bool:
    """Ed25519, or ECDSA on P-256 (what DSSE verifiers commonly accept)."""
    return isinstance(key, ed25519.Ed25519PublicKey) or isinstance(key.curve, ec.SECP256R1)


def sign(payload: bytes, key: PrivateKey, payload_type: str = IN_TOTO_PAYLOAD_TYPE) -> Envelope:
    """A DSSE envelope holding ``payload`` with one signature by ``key``."""
    message = pae(payload_type, payload)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(message)
    else:
        signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    return Envelope(
        payload_type=payload_type,
        payload=base64.b64encode(payload).decode(),
        signatures=[
            Signature(keyid=key_id(key.public_key()), sig=base64.b64encode(signature).decode())
        ],
    )


def parse_envelope(raw: bytes, *, where: str) -> Envelope:
    """Validate an envelope's JSON bytes."""
    try:
        return Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise EsdcError("not a DSSE envelope", where=where) from exc


class SignatureStatus(StrEnum):
    """What checking an envelope's signatures against the trusted keys found."""

    VALID = "valid"
    #: A trusted key's signature is there but does not verify: the payload was changed.
    INVALID = "invalid"
    #: No signature is by a trusted key.
    UNTRUSTED = "untrusted"
    NOT_CHECKED = "not checked"


def verify(envelope: Envelope, trusted: list[PublicKey]) -> tuple[SignatureStatus, str]:
    """Check the signatures; returns the status and the key id it concerns.

    VALID names the trusted key that verified; otherwise the first signature's claimed key id.
    """
    payload = envelope.payload_bytes()
    message = pae(envelope.payload_type, payload)
    by_id = {key_id(key): key for key in trusted}
    status = SignatureStatus.UNTRUSTED
    for signature in envelope.signatures:
        raw_sig = _b64decode(signature.sig, "signature")
        named = by_id.get(signature.keyid)
        # The key id is a hint: a signature without one is tried against every trusted key.
        for key in [named] if named is not None else list(trusted):
            if _verifies(key, raw_sig, message):
                return SignatureStatus.VALID, key_id(key)
        if named is not None:
            status = SignatureStatus.INVALID
    return status, envelope.signatures[0].keyid


def _verifies(key: PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        else:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _read_key_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise EsdcError(f"cannot read key file: {exc.strerror or exc}", where=path) from exc


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EsdcError(f"DSSE {what} is not base64") from exc
