"""One small pure function per concern of an image: manifest, probes, environment, labels, help.

Like hpccm's building blocks, each takes the loaded environment and site and returns plain data
for the ImageSpec; none of them formats shell text (that is the context's job).
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from builder.model.env import EnvSpec
from builder.model.image import EnvVar, Label, VersionProbe
from builder.model.site import SiteProfile

INSTALL_TREE = "/opt/software"
VIEWS_DIR = "/opt/views"
VIEW = f"{VIEWS_DIR}/view"
ENV_DIR = "/opt/spack-environment"
REPOS_DIR = "/opt/spack-repos"
LOCKED_SPACK = "/opt/spack-locked"
SPACK_GIT = "https://github.com/spack/spack.git"
LABEL_PREFIX = "org.ebrains.esdc"

# Libraries whose presence %test proves, in the order it checks them: (package names that
# provide it, human name, program, arguments, fixed string of the version line). Spack and
# Debian package names. `pmix_info --version` prints nothing with Debian's PMIx 4.2, so the
# full pmix_info output is searched for its "PMIX:" line instead (checked on this machine).
_PROBES: list[tuple[frozenset[str], str, str, str, str]] = [
    (frozenset({"openmpi", "openmpi-bin"}), "Open MPI", "ompi_info", "--version", "Open MPI"),
    (frozenset({"mpich"}), "MPICH", "mpichversion", "", "MPICH Version"),
    (frozenset({"pmix", "libpmix-bin"}), "PMIx", "pmix_info", "", "PMIX:"),
    (frozenset({"ucx", "ucx-utils"}), "UCX", "ucx_info", "-v", "Version"),
    (frozenset({"libfabric", "libfabric-bin"}), "libfabric", "fi_info", "--version", "libfabric"),
    (frozenset({"cuda", "nvidia-cuda-toolkit"}), "CUDA", "nvcc", "--version", "release"),
]


def provided_packages(env: EnvSpec, source: str) -> set[str]:
    """Names of what the image will contain: the lock's specs, else root specs and preferences."""
    if source == "os_packages":
        return {name.split("=", 1)[0] for name in env.meta.os_packages}
    if env.lock is not None:
        return {package.name for package in env.lock.packages}
    return {spec.name for spec in env.specs} | set(env.requirements)


def version_probes(env: EnvSpec, source: str) -> list[VersionProbe]:
    """What %test must find: MPI, PMIx, UCX, libfabric, and CUDA for the cuda flavour."""
    provided = provided_packages(env, source)
    probes = [
        VersionProbe(library=library, program=program, arguments=arguments, pattern=pattern)
        for names, library, program, arguments, pattern in _PROBES
        if names & provided
    ]
    if env.meta.flavour == "cuda" and "nvcc" not in {probe.program for probe in probes}:
        probes.append(
            VersionProbe(library="CUDA", program="nvcc", arguments="--version", pattern="release")
        )
    return probes


def nccl_expected(env: EnvSpec, source: str) -> bool:
    """NCCL has no version program; %test looks for its library in the view instead."""
    return "nccl" in provided_packages(env, source) or (
        env.meta.flavour == "cuda" and source == "spack"
    )


