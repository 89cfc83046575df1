"""OCI registries through ORAS: push an image file as an artifact, pull it back, digests checked.

A SIF travels with Apptainer's media type, so ``apptainer pull oras://REF`` works at the site;
any other file (a Charliecloud squashfs or tarball) with an esd-containers media type.
References name their registry host explicitly (``host[:port]/repo[:tag][@sha256:...]``):
there is no implicit Docker Hub, so no credentials ever go to a registry the user did not name.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from pydantic import BaseModel, SecretStr

from builder.errors import EsdcError
from builder.fsio import check_output_path
from builder.model.ship import ShipResult
from builder.ship.digest import file_sha256, require_digest_match
from builder.ship.oci import (
    MANIFEST_ACCEPT,
    OCI_INDEX,
    OCI_MANIFEST,
    BoundedRegistry,
    FetchedManifest,
    Manifest,
    NetSettings,
    describe_status,
    get_small,
    parse_manifest,
    sha256_bytes,
)
from builder.ship.secrets import read_secret
from builder.signals import sigterm_as_interrupt

SIF_MEDIA_TYPE = "application/vnd.sylabs.sif.layer.v1.sif"
GENERIC_MEDIA_TYPE = "application/vnd.esdc.image.layer.v1"
TITLE_ANNOTATION = "org.opencontainers.image.title"

#: Registries reached over plain HTTP without asking: only this machine's own.
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")

# The distribution reference grammar, host required: a host has a dot or a port, or is localhost.
_HOST = (
    r"(?P<registry>(?:localhost|\[[0-9a-fA-F:]+\]|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?::\d{1,5})?"
    r"|[A-Za-z0-9-]+:\d{1,5})"
)
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REF_PATTERN = re.compile(
    rf"^{_HOST}/(?P<repository>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_TAG_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class RegistryRef(BaseModel):
    """A parsed ``host[:port]/repository[:tag][@digest]`` reference."""

    registry: str
    repository: str
    tag: str
    digest: str | None = None

    @property
    def text(self) -> str:
        """The reference as a user writes it (the digest when there is one)."""
        if self.digest:
            return f"{self.registry}/{self.repository}@{self.digest}"
        return f"{self.registry}/{self.repository}:{self.tag}"

    @property
    def name(self) -> str:
        """``host/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/``: the digest, else the tag."""
        return self.digest or self.tag

    def at(self, reference: str) -> RegistryRef:
        """The same repository at another tag or digest."""
        if reference.startswith("sha256:"):
            return self.model_copy(update={"digest": reference})
        return self.model_copy(update={"tag": reference, "digest": None})


class RegistryCredentials(BaseModel):
    """Registry user and password (``ESDC_REGISTRY_USER``, ``ESDC_REGISTRY_PASSWORD[_FILE]``)."""

    username: str
    password: SecretStr


class PushResult(ShipResult):
    """What ``esdc push --json`` prints: the shipping record plus ``ref``, the reference pushed.

    ``manifest_digest`` is what a pipeline pins (``esdc tag REF@DIGEST``, ``esdc attest``);
    ``digest`` stays the image file's own digest, the one ``pull --json`` reports too.
    """

    ref: str

    @classmethod
    def of(cls, shipped: ShipResult) -> PushResult:
        """The push record of a registry :class:`ShipResult`."""
        if not shipped.manifest_digest:
            raise EsdcError("the registry gave no manifest digest", where=shipped.destination)
        return cls(**shipped.model_dump(), ref=shipped.destination)


class TagResult(BaseModel):
    """A manifest copied to a new tag: the new reference and the manifest digest both carry."""

    ref: str
    source: str
    digest: str


def parse_ref(ref: str) -> RegistryRef:
    """Parse an OCI reference; the registry host must be explicit (no implicit Docker Hub)."""
    match = _REF_PATTERN.fullmatch(ref)
    if match is None:
        first = ref.split("/", 1)[0]
        if "/" not in ref or not ("." in first or ":" in first or first == "localhost"):
            raise EsdcError(
                f"not an OCI reference with a registry host (host[:port]/repo[:tag]): {ref!r}"
            )
        raise EsdcError(f"not a valid OCI reference: {ref!r}")
    return RegistryRef(
        registry=match["registry"],
        repository=match["repository"],
        tag=match["tag"] or "latest",
        digest=match["digest"],
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


def base_url(ref: RegistryRef) -> str:
    """``http(s)://host/v2/repository``."""
    scheme = "http" if is_insecure_registry(ref.registry) else "https"
    return f"{scheme}://{ref.registry}/v2/{ref.repository}"


