"""``esdc validate --site SITE``: build or reuse the site's image, benchmark, verify, report.

The image is the site's build of :data:`VALIDATION_ENV`, the smallest environment that carries
the site's MPI stack (Open MPI, PMIx, UCX, libfabric, mpi4py): what validation checks is that
ranks in the container take the same transport path as on bare metal, and at the same speed.
The definition is generated for the site's runtime and built with it; an unchanged definition
reuses the runtime's build cache.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from pydantic import BaseModel
from rich.console import Console

from builder.errors import EsdcError
from builder.fsio import atomic_write_text
from builder.model.site import SiteProfile
from builder.run import rundir

#: The environment whose image validates a site.
VALIDATION_ENV = "mpi-base"
#: Folder under the runs root where validation images and their definitions are kept.
IMAGES_DIR = ".images"


class ValidateOutcome(BaseModel):
    """What ``esdc validate`` ends with: the run directory, the verdict and the report."""

    site: str
    image: str
    image_digest: str | None
    run_dir: Path
    verdict: str
    reason: str
    report: Path | None
    exit_code: int


def definition_format(site: SiteProfile) -> str:
    """The definition format the site's runtime builds: Dockerfile for Charliecloud."""
    return "dockerfile" if site.runtime.kind == "charliecloud" else "apptainer"


def definition_path(runs_root: Path, env: str, site: SiteProfile) -> Path:
    """Where the generated definition goes: its own folder, which is also the build context."""
    name = "Dockerfile" if definition_format(site) == "dockerfile" else f"{env}@{site.name}.def"
    return runs_root / IMAGES_DIR / f"{env}@{site.name}" / "context" / name


def image_path(runs_root: Path, env: str, site: SiteProfile) -> Path:
    """Where the built image goes (a directory for Charliecloud, a SIF for Apptainer)."""
    suffix = ".sif" if definition_format(site) == "apptainer" else ""
    return runs_root / IMAGES_DIR / f"{env}@{site.name}" / f"image{suffix}"


def build_site_image(
    site: SiteProfile, runs_root: Path, console: Console, env: str = VALIDATION_ENV
) -> tuple[str, str | None]:
    """Generate and build (or reuse) the validation image; returns ``(image, digest)``."""
    from builder.build.api import build_image
    from builder.generate.api import generate_definition

    definition = definition_path(runs_root, env, site)
    # Definitions hold no commit, so the cached image is rebuilt when the definition changes,
    # not at every commit; the build's provenance.json records the real source commit.
    text = generate_definition(env, site.name, lock=None, fmt=definition_format(site))
    if not definition.is_file() or definition.read_text() != text:
        atomic_write_text(definition, text)
    with console.status(f"building {env} for {site.name} with {site.runtime.kind}"):
        result = build_image(definition, output=image_path(runs_root, env, site), site=site.name)
    state = "reused" if result.image.cached else "built"
    console.print(f"image {state}: {result.image.path} ({result.image.digest})", highlight=False)
    return str(result.image.path), result.image.digest


def given_image(
    site: SiteProfile, image: Path, runs_root: Path, console: Console
) -> tuple[str, str | None]:
    """The runnable form of a given image and the digest of the file that was given.

    Charliecloud 0.31 as Debian builds it cannot mount SquashFS, so a ``.sqfs`` file is unpacked
    once (``ch-convert``) into a directory named after its digest and reused after that.
    """

    from builder.build.hashing import file_sha256

    if not image.exists():
        raise EsdcError("no such image", where=image)
    if image.is_dir():
        return str(image.resolve()), None
    try:
        digest = file_sha256(image)
    except OSError as exc:
        raise EsdcError(f"cannot read image: {exc.strerror or exc}", where=image) from exc
    if site.runtime.kind != "charliecloud" or image.suffix not in (".sqfs", ".squashfs"):
        return str(image.resolve()), digest
    unpacked = runs_root / IMAGES_DIR / "given" / digest.removeprefix("sha256:")[:16]
    if not unpacked.is_dir():
        unpacked.parent.mkdir(parents=True, exist_ok=True)
        partial = unpacked.with_name(unpacked.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)  # left by an interrupted unpack
        argv = ["ch-convert", "-i", "squash", "-o", "dir", str(image.resolve()), str(partial)]
        with console.status(f"unpacking {image.name} for ch-run"):
            try:
                done = subprocess.run(argv, capture_output=True, text=True, check=False)
            except OSError as exc:
                raise EsdcError(f"cannot run ch-convert: {exc.strerror or exc}") from exc
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise EsdcError(f"ch-convert could not unpack the image: {last}", where=image)
        partial.rename(unpacked)
    console.print(f"image given: {image} ({digest})", highlight=False, soft_wrap=True)
    return str(unpacked), digest


def validate_site(
    site: str,
    *,
    reps: int,
    runs_root: Path,
    resume: Path | None,
    console: Console,
    image: Path | None = None,
) -> ValidateOutcome:
    """Build or reuse (or take) the image, run the campaign, verify it and write the HTML report.

    Parameters
    ----------
    site
        Site profile name.
    reps
        Performance repetitions per mode.
    runs_root
        Where run directories (and the validation image) go.
    resume
        Continue this run directory (its image is reused as recorded).
    console
        Where progress, the verdict and the report's path are printed.
    image
        An image to validate instead of building one: a SIF, a Charliecloud directory or a
        SquashFS file (what ``esdc pull`` wrote in the pipeline's validate job).
    """
    from builder.profiles import load_site
    from builder.report.api import write_report
    from builder.run.campaign import run_site_campaign
    from builder.verify.api import verify_run_dir
    from builder.verify.render import print_verdict

    profile = load_site(site)
    runs_root = runs_root.resolve()  # jobs run in their rep directories: paths must be absolute
    if resume is not None:
        manifest = rundir.read_manifest(resume)
        run_image, digest = manifest.image, manifest.image_digest
        if not Path(run_image).exists():
            raise EsdcError(f"the campaign's image is gone: {run_image}", where=resume)
    elif image is not None:
        run_image, digest = given_image(profile, image, runs_root, console)
    else:
        run_image, digest = build_site_image(profile, runs_root, console)
    run_dir = run_site_campaign(
        profile,
        run_image,
        suites=None,
        reps=reps,
        resume=resume,
        runs_root=runs_root,
        console=console,
        image_digest=digest,
    )
    verdict = verify_run_dir(run_dir)
    written = write_report(run_dir, html=None)
    print_verdict(verdict, console)
    report = written[0] if written else None
    console.print(f"run directory: {run_dir}", highlight=False, soft_wrap=True)
    if report is not None:
        console.print(f"report: {report}", highlight=False, soft_wrap=True)
    return ValidateOutcome(
        site=profile.name,
        image=run_image,
        image_digest=digest,
        run_dir=run_dir,
        verdict=verdict.verdict,
        reason=verdict.reason,
        report=report,
        exit_code=verdict.exit_code,
    )