def spack_manifest(env: EnvSpec, site: SiteProfile) -> str:
    """The spack.yaml written into the image, as YAML text with a stable key order.

    The environment's own mapping, plus what the image layout and the site need:
    ``install_tree`` and ``view`` at fixed paths (the final stage copies exactly these);
    without a lock, ``pmix`` pinned to the site's PMIx major (Slurm's mpi/pmix plugin and
    the image must agree on it) and the site's target when the environment sets none.
    With a lock these preferences change nothing (nothing is concretised) and are left out.
    """
    manifest: dict[str, Any] = copy.deepcopy(env.manifest)
    manifest.pop("container", None)  # spack containerize's own settings mean nothing here
    config = dict(manifest.get("config") or {})
    config["install_tree"] = {"root": INSTALL_TREE}
    manifest["config"] = config
    manifest["view"] = VIEW
    if env.meta.repositories:
        repos = [f"{REPOS_DIR}/{repo.name}" for repo in env.meta.repositories]
        manifest["repos"] = repos + [r for r in manifest.get("repos") or [] if r not in repos]
    if env.lock is None:
        packages: dict[str, Any] = dict(manifest.get("packages") or {})
        pmix = dict(packages.get("pmix") or {})
        require = pmix.get("require", [])
        require = list(require) if isinstance(require, list) else [require]
        pin = f"@{site.pmix.major}"
        if pin not in require:
            require.append(pin)
        pmix["require"] = require
        packages["pmix"] = pmix
        all_packages = dict(packages.get("all") or {})
        if site.spack_target and "require" not in all_packages and "target" not in all_packages:
            all_packages["require"] = [f"target={site.spack_target}"]
            packages["all"] = all_packages
        if env.meta.flavour == "cuda" and site.gpus is not None:
            # Build GPU code for the site's compute capability only (smaller, no JIT at start).
            all_packages["variants"] = _with_cuda_arch(
                all_packages.get("variants"), site.gpus.cuda_arch
            )
            packages["all"] = all_packages
        manifest["packages"] = packages
        if "target=" in str(all_packages.get("require", "")):
            # A pinned target must not depend on the build host's CPU (archspec would
            # otherwise refuse a zen2 target on an Intel builder, or silently pick the host).
            concretizer = dict(manifest.get("concretizer") or {})
            targets = dict(concretizer.get("targets") or {})
            targets["host_compatible"] = False
            concretizer["targets"] = targets
            manifest["concretizer"] = concretizer
    ordered = {key: manifest[key] for key in _ordered_keys(manifest)}
    return yaml.safe_dump({"spack": ordered}, sort_keys=False, default_flow_style=False, width=100)


def _with_cuda_arch(variants: object, cuda_arch: str) -> str:
    """``variants`` of packages:all with cuda_arch set to the site's (replacing any other)."""
    tokens = str(variants).split() if variants else []
    kept = [token for token in tokens if not token.startswith("cuda_arch=")]
    return " ".join([*kept, f"cuda_arch={cuda_arch}"])


def _ordered_keys(manifest: dict[str, Any]) -> list[str]:
    """Spack's usual order first (specs, concretizer, packages...), anything else sorted after."""
    preferred = ["specs", "concretizer", "packages", "repos", "mirrors", "config", "view"]
    return [key for key in preferred if key in manifest] + sorted(
        key for key in manifest if key not in preferred
    )


def runtime_environment(site: SiteProfile, source: str) -> list[EnvVar]:
    """The image's %environment: the view on PATH (Spack images), then the site's settings."""
    variables: list[EnvVar] = []
    if source == "spack":
        variables.append(EnvVar(name="PATH", value=f"{VIEW}/bin:$PATH", origin="generator"))
    variables += [
        EnvVar(name=name, value=value, origin=f"site.environment.{name}")
        for name, value in sorted(site.environment.items())
    ]
    return variables


def provenance_labels(
    env: EnvSpec, site: SiteProfile, *, spack_version: str | None, generator: str
) -> list[Label]:
    """Labels that say where an image came from; sorted by key.

    No source commit: a definition is a function of its inputs alone, so re-rendering it at a
    later commit gives the same bytes (the pipeline's ``git diff`` check and the image cache rely
    on that). The build's provenance.json records the commit the image was built from.
    """
    values = {
        f"{LABEL_PREFIX}.environment": env.name,
        f"{LABEL_PREFIX}.site": site.name,
        f"{LABEL_PREFIX}.flavour": env.meta.flavour,
        f"{LABEL_PREFIX}.lock-sha256": env.lock.sha256 if env.lock is not None else "none",
        f"{LABEL_PREFIX}.spack-version": spack_version or "none",
        f"{LABEL_PREFIX}.generator-version": generator,
        f"{LABEL_PREFIX}.pmix-major": str(site.pmix.major),
    }
    return [Label(key=key, value=value) for key, value in sorted(values.items())]


def help_text(env: EnvSpec, site: SiteProfile, source: str) -> str:
    """The %help text: what the image is and how the site runs it."""
    origin = "Debian/OS packages" if source == "os_packages" else "Spack"
    lines = [
        f"EBRAINS Software Distribution environment '{env.name}' for site '{site.name}'.",
        env.meta.description.strip() or f"Software built with {origin}.",
        f"Software from: {origin}; MPI launch at the site: {site.launcher} "
        f"(PMIx {site.pmix.version}).",
        "Run a program: <runtime> exec IMAGE PROGRAM ARGS...",
    ]
    return "\n".join(line for line in lines if line)
