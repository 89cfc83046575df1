"""Checks of an environment against what real Spack knows, and of a lock against its build.

Each rule reads the recorded metadata (:mod:`.spackdata`), the build image's compiler
(:mod:`.baseimages`) or archspec's compiler table; none of them runs Spack. Rules return
sentences; :func:`spack_problems` collects what stops a build, :func:`spack_unverified` what
could not be checked here (packages only another repository provides).
"""

from __future__ import annotations

from collections.abc import Iterator

import archspec.cpu

from builder.errors import EsdcError
from builder.generate import baseimages
from builder.generate.spackdata import PackageInfo, builtin, builtin_names
from builder.model.env import EnvSpec, SpecRequest
from builder.model.site import SiteProfile
from builder.profiles import parse_spec

# Spec keys that are not variants of the package (arch and namespace parts of a spec).
_NOT_VARIANTS = {"target", "os", "platform", "arch", "namespace", "dev_path", "patches"}

# Host services: a package, and optionally the variant value that pulls it in. The image must
# use the site's own (Slurm's srun and PMIx plugin run on the host), never build its own.
_HOST_SERVICES: list[tuple[str, str | None, str | None, str]] = [
    ("slurm", None, None, "Slurm is a host service: never build it into the image"),
    ("munge", None, None, "munge is a host service: never build it into the image"),
    (
        "openmpi",
        "schedulers",
        "slurm",
        "openmpi schedulers=slurm builds Slurm from source into the image and puts its srun on "
        "PATH; launch with the host's srun --mpi=pmix instead (drop schedulers=slurm)",
    ),
]

# Lockfile format -> (first, last) Spack release that reads and writes it.
_LOCKFILE_SPACK: dict[int, tuple[tuple[int, int], tuple[int, int]]] = {
    4: ((0, 19), (0, 20)),
    5: ((0, 21), (0, 23)),
    6: ((1, 0), (1, 1)),
    7: ((1, 2), (1, 2)),
    8: ((1, 3), (1, 3)),
}


def _requests(env: EnvSpec) -> Iterator[tuple[SpecRequest, str]]:
    """Every root spec and every package requirement, as (parsed request, where it is)."""
    for spec in env.specs:
        yield spec, f"spec {spec.text!r}"
    for name, texts in env.requirements.items():
        if name == "all":
            continue
        for text in texts:
            yield parse_spec(f"{name} {text}"), f"packages:{name}"


def _only_elsewhere(env: EnvSpec) -> dict[str, str]:
    """Package name -> the repository of esdc.yaml that alone provides it."""
    return {name: repo.name for repo in env.meta.repositories for name in repo.only_here}


def _package_problems(env: EnvSpec) -> list[str]:
    """Unknown packages, wrong repository marks, unknown variants and values, missing versions."""
    data = builtin()
    names = builtin_names()
    elsewhere = _only_elsewhere(env)
    problems: list[str] = []
    for name, repo in sorted(elsewhere.items()):
        if name in names:
            problems.append(
                f"package {name}: esdc.yaml says only repository {repo} provides it, but "
                f"{data.origin}'s builtin repository has it too: drop it from only_here"
            )
    for request, where in _requests(env):
        if request.name in elsewhere:
            continue
        if request.name not in names:
            problems.append(
                f"package {request.name} ({where}) is not in {data.origin}'s builtin repository "
                "and no repository in esdc.yaml claims it (repositories: only_here)"
            )
            continue
        info = data.details.get(request.name)
        if info is not None:
            problems += _variant_problems(request, where, info)
            problems += _version_problems(request, where, info)
    return problems


def _variant_problems(request: SpecRequest, where: str, info: PackageInfo) -> list[str]:
    problems: list[str] = []
    for variant in [*request.enabled, *request.disabled]:
        if variant not in info.variants:
            problems.append(
                f"package {request.name} has no variant {variant!r} ({where}); "
                f"known: {', '.join(sorted(info.variants)) or 'none'}"
            )
    for key, values in request.values.items():
        if key in _NOT_VARIANTS or key.endswith("flags"):
            continue
        variant_info = info.variants.get(key)
        if variant_info is None:
            problems.append(f"package {request.name} has no variant {key!r} ({where})")
            continue
        allowed = variant_info.values
        bad = [value for value in values if allowed is not None and value not in allowed]
        if bad:
            problems.append(
                f"package {request.name}: {key}={','.join(bad)} is not a value of that variant "
                f"({where}); allowed: {', '.join(allowed or [])}"
            )
    return problems


