"""Detached signatures of built images, when a signing key is configured.

The key is named by ``ESDC_SIGNING_KEY``: one PEM private key (ed25519 or EC P-256, as
``openssl genpkey`` writes it) serves image signatures and the verdict attestations of
``esdc attest``; it is never printed or logged.
SIF images are signed by ``apptainer sign --key`` (the signature lives inside the SIF); directory
or SquashFS images get a DSSE envelope (payload type :data:`DIGEST_PAYLOAD_TYPE`) over their
digest line, written beside them as ``IMAGE.sig`` and checked with the public key
(:func:`verify_image_signature`).

Order: ``esdc build`` signs before it writes provenance and SBOM, and for an embedded (SIF)
signature it takes the image digest again afterwards: both records name the signed bytes,
the ones that are shipped and pulled.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from builder.build.apptainer import sign_argv as apptainer_sign_argv
from builder.errors import EsdcError
from builder.fsio import atomic_write_text

KEY_VARIABLE = "ESDC_SIGNING_KEY"
#: DSSE payload type of an image signature: the payload is the image's ``sha256:...`` line.
DIGEST_PAYLOAD_TYPE = "application/vnd.esdc.image-digest.v1+text"


def signing_key(environ: Mapping[str, str]) -> Path | None:
    """The configured key file, or None; a configured but missing file is an error."""
    value = environ.get(KEY_VARIABLE)
    if not value:
        return None
    key = Path(value).expanduser()
    if not key.is_file():
        raise EsdcError(f"{KEY_VARIABLE} names no readable file", where=key)
    return key


def verify_image_signature(signature: Path, digest: str, trusted: Path) -> bool:
    """Whether ``signature`` (an ``IMAGE.sig`` envelope) signs ``digest`` with key ``trusted``."""
    from builder.ship.dsse import SignatureStatus, load_public_key, parse_envelope, verify

    try:
        raw = signature.read_bytes()
    except OSError as exc:
        raise EsdcError(f"cannot read: {exc.strerror or exc}", where=signature) from exc
    envelope = parse_envelope(raw, where=str(signature))
    status, _ = verify(envelope, [load_public_key(trusted)])
    return (
        status == SignatureStatus.VALID
        and envelope.payload_type == DIGEST_PAYLOAD_TYPE
        and envelope.payload_bytes() == f"{digest}\n".encode()
    )


def sign_image(image: Path, digest: str, runtime: str, key: Path) -> Path:
    """Sign ``image``; return the file holding the signature (the SIF itself for Apptainer)."""
    if runtime == "apptainer" and image.suffix == ".sif":
        _run(apptainer_sign_argv(image, key), image)
        return image
    from builder.ship.dsse import load_signing_key, sign

    # The signed message is the digest line, so a verifier needs only the digest and the key.
    envelope = sign(f"{digest}\n".encode(), load_signing_key(key), DIGEST_PAYLOAD_TYPE)
    signature = image.with_name(image.name + ".sig")
    atomic_write_text(signature, envelope.model_dump_json(by_alias=True) + "\n")
    return signature


def _run(argv: list[str], image: Path) -> None:
    proc = subprocess.run(
        argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    if proc.returncode != 0:
        # ssh-keygen's messages name the key file at most, never its contents.
        message = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        raise EsdcError(f"signing failed: {argv[0]}: {message[0]}", where=image)
