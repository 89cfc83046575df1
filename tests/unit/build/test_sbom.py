"""CycloneDX SBOMs from dpkg-query output and from the reference spack.lock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from builder.build.sbom import components_from_spack_lock, make_sbom, parse_dpkg_query
from builder.errors import EsdcError

LOCK = Path(__file__).parents[3] / "spack-envs" / "nest-reference" / "spack.lock"
DPKG = (
    "base-files\t12.4+deb12u11\tamd64\tii \n"
    "libopenmpi3:amd64\t4.1.4-3+b1\tamd64\tii \n"
    "removed-pkg\t1.0\tamd64\trc \n"
    "ch-run[123]: warning: something\n"
)


def test_parse_dpkg_query_keeps_installed_packages_only() -> None:
    components = parse_dpkg_query(DPKG)
    assert [c.name for c in components] == ["base-files", "libopenmpi3:amd64"]
    assert (
        components[0].purl
        == "pkg:deb/debian/base-files@12.4%2Bdeb12u11?arch=amd64&distro=debian-12"
    )


def test_sbom_is_cyclonedx_1_5_json() -> None:
    sbom = make_sbom(
        image_name="esdc/t",
        image_digest="sha256:" + "a" * 64,
        components=parse_dpkg_query(DPKG),
        tool_version="0.1.0",
        timestamp=datetime(2026, 1, 1, tzinfo=UTC),
    )
    payload = json.loads(sbom.to_json())
    assert payload["bomFormat"] == "CycloneDX"
    assert payload["specVersion"] == "1.5"
    assert payload["serialNumber"].startswith("urn:uuid:")
    assert payload["metadata"]["component"]["type"] == "container"
    assert payload["metadata"]["component"]["hashes"] == [{"alg": "SHA-256", "content": "a" * 64}]
    assert payload["components"][0]["bom-ref"].startswith("pkg:deb/debian/base-files@")


def test_spack_lock_components_cover_every_concrete_spec() -> None:
    data = json.loads(LOCK.read_text())
    components = components_from_spack_lock(data, LOCK)
    assert len(components) == len(data["concrete_specs"]) == 76
    names = {c.name for c in components}
    assert {"nest", "openmpi", "ucx", "pmix"} <= names
    nest = next(c for c in components if c.name == "nest")
    assert any(p.name == "spack:hash" for p in nest.properties)
    assert nest.purl is not None and nest.purl.startswith("pkg:generic/spack/nest@")


def test_spack_lock_without_concrete_specs_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(EsdcError, match=r"not a spack\.lock") as info:
        components_from_spack_lock({"roots": []}, tmp_path / "spack.lock")
    assert "spack.lock" in str(info.value)