def _version_problems(request: SpecRequest, where: str, info: PackageInfo) -> list[str]:
    problems: list[str] = []
    version = request.version
    if version and version.lstrip("=") in info.branch_versions:
        problems.append(
            f"package {request.name}@{version} ({where}) follows a git branch: not reproducible"
        )
    elif version and not any(c in version for c in ":,") and info.versions:
        exact = version.lstrip("=")
        if not any(v == exact or v.startswith(exact + ".") for v in info.versions):
            problems.append(
                f"package {request.name} has no version {version} ({where}); newest known: "
                f"{', '.join(info.versions[:3])}"
            )
    for setting in [*(f"+{v}" for v in request.enabled), *(f"~{v}" for v in request.disabled)]:
        left = info.variant_versions.get(setting)
        if left is None:
            continue
        if not left:
            problems.append(f"package {request.name}{setting} ({where}): no version allows it")
        elif set(left) <= set(info.branch_versions):
            problems.append(
                f"package {request.name}{setting} ({where}) leaves only git-branch versions "
                f"({', '.join(left)}): not reproducible"
            )
    return problems


def _host_service_problems(env: EnvSpec) -> list[str]:
    problems: list[str] = []
    for request, where in _requests(env):
        for name, variant, value, message in _HOST_SERVICES:
            if request.name != name:
                continue
            if (variant is None and where.startswith("spec")) or (
                variant is not None and value in request.values.get(variant, [])
            ):
                problems.append(f"{message} ({where})")
    if env.lock is not None:
        locked = {package.name for package in env.lock.packages}
        for name, variant, _value, message in _HOST_SERVICES:
            if variant is None and name in locked:
                problems.append(f"spack.lock holds {name}: {message}")
    return problems


def _compiler_problems(env: EnvSpec, site: SiteProfile) -> list[str]:
    """Blanket compiler conflicts of the packages named, and the target the compiler cannot do."""
    compiler = baseimages.build_compiler(site.os_base, site.name)
    problems: list[str] = []
    for request, where in _requests(env):
        info = builtin().details.get(request.name)
        message = info.compiler_conflicts.get(compiler) if info is not None else None
        if message is not None:
            problems.append(
                f"package {request.name} ({where}) cannot be built with {compiler}, the compiler "
                f"of the {site.os_base} build image ({message})"
            )
    for target, where in _targets(env, site):
        problem = target_problem(target, compiler)
        if problem is not None:
            problems.append(f"{problem} ({where}; {site.os_base} build image)")
    return problems


def _targets(env: EnvSpec, site: SiteProfile) -> list[tuple[str, str]]:
    found = [
        (token.split("=", 1)[1], "packages:all")
        for text in env.requirements.get("all", [])
        for token in text.split()
        if token.startswith("target=")
    ]
    if not found and site.spack_target:
        found.append((site.spack_target, f"{site.name}'s spack_target"))
    return found


def target_problem(target: str, compiler: str) -> str | None:
    """Whether ``compiler`` (``gcc@8.5.0``) can optimise for ``target`` (archspec's table)."""
    name, _, version = compiler.partition("@")
    microarchitecture = archspec.cpu.TARGETS.get(target.split(":")[0])
    if microarchitecture is None:
        return f"target {target} is not a microarchitecture archspec knows"
    try:
        microarchitecture.optimization_flags(name, version)
    except archspec.cpu.UnsupportedMicroarchitecture:
        supported = microarchitecture.compilers.get(name, [])
        floor = ", ".join(entry.get("versions", "?") for entry in supported) or "none"
        return f"target {target} needs {name}@{floor}, but the build compiler is {compiler}"
    return None


