"""CycloneDX 1.5 JSON SBOMs of an image: its OS packages and every Spack package of its lock.

Components are gathered as small pydantic records (pure parsing, easy to test); the document
itself is assembled and serialised by cyclonedx-python-lib, the CycloneDX project's own
library, so that the output follows the schema without hand-written JSON. Spack packages carry
their hash, variants, compiler and target as properties and their dependencies as CycloneDX
dependency edges.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from cyclonedx.model import HashAlgorithm, HashType
from cyclonedx.model import Property as CdxProperty
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.component import ComponentType
from cyclonedx.output.json import JsonV1Dot5
from packageurl import PackageURL
from pydantic import BaseModel, ConfigDict, Field

from builder.errors import EsdcError


class Property(BaseModel):
    """A CycloneDX name/value property."""

    name: str
    value: str


class Component(BaseModel):
    """One component of the image (the subset this project records)."""

    model_config = ConfigDict(populate_by_name=True)

    type: Literal["library", "application", "operating-system"] = "library"
    bom_ref: str = Field(alias="bom-ref")
    name: str
    version: str
    purl: str | None = None
    properties: list[Property] = Field(default_factory=list)
    depends_on: list[str] = Field(
        default_factory=list, description="bom-refs of the components this one needs."
    )


class Sbom:
    """A CycloneDX 1.5 bill of materials built with cyclonedx-python-lib."""

    def __init__(self, bom: Bom) -> None:
        self.bom = bom

    def to_json(self) -> str:
        """The SBOM as CycloneDX 1.5 JSON text."""
        return JsonV1Dot5(self.bom).output_as_string(indent=2) + "\n"


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


def _variant_value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_variant_value(item) for item in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def components_from_spack_lock(lock: dict[str, Any], where: Path) -> list[Component]:
    """One component per concrete spec of a parsed spack.lock (v4 and later: by hash).

    Name, version, hash, variants (``spack:variant:NAME``), compiler, OS, target and the
    dependency edges (by hash) of every spec: everything the lock installs, nothing else.
    """
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
        compiler = spec.get("compiler")
        if isinstance(compiler, dict) and {"name", "version"} <= set(compiler):
            properties.append(
                Property(name="spack:compiler", value=f"{compiler['name']}@{compiler['version']}")
            )
        parameters = spec.get("parameters") or {}
        for key, value in sorted(parameters.items() if isinstance(parameters, dict) else []):
            if key.endswith("flags") or key == "ldlibs":
                continue
            properties.append(Property(name=f"spack:variant:{key}", value=_variant_value(value)))
        depends_on = sorted(
            str(dep["hash"])
            for dep in spec.get("dependencies") or []
            if isinstance(dep, dict) and dep.get("hash") in specs
        )
        purl = f"pkg:generic/spack/{spec['name']}@{quote(version, safe='')}?hash={spec_hash}"
        components.append(
            Component(
                bom_ref=str(spec_hash),
                name=str(spec["name"]),
                version=version,
                purl=purl,
                properties=properties,
                depends_on=depends_on,
            )
        )
    return sorted(components, key=lambda c: (c.name, c.version, c.bom_ref))


def _cdx(component: Component) -> CdxComponent:
    return CdxComponent(
        type=ComponentType(component.type),
        bom_ref=component.bom_ref,
        name=component.name,
        version=component.version,
        purl=PackageURL.from_string(component.purl) if component.purl else None,
        properties=[CdxProperty(name=p.name, value=p.value) for p in component.properties],
    )


def make_sbom(
    *,
    image_name: str,
    image_digest: str,
    components: list[Component],
    tool_version: str,
    timestamp: datetime,
) -> Sbom:
    """Assemble the SBOM of one image (pure but for the random serial number).

    ``image_digest`` names the image bytes the SBOM describes; :func:`builder.build.api`
    passes the digest of the file that is shipped (after signing, for a signed SIF).
    """
    subject = CdxComponent(
        type=ComponentType.CONTAINER,
        bom_ref=image_digest,
        name=image_name,
        version=image_digest,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=image_digest.removeprefix("sha256:"))],
    )
    bom = Bom()
    bom.metadata.timestamp = timestamp
    bom.metadata.component = subject
    bom.metadata.tools.components.add(
        CdxComponent(type=ComponentType.APPLICATION, name="esdc", version=tool_version)
    )
    converted = {record.bom_ref: _cdx(record) for record in components}
    for item in converted.values():
        bom.components.add(item)
    bom.register_dependency(subject, list(converted.values()))
    for record in components:
        edges = [converted[ref] for ref in record.depends_on if ref in converted]
        bom.register_dependency(converted[record.bom_ref], edges)
    return Sbom(bom)
