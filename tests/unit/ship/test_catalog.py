"""The catalog's rows and its one-file HTML page (golden).

Refresh the golden page after an intended change:
ESDC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/ship/test_catalog.py
"""

from __future__ import annotations

import os
from pathlib import Path

from builder.fsio import atomic_write_text
from builder.ship.catalog import Catalog, CatalogImage, entry_of, render_html
from builder.ship.dsse import SignatureStatus
from builder.ship.registry import parse_ref
from builder.ship.trust import AttestationRecord

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "catalog.html"
REF = parse_ref("registry.example.org/esd/nest:latest")


def record(site: str, result: str, rules: str) -> AttestationRecord:
    return AttestationRecord(
        attestation="sha256:" + "a" * 64,
        image="sha256:" + "b" * 64,
        site=site,
        result=result,
        verdict="pass" if result == "PASSED" else "fail",
        attested_at="2026-11-30T07:00:00Z",
        keyid="sha256:" + "9" * 64,
        signature=SignatureStatus.VALID,
        rules=rules,
        suites=["osu_latency"],
    )


def catalog() -> Catalog:
    current = "sha256:" + "1" * 64
    report = f"https://registry.example.org/v2/esd/nest/blobs/sha256:{'d' * 64}"
    return Catalog(
        repository=REF.name,
        site=None,
        generated_at="2026-11-30T08:00:00Z",
        signatures_checked=True,
        entries=[
            entry_of(
                record("jureca-dc", "PASSED", current), REF, ["3.8", "latest"], report, current
            ),
            entry_of(record("karolina", "FAILED", current), REF, ["3.8"], None, current),
            entry_of(record("local", "PASSED", "sha256:" + "0" * 64), REF, ["<b>"], None, current),
        ],
        unverified=[CatalogImage(image="sha256:" + "e" * 64, tags=["dev"])],
    )


def test_rows_say_whether_the_rules_are_current() -> None:
    entries = catalog().entries
    assert [e.current_rules for e in entries] == [True, True, False]
    assert entries[0].ref == f"registry.example.org/esd/nest@sha256:{'b' * 64}"


def test_catalog_page_matches_the_golden() -> None:
    text = render_html(catalog())
    if os.environ.get("ESDC_UPDATE_GOLDEN") == "1":
        atomic_write_text(GOLDEN, text)
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_catalog_page_is_self_contained_and_escaped() -> None:
    text = render_html(catalog())
    assert "<script" not in text and "&lt;b&gt;" in text
    assert "older rules: revalidate" in text and 'href="https://registry.example.org' in text
    assert text.count("href=") == 1
