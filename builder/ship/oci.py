"""The OCI distribution calls esdc makes: each bounded in time, retried a bounded number of times.

ORAS (``oras.provider.Registry``) handles authentication (basic or bearer tokens); this module
gives it a session whose every request has a timeout (``ESDC_NET_TIMEOUT`` seconds, default 10)
and replaces its retry loop (five attempts with back-off of up to 83 s) by a short one
(``ESDC_NET_RETRIES``, default 2, only for refused connections and 429/502/503/504 answers).
Manifests are read as raw bytes, their digest computed, and validated before anything uses them:
a registry's answer is input like any other.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any, Literal

import oras.provider
import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from builder.errors import EsdcError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_BLOB = b"{}"
MANIFEST_ACCEPT = ", ".join((OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_LIST))

#: A manifest larger than this is refused (the distribution spec's own limit is 4 MiB).
MAX_MANIFEST_BYTES = 4 << 20
#: Small artifacts (attestations, reports) read into memory are refused above this size.
MAX_SMALL_BLOB_BYTES = 64 << 20

DIGEST_PATTERN = r"^sha256:[a-f0-9]{64}$"

_RETRY_STATUS = frozenset({429, 502, 503, 504})
_CHUNK = 1 << 16


class NetSettings(BaseModel):
    """Time limits of registry calls (from ``ESDC_NET_TIMEOUT`` and ``ESDC_NET_RETRIES``)."""

    timeout_s: float = Field(default=10.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    backoff_s: float = 0.5

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> NetSettings:
        """Read the limits from the environment; a malformed value is an error naming it."""
        env = dict(os.environ) if environ is None else environ
        values: dict[str, Any] = {}
        for key, field in (("ESDC_NET_TIMEOUT", "timeout_s"), ("ESDC_NET_RETRIES", "retries")):
            if env.get(key):
                values[field] = env[key]
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise EsdcError(
                "ESDC_NET_TIMEOUT must be a positive number of seconds and "
                "ESDC_NET_RETRIES an integer 0..10"
            ) from exc


class Descriptor(BaseModel):
    """An OCI content descriptor."""

    model_config = ConfigDict(populate_by_name=True, strict=True)

    media_type: str = Field(alias="mediaType", min_length=1)
    digest: str = Field(pattern=DIGEST_PATTERN)
    size: int = Field(ge=0)
    artifact_type: str | None = Field(default=None, alias="artifactType")
    annotations: dict[str, str] | None = None

    def as_json(self) -> dict[str, Any]:
        """The descriptor as the distribution spec writes it."""
        return self.model_dump(by_alias=True, exclude_none=True)


class Manifest(BaseModel):
    """An OCI image manifest (or Docker schema 2), as far as esdc reads one."""

    model_config = ConfigDict(populate_by_name=True, strict=True)

    schema_version: Literal[2] = Field(alias="schemaVersion")
    media_type: str | None = Field(default=None, alias="mediaType")
    artifact_type: str | None = Field(default=None, alias="artifactType")
    config: Descriptor
    layers: list[Descriptor]
    subject: Descriptor | None = None
    annotations: dict[str, str] | None = None


class Index(BaseModel):
    """An OCI image index (used for the referrers API and the referrers tag schema)."""

    model_config = ConfigDict(populate_by_name=True, strict=True)

    schema_version: Literal[2] = Field(default=2, alias="schemaVersion")
    media_type: str = Field(default=OCI_INDEX, alias="mediaType")
    manifests: list[Descriptor] = Field(default_factory=list)


class FetchedManifest(BaseModel):
    """A manifest, its raw bytes' digest and size, and the media type the registry gave."""

    manifest: Manifest
    digest: str
    size: int
    media_type: str
    raw: bytes

    def descriptor(self) -> Descriptor:
        """The descriptor pointing at this manifest (an artifact's ``subject``)."""
        return Descriptor(media_type=self.media_type, digest=self.digest, size=self.size)


