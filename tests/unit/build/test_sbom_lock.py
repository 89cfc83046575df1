"""The SBOM of a lock-pinned build lists every package of the lock, and names the signed bytes.

The build itself is a stand-in runtime (no Apptainer here: this tests what esdc writes around a
build, not a build); the lock is the reference spack.lock of spack-envs/nest-reference.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from builder.build import api
from builder.build.hashing import file_sha256
from builder.build.models import BuiltImage
from builder.build.sbom import components_from_spack_lock, make_sbom
from builder.generate.api import generate_definition

LOCK = Path(__file__).parents[3] / "spack-envs" / "nest-reference" / "spack.lock"


def _sbom_of_lock() -> dict[str, Any]:
    data = json.loads(LOCK.read_text())
    sbom = make_sbom(
        image_name="esdc/nest-reference:karolina",
        image_digest="sha256:" + "b" * 64,
        components=components_from_spack_lock(data, LOCK),
        tool_version="test",
        timestamp=datetime(2026, 1, 1, tzinfo=UTC),
    )
    payload: dict[str, Any] = json.loads(sbom.to_json())
    return payload


def test_every_lock_package_with_version_hash_variants_and_dependencies() -> None:
    lock = json.loads(LOCK.read_text())["concrete_specs"]
    payload = _sbom_of_lock()
    assert payload["specVersion"] == "1.5"
    listed = {
        (c["name"], c["version"], c["bom-ref"]) for c in payload["components"] if "bom-ref" in c
    }
    assert listed == {(s["name"], s["version"], h) for h, s in lock.items()}
    assert len(listed) == 76
    nest_hash, nest = next((h, s) for h, s in lock.items() if s["name"] == "nest")
    component = next(c for c in payload["components"] if c["bom-ref"] == nest_hash)
    properties = {p["name"]: p["value"] for p in component["properties"]}
    assert properties["spack:hash"] == nest_hash
    assert properties["spack:variant:mpi"] == "true"
    assert properties["spack:variant:python"] == "true"
    assert properties["spack:compiler"] == "gcc@12.2.0"
    edges = {d["ref"]: set(d.get("dependsOn", [])) for d in payload["dependencies"]}
    assert edges[nest_hash] == {dep["hash"] for dep in nest["dependencies"]}
    assert edges["sha256:" + "b" * 64] == set(lock)


class _StandInRuntime:
    name = "apptainer"

    def build(self, definition: Path, tag: str, *, context: Path, output: Path) -> BuiltImage:
        output.write_bytes(b"SIF image bytes")
        return BuiltImage(
            tag=tag,
            path=output,
            digest=file_sha256(output),
            runtime="apptainer",
            build_log=output.with_suffix(".log"),
        )

    def versions(self) -> dict[str, str]:
        return {"apptainer": "stand-in"}


def test_lock_pinned_build_sbom_and_provenance_name_the_signed_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    definition = tmp_path / "nest-reference@karolina.def"
    definition.write_text(
        generate_definition("nest-reference", "karolina", lock=None, fmt="apptainer", force=True)
    )

    def embed_signature(image: Path, digest: str, runtime: str, key: Path) -> Path:
        image.write_bytes(image.read_bytes() + b" + signature block")  # as apptainer sign does
        return image

    key = tmp_path / "key"
    key.write_text("not a real key")
    monkeypatch.setenv("ESDC_SIGNING_KEY", str(key))
    monkeypatch.setattr(api, "_runtime", lambda *args: _StandInRuntime())
    monkeypatch.setattr(api, "_os_components", lambda *args: [])
    monkeypatch.setattr(api, "sign_image", embed_signature)
    result = api.build_image(definition, output=tmp_path / "img.sif", site=None)
    signed = file_sha256(tmp_path / "img.sif")
    sbom = json.loads(result.sbom.read_text())
    provenance = json.loads(result.provenance.read_text())
    assert provenance["image_digest"] == signed == result.image.digest
    assert sbom["metadata"]["component"]["bom-ref"] == signed
    lock = json.loads(LOCK.read_text())["concrete_specs"]
    assert {c["bom-ref"] for c in sbom["components"]} == set(lock)
    assert result.sbom_components == len(lock)
