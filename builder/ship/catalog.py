"""``esdc catalog REPO``: which image digests are verified for which site, when, by which key.

Every tag of the repository is resolved to its manifest digest; each digest's attestations are
read back and checked (signatures too, when ``--trust`` keys are given). An attestation whose
recorded rules digest differs from the rules in force now (the suites' ``thresholds.yaml``) is
marked ``current_rules: false``: the image should be validated again. The HTML page is one
self-contained file a site can publish; each row links the report attached to the image.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from pydantic import BaseModel, Field

from builder.errors import EsdcError
from builder.ship import dsse
from builder.ship.attest import (
    ANNOTATION_CREATED,
    ANNOTATION_SITE,
    ArtifactKind,
    artifact_spec,
    rules_digest,
)
from builder.ship.dsse import SignatureStatus
from builder.ship.oci import BoundedRegistry, Descriptor, get_small
from builder.ship.referrers import list_referrers
from builder.ship.registry import (
    RegistryCredentials,
    RegistryRef,
    base_url,
    client_for,
    fetch_manifest,
    parse_ref,
    registry_errors,
)
from builder.ship.trust import AttestationRecord, attestations_of

_REFERRERS_TAG = re.compile(r"^sha256-[a-f0-9]{64}$")


class CatalogEntry(BaseModel):
    """One attestation of one image in the repository."""

    image: str
    ref: str
    tags: list[str]
    site: str
    result: str
    verdict: str
    attested_at: str
    keyid: str
    signature: SignatureStatus
    rules: str
    current_rules: bool
    attestation: str
    report_url: str | None = None
    records_url: str = ""
    problem: str = ""


class CatalogImage(BaseModel):
    """An image (manifest digest) and its tags."""

    image: str
    tags: list[str]


class Catalog(BaseModel):
    """The catalog of one repository (``esdc.catalog/1``)."""

    model_config = {"populate_by_name": True}

    schema_: str = Field(default="esdc.catalog/1", alias="schema")
    repository: str
    site: str | None = None
    generated_at: str
    signatures_checked: bool
    entries: list[CatalogEntry] = Field(default_factory=list)
    unverified: list[CatalogImage] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)


def list_tags(client: BoundedRegistry, ref: RegistryRef) -> list[str]:
    """The repository's tags (one page of up to 10,000)."""
    answer = get_small(
        client, f"{base_url(ref)}/tags/list?n=10000", what="tag list", where=ref.name
    )
    if answer.status == 404:
        raise EsdcError("no such repository", where=ref.name)
    if answer.status != 200:
        raise EsdcError(f"cannot list tags: {answer.error}", where=ref.name)
    try:
        tags = json.loads(answer.body).get("tags") or []
    except (ValueError, AttributeError) as exc:
        raise EsdcError("malformed tag list", where=ref.name) from exc
    if not isinstance(tags, list):
        raise EsdcError("malformed tag list", where=ref.name)
    return sorted(str(t) for t in tags)


def entry_of(
    record: AttestationRecord,
    ref: RegistryRef,
    tags: list[str],
    report_url: str | None,
    current_rules: str | None,
) -> CatalogEntry:
    """A catalog row from a checked attestation (pure)."""
    return CatalogEntry(
        image=record.image,
        ref=ref.at(record.image).text,
        tags=tags,
        site=record.site,
        result=record.result,
        verdict=record.verdict,
        attested_at=record.attested_at,
        keyid=record.keyid,
        signature=record.signature,
        rules=record.rules,
        current_rules=current_rules == record.rules,
        attestation=record.attestation,
        report_url=report_url,
        records_url=record.records_url,
        problem=record.problem,
    )


def _report_urls(
    client: BoundedRegistry, ref: RegistryRef, image: str
) -> dict[tuple[str, str], str]:
    """Report blob URLs of an image, keyed by (site, attestation time) from their annotations."""
    urls: dict[tuple[str, str], str] = {}
    spec = artifact_spec(ArtifactKind.REPORT)
    for descriptor in list_referrers(client, ref, image, spec.artifact_type):
        layer = _only_layer(client, ref, descriptor)
        notes = descriptor.annotations or {}
        if layer is not None:
            key = (notes.get(ANNOTATION_SITE, ""), notes.get(ANNOTATION_CREATED, ""))
            urls[key] = f"{base_url(ref)}/blobs/{layer.digest}"
    return urls


