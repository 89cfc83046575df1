"""Fuzzing what a registry may answer: any bytes, or a valid document with fields mutated.

Property: each parser either accepts or raises :class:`EsdcError` (one line, exit 2 at the
command line); nothing else escapes. Short budget: these run with the unit tests.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.errors import EsdcError
from builder.ship.dsse import parse_envelope
from builder.ship.oci import parse_index, parse_manifest
from builder.ship.trust import AttestationRecord, parse_statement, record_from_statement

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "attestation-statement.json"
IMAGE = "sha256:" + "c" * 64
LAYER = {"mediaType": "x", "digest": "sha256:" + "a" * 64, "size": 3}
VALID_MANIFEST: dict[str, Any] = {"schemaVersion": 2, "config": LAYER, "layers": [LAYER]}
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def mutate(document: Any, path: list[str | int], value: Any) -> Any:
    """Replace the value at a path (as far as it exists) by ``value``."""
    if not path or not isinstance(document, dict | list):
        return value
    head, rest = path[0], path[1:]
    if isinstance(document, dict):
        key = head if isinstance(head, str) and head in document else next(iter(document), None)
        if key is None:
            return document
        return {**document, key: mutate(document[key], rest, value)}
    if not document:
        return document
    index = head % len(document) if isinstance(head, int) else 0
    return [*document[:index], mutate(document[index], rest, value), *document[index + 1 :]]


paths = st.lists(
    st.sampled_from(["schemaVersion", "config", "layers", "digest", "size", "mediaType", 0, 1]),
    max_size=4,
)


def accepts_or_esdc_error(parse: Any, raw: bytes) -> None:
    try:
        parse(raw)
    except EsdcError as exc:
        assert "\n" not in str(exc)


@FAST
@given(st.binary(max_size=300))
def test_any_bytes_as_manifest_index_or_envelope(raw: bytes) -> None:
    accepts_or_esdc_error(lambda r: parse_manifest(r, where="r"), raw)
    accepts_or_esdc_error(lambda r: parse_index(r, where="r"), raw)
    accepts_or_esdc_error(lambda r: parse_envelope(r, where="r"), raw)
    accepts_or_esdc_error(lambda r: parse_statement(r, IMAGE), raw)


@FAST
@given(paths, json_values)
def test_mutated_manifests(path: list[str | int], value: Any) -> None:
    raw = json.dumps(mutate(VALID_MANIFEST, path, value)).encode()
    accepts_or_esdc_error(lambda r: parse_manifest(r, where="r"), raw)
    accepts_or_esdc_error(lambda r: parse_index(r, where="r"), raw)


statement_paths = st.lists(
    st.sampled_from(
        [
            *("_type", "subject", "predicate", "predicateType", "configuration", "digest"),
            *("sha256", "annotations", "result", "url", "passedTests", "name", 0, 1),
        ]
    ),
    max_size=5,
)


@FAST
@given(statement_paths, json_values)
def test_mutated_statements_are_accepted_or_refused_in_one_line(
    path: list[str | int], value: Any
) -> None:
    document = mutate(json.loads(GOLDEN.read_bytes()), path, value)
    try:
        checked = parse_statement(json.dumps(document).encode(), IMAGE)
    except EsdcError as exc:
        assert "\n" not in str(exc)
        return
    record_from_statement(checked, AttestationRecord(attestation="a", image=IMAGE))


@FAST
@given(json_values)
def test_envelopes_with_any_payload(payload: Any) -> None:
    raw = json.dumps(
        {
            "payloadType": "application/vnd.in-toto+json",
            "payload": base64.b64encode(json.dumps(payload).encode()).decode(),
            "signatures": [{"keyid": "k", "sig": "AA=="}],
        }
    ).encode()
    envelope = parse_envelope(raw, where="r")
    accepts_or_esdc_error(lambda r: parse_statement(r, IMAGE), envelope.payload_bytes())
