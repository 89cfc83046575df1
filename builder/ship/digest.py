"""Digests of image files, streamed so that multi-gigabyte images need no memory."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from builder.errors import EsdcError

_CHUNK = 1 << 20


def sha256_of_chunks(chunks: Iterable[bytes]) -> str:
    """The ``sha256:<hex>`` digest of a stream of byte chunks."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def file_sha256(path: Path) -> str:
    """The ``sha256:<hex>`` digest of a file; raises :class:`EsdcError` naming it if unreadable."""
    try:
        with open(path, "rb") as handle:
            return sha256_of_chunks(iter(lambda: handle.read(_CHUNK), b""))
    except OSError as exc:
        raise EsdcError(f"cannot read image: {exc.strerror or exc}", where=path) from exc


def require_digest_match(expected: str, actual: str, *, where: str) -> None:
    """Raise when two digests differ: a shipped image that does not match is never accepted."""
    if expected != actual:
        raise EsdcError(f"digest mismatch: expected {expected}, got {actual}", where=where)
