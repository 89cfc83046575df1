"""Detached signatures of built images, when a signing key is configured.

The key is named by ``ESDC_SIGNING_KEY`` (a path to a key file); its contents are never read
into this process, printed or logged: the signing tool reads the file itself.
SIF images are signed by ``apptainer sign`` (the signature lives inside the SIF); directory or
SquashFS images get an SSH signature (``ssh-keygen -Y sign``, namespace ``esdc-image``) of
their digest, written beside them as ``IMAGE.sig``.

Order: ``esdc build`` signs before it writes provenance and SBOM, and for an embedded (SIF)
signature it takes the image digest again afterwards: both records name the signed bytes,
the ones that are shipped and pulled.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from builder.build.apptainer import sign_argv as apptainer_sign_argv
from builder.errors import EsdcError
from builder.fsio import atomic_write_text

KEY_VARIABLE = "ESDC_SIGNING_KEY"
SSH_NAMESPACE = "esdc-image"


def signing_key(environ: Mapping[str, str]) -> Path | None:
    """The configured key file, or None; a configured but missing file is an error."""
    value = environ.get(KEY_VARIABLE)
    if not value:
        return None
    key = Path(value).expanduser()
    if not key.is_file():
        raise EsdcError(f"{KEY_VARIABLE} names no readable file", where=key)
    return key


def ssh_sign_argv(key: Path, message: Path) -> list[str]:
    """``ssh-keygen -Y sign`` of a file (pure); writes ``MESSAGE.sig``."""
    return ["ssh-keygen", "-Y", "sign", "-f", str(key), "-n", SSH_NAMESPACE, str(message)]


def ssh_verify_argv(allowed_signers: Path, identity: str, signature: Path) -> list[str]:
    """``ssh-keygen -Y verify`` of a digest file's signature, reading the digest on stdin (pure)."""
    return [
        "ssh-keygen",
        "-Y",
        "verify",
        "-f",
        str(allowed_signers),
        "-I",
        identity,
        "-n",
        SSH_NAMESPACE,
        "-s",
        str(signature),
    ]


def sign_image(image: Path, digest: str, runtime: str, key: Path) -> Path:
    """Sign ``image``; return the file holding the signature (the SIF itself for Apptainer)."""
    if runtime == "apptainer" and image.suffix == ".sif":
        _run(apptainer_sign_argv(image, key), image)
        return image
    signature = image.with_name(image.name + ".sig")
    with tempfile.TemporaryDirectory(prefix="esdc-sign-") as tmp:
        # The signed message is the digest line, so a verifier needs only the digest.
        message = Path(tmp) / "digest"
        atomic_write_text(message, digest + "\n")
        _run(ssh_sign_argv(key, message), image)
        os.replace(Path(tmp) / "digest.sig", signature)
    return signature


def _run(argv: list[str], image: Path) -> None:
    proc = subprocess.run(
        argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    if proc.returncode != 0:
        # ssh-keygen's messages name the key file at most, never its contents.
        message = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        raise EsdcError(f"signing failed: {argv[0]}: {message[0]}", where=image)
