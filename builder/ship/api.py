"""The verbs ``esdc push``, ``esdc pull`` and ``esdc ship``: pick a transport, check digests."""

from __future__ import annotations

from pathlib import Path

from builder.errors import EsdcError
from builder.model.ship import ShipResult
from builder.ship import registry, rsync, unicore


def push_image(image: Path, ref: str) -> ShipResult:
    """Push an image file to an OCI registry (credentials from ``ESDC_REGISTRY_*``)."""
    if not image.is_file():
        raise EsdcError("no such image file", where=image)
    return registry.push(image, ref, credentials=registry.credentials_from_env())


def tag_image(ref: str, new_tag: str) -> registry.TagResult:
    """Give the manifest at ``ref`` (a tag or ``@sha256:`` digest) another tag, no re-upload."""
    return registry.tag(ref, new_tag, credentials=registry.credentials_from_env())


def pull_image(ref: str, output: Path | None = None) -> ShipResult:
    """Pull an image file from an OCI registry; it appears only once its digest checks out."""
    return registry.pull(ref, output, credentials=registry.credentials_from_env())


def ship_image(image: Path, site: str) -> ShipResult:
    """Ship an image to a site by the first transfer its profile declares.

    Order: OCI registry (``transfer.registry`` is a repository prefix; the tag is the image's
    file stem), then UNICORE storage, then rsync.
    """
    from builder.profiles import load_site

    if not image.is_file():
        raise EsdcError("no such image file", where=image)
    transfer = load_site(site).transfer
    if transfer.registry:
        ref = f"{transfer.registry.rstrip('/')}/{image.stem}:latest"
        return push_image(image, ref)
    if transfer.unicore_endpoint and transfer.unicore_storage:
        return unicore.ship(image, transfer.unicore_endpoint, transfer.unicore_storage)
    if transfer.rsync_target:
        return rsync.ship(image, transfer.rsync_target)
    raise EsdcError(f"site {site!r} declares no transfer (registry, unicore, rsync)")
