"""OCI registries through ORAS: push an image file as an artifact, pull it back, digests checked.

A SIF travels with Apptainer's media type, so ``apptainer pull oras://REF`` works at the site;
any other file (a Charliecloud squashfs or tarball) with an esd-containers media type.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import oras.container
import oras.provider
import requests
from pydantic import BaseModel, SecretStr

from builder.errors import EsdcError
from builder.model.ship import ShipResult
from builder.ship.digest import file_sha256, require_digest_match
from builder.ship.secrets import read_secret

SIF_MEDIA_TYPE = "application/vnd.sylabs.sif.layer.v1.sif"
GENERIC_MEDIA_TYPE = "application/vnd.esdc.image.layer.v1"
TITLE_ANNOTATION = "org.opencontainers.image.title"

#: Registries reached over plain HTTP without asking: only this machine's own.
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


class RegistryRef(BaseModel):
    """A parsed ``host[:port]/repository[:tag]`` reference."""

    registry: str
    repository: str
    tag: str

    @property
    def text(self) -> str:
        """The reference as a user writes it."""
        return f"{self.registry}/{self.repository}:{self.tag}"


class RegistryCredentials(BaseModel):
    """Registry user and password (``ESDC_REGISTRY_USER``, ``ESDC_REGISTRY_PASSWORD[_FILE]``)."""

    username: str
    password: SecretStr


def parse_ref(ref: str) -> RegistryRef:
    """Parse an OCI reference; the registry host must be explicit (no implicit Docker Hub)."""
    if "/" not in ref or ref.startswith("/"):
        raise EsdcError(f"not an OCI reference with a registry host: {ref!r}")
    try:
        container = oras.container.Container(ref)
    except Exception as exc:  # oras raises ValueError or its own types for bad names
        raise EsdcError(f"not a valid OCI reference: {ref!r} ({exc})") from exc
    return RegistryRef(
        registry=container.registry, repository=container.api_prefix, tag=container.tag
    )


def is_insecure_registry(registry: str) -> bool:
    """Plain HTTP is used only for registries on this machine, or when ESDC_REGISTRY_INSECURE=1."""
    if registry.startswith("["):
        host = registry.split("]")[0] + "]"
    else:
        host = registry.rsplit(":", 1)[0]
    return host in _LOCAL_HOSTS or os.environ.get("ESDC_REGISTRY_INSECURE") == "1"


def credentials_from_env() -> RegistryCredentials | None:
    """Registry credentials from the environment, or ``None`` for anonymous access."""
    user = os.environ.get("ESDC_REGISTRY_USER")
    password = read_secret("REGISTRY_PASSWORD")
    if not user or password is None:
        return None
    return RegistryCredentials(username=user, password=password)


def media_type_for(image: Path) -> str:
    """The layer media type of an image file."""
    return SIF_MEDIA_TYPE if image.suffix == ".sif" else GENERIC_MEDIA_TYPE


def probe_registry(ref: RegistryRef, timeout_s: float = 10.0) -> None:
    """Fail fast, naming the host, when the registry does not answer.

    oras retries connection errors with back-off for minutes; one GET of ``/v2/`` answers the
    question in seconds. Any HTTP answer (401 included) means the registry is there.
    """
    scheme = "http" if is_insecure_registry(ref.registry) else "https"
    try:
        requests.get(f"{scheme}://{ref.registry}/v2/", timeout=timeout_s)
    except requests.RequestException as exc:
        raise EsdcError(f"registry unreachable: {_short(exc)}", where=ref.registry) from exc


def _client(ref: RegistryRef, credentials: RegistryCredentials | None) -> oras.provider.Registry:
    probe_registry(ref)
    client = oras.provider.Registry(
        hostname=ref.registry,
        insecure=is_insecure_registry(ref.registry),
        auth_backend="basic" if credentials else "token",
    )
    if credentials is not None:
        # In memory only: oras' login() would write the password into a docker config file.
        client.auth.set_basic_auth(credentials.username, credentials.password.get_secret_value())
    return client


def _single_layer(manifest: dict[str, Any], ref: RegistryRef) -> dict[str, Any]:
    layers = manifest.get("layers") or []
    if len(layers) != 1:
        raise EsdcError(f"expected one image layer, found {len(layers)}", where=ref.text)
    layer: dict[str, Any] = layers[0]
    return layer


def push(
    image: Path,
    ref_text: str,
    *,
    annotations: dict[str, str] | None = None,
    credentials: RegistryCredentials | None = None,
) -> ShipResult:
    """Push ``image`` to ``ref_text`` and check that the registry holds exactly its bytes."""
    ref = parse_ref(ref_text)
    local_digest = file_sha256(image)
    client = _client(ref, credentials)
    try:
        response = client.push(
            target=ref.text,
            files=[f"{image}:{media_type_for(image)}"],
            disable_path_validation=True,
            manifest_annotations=annotations or None,
            quiet=True,
        )
        manifest = client.get_manifest(ref.text)
    except (requests.RequestException, ValueError) as exc:
        raise EsdcError(f"push failed: {_short(exc)}", where=ref.registry) from exc
    layer = _single_layer(manifest, ref)
    require_digest_match(local_digest, layer["digest"], where=ref.text)
    return ShipResult(
        image=str(image),
        destination=ref.text,
        transport="oras",
        digest=local_digest,
        size=image.stat().st_size,
        verified=True,
        manifest_digest=response.headers.get("Docker-Content-Digest"),
    )


def pull(
    ref_text: str, output: Path | None = None, *, credentials: RegistryCredentials | None = None
) -> ShipResult:
    """Pull the image at ``ref_text``; the file appears only once its digest matches."""
    ref = parse_ref(ref_text)
    client = _client(ref, credentials)
    try:
        manifest = client.get_manifest(ref.text)
        layer = _single_layer(manifest, ref)
        title = (layer.get("annotations") or {}).get(TITLE_ANNOTATION) or "image"
        target = output or Path(Path(title).name)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Download beside the target, check, then rename: no unchecked file ever appears.
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".esdc-pull-") as tmp:
            blob = Path(tmp) / "blob"
            client.download_blob(ref.text, layer["digest"], str(blob))
            pulled_digest = file_sha256(blob)
            require_digest_match(layer["digest"], pulled_digest, where=ref.text)
            os.replace(blob, target)
    except (requests.RequestException, ValueError) as exc:
        raise EsdcError(f"pull failed: {_short(exc)}", where=ref.registry) from exc
    return ShipResult(
        image=str(target),
        destination=ref.text,
        transport="oras",
        digest=pulled_digest,
        size=target.stat().st_size,
        verified=True,
        manifest_digest=None,
    )


def _short(exc: BaseException) -> str:
    """One short line of an exception: the OS reason when there is one, never URL credentials."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if reason:
        return reason.group(1).strip().lower()
    return text.split("@")[-1] if "://" in text and "@" in text else text