def probe_registry(ref: RegistryRef, settings: NetSettings | None = None) -> None:
    """Fail fast, naming the host, when the registry does not answer.

    One GET of ``/v2/`` answers the question in seconds. Any HTTP answer (401 included) means
    the registry is there.
    """
    limits = settings or NetSettings.from_env()
    scheme = "http" if is_insecure_registry(ref.registry) else "https"
    try:
        requests.get(f"{scheme}://{ref.registry}/v2/", timeout=limits.timeout_s).close()
    except requests.RequestException as exc:
        raise EsdcError(f"registry unreachable: {short_error(exc)}", where=ref.registry) from exc


def client_for(ref: RegistryRef, credentials: RegistryCredentials | None) -> BoundedRegistry:
    """An ORAS client for ``ref``'s registry, bounded in time, after a quick probe."""
    settings = NetSettings.from_env()
    probe_registry(ref, settings)
    client = BoundedRegistry(
        settings=settings,
        hostname=ref.registry,
        insecure=is_insecure_registry(ref.registry),
        auth_backend="basic" if credentials else "token",
    )
    if credentials is not None:
        # In memory only: oras' login() would write the password into a docker config file.
        client.auth.set_basic_auth(credentials.username, credentials.password.get_secret_value())
    return client


@contextmanager
def registry_errors(ref: RegistryRef, action: str) -> Iterator[None]:
    """Turn network and client failures into one line naming the registry."""
    try:
        yield
    except requests.Timeout as exc:
        raise EsdcError(
            f"{action} failed: no answer within ESDC_NET_TIMEOUT", where=ref.registry
        ) from exc
    except (requests.RequestException, ValueError, OSError) as exc:
        raise EsdcError(f"{action} failed: {short_error(exc)}", where=ref.registry) from exc


def fetch_manifest(client: BoundedRegistry, ref: RegistryRef) -> FetchedManifest:
    """GET a manifest by tag or digest, validated; by digest, its bytes must hash to it."""
    answer = get_small(
        client,
        f"{base_url(ref)}/manifests/{ref.reference}",
        accept=MANIFEST_ACCEPT,
        what="manifest",
        where=ref.text,
    )
    if answer.status != 200:
        raise EsdcError(f"no manifest: {answer.error}", where=ref.text)
    raw, media_type = answer.body, answer.content_type
    manifest = parse_manifest(raw, where=ref.text)
    digest = sha256_bytes(raw)
    if ref.digest:
        require_digest_match(ref.digest, digest, where=ref.text)
    return FetchedManifest(
        manifest=manifest,
        digest=digest,
        size=len(raw),
        media_type=manifest.media_type or media_type or OCI_MANIFEST,
        raw=raw,
    )


def put_manifest(
    client: BoundedRegistry, ref: RegistryRef, raw: bytes, media_type: str
) -> tuple[str, bool]:
    """PUT manifest bytes at ``ref``'s tag (or digest).

    Returns their digest and whether the registry indexed the manifest's ``subject`` itself
    (the referrers API's ``OCI-Subject`` answer header).
    """
    digest = sha256_bytes(raw)
    response = client.do_request(
        f"{base_url(ref)}/manifests/{ref.reference}",
        "PUT",
        data=raw,
        headers={"Content-Type": media_type},
    )
    with response:
        if response.status_code not in (200, 201):
            raise EsdcError(f"manifest refused: {describe_status(response)}", where=ref.text)
        answered = response.headers.get("Docker-Content-Digest")
        indexed = "OCI-Subject" in response.headers
    if answered:
        require_digest_match(digest, answered, where=ref.text)
    return digest, indexed


def _single_layer(manifest: Manifest, ref: RegistryRef) -> tuple[str, str]:
    """The one image layer's digest and file name."""
    if manifest.media_type == OCI_INDEX:
        raise EsdcError("the reference names an index, not an image", where=ref.text)
    if len(manifest.layers) != 1:
        raise EsdcError(f"expected one image layer, found {len(manifest.layers)}", where=ref.text)
    layer = manifest.layers[0]
    title = (layer.annotations or {}).get(TITLE_ANNOTATION) or "image"
    name = Path(title).name
    return layer.digest, name if name not in ("", ".", "..") else "image"


