"""CycloneDX 1.5 JSON SBOMs: Debian packages found in an image, or the specs of a spack.lock."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from builder.errors import EsdcError


class Property(BaseModel):
    """A CycloneDX name/value property."""

    name: str
    value: str


class Hash(BaseModel):
    """A CycloneDX hash."""

    alg: Literal["SHA-256"] = "SHA-256"
    content: str


class Component(BaseModel):
    """A CycloneDX component (the subset this project writes)."""

    model_config = ConfigDict(populate_by_name=True)

    type: Literal["library", "application", "container", "operating-system"] = "library"
    bom_ref: str = Field(alias="bom-ref")
    name: str
    version: str
    purl: str | None = None
    hashes: list[Hash] = Field(default_factory=list)
    properties: list[Property] = Field(default_factory=list)


class Tool(BaseModel):
    """The tool that wrote the SBOM."""

    type: Literal["application"] = "application"
    name: str
    version: str


class Metadata(BaseModel):
    """CycloneDX metadata: when, by what, about which image."""

    timestamp: str
    tools: dict[str, list[Tool]]
    component: Component


class Sbom(BaseModel):
    """A CycloneDX 1.5 bill of materials."""

    model_config = ConfigDict(populate_by_name=True)

    bom_format: Literal["CycloneDX"] = Field(default="CycloneDX", alias="bomFormat")
    spec_version: Literal["1.5"] = Field(default="1.5", alias="specVersion")
    serial_number: str = Field(alias="serialNumber")
    version: int = 1
    metadata: Metadata
    components: list[Component]

    def to_json(self) -> str:
        """The SBOM as CycloneDX JSON text."""
        payload = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return json.dumps(payload, indent=2, sort_keys=False) + "\n"


def parse_dpkg_query(output: str, *, distro: str = "debian-12") -> list[Component]:
    """Components from ``dpkg-query -W`` lines: package, version, architecture, status (tabs).

    Only fully installed packages (status ``ii``) are listed; lines of another shape are
    skipped (ch-run may print warnings on the same stream).
    """
    components: dict[str, Component] = {}
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) != 4 or not fields[3].startswith("ii"):
            continue
        name, version, arch, _ = fields
        purl = f"pkg:deb/debian/{name}@{quote(version, safe='')}?arch={arch}&distro={distro}"
        components[purl] = Component(bom_ref=purl, name=name, version=version, purl=purl)
    return sorted(components.values(), key=lambda c: (c.name, c.version))


def components_from_spack_lock(lock: dict[str, Any], where: Path) -> list[Component]:
    """Components from a parsed spack.lock (lockfile v4/v5: ``concrete_specs`` by hash)."""
    specs = lock.get("concrete_specs")
    if not isinstance(specs, dict):
        raise EsdcError("no concrete_specs: not a spack.lock", where=where)
    components = []
    for spec_hash, spec in specs.items():
        if not isinstance(spec, dict) or "name" not in spec:
            raise EsdcError(f"spec {spec_hash} has no name", where=where)
        arch = spec.get("arch") or {}
        target = arch.get("target")
        target_name = target.get("name") if isinstance(target, dict) else target
        version = str(spec.get("version", "unknown"))
        properties = [Property(name="spack:hash", value=str(spec_hash))]
        if target_name:
            properties.append(Property(name="spack:target", value=str(target_name)))
        if arch.get("platform_os"):
            properties.append(Property(name="spack:os", value=str(arch["platform_os"])))
        purl = f"pkg:generic/spack/{spec['name']}@{quote(version, safe='')}?hash={spec_hash}"
        components.append(
            Component(
                bom_ref=str(spec_hash),
                name=str(spec["name"]),
                version=version,
                purl=purl,
                properties=properties,
            )
        )
    return sorted(components, key=lambda c: (c.name, c.version, c.bom_ref))


def make_sbom(
    *,
    image_name: str,
    image_digest: str,
    components: list[Component],
    tool_version: str,
    timestamp: datetime,
) -> Sbom:
    """Assemble the SBOM of one image (pure but for the random serial number)."""
    subject = Component(
        type="container",
        bom_ref=image_digest,
        name=image_name,
        version=image_digest,
        hashes=[Hash(content=image_digest.removeprefix("sha256:"))],
    )
    return Sbom(
        serial_number=f"urn:uuid:{uuid.uuid4()}",
        metadata=Metadata(
            timestamp=timestamp.isoformat(),
            tools={"components": [Tool(name="esdc", version=tool_version)]},
            component=subject,
        ),
        components=components,
    )
