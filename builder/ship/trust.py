"""Reading attestations back: which image is verified for which site, by which key.

Everything read from the registry is checked before it counts: the artifact manifest's digest,
its ``subject``, the envelope blob's digest, the DSSE signature against the trusted keys, the
Statement's type, predicate type and subject digest. Annotations in referrer lists are never
trusted; they only help to find things.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from pydantic import BaseModel, Field, ValidationError

from builder.errors import EsdcError
from builder.ship import dsse
from builder.ship.attest import (
    PREDICATE_TYPE,
    RULES_ENTRY,
    RUN_ENTRY,
    ArtifactKind,
    artifact_spec,
)
from builder.ship.dsse import SignatureStatus
from builder.ship.oci import BoundedRegistry, Descriptor
from builder.ship.referrers import fetch_artifact, list_referrers
from builder.ship.registry import RegistryRef

#: How many attestations of one image are read at most.
MAX_ATTESTATIONS = 64

#: Test Result outcomes that count as verified.
PASSING = ("PASSED", "WARNED")


class AttestationRecord(BaseModel):
    """One attestation of one image, as read back and checked."""

    attestation: str
    image: str
    site: str = ""
    result: str = ""
    verdict: str = ""
    reason: str = ""
    attested_at: str = ""
    run_created: str = ""
    keyid: str = ""
    signature: SignatureStatus = SignatureStatus.NOT_CHECKED
    rules: str = ""
    suites: list[str] = []
    records_url: str = ""
    #: Why this attestation cannot be read (malformed, wrong subject); empty when it can.
    problem: str = ""

    def passes_for(self, site: str) -> bool:
        """A valid signature by a trusted key, for ``site``, with a passing result."""
        return (
            not self.problem
            and self.signature == SignatureStatus.VALID
            and self.site == site
            and self.result in PASSING
        )

    def refusal(self, site: str) -> str:
        """Why this attestation does not make the image verified for ``site``."""
        if self.problem:
            return self.problem
        if self.signature == SignatureStatus.INVALID:
            return "signature does not verify (the attestation was changed after signing)"
        if self.signature != SignatureStatus.VALID:
            return f"signed by an untrusted key {self.keyid[:19]}"
        if self.site != site:
            return f"verified for site {self.site!r}, not {site!r}"
        if self.result not in PASSING:
            return f"its verdict is {self.verdict or self.result} at {site!r}: {self.reason}"
        return "accepted"


class _RunNotes(BaseModel):
    """The ``esdc-run`` configuration entry's annotations."""

    site: str = ""
    verdict: str = ""
    reason: str = ""
    attested_at: str = Field(default="", alias="attestedAt")
    run_created: str = Field(default="", alias="runCreated")


class _RulesNotes(BaseModel):
    suites: list[str] = Field(default_factory=list)


class _Entry(BaseModel):
    name: str = ""
    digest: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, Any] = Field(default_factory=dict)


class TestResultPredicate(BaseModel):
    """The Test Result predicate, as far as esdc reads it back."""

    __test__ = False  # not a pytest class, whatever its name says

    result: str
    configuration: list[_Entry] = Field(default_factory=list)
    url: str = ""

    def entry(self, name: str) -> _Entry:
        """The configuration entry called ``name`` (an empty one when absent)."""
        return next((e for e in self.configuration if e.name == name), _Entry())


def parse_predicate(document: dict[str, Any]) -> tuple[TestResultPredicate, _RunNotes, _RulesNotes]:
    """The predicate and esdc's two configuration entries, validated."""
    try:
        predicate = TestResultPredicate.model_validate(document.get("predicate"))
        run = _RunNotes.model_validate(predicate.entry(RUN_ENTRY).annotations)
        rules = _RulesNotes.model_validate(predicate.entry(RULES_ENTRY).annotations)
    except ValidationError as exc:
        raise EsdcError("malformed Test Result predicate") from exc
    return predicate, run, rules