def sha256_bytes(data: bytes) -> str:
    """The ``sha256:<hex>`` digest of bytes."""
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def parse_manifest(raw: bytes, *, where: str) -> Manifest:
    """Validate a manifest's bytes; anything malformed is one line naming ``where``."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EsdcError("malformed manifest: not JSON", where=where) from exc
    if not isinstance(data, dict):
        raise EsdcError("malformed manifest: not a JSON object", where=where)
    if "manifests" in data and "layers" not in data:
        raise EsdcError(
            "the reference names an index (several images), not one image manifest", where=where
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise EsdcError(f"malformed manifest: {_first_error(exc)}", where=where) from exc


def parse_index(raw: bytes, *, where: str) -> Index:
    """Validate an index's bytes (a referrers list)."""
    try:
        return Index.model_validate_json(raw)
    except ValidationError as exc:
        raise EsdcError(f"malformed index: {_first_error(exc)}", where=where) from exc


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"]) or "document"
    return f"{location}: {error['msg']}"


class BoundedRegistry(oras.provider.Registry):  # type: ignore[misc]
    """ORAS' registry client with a timeout on every request and a short, bounded retry."""

    def __init__(self, *, settings: NetSettings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        timeout = settings.timeout_s
        session_request = self.session.request

        def request_with_timeout(*args: Any, **kw: Any) -> requests.Response:
            kw.setdefault("timeout", timeout)
            response: requests.Response = session_request(*args, **kw)
            return response

        # The auth backend shares this session: its token requests get the timeout too.
        self.session.request = request_with_timeout

    def do_request(
        self,
        url: str,
        method: str = "GET",
        data: dict[str, Any] | bytes | None = None,
        headers: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """One request (with ORAS' authentication), retried only on transient failures."""
        attempt = 0
        while True:
            try:
                response: requests.Response = oras.provider.Registry.do_request.__wrapped__(
                    self, url, method, data=data, headers=headers, json=json, stream=stream
                )
            except requests.ConnectionError as exc:
                if isinstance(exc, requests.ConnectTimeout) or attempt >= self.settings.retries:
                    raise
            else:
                if response.status_code not in _RETRY_STATUS or attempt >= self.settings.retries:
                    return response
                response.close()
            attempt += 1
            time.sleep(self.settings.backoff_s * attempt)


class SmallAnswer(BaseModel):
    """A registry's answer to a GET of a small document (manifest, index, tag list, artifact)."""

    status: int
    body: bytes = b""
    content_type: str = ""
    #: ``HTTP 404 MANIFEST_UNKNOWN`` for an answer other than 200.
    error: str = ""


def get_small(
    client: BoundedRegistry,
    url: str,
    *,
    limit: int = MAX_MANIFEST_BYTES,
    accept: str | None = None,
    what: str,
    where: str,
) -> SmallAnswer:
    """GET ``url``; a 200 body is read whole, at most ``limit`` bytes, within a deadline.

    The deadline bounds a registry that trickles bytes slowly enough to dodge the per-read
    timeout: the whole answer must arrive within ``timeout_s * (retries + 2)``.
    """
    settings = client.settings
    deadline = time.monotonic() + settings.timeout_s * (settings.retries + 2)
    headers = {"Accept": accept} if accept else None
    response = client.do_request(url, "GET", headers=headers, stream=True)
    with response:
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if response.status_code != 200:
            return SmallAnswer(
                status=response.status_code,
                content_type=content_type,
                error=describe_status(response),
            )
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_content(chunk_size=_CHUNK):
            total += len(chunk)
            if total > limit:
                raise EsdcError(f"{what} larger than {limit} bytes: refused", where=where)
            if time.monotonic() > deadline:
                raise EsdcError(f"{what} did not arrive in time (ESDC_NET_TIMEOUT)", where=where)
            chunks.append(chunk)
    return SmallAnswer(status=200, body=b"".join(chunks), content_type=content_type)


def describe_status(response: requests.Response) -> str:
    """``HTTP 404 MANIFEST_UNKNOWN`` from a registry's error answer, never its whole body."""
    code = ""
    try:
        errors = response.json().get("errors") or []
        if errors and isinstance(errors[0], dict):
            code = f" {str(errors[0].get('code', ''))[:40]}"
    except (ValueError, AttributeError):
        pass
    return f"HTTP {response.status_code}{code}".rstrip()