def push(
    image: Path,
    ref_text: str,
    *,
    annotations: dict[str, str] | None = None,
    credentials: RegistryCredentials | None = None,
) -> ShipResult:
    """Push ``image`` to ``ref_text`` and check that the registry holds exactly its bytes."""
    ref = parse_ref(ref_text)
    if ref.digest:
        raise EsdcError("push to a tag, not to a digest", where=ref_text)
    local_digest = file_sha256(image)
    client = client_for(ref, credentials)
    with registry_errors(ref, "push"):
        client.push(
            target=ref.text,
            files=[f"{image}:{media_type_for(image)}"],
            disable_path_validation=True,
            manifest_annotations=annotations or None,
            quiet=True,
        )
        fetched = fetch_manifest(client, ref)
    layer_digest, _ = _single_layer(fetched.manifest, ref)
    require_digest_match(local_digest, layer_digest, where=ref.text)
    return ShipResult(
        image=str(image),
        destination=ref.text,
        transport="oras",
        digest=local_digest,
        size=image.stat().st_size,
        verified=True,
        manifest_digest=fetched.digest,
    )


def tag(
    ref_text: str, new_tag: str, *, credentials: RegistryCredentials | None = None
) -> TagResult:
    """Copy the manifest at ``ref_text`` to ``new_tag`` in the same repository; no blob moves."""
    ref = parse_ref(ref_text)
    if not _TAG_PATTERN.fullmatch(new_tag):
        raise EsdcError(f"not a valid tag: {new_tag!r} (letters, digits, _ . -; at most 128)")
    client = client_for(ref, credentials)
    target = ref.at(new_tag)
    with registry_errors(ref, "tag"):
        fetched = fetch_manifest(client, ref)
        digest, _ = put_manifest(client, target, fetched.raw, fetched.media_type)
    return TagResult(ref=target.text, source=ref.text, digest=digest)


def resolve(ref_text: str, *, credentials: RegistryCredentials | None = None) -> FetchedManifest:
    """The manifest a tag or digest names now (its digest is what attestations bind to)."""
    ref = parse_ref(ref_text)
    client = client_for(ref, credentials)
    with registry_errors(ref, "resolve"):
        return fetch_manifest(client, ref)


def pull(
    ref_text: str,
    output: Path | None = None,
    *,
    credentials: RegistryCredentials | None = None,
    expect_manifest: str | None = None,
    check: Callable[[Path], None] | None = None,
) -> ShipResult:
    """Pull the image at ``ref_text``; the file appears only once its digest matches.

    ``expect_manifest`` pins the manifest digest (a verified pull checks the attestation of
    that digest first and then downloads exactly it, whatever the tag points to meanwhile).
    ``check`` runs on the downloaded, digest-checked file before it appears at the target.
    """
    ref = parse_ref(ref_text)
    if expect_manifest:
        ref = ref.at(expect_manifest)
    client = client_for(ref, credentials)
    with registry_errors(ref, "pull"):
        fetched = fetch_manifest(client, ref)
        layer_digest, title = _single_layer(fetched.manifest, ref)
        target = output or Path(title)
        check_output_path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Download beside the target, check, then rename: no unchecked file ever appears, and
        # SIGTERM as well as Ctrl-C leave no partial download behind.
        with (
            sigterm_as_interrupt(),
            tempfile.TemporaryDirectory(dir=target.parent, prefix=".esdc-pull-") as tmp,
        ):
            blob = Path(tmp) / "blob"
            client.download_blob(ref.text, layer_digest, str(blob))
            pulled_digest = file_sha256(blob)
            require_digest_match(layer_digest, pulled_digest, where=ref.text)
            if check is not None:
                check(blob)
            os.replace(blob, target)
    return ShipResult(
        image=str(target),
        destination=ref.text,
        transport="oras",
        digest=pulled_digest,
        size=target.stat().st_size,
        verified=True,
        manifest_digest=fetched.digest,
    )


def short_error(exc: BaseException) -> str:
    """One short line of an exception: the OS reason when there is one, never URL credentials."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if reason:
        return reason.group(1).strip().lower()
    return text.split("@")[-1] if "://" in text and "@" in text else text