def _only_layer(
    client: BoundedRegistry, ref: RegistryRef, descriptor: Descriptor
) -> Descriptor | None:
    try:
        manifest = fetch_manifest(client, ref.at(descriptor.digest)).manifest
    except EsdcError:
        return None
    return manifest.layers[0] if len(manifest.layers) == 1 else None


def build_catalog(
    repo: str,
    *,
    site: str | None = None,
    trusted: list[dsse.PublicKey] | None = None,
    credentials: RegistryCredentials | None = None,
    thresholds_dir: Path | None = None,
    now: datetime | None = None,
) -> Catalog:
    """Read the repository's images and their attestations."""
    ref = parse_ref(repo)
    client = client_for(ref, credentials)
    images: dict[str, list[str]] = {}
    problems: list[str] = []
    entries: list[CatalogEntry] = []
    unverified: list[CatalogImage] = []
    with registry_errors(ref, "catalog"):
        for tag in list_tags(client, ref):
            if _REFERRERS_TAG.match(tag):
                continue
            try:
                fetched = fetch_manifest(client, ref.at(tag))
            except EsdcError as exc:
                problems.append(str(exc))
                continue
            if fetched.manifest.subject is None:
                images.setdefault(fetched.digest, []).append(tag)
        for image, tags in images.items():
            records = attestations_of(client, ref, image, trusted)
            shown = [r for r in records if site is None or r.site == site]
            if not records:
                unverified.append(CatalogImage(image=image, tags=tags))
                continue
            reports = _report_urls(client, ref, image) if shown else {}
            for record in shown:
                current = rules_digest(record.suites, thresholds_dir)[0] if record.suites else None
                url = reports.get((record.site, record.attested_at))
                entries.append(entry_of(record, ref, tags, url, current))
    entries.sort(key=lambda e: (e.site, e.attested_at), reverse=False)
    return Catalog(
        repository=ref.name,
        site=site,
        generated_at=(now or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        signatures_checked=trusted is not None,
        entries=entries,
        unverified=unverified,
        problems=problems,
    )


CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 80em; color: #222; }
table { border-collapse: collapse; } code { font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
.ok { color: #2e7d32; font-weight: bold; } .bad { color: #c62828; font-weight: bold; }
.stale { color: #b58900; }
""".strip()


def _status_cell(entry: CatalogEntry) -> str:
    if entry.problem:
        return f'<td class="bad">{escape(entry.problem)}</td>'
    css = "ok" if entry.result in ("PASSED", "WARNED") else "bad"
    rules = "" if entry.current_rules else ' <span class="stale">(older rules: revalidate)</span>'
    return f'<td class="{css}">{escape(entry.result)}{rules}</td>'


def render_html(catalog: Catalog) -> str:
    """One self-contained HTML page: no script, no external URL except report links (pure)."""
    rows = []
    for entry in catalog.entries:
        report = f'<a href="{escape(entry.report_url)}">report</a>' if entry.report_url else "-"
        rows.append(
            "<tr>"
            f"<td><code>{escape(entry.image)}</code><br>{escape(', '.join(entry.tags))}</td>"
            f"<td>{escape(entry.site)}</td>"
            f"{_status_cell(entry)}"
            f"<td>{escape(entry.attested_at)}</td>"
            f"<td><code>{escape(entry.keyid[:23])}</code> ({escape(entry.signature.value)})</td>"
            f"<td>{report}</td>"
            "</tr>"
        )
    unverified = "".join(
        f"<li><code>{escape(i.image)}</code> {escape(', '.join(i.tags))}</li>"
        for i in catalog.unverified
    )
    title = f"Verified images of {catalog.repository}"
    if catalog.site:
        title += f" for site {catalog.site}"
    pull_hint = (
        f"esdc pull {catalog.repository}@DIGEST --verified-for "
        f"{catalog.site or 'SITE'} --trust SITE_KEY.pub -o image.sif"
    )
    signatures = (
        "Signatures checked against the trusted keys."
        if catalog.signatures_checked
        else "Signatures not checked here (no --trust key given): pull checks them."
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p>Generated {escape(catalog.generated_at)}. {escape(signatures)}</p>"
        f"<p>Pull only a verified image: <code>{escape(pull_hint)}</code></p>"
        "<table><tr><th>Image (digest, tags)</th><th>Site</th><th>Result</th>"
        "<th>Attested</th><th>Key</th><th>Report</th></tr>"
        + "".join(rows)
        + "</table>"
        + (f"<h2>Not verified</h2><ul>{unverified}</ul>" if unverified else "")
        + "</body></html>\n"
    )
