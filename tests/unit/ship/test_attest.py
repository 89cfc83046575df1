"""The attestation of a verdict (pure parts): Statement, checks, rules digest, image binding.

Refresh the golden Statement after an intended change:
ESDC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/ship/test_attest.py
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from builder.errors import EsdcError
from builder.fsio import atomic_write_text
from builder.model.verdict import Verdict
from builder.ship.attest import (
    ARTIFACTS,
    PREDICATE_TYPE,
    ArtifactKind,
    artifact_spec,
    checks_of,
    find_attachment,
    image_sidecars,
    make_statement,
    read_verdict,
    require_same_image,
    require_same_judgement,
    rules_digest,
)
from builder.ship.oci import FetchedManifest, parse_manifest
from builder.verify.api import evaluate_run_dir

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "golden" / "attestation-statement.json"
IMAGE = "sha256:" + "c" * 64
LAYER = "sha256:" + "1" * 64


@pytest.fixture(scope="module")
def verdicts() -> dict[str, Verdict]:
    return {
        name: evaluate_run_dir(ROOT / "tests" / "fixtures" / "runs" / name)[1]
        for name in ("pass", "fail-cm-ofi")
    }


def statement_of(verdict: Verdict) -> dict[str, object]:
    return make_statement(
        verdict,
        subject_name="localhost:5000/esd/mpi-pingpong",
        subject_digest=IMAGE,
        verdict_digest="sha256:" + "d" * 64,
        rules="sha256:" + "e" * 64,
        rule_files={"osu": "sha256:" + "f" * 64},
        records_url="https://ci.example.org/jobs/1/artifacts",
        attested_at=datetime(2026, 11, 30, 7, 0, tzinfo=UTC),
        run_created="2026-11-22T04:00:00Z",
    )


def test_statement_of_a_passing_run_matches_the_golden(verdicts: dict[str, Verdict]) -> None:
    text = json.dumps(statement_of(verdicts["pass"]), indent=2, sort_keys=True) + "\n"
    if os.environ.get("ESDC_UPDATE_GOLDEN") == "1":
        atomic_write_text(GOLDEN, text)
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_statement_is_a_test_result_about_the_manifest(verdicts: dict[str, Verdict]) -> None:
    statement = statement_of(verdicts["pass"])
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == PREDICATE_TYPE
    assert statement["subject"] == [
        {"name": "localhost:5000/esd/mpi-pingpong", "digest": {"sha256": "c" * 64}}
    ]
    predicate = statement["predicate"]
    assert isinstance(predicate, dict)
    assert predicate["result"] in ("PASSED", "WARNED") and not predicate.get("failedTests")
    names = [entry["name"] for entry in predicate["configuration"]]
    assert names == ["esdc-run", "esdc-rules"]
    assert predicate["configuration"][0]["annotations"]["site"] == "local"


def test_failed_run_is_attested_as_failed_with_its_failed_checks(
    verdicts: dict[str, Verdict],
) -> None:
    predicate = statement_of(verdicts["fail-cm-ofi"])["predicate"]
    assert isinstance(predicate, dict)
    assert predicate["result"] == "FAILED" and predicate["failedTests"]


def test_checks_sort_metrics_and_transport(verdicts: dict[str, Verdict]) -> None:
    passed, _, failed = checks_of(verdicts["fail-cm-ofi"])
    assert any(name.endswith("/transport") for name in failed)
    assert all("/" in name for name in passed)


def test_rules_digest_changes_with_a_threshold_file(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "benchmarks", tmp_path / "benchmarks")
    suites = ["osu_latency", "nest"]
    before, files = rules_digest(suites, tmp_path / "benchmarks")
    assert set(files) == {"osu", "nest"}
    assert rules_digest(list(reversed(suites)), tmp_path / "benchmarks")[0] == before
    path = tmp_path / "benchmarks" / "osu" / "thresholds.yaml"
    path.write_text(path.read_text() + "\n# tightened\n")
    assert rules_digest(suites, tmp_path / "benchmarks")[0] != before
    assert rules_digest(["osu_latency"], tmp_path / "benchmarks")[0] != before


def _image(layer: str) -> FetchedManifest:
    raw = json.dumps(
        {
            "schemaVersion": 2,
            "config": {"mediaType": "x", "digest": layer, "size": 2},
            "layers": [{"mediaType": "x", "digest": layer, "size": 2}],
        }
    ).encode()
    return FetchedManifest(
        manifest=parse_manifest(raw, where="t"),
        digest=IMAGE,
        size=len(raw),
        media_type="m",
        raw=raw,
    )


def test_the_run_must_have_judged_the_image(verdicts: dict[str, Verdict]) -> None:
    verdict = verdicts["pass"].model_copy(update={"image_digest": LAYER})
    require_same_image(verdict, _image(LAYER), "r")
    require_same_image(verdict.model_copy(update={"image_digest": IMAGE}), _image(LAYER), "r")
    with pytest.raises(EsdcError, match="judged image"):
        require_same_image(verdict, _image("sha256:" + "2" * 64), "r")
    with pytest.raises(EsdcError, match="no image digest"):
        require_same_image(verdict.model_copy(update={"image_digest": None}), _image(LAYER), "r")


def test_attachments_are_found_in_the_run_or_reported_missing(tmp_path: Path) -> None:
    report = artifact_spec(ArtifactKind.REPORT)
    with pytest.raises(EsdcError, match="esdc report"):
        find_attachment(tmp_path, report, None)
    (tmp_path / "report.html").write_text("<html>")
    assert find_attachment(tmp_path, report, None) == tmp_path / "report.html"
    sbom = artifact_spec(ArtifactKind.SBOM)
    assert find_attachment(tmp_path, sbom, None) is None
    (tmp_path / "nest.sif.sbom.cdx.json").write_text("{}")
    assert find_attachment(tmp_path, sbom, None) == tmp_path / "nest.sif.sbom.cdx.json"
    with pytest.raises(EsdcError, match="no such provenance"):
        find_attachment(tmp_path, artifact_spec(ArtifactKind.PROVENANCE), tmp_path / "x.json")
    assert len({spec.artifact_type for spec in ARTIFACTS}) == len(ARTIFACTS)


def test_provenance_and_sbom_are_found_beside_the_image_the_run_used(tmp_path: Path) -> None:
    image = tmp_path / "images" / "nest.sif"
    image.parent.mkdir()
    image.write_bytes(b"sif")
    (tmp_path / "images" / "nest.sif.provenance.json").write_text("{}")
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"image": str(image)}))
    sidecars = image_sidecars(run)
    spec = artifact_spec(ArtifactKind.PROVENANCE)
    found = find_attachment(run, spec, None, sidecars.get(ArtifactKind.PROVENANCE))
    assert found == image.parent / "nest.sif.provenance.json"
    sbom = artifact_spec(ArtifactKind.SBOM)
    assert find_attachment(run, sbom, None, sidecars.get(ArtifactKind.SBOM)) is None
    (run / "run.json").write_text(json.dumps({"image": "localhost:5000/esd/nest:1"}))
    assert image_sidecars(run) == {}


def test_verdict_file_problems_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(EsdcError, match="esdc verify"):
        read_verdict(tmp_path)
    (tmp_path / "verdict.json").write_text('{"verdict": "pass"}')
    with pytest.raises(EsdcError, match=r"esdc\.verdict/1"):
        read_verdict(tmp_path)


def test_a_stale_or_edited_verdict_is_never_signed(
    tmp_path: Path, verdicts: dict[str, Verdict]
) -> None:
    run = tmp_path / "run"
    shutil.copytree(ROOT / "tests" / "fixtures" / "runs" / "fail-cm-ofi", run)
    require_same_judgement(run, verdicts["fail-cm-ofi"], None)
    edited = verdicts["fail-cm-ofi"].model_copy(update={"verdict": "pass"})
    with pytest.raises(EsdcError, match="judge fail"):
        require_same_judgement(run, edited, None)
    (run / "run.json").unlink()
    with pytest.raises(EsdcError, match=r"no run\.json"):
        require_same_judgement(run, verdicts["fail-cm-ofi"], None)
