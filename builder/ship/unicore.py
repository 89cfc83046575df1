"""UNICORE storages through PyUNICORE: upload an image, then read it back to check its digest.

UNICORE's REST API offers no server-side checksum that every deployment enables, so the check
streams the remote file back and hashes it. That doubles the traffic and is worth it: an image
that a site runs must be the image that was verified.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pyunicore.client as uc
import pyunicore.credentials as uc_credentials

from builder.errors import EsdcError
from builder.model.ship import ShipResult
from builder.ship.digest import file_sha256, require_digest_match, sha256_of_chunks
from builder.ship.secrets import read_secret

_CHUNK = 1 << 20


def storage_url(endpoint: str, storage: str) -> str:
    """The REST URL of a storage: ``<endpoint>/storages/<storage>``."""
    return f"{endpoint.rstrip('/')}/storages/{storage.strip('/')}"


def credential_from_env() -> uc_credentials.Credential:
    """A bearer token (``ESDC_UNICORE_TOKEN[_FILE]``) or user and password."""
    token = read_secret("UNICORE_TOKEN")
    if token is not None:
        return uc_credentials.OIDCToken(token.get_secret_value())
    user = read_secret("UNICORE_USER")
    password = read_secret("UNICORE_PASSWORD")
    if user is None or password is None:
        raise EsdcError(
            "no UNICORE credentials: set ESDC_UNICORE_TOKEN (or _FILE), "
            "or ESDC_UNICORE_USER and ESDC_UNICORE_PASSWORD (or _FILE)"
        )
    return uc_credentials.UsernamePassword(user.get_secret_value(), password.get_secret_value())


def ship(
    image: Path,
    endpoint: str,
    storage: str,
    *,
    destination: str | None = None,
    credential: uc_credentials.Credential | None = None,
    verify_tls: bool = True,
) -> ShipResult:
    """Upload ``image`` into the storage and check the digest of what the storage returns."""
    local_digest = file_sha256(image)
    url = storage_url(endpoint, storage)
    remote_name = destination or f"esdc/{image.name}"
    transport = uc.Transport(credential or credential_from_env(), verify=verify_tls)
    try:
        store = uc.Storage(transport, url)
        store.upload(str(image), destination=remote_name)
        remote_file = store.stat(remote_name)
        with remote_file.raw() as response:
            remote_digest = sha256_of_chunks(response.iter_raw(_CHUNK))
    except (httpx.HTTPError, OSError, KeyError) as exc:
        raise EsdcError(f"UNICORE transfer failed: {type(exc).__name__}: {exc}", where=url) from exc
    require_digest_match(local_digest, remote_digest, where=f"{url}/files/{remote_name}")
    return ShipResult(
        image=str(image),
        destination=f"{url}/files/{remote_name}",
        transport="unicore",
        digest=local_digest,
        size=image.stat().st_size,
        verified=True,
    )