def _cuda_arch_problem(env: EnvSpec) -> str | None:
    """A cuda environment must set cuda_arch itself: its spack.yaml is used without us too."""
    if env.meta.flavour != "cuda":
        return None
    texts = [spec.text for spec in env.specs] + [
        text for texts in env.requirements.values() for text in texts
    ]
    if any("cuda_arch=" in text for text in texts):
        return None
    needing = sorted(spec.name for spec in env.specs if _needs_cuda_arch(spec))
    if not needing:
        return None
    verb = "needs" if len(needing) == 1 else "need"
    return (
        f"CUDA: {', '.join(needing)} {verb} cuda_arch, which environment {env.name}'s spack.yaml "
        "does not set (packages: all: variants: cuda_arch=...): it does not concretise alone"
    )


def _needs_cuda_arch(spec: SpecRequest) -> bool:
    """A CUDA package builds GPU code (so needs cuda_arch) when +cuda is on or cannot be off."""
    info = builtin().details.get(spec.name)
    if info is None or "cuda_arch" not in info.variants:
        return False
    cuda = info.variants.get("cuda")
    if cuda is None or "cuda" in spec.enabled or info.variant_versions.get("~cuda") == []:
        return True
    return cuda.default == "true" and "cuda" not in spec.disabled


def _release(version: str) -> tuple[int, int] | None:
    parts = version.split(".")
    if len(parts) < 2 or not (parts[0].isdigit() and parts[1].isdigit()):
        return None
    return int(parts[0]), int(parts[1])


def lock_problems(env: EnvSpec, site: SiteProfile) -> list[str]:
    """The lock's Spack (version, commit, format) and its OS and compiler against the build."""
    lock = env.lock
    if lock is None:
        return []
    problems: list[str] = []
    span = _LOCKFILE_SPACK.get(lock.lockfile_version)
    release = _release(lock.spack_version or "")
    if span is None:
        problems.append(f"lock: lockfile-version {lock.lockfile_version} is not one esdc knows")
    elif release is None or not span[0] <= release <= span[1]:
        problems.append(
            f"lock: lockfile-version {lock.lockfile_version} is written by Spack "
            f"{span[0][0]}.{span[0][1]}-{span[1][0]}.{span[1][1]}, but the lock names Spack "
            f"{lock.spack_version or 'none'}"
        )
    if not lock.spack_commit:
        problems.append(
            "lock: spack.lock records no Spack commit: the image cannot use the Spack that made it"
        )
    try:
        wanted_os = baseimages.spack_os(site.os_base, site.name)
        compiler = baseimages.build_compiler(site.os_base, site.name)
    except EsdcError as exc:
        return [*problems, str(exc)]
    if lock.platform_os != [wanted_os] or lock.compilers != [compiler]:
        problems.append(
            f"lock: spack.lock was concretised for {', '.join(lock.platform_os) or 'unknown'} "
            f"({', '.join(lock.compilers) or 'unknown compilers'}) but {site.name}'s images are "
            f"built on {site.os_base} ({wanted_os}, {compiler}); re-concretise the lock on that "
            "build image"
        )
    for package in lock.packages:
        info = builtin().details.get(package.name)
        if info is not None and package.version in info.branch_versions:
            problems.append(
                f"lock: {package.name}@{package.version} follows a git branch: not reproducible"
            )
    return problems


def spack_problems(env: EnvSpec, site: SiteProfile) -> list[str]:
    """Every reason real Spack would refuse or mis-build ``env`` in ``site``'s build image."""
    problems = lock_problems(env, site)
    if env.lock is None:
        problems += _package_problems(env)
        problems += _compiler_problems(env, site)
        cuda = _cuda_arch_problem(env)
        if cuda is not None:
            problems.append(cuda)
    problems += _host_service_problems(env)
    return problems


def spack_unverified(env: EnvSpec) -> list[str]:
    """What the recorded metadata cannot vouch for: one line per repository, naming its roots."""
    lines = []
    for repo in env.meta.repositories:
        if repo.only_here:
            lines.append(
                f"{len(repo.only_here)} roots come only from repository {repo.name} at "
                f"{repo.commit[:12]} ({repo.url}); their names, variants and versions were not "
                f"checked: {', '.join(repo.only_here)}"
            )
    return lines
