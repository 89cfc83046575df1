"""Build an ImageSpec from an environment, a site and the provenance inputs: pure, no I/O."""

from __future__ import annotations

from pathlib import Path

from builder.generate import baseimages, components
from builder.model.env import EnvSpec
from builder.model.image import ImageSpec, LockRef
from builder.model.site import SiteProfile


def _relative_source(path: Path, root: Path) -> str:
    """The lock's path as the build sees it: relative to the project root when inside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def make_image_spec(
    env: EnvSpec,
    site: SiteProfile,
    *,
    generator: str,
    root: Path,
    problems: list[str] | None = None,
) -> ImageSpec:
    """Decide everything about the image of ``env`` at ``site``.

    Parameters
    ----------
    env, site
        The loaded environment (with its lock, if any) and site profile.
    generator
        Version of this toolkit; recorded as a label.
    root
        Project root: the build context, against which the lock's path is written.
    problems
        What ``esdc check`` found; written at the top so that nobody builds it unaware.
    """
    source = site.software
    manager = baseimages.package_manager(site.os_base, site.name)
    spack_version = env.lock.spack_version if env.lock is not None else None
    notes = [f"esdc check: INCOMPATIBLE: {problem}" for problem in problems or []]
    if source == "os_packages":
        notes.append(
            "One stage only: the software comes from the base distribution's packages "
            f"({site.os_base}), the same distribution as the host, so nothing is compiled."
        )
        return ImageSpec(
            env=env.name,
            site=site.name,
            flavour=env.meta.flavour,
            source=source,
            package_manager=manager,
            final_image=site.os_base,
            final_os_packages=sorted({*env.meta.os_packages, *site.fabric.os_packages}),
            pip_packages=list(env.meta.pip_packages),
            environment=components.runtime_environment(site, source),
            probes=components.version_probes(env, source),
            extra_tests=env.meta.tests,
            runscript=env.meta.runscript,
            labels=components.provenance_labels(env, site, spack_version=None, generator=generator),
            help=components.help_text(env, site, source),
            notes=notes,
        )
    build_spack = env.meta.spack_version
    buildcache = site.buildcache or env.meta.buildcache
    lock = None
    if env.lock is not None:
        lock = LockRef(
            source=_relative_source(env.lock.path, root),
            sha256=env.lock.sha256,
            spack_version=env.lock.spack_version,
        )
        notes.append(
            f"Installs {lock.source} exactly (sha256 checked before and after, no "
            f"concretisation) with the Spack that made it: {lock.spack_version or 'unknown'} at "
            f"commit {env.lock.spack_commit or 'unknown'}, checked out in the build stage. "
            "Build from the project root: the lock is copied by that relative path."
        )
    else:
        notes.append(
            f"No lock: concretised in the build with pmix pinned to @{site.pmix.major} "
            f"(the PMIx major of {site.name}'s Slurm); commit a spack.lock for reproducible builds."
        )
    return ImageSpec(
        env=env.name,
        site=site.name,
        flavour=env.meta.flavour,
        source=source,
        package_manager=manager,
        final_image=site.os_base,
        build_image=baseimages.spack_build_image(site.os_base, build_spack, site.name),
        spack_version=build_spack,
        spack_yaml=components.spack_manifest(env, site),
        spack_commit=env.lock.spack_commit if env.lock is not None else None,
        repositories=env.meta.repositories,
        lock=lock,
        buildcache=buildcache,
        build_os_packages=[],
        final_os_packages=sorted({*env.meta.final_os_packages, *site.fabric.os_packages}),
        environment=components.runtime_environment(site, source),
        probes=components.version_probes(env, source),
        check_nccl=components.nccl_expected(env, source),
        extra_tests=env.meta.tests,
        runscript=env.meta.runscript,
        labels=components.provenance_labels(
            env,
            site,
            spack_version=spack_version or build_spack,
            generator=generator,
        ),
        help=components.help_text(env, site, source),
        notes=notes,
    )