def parse_statement(payload: bytes, image_digest: str) -> dict[str, Any]:
    """The Statement JSON, validated by in-toto's own rules and bound to ``image_digest``."""
    try:
        document = json.loads(payload)
        message = json_format.ParseDict(document, statement_pb2.Statement())
        Statement.copy_from_pb(message).validate()
    except (ValueError, TypeError, AttributeError, json_format.ParseError) as exc:
        raise EsdcError(f"not an in-toto Statement ({' '.join(str(exc).split())[:80]})") from exc
    if document.get("predicateType") != PREDICATE_TYPE:
        raise EsdcError(f"predicate type is not {PREDICATE_TYPE}")
    digests = {
        f"sha256:{subject.get('digest', {}).get('sha256', '')}"
        for subject in document.get("subject", [])
    }
    if image_digest not in digests:
        raise EsdcError("the signed statement is about another image")
    parse_predicate(document)
    return dict(document)


def record_from_statement(document: dict[str, Any], base: AttestationRecord) -> AttestationRecord:
    """Fill a record from a checked Statement (pure)."""
    predicate, run, rules = parse_predicate(document)
    return base.model_copy(
        update={
            "site": run.site,
            "result": predicate.result,
            "verdict": run.verdict,
            "reason": run.reason,
            "attested_at": run.attested_at,
            "run_created": run.run_created,
            "rules": "sha256:" + predicate.entry(RULES_ENTRY).digest.get("sha256", ""),
            "suites": rules.suites,
            "records_url": predicate.url,
        }
    )


def read_attestation(
    client: BoundedRegistry,
    ref: RegistryRef,
    descriptor: Descriptor,
    image_digest: str,
    trusted: list[dsse.PublicKey] | None,
) -> AttestationRecord:
    """Read and check one attestation; problems go into the record, not an exception."""
    base = AttestationRecord(attestation=descriptor.digest, image=image_digest)
    try:
        _, blob = fetch_artifact(client, ref, descriptor, image_digest)
        envelope = dsse.parse_envelope(blob, where=ref.at(descriptor.digest).text)
        if envelope.payload_type != dsse.IN_TOTO_PAYLOAD_TYPE:
            raise EsdcError(f"DSSE payload type is {envelope.payload_type[:60]!r}")
        status, keyid = (
            dsse.verify(envelope, trusted)
            if trusted is not None
            else (SignatureStatus.NOT_CHECKED, envelope.signatures[0].keyid)
        )
        document = parse_statement(envelope.payload_bytes(), image_digest)
    except EsdcError as exc:
        return base.model_copy(update={"problem": f"unreadable attestation: {exc}"})
    return record_from_statement(document, base).model_copy(
        update={"signature": status, "keyid": keyid}
    )


def attestations_of(
    client: BoundedRegistry,
    ref: RegistryRef,
    image_digest: str,
    trusted: list[dsse.PublicKey] | None,
) -> list[AttestationRecord]:
    """The attestations whose subject is ``image_digest`` (the newest listed), each checked.

    At most :data:`MAX_ATTESTATIONS` are read: a registry listing thousands cannot make a pull
    take hours (the referrers tag lists the newest last).
    """
    spec = artifact_spec(ArtifactKind.ATTESTATION)
    listed = list_referrers(client, ref, image_digest, spec.artifact_type)
    return [
        read_attestation(client, ref, descriptor, image_digest, trusted)
        for descriptor in reversed(listed[-MAX_ATTESTATIONS:])
    ]


def require_verified(records: list[AttestationRecord], site: str, image: str) -> AttestationRecord:
    """The attestation that makes ``image`` verified for ``site``, or one line saying why not."""
    for record in records:
        if record.passes_for(site):
            return record
    if not records:
        raise EsdcError(f"refused: {image} has no attestation: it was never verified (esdc attest)")
    reasons = list(dict.fromkeys(" ".join(r.refusal(site).split()) for r in records))
    raise EsdcError(f"refused: {image} is not verified for site {site!r}: " + "; ".join(reasons))


def load_trusted(paths: list[Path]) -> list[dsse.PublicKey]:
    """The public keys given to ``--trust``."""
    return [dsse.load_public_key(path) for path in paths]
