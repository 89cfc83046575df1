"""Reading an attestation back (pure parts): the Statement check and the refusal reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builder.errors import EsdcError
from builder.ship.dsse import SignatureStatus
from builder.ship.trust import (
    AttestationRecord,
    parse_statement,
    record_from_statement,
    require_verified,
)

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "attestation-statement.json"
IMAGE = "sha256:" + "c" * 64


def golden() -> bytes:
    return GOLDEN.read_bytes()


def test_statement_is_read_back_into_a_record() -> None:
    document = parse_statement(golden(), IMAGE)
    record = record_from_statement(document, AttestationRecord(attestation="a", image=IMAGE))
    assert (record.site, record.result, record.verdict) == ("local", "PASSED", "pass")
    assert record.rules == "sha256:" + "e" * 64
    assert record.suites == ["mpi4py", "nest", "osu_bw", "osu_latency"]
    assert record.attested_at == "2026-11-30T07:00:00Z"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(predicateType="https://slsa.dev/provenance/v1"), "predicate type"),
        (lambda d: d.update(subject=[{"name": "x", "digest": {"sha256": "0" * 64}}]), "another"),
        (lambda d: d.update(_type="https://in-toto.io/Statement/v0.1"), "in-toto Statement"),
        (lambda d: d.update(subject=[]), "in-toto Statement"),
        (lambda d: d.update(subject="nope"), "in-toto Statement"),
    ],
)
def test_statements_that_do_not_bind_this_image_are_refused(change: object, message: str) -> None:
    document = json.loads(golden())
    change(document)  # type: ignore[operator]
    with pytest.raises(EsdcError, match=message):
        parse_statement(json.dumps(document).encode(), IMAGE)


def test_not_json_is_refused() -> None:
    with pytest.raises(EsdcError, match="in-toto Statement"):
        parse_statement(b"\xff garbage", IMAGE)


def record(**changes: object) -> AttestationRecord:
    base = AttestationRecord(
        attestation="a",
        image=IMAGE,
        site="local",
        result="PASSED",
        verdict="pass",
        signature=SignatureStatus.VALID,
        keyid="sha256:" + "9" * 64,
    )
    return base.model_copy(update=changes)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"site": "jsc"}, "verified for site 'jsc', not 'local'"),
        ({"result": "FAILED", "verdict": "fail", "reason": "latency"}, "verdict is fail"),
        ({"signature": SignatureStatus.UNTRUSTED}, "untrusted key sha256:9999"),
        ({"signature": SignatureStatus.INVALID}, "signature does not verify"),
        ({"signature": SignatureStatus.NOT_CHECKED}, "untrusted key"),
        ({"problem": "unreadable attestation: x"}, "unreadable attestation"),
    ],
)
def test_each_reason_to_refuse_is_named(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(EsdcError) as excinfo:
        require_verified([record(**changes)], "local", "reg/x@sha256:c")
    assert reason in str(excinfo.value) and "\n" not in str(excinfo.value)


def test_one_good_attestation_among_bad_ones_is_enough() -> None:
    good = record()
    assert require_verified([record(site="jsc"), good], "local", "i") is good
    assert record(result="WARNED").passes_for("local")


def test_no_attestation_means_never_verified() -> None:
    with pytest.raises(EsdcError, match="never verified"):
        require_verified([], "local", "reg/x@sha256:c")


def test_a_multi_line_reason_stays_one_line() -> None:
    bad = record(result="FAILED", verdict="fail", reason="line one\nline two")
    with pytest.raises(EsdcError) as excinfo:
        require_verified([bad], "local", "i")
    assert "\n" not in str(excinfo.value)
