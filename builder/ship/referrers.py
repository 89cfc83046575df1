"""OCI artifacts that refer to an image manifest (``subject``), and finding them again.

Registries with the referrers API (OCI distribution 1.1) index such artifacts themselves and
answer ``PUT`` with an ``OCI-Subject`` header; for the others the client keeps the index at the
tag ``sha256-<hex of the subject digest>`` (the referrers tag schema), and readers look there.
"""

from __future__ import annotations

import json
from urllib.parse import urljoin

from builder.errors import EsdcError
from builder.ship.digest import require_digest_match
from builder.ship.oci import (
    EMPTY_BLOB,
    EMPTY_MEDIA_TYPE,
    MAX_SMALL_BLOB_BYTES,
    OCI_INDEX,
    OCI_MANIFEST,
    BoundedRegistry,
    Descriptor,
    FetchedManifest,
    Index,
    describe_status,
    get_small,
    parse_index,
    sha256_bytes,
)
from builder.ship.registry import RegistryRef, base_url, fetch_manifest, put_manifest


def referrers_tag(digest: str) -> str:
    """The referrers tag schema's tag for ``digest`` (``sha256-<hex>``)."""
    algorithm, _, hexdigest = digest.partition(":")
    return f"{algorithm}-{hexdigest}"


def upload_blob(client: BoundedRegistry, ref: RegistryRef, data: bytes) -> Descriptor:
    """Upload ``data`` as one blob (monolithic POST then PUT) unless the registry has it."""
    digest = sha256_bytes(data)
    base = base_url(ref)
    with client.do_request(f"{base}/blobs/{digest}", "HEAD") as head:
        if head.status_code == 200:
            return Descriptor(media_type="application/octet-stream", digest=digest, size=len(data))
    with client.do_request(f"{base}/blobs/uploads/", "POST") as started:
        location = started.headers.get("Location")
        if started.status_code != 202 or not location:
            raise EsdcError(f"blob upload refused: {describe_status(started)}", where=ref.name)
    url = urljoin(f"{base}/blobs/uploads/", location)
    url += ("&" if "?" in url else "?") + f"digest={digest}"
    with client.do_request(
        url, "PUT", data=data, headers={"Content-Type": "application/octet-stream"}
    ) as done:
        if done.status_code not in (201, 204):
            raise EsdcError(f"blob upload failed: {describe_status(done)}", where=ref.name)
    return Descriptor(media_type="application/octet-stream", digest=digest, size=len(data))


def fetch_blob(client: BoundedRegistry, ref: RegistryRef, descriptor: Descriptor) -> bytes:
    """A small blob's bytes, checked against its descriptor's digest and size."""
    if descriptor.size > MAX_SMALL_BLOB_BYTES:
        raise EsdcError(f"artifact of {descriptor.size} bytes is too large", where=ref.name)
    answer = get_small(
        client,
        f"{base_url(ref)}/blobs/{descriptor.digest}",
        limit=MAX_SMALL_BLOB_BYTES,
        what="artifact",
        where=ref.name,
    )
    if answer.status != 200:
        raise EsdcError(f"no blob {descriptor.digest}: {answer.error}", where=ref.name)
    data = answer.body
    require_digest_match(descriptor.digest, sha256_bytes(data), where=f"{ref.name} blob")
    return data


def push_artifact(
    client: BoundedRegistry,
    ref: RegistryRef,
    subject: FetchedManifest,
    *,
    artifact_type: str,
    media_type: str,
    data: bytes,
    annotations: dict[str, str],
) -> Descriptor:
    """Push ``data`` as an artifact whose subject is ``subject``; it is findable as a referrer.

    Returns the descriptor of the artifact's manifest (with its artifact type and annotations,
    as the referrers list holds it).
    """
    config = upload_blob(client, ref, EMPTY_BLOB)
    layer = upload_blob(client, ref, data)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": config.digest, "size": config.size},
        "layers": [{"mediaType": media_type, "digest": layer.digest, "size": layer.size}],
        "subject": subject.descriptor().as_json(),
        "annotations": annotations,
    }
    raw = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    digest = sha256_bytes(raw)
    descriptor = Descriptor(
        media_type=OCI_MANIFEST,
        digest=digest,
        size=len(raw),
        artifact_type=artifact_type,
        annotations=annotations,
    )
    _, indexed_by_registry = put_manifest(client, ref.at(digest), raw, OCI_MANIFEST)
    if not indexed_by_registry:
        _add_to_referrers_tag(client, ref, subject.digest, descriptor)
    return descriptor


def _add_to_referrers_tag(
    client: BoundedRegistry, ref: RegistryRef, subject: str, descriptor: Descriptor
) -> None:
    index_ref = ref.at(referrers_tag(subject))
    index = _read_referrers_tag(client, index_ref) or Index()
    kept = [d for d in index.manifests if d.digest != descriptor.digest]
    updated = Index(manifests=[*kept, descriptor])
    raw = json.dumps(
        updated.model_dump(by_alias=True, exclude_none=True), separators=(",", ":")
    ).encode()
    put_manifest(client, index_ref, raw, OCI_INDEX)


def _read_referrers_tag(client: BoundedRegistry, index_ref: RegistryRef) -> Index | None:
    answer = get_small(
        client,
        f"{base_url(index_ref)}/manifests/{index_ref.reference}",
        accept=OCI_INDEX,
        what="referrers index",
        where=index_ref.text,
    )
    if answer.status == 404:
        return None
    if answer.status != 200:
        raise EsdcError(f"referrers index: {answer.error}", where=index_ref.text)
    return parse_index(answer.body, where=index_ref.text)


def list_referrers(
    client: BoundedRegistry, ref: RegistryRef, subject: str, artifact_type: str | None = None
) -> list[Descriptor]:
    """Artifacts whose subject is ``subject``: the referrers API, else the referrers tag."""
    answer = get_small(
        client,
        f"{base_url(ref)}/referrers/{subject}",
        accept=OCI_INDEX,
        what="referrers list",
        where=ref.name,
    )
    index: Index | None = None
    if answer.status == 200 and answer.content_type == OCI_INDEX:
        index = parse_index(answer.body, where=f"{ref.name} referrers")
    if index is None:
        index = _read_referrers_tag(client, ref.at(referrers_tag(subject)))
    found = index.manifests if index else []
    return [d for d in found if artifact_type is None or d.artifact_type == artifact_type]


def fetch_artifact(
    client: BoundedRegistry, ref: RegistryRef, descriptor: Descriptor, subject: str
) -> tuple[FetchedManifest, bytes]:
    """An artifact's manifest (checked to refer to ``subject``) and its one layer's bytes."""
    fetched = fetch_manifest(client, ref.at(descriptor.digest))
    if fetched.manifest.subject is None or fetched.manifest.subject.digest != subject:
        raise EsdcError(
            "artifact does not refer to this image", where=ref.at(descriptor.digest).text
        )
    if len(fetched.manifest.layers) != 1:
        raise EsdcError("artifact has not exactly one layer", where=ref.at(descriptor.digest).text)
    return fetched, fetch_blob(client, ref, fetched.manifest.layers[0])
