"""The verbs ``esdc push``, ``esdc pull`` and ``esdc ship``: pick a transport, check digests."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from builder.errors import EsdcError
from builder.model.ship import ShipResult
from builder.ship import registry, rsync, unicore

if TYPE_CHECKING:
    from builder.ship.attest import AttestResult
    from builder.ship.catalog import Catalog


def push_image(image: Path, ref: str) -> ShipResult:
    """Push an image file to an OCI registry (credentials from ``ESDC_REGISTRY_*``)."""
    if not image.is_file():
        raise EsdcError("no such image file", where=image)
    return registry.push(image, ref, credentials=registry.credentials_from_env())


def tag_image(ref: str, new_tag: str) -> registry.TagResult:
    """Give the manifest at ``ref`` (a tag or ``@sha256:`` digest) another tag, no re-upload."""
    return registry.tag(ref, new_tag, credentials=registry.credentials_from_env())


def pull_image(
    ref: str,
    output: Path | None = None,
    *,
    verified_for: str | None = None,
    trust: list[Path] | None = None,
    apptainer_verify: bool = False,
) -> ShipResult:
    """Pull an image file from an OCI registry; it appears only once its digest checks out.

    With ``verified_for`` the image must carry a valid attestation, signed by one of the
    ``trust`` keys, saying it passed at that site; the manifest checked is the one downloaded.
    ``apptainer_verify`` also runs ``apptainer verify --key`` with the first trusted key.
    """
    credentials = registry.credentials_from_env()
    if verified_for is None:
        if trust or apptainer_verify:
            raise EsdcError("--trust and --apptainer-verify are used with --verified-for SITE")
        return registry.pull(ref, output, credentials=credentials)
    from builder.ship.trust import attestations_of, load_trusted, require_verified

    if not trust:
        raise EsdcError("--verified-for needs --trust PUBKEY (the site's public key)")
    keys = load_trusted(trust)
    if output is not None:
        registry.require_writable_target(output)
    parsed = registry.parse_ref(ref)
    client = registry.client_for(parsed, credentials)
    with registry.registry_errors(parsed, "verify"):
        image = registry.fetch_manifest(client, parsed)
        records = attestations_of(client, parsed, image.digest, keys)
    require_verified(records, verified_for, f"{parsed.name}@{image.digest}")
    from builder.ship.apptainer import verify_sif

    check = (
        partial(verify_sif, public_key=trust[0], shown_as=parsed.text) if apptainer_verify else None
    )
    return registry.pull(
        ref, output, credentials=credentials, expect_manifest=image.digest, check=check
    )


def attest_run(
    run_dir: Path,
    ref: str,
    *,
    records_url: str | None = None,
    provenance: Path | None = None,
    sbom: Path | None = None,
) -> AttestResult:
    """Sign RUN_DIR's verdict for the image at REF and attach it, the report, provenance, SBOM."""
    from builder.ship.attest import attest

    return attest(
        run_dir,
        ref,
        credentials=registry.credentials_from_env(),
        records_url=records_url,
        provenance=provenance,
        sbom=sbom,
    )


def registry_ref_for(prefix: str, image: Path) -> str:
    """The reference an image file goes to under a registry prefix (pure).

    ``images/nest@jureca-dc.sif`` -> ``PREFIX/nest:jureca-dc``; ``images/mpi-base.sif`` ->
    ``PREFIX/mpi-base:latest``. Repository names are lower case, tags limited to 128 characters.
    """
    name, _, tag = image.stem.partition("@")
    repository = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._") or "image"
    tag = re.sub(r"[^A-Za-z0-9_.-]+", "-", tag).strip("-.")[:128] or "latest"
    return f"{prefix.rstrip('/')}/{repository}:{tag}"


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
        return push_image(image, registry_ref_for(transfer.registry, image))
    if transfer.unicore_endpoint and transfer.unicore_storage:
        return unicore.ship(image, transfer.unicore_endpoint, transfer.unicore_storage)
    if transfer.rsync_target:
        return rsync.ship(image, transfer.rsync_target)
    raise EsdcError(f"site {site!r} declares no transfer (registry, unicore, rsync)")


def catalog_repository(
    repo: str, *, site: str | None = None, trust: list[Path] | None = None
) -> Catalog:
    """The catalog of REPO: verified digests per site (signatures checked with ``trust``)."""
    from builder.ship.catalog import build_catalog
    from builder.ship.trust import load_trusted

    return build_catalog(
        repo,
        site=site,
        trusted=load_trusted(trust) if trust else None,
        credentials=registry.credentials_from_env(),
    )
