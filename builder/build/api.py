"""``esdc build``: build a definition with the site's (or the local) runtime, then write the
provenance record and the SBOM beside the image and sign it when a key is configured."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from builder import __version__
from builder.build.definition import DefinitionFacts, read_facts
from builder.build.hashing import bytes_sha256, file_sha256
from builder.build.inventory import os_packages, subprocess_in_image
from builder.build.models import BuildResult, BuiltImage
from builder.build.provenance import git_state, make_provenance
from builder.build.runtime import ContainerRuntime, runtime_for
from builder.build.sbom import Component, components_from_spack_lock, make_sbom
from builder.build.signing import sign_image, signing_key
from builder.build.wheels import fetch_wheels
from builder.errors import EsdcError
from builder.fsio import atomic_write_json, atomic_write_text, check_output_path
from builder.generate.context import WHEELS_DIR

DEFAULT_IMAGES_DIR = Path("images")


def sidecar_paths(image: Path) -> tuple[Path, Path]:
    """Where the provenance and the SBOM of ``image`` go: ``IMAGE.provenance.json`` and
    ``IMAGE.sbom.cdx.json`` beside it (one pair per image, even with several in a folder)."""
    return (
        image.with_name(image.name + ".provenance.json"),
        image.with_name(image.name + ".sbom.cdx.json"),
    )


def image_tag(facts: DefinitionFacts, definition: Path) -> str:
    """A runtime tag from the environment and site the definition names, else its file name."""
    stem = definition.resolve().parent.name if definition.name == "Dockerfile" else definition.stem
    stem = stem.removesuffix(".Dockerfile")
    raw = f"esdc/{facts.env}:{facts.site}" if facts.env and facts.site else f"esdc/{stem}"
    name, _, version = raw.partition(":")
    name = re.sub(r"[^a-z0-9._/-]+", "-", name.lower()).strip("-") or "esdc/image"
    version = re.sub(r"[^A-Za-z0-9._-]+", "-", version)[:128]
    return f"{name}:{version}" if version else name


#: Image formats that are one file (an existing directory at such an output path is refused).
IMAGE_FILE_SUFFIXES: tuple[str, ...] = (".sif", ".sqfs", ".squashfs")


def default_output(facts: DefinitionFacts, definition: Path) -> Path:
    """``images/STEM.sif`` for Apptainer, ``images/STEM`` (a directory) for Charliecloud."""
    suffix = ".sif" if facts.format == "apptainer" else ""
    if facts.env and facts.site:
        name = f"{facts.env}@{facts.site}"
    elif definition.name == "Dockerfile":
        name = definition.resolve().parent.name
    else:
        name = definition.stem.removesuffix(".Dockerfile")
    return DEFAULT_IMAGES_DIR / f"{name}{suffix}"


def _runtime(site: str | None, facts: DefinitionFacts, definition: Path) -> ContainerRuntime:
    if site is not None:
        from builder.profiles import load_site

        runtime = runtime_for(load_site(site))
        wanted = "apptainer" if facts.format == "apptainer" else "charliecloud"
        if runtime.name != wanted:
            raise EsdcError(
                f"site {site} builds with {runtime.name}, but this is a {facts.format} "
                f"definition (generate it with --format "
                f"{'apptainer' if runtime.name == 'apptainer' else 'dockerfile'})",
                where=definition,
            )
        return runtime
    if facts.format == "apptainer":
        from builder.build.apptainer import ApptainerRuntime

        return ApptainerRuntime()
    from builder.build.charliecloud import CharliecloudRuntime

    return CharliecloudRuntime()


def build_context(facts: DefinitionFacts, definition: Path) -> Path:
    """Generated definitions name their inputs relative to the project root (``esdc generate``
    says so in the Dockerfile); any other definition is built in its own folder."""
    if facts.generated:
        from builder.profiles import project_root

        return project_root()
    return definition.resolve().parent


def _spack_components(facts: DefinitionFacts, context: Path) -> list[Component]:
    """The specs of the lock the definition installs, checked against the digest it names."""
    if facts.lock_source is None:
        return []
    lock = context / facts.lock_source
    if not lock.is_file():
        raise EsdcError(
            f"the definition copies {facts.lock_source}, not found in {context}", where=lock
        )
    if facts.lock_sha256 and file_sha256(lock) != f"sha256:{facts.lock_sha256}":
        raise EsdcError(
            f"differs from the sha256 the definition names ({facts.lock_sha256})", where=lock
        )
    try:
        data = json.loads(lock.read_text())
    except (OSError, ValueError) as exc:
        raise EsdcError(f"cannot read spack.lock: {exc}", where=lock) from exc
    return components_from_spack_lock(data, lock)


def _os_components(runtime: ContainerRuntime, image: BuiltImage) -> list[Component]:
    # A SquashFS file cannot be mounted by ch-run here (no SquashFUSE): ask the directory.
    runnable = image.unpacked or image.path
    in_image = subprocess_in_image(
        lambda img, argv: runtime.exec_argv(img, argv), str(runnable), getattr(runtime, "env", None)
    )
    return os_packages(in_image, str(image.path))


def build_image(definition: Path, *, output: Path | None, site: str | None) -> BuildResult:
    """Build ``definition`` and write provenance, SBOM and (if configured) a signature.

    Parameters
    ----------
    definition
        An Apptainer definition (``*.def``) or a Dockerfile; its folder is the build context.
    output
        Image path: a ``.sif`` file (Apptainer), a directory or ``.sqfs`` (Charliecloud).
        Default ``images/NAME.sif`` or ``images/NAME``.
    site
        Build with this site's runtime; by default the definition's format decides
        (Apptainer for ``.def``, Charliecloud for Dockerfiles).

    Returns
    -------
    BuildResult
        The image (path, digest, runtime, build log) and the files written beside it.
    """
    try:
        text = definition.read_text()
    except OSError as exc:
        raise EsdcError(f"cannot read: {exc.strerror or exc}", where=definition) from exc
    facts = read_facts(definition, text)
    if not facts.bases:
        raise EsdcError("no base image (FROM / From:) in the definition", where=definition)
    if facts.generated and facts.env is not None and WHEELS_DIR in text:
        fetch_wheels(facts.env)
    runtime = _runtime(site, facts, definition)
    target = output or default_output(facts, definition)
    # Refused before anything is built: a device, FIFO or unwritable path (and a directory where
    # the image is one file) would be destroyed or fail only after the build.
    check_output_path(target, directory_ok=target.suffix not in IMAGE_FILE_SUFFIXES)
    started = datetime.now(UTC)
    context = build_context(facts, definition)
    image = runtime.build(definition, image_tag(facts, definition), context=context, output=target)
    finished = datetime.now(UTC)
    components = _spack_components(facts, context) + _os_components(runtime, image)
    # Sign first: `apptainer sign` writes the signature into the SIF, so the digest that
    # provenance and SBOM name is taken after it, from the bytes that are shipped. (An SSH
    # signature is a separate file over the digest and leaves the image unchanged.)
    key = signing_key(os.environ)
    signature = sign_image(image.path, image.digest, image.runtime, key) if key else None
    if signature == image.path:
        image = image.model_copy(update={"digest": file_sha256(image.path)})
    commit, dirty = git_state(Path(__file__).resolve().parents[2])
    provenance = make_provenance(
        image=image,
        definition=definition.resolve(),
        definition_sha256=bytes_sha256(text.encode()),
        facts=facts,
        site=site,
        runtime_versions=runtime.versions(),
        git_commit=commit,
        git_dirty=dirty,
        started=started,
        finished=finished,
    )
    provenance_path, sbom_path = sidecar_paths(image.path)
    atomic_write_json(provenance_path, provenance.model_dump(mode="json", by_alias=True))
    sbom = make_sbom(
        image_name=image.tag,
        image_digest=image.digest,
        components=components,
        tool_version=__version__,
        timestamp=finished,
    )
    atomic_write_text(sbom_path, sbom.to_json())
    return BuildResult(
        image=image,
        provenance=provenance_path,
        sbom=sbom_path,
        signature=signature,
        sbom_components=len(components),
    )
