"""``esdc attest RUN_DIR REF``: a signed verdict bound to the image's OCI manifest digest.

The verdict becomes an in-toto Statement (predicate: Test Result v0.1) whose subject is the
image manifest digest, signed with the site's key in a DSSE envelope; it is pushed with the
run's HTML report, and the image's provenance and SBOM when they are found, as OCI artifacts
whose ``subject`` is that manifest. The predicate records the site, the esdc verdict and a
digest of the rules it was judged by (the suites and their ``thresholds.yaml`` files), so that
``catalog`` can tell an attestation made under older rules.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from in_toto_attestation.predicates.test_result.v0 import test_result_pb2
from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
from in_toto_attestation.v1.statement import Statement
from pydantic import BaseModel, ValidationError

from builder import __version__
from builder.errors import EsdcError
from builder.model.verdict import Verdict
from builder.ship import dsse
from builder.ship.digest import file_sha256
from builder.ship.oci import FetchedManifest, sha256_bytes
from builder.ship.referrers import push_artifact
from builder.ship.registry import (
    RegistryCredentials,
    client_for,
    fetch_manifest,
    parse_ref,
    registry_errors,
)

PREDICATE_TYPE = "https://in-toto.io/attestation/test-result/v0.1"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
DSSE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json"
RUN_ENTRY = "esdc-run"
RULES_ENTRY = "esdc-rules"
VERDICT_FILE = "verdict.json"
REPORT_FILE = "report.html"

ANNOTATION_SITE = "org.ebrains.esd.site"
ANNOTATION_RESULT = "org.ebrains.esd.result"
ANNOTATION_KEY = "org.ebrains.esd.keyid"
ANNOTATION_RULES = "org.ebrains.esd.rules"
ANNOTATION_CREATED = "org.opencontainers.image.created"


class ArtifactKind(StrEnum):
    """What an artifact attached to an image is."""

    ATTESTATION = "attestation"
    REPORT = "report"
    PROVENANCE = "provenance"
    SBOM = "sbom"


class ArtifactSpec(BaseModel):
    """How one kind of artifact travels and where ``attest`` finds its file in a run directory."""

    kind: ArtifactKind
    artifact_type: str
    media_type: str
    #: Glob patterns tried in the run directory, first match wins; empty: made by attest.
    run_dir_globs: tuple[str, ...] = ()
    required: bool = False


#: One row per artifact kind: a new kind is one more row.
ARTIFACTS: tuple[ArtifactSpec, ...] = (
    ArtifactSpec(
        kind=ArtifactKind.ATTESTATION,
        artifact_type="application/vnd.in-toto+json",
        media_type=DSSE_MEDIA_TYPE,
    ),
    ArtifactSpec(
        kind=ArtifactKind.REPORT,
        artifact_type="application/vnd.esdc.report.v1+html",
        media_type="text/html",
        run_dir_globs=(REPORT_FILE,),
        required=True,
    ),
    ArtifactSpec(
        kind=ArtifactKind.PROVENANCE,
        artifact_type="application/vnd.esdc.provenance.v1+json",
        media_type="application/json",
        run_dir_globs=("provenance.json", "*.provenance.json"),
    ),
    ArtifactSpec(
        kind=ArtifactKind.SBOM,
        artifact_type="application/vnd.cyclonedx+json",
        media_type="application/vnd.cyclonedx+json",
        run_dir_globs=("sbom.cdx.json", "*.sbom.cdx.json"),
    ),
)


def artifact_spec(kind: ArtifactKind) -> ArtifactSpec:
    """The row of :data:`ARTIFACTS` for ``kind``."""
    return next(spec for spec in ARTIFACTS if spec.kind == kind)


#: esdc's verdict to the Test Result predicate's result (inconclusive is not a pass).
RESULTS: dict[str, str] = {"pass": "PASSED", "fail": "FAILED", "inconclusive": "FAILED"}


class AttestResult(BaseModel):
    """What ``esdc attest`` published."""

    ref: str
    digest: str
    site: str
    result: str
    keyid: str
    rules: str
    artifacts: dict[ArtifactKind, str]
    missing: list[ArtifactKind]


# ---------------------------------------------------------------- pure parts


def rules_digest(
    suites: list[str], thresholds_dir: Path | None = None
) -> tuple[str, dict[str, str]]:
    """A digest of the rules a verdict is judged by: the suites and their thresholds files.

    Returns the digest and, per suite family, the ``sha256`` of its ``thresholds.yaml``
    (``none`` when it has none).
    """
    from builder.verify.collect import suite_family
    from builder.verify.thresholds import default_thresholds_dir

    directory = thresholds_dir or default_thresholds_dir()
    files: dict[str, str] = {}
    for family in sorted({suite_family(s) for s in suites}):
        path = directory / family / "thresholds.yaml"
        files[family] = file_sha256(path) if path.is_file() else "none"
    canonical = json.dumps({"suites": sorted(suites), "thresholds": files}, sort_keys=True)
    return sha256_bytes(canonical.encode()), files


def checks_of(verdict: Verdict) -> tuple[list[str], list[str], list[str]]:
    """The passed, warned and failed checks of a verdict, as ``suite/check`` names."""
    passed: list[str] = []
    warned: list[str] = []
    failed: list[str] = []
    for metric in verdict.metrics:
        name = f"{metric.suite}/{metric.check}"
        (passed if metric.status == "pass" else failed).append(name)
    for transport in verdict.transport:
        name = f"{transport.suite}/transport"
        (passed if transport.status == "pass" else failed).append(name)
        warned.extend(
            f"{transport.suite}/transport:{finding.code}"
            for finding in transport.findings
            if finding.severity == "warning"
        )
    failed.extend(f"problem:{problem.where}" for problem in verdict.problems)
    return passed, warned, failed


def make_statement(
    verdict: Verdict,
    *,
    subject_name: str,
    subject_digest: str,
    verdict_digest: str,
    rules: str,
    rule_files: dict[str, str],
    records_url: str,
    attested_at: datetime,
    run_created: str | None,
) -> dict[str, Any]:
    """The in-toto Statement (as JSON) of a verdict about one image manifest (pure)."""
    passed, warned, failed = checks_of(verdict)
    result = RESULTS[verdict.verdict]
    if result == "PASSED" and warned:
        result = "WARNED"
    run = ResourceDescriptor(
        name=RUN_ENTRY,
        digest={"sha256": verdict_digest.removeprefix("sha256:")},
        media_type="application/vnd.esdc.verdict.v1+json",
        annotations={
            "site": verdict.site,
            "verdict": verdict.verdict,
            "reason": verdict.reason,
            "runId": verdict.run_id,
            "runCreated": run_created or "",
            "attestedAt": attested_at.isoformat().replace("+00:00", "Z"),
            "toolkitVersion": __version__,
            "imageFileDigest": verdict.image_digest or "",
        },
    )
    rules_entry = ResourceDescriptor(
        name=RULES_ENTRY,
        digest={"sha256": rules.removeprefix("sha256:")},
        annotations={"suites": sorted(verdict.suites), "thresholds": rule_files},
    )
    predicate = test_result_pb2.TestResult(
        result=result,
        configuration=[run.pb, rules_entry.pb],
        url=records_url,
        passed_tests=passed,
        warned_tests=warned,
        failed_tests=failed,
    )
    subject = ResourceDescriptor(
        name=subject_name, digest={"sha256": subject_digest.removeprefix("sha256:")}
    )
    statement = Statement([subject.pb], PREDICATE_TYPE, json_format.MessageToDict(predicate))
    statement.validate()
    document: dict[str, Any] = json_format.MessageToDict(statement.pb)
    return document


def canonical_json(document: dict[str, Any]) -> bytes:
    """The bytes that are signed: sorted keys, no spaces."""
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


# ---------------------------------------------------------------- edges


def read_verdict(run_dir: Path) -> tuple[Verdict, bytes]:
    """``RUN_DIR/verdict.json``, validated, with its bytes."""
    path = run_dir / VERDICT_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise EsdcError(
            "no verdict.json: run `esdc verify` on the run first", where=run_dir
        ) from exc
    except OSError as exc:
        raise EsdcError(f"cannot read: {exc.strerror or exc}", where=path) from exc
    try:
        return Verdict.model_validate_json(raw), raw
    except ValidationError as exc:
        raise EsdcError("not an esdc.verdict/1 document", where=path) from exc


def _run_field(run_dir: Path, name: str) -> str | None:
    """One text field of ``run.json`` (``created``, ``image``), or None."""
    try:
        value = json.loads((run_dir / "run.json").read_text(encoding="utf-8")).get(name)
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def image_sidecars(run_dir: Path) -> dict[ArtifactKind, Path]:
    """Provenance and SBOM that ``esdc build`` wrote beside the image file the run used."""
    from builder.build.api import sidecar_paths

    image = _run_field(run_dir, "image")
    if not image or "://" in image or not Path(image).is_file():
        return {}
    provenance, sbom = sidecar_paths(Path(image))
    return {ArtifactKind.PROVENANCE: provenance, ArtifactKind.SBOM: sbom}


def find_attachment(
    run_dir: Path, spec: ArtifactSpec, given: Path | None, beside_image: Path | None = None
) -> Path | None:
    """The file of one artifact kind: the one given, else the first glob match in the run,
    else the file ``esdc build`` left beside the image."""
    if given is not None:
        if not given.is_file():
            raise EsdcError(f"no such {spec.kind} file", where=given)
        return given
    for pattern in spec.run_dir_globs:
        matches = sorted(run_dir.glob(pattern))
        if matches:
            return matches[0]
    if beside_image is not None and beside_image.is_file():
        return beside_image
    if spec.required:
        raise EsdcError(f"no {spec.run_dir_globs[0]}: run `esdc report` first", where=run_dir)
    return None


def require_same_judgement(run_dir: Path, stored: Verdict, thresholds_dir: Path | None) -> None:
    """Judge the run's data again under today's rules: they must give the stored verdict.

    So the rules digest an attestation records is the digest of rules that really give its
    verdict, and a hand-edited or stale ``verdict.json`` is never signed.
    """
    from builder.verify.api import evaluate_run_dir

    if not (run_dir / "run.json").is_file():
        raise EsdcError(
            "no run.json: attest needs the run's data, not only its verdict", where=run_dir
        )
    _, fresh = evaluate_run_dir(run_dir, thresholds_dir=thresholds_dir)
    if (fresh.verdict, fresh.site, fresh.image_digest) != (
        stored.verdict,
        stored.site,
        stored.image_digest,
    ):
        raise EsdcError(
            f"verdict.json says {stored.verdict} at {stored.site}, the run's data judge "
            f"{fresh.verdict} at {fresh.site} today: run `esdc verify` again",
            where=run_dir,
        )


def require_same_image(verdict: Verdict, image: FetchedManifest, ref_text: str) -> None:
    """The run must have judged the image REF names (its file or its manifest)."""
    layers = {layer.digest for layer in image.manifest.layers}
    if verdict.image_digest is None:
        raise EsdcError("the run records no image digest: cannot bind it to an image")
    if verdict.image_digest not in layers and verdict.image_digest != image.digest:
        raise EsdcError(
            f"the run judged image {verdict.image_digest}, but {ref_text} holds "
            f"{', '.join(sorted(layers)) or image.digest}"
        )


def attest(
    run_dir: Path,
    ref_text: str,
    *,
    credentials: RegistryCredentials | None = None,
    key_file: Path | None = None,
    records_url: str | None = None,
    provenance: Path | None = None,
    sbom: Path | None = None,
    thresholds_dir: Path | None = None,
    now: datetime | None = None,
) -> AttestResult:
    """Sign the run's verdict for the image at ``ref_text`` and attach it and its records."""
    verdict, verdict_raw = read_verdict(run_dir)
    key = dsse.load_signing_key(key_file)
    require_same_judgement(run_dir, verdict, thresholds_dir)
    given = {ArtifactKind.PROVENANCE: provenance, ArtifactKind.SBOM: sbom}
    sidecars = image_sidecars(run_dir)
    attachments = {
        spec.kind: find_attachment(run_dir, spec, given.get(spec.kind), sidecars.get(spec.kind))
        for spec in ARTIFACTS
        if spec.kind != ArtifactKind.ATTESTATION
    }
    ref = parse_ref(ref_text)
    client = client_for(ref, credentials)
    rules, rule_files = rules_digest(verdict.suites, thresholds_dir)
    keyid = dsse.key_id(key.public_key())
    moment = now or datetime.now(UTC)
    with registry_errors(ref, "attest"):
        image = fetch_manifest(client, ref)
        require_same_image(verdict, image, ref_text)
        statement = make_statement(
            verdict,
            subject_name=ref.name,
            subject_digest=image.digest,
            verdict_digest=sha256_bytes(verdict_raw),
            rules=rules,
            rule_files=rule_files,
            records_url=records_url or f"file://{socket.gethostname()}{run_dir.resolve()}",
            attested_at=moment,
            run_created=_run_field(run_dir, "created"),
        )
        envelope = dsse.sign(canonical_json(statement), key)
        result = statement["predicate"]["result"]
        annotations = {
            ANNOTATION_SITE: verdict.site,
            ANNOTATION_RESULT: result,
            ANNOTATION_KEY: keyid,
            ANNOTATION_RULES: rules,
            ANNOTATION_CREATED: moment.isoformat().replace("+00:00", "Z"),
        }
        pushed: dict[ArtifactKind, str] = {}
        spec = artifact_spec(ArtifactKind.ATTESTATION)
        pushed[spec.kind] = push_artifact(
            client,
            ref,
            image,
            artifact_type=spec.artifact_type,
            media_type=spec.media_type,
            data=envelope.model_dump_json(by_alias=True).encode(),
            annotations=annotations,
        ).digest
        for kind, path in attachments.items():
            if path is None:
                continue
            spec = artifact_spec(kind)
            pushed[kind] = push_artifact(
                client,
                ref,
                image,
                artifact_type=spec.artifact_type,
                media_type=spec.media_type,
                data=_read(path),
                annotations={**annotations, "org.opencontainers.image.title": path.name},
            ).digest
    return AttestResult(
        ref=ref.at(image.digest).text,
        digest=image.digest,
        site=verdict.site,
        result=result,
        keyid=keyid,
        rules=rules,
        artifacts=pushed,
        missing=[kind for kind, path in attachments.items() if path is None],
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise EsdcError(f"cannot read: {exc.strerror or exc}", where=path) from exc
