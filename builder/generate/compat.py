"""Compatibility of an environment with a site, before any build: one sentence per problem.

Checked: PMIx major (Slurm's mpi/pmix plugin and the image must agree), a cuda flavour needs
GPUs, the CUDA toolkit must not be newer than the site's driver supports, the fabric needs a
provider the environment builds, OS-package sites need the environment's os_packages, the
site's transfer targets, and (:mod:`.spackcheck`) packages, variants, compilers, targets, host
services and locks against what real Spack knows.
"""

from __future__ import annotations

from builder.errors import EsdcError
from builder.generate.spackcheck import spack_problems, spack_unverified
from builder.model.env import EnvSpec
from builder.model.site import SiteProfile
from builder.ship.rsync import split_target

# Fabric kind -> (ucx variants any of which suffices, libfabric fabrics any of which suffices,
# Open MPI fabrics any of which suffices, what to tell the user).
_FABRIC_NEEDS: dict[str, tuple[set[str], set[str], set[str], str]] = {
    "ib": (
        {"verbs", "mlx5_dv"},
        {"verbs"},
        set(),
        "ucx +verbs/+mlx5_dv or libfabric fabrics=verbs",
    ),
    "roce": (
        {"verbs", "mlx5_dv"},
        {"verbs"},
        set(),
        "ucx +verbs/+mlx5_dv or libfabric fabrics=verbs",
    ),
    "cxi": (set(), {"cxi"}, set(), "libfabric fabrics=cxi"),
    "efa": (set(), {"efa"}, set(), "libfabric fabrics=efa"),
    "opa": (set(), {"psm2", "opx"}, {"psm2"}, "libfabric fabrics=psm2/opx or openmpi fabrics=psm2"),
}

# Debian/RPM packages that carry the verbs user space an RDMA fabric needs.
_OS_RDMA = {"ibverbs-providers", "libibverbs1", "rdma-core", "libibverbs", "ucx-ib"}


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.replace("-", ".").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _requested_version(env: EnvSpec, name: str) -> tuple[str, str] | None:
    """(version, where) of ``name``: the lock's version, else a root spec or a require pin."""
    if env.lock is not None:
        locked = env.lock.find(name)
        return (locked.version, "spack.lock") if locked is not None else None
    spec = env.spec(name)
    if spec is not None and spec.version:
        return spec.version, f"spec {spec.text!r}"
    for text in env.requirements.get(name, []):
        for token in text.split():
            if token.startswith("@") and len(token) > 1:
                return token[1:], f"packages:{name}:require"
    return None


def _lower_bound(version: str) -> str:
    """``4.2:`` -> ``4.2``; ``4.1:4.2`` -> ``4.1``; ``=4.2.2`` -> ``4.2.2``; lists: the first."""
    return version.split(",")[0].lstrip("=").split(":")[0]


def _upper_bound(version: str) -> str | None:
    """``:12.2`` / ``12.0:12.2`` -> ``12.2``; ``12.2:`` -> None (open); ``12.2`` -> ``12.2``."""
    first = version.split(",")[0].lstrip("=")
    if ":" not in first:
        return first
    upper = first.split(":", 1)[1]
    return upper or None


def _enabled_variants(env: EnvSpec, name: str) -> set[str]:
    """Boolean variants switched on for ``name`` (lock values 'true', or +x in specs/require)."""
    if env.lock is not None:
        locked = env.lock.find(name)
        if locked is None:
            return set()
        return {key for key, values in locked.variants.items() if values == ["true"]}
    enabled: set[str] = set()
    spec = env.spec(name)
    if spec is not None:
        enabled |= set(spec.enabled)
    for text in env.requirements.get(name, []):
        enabled |= {
            token.lstrip("+") for token in text.replace("+", " +").split() if token.startswith("+")
        }
    return enabled


def _multi_values(env: EnvSpec, name: str, variant: str) -> set[str]:
    """Values of a multi-valued variant such as ``fabrics`` for ``name``."""
    if env.lock is not None:
        locked = env.lock.find(name)
        return set(locked.variants.get(variant, [])) if locked is not None else set()
    found: set[str] = set()
    spec = env.spec(name)
    if spec is not None:
        found |= set(spec.values.get(variant, []))
    for text in env.requirements.get(name, []):
        for token in text.split():
            if token.startswith(f"{variant}="):
                found |= {item for item in token.split("=", 1)[1].split(",") if item}
    return found


def _pmix_problem(env: EnvSpec, site: SiteProfile) -> str | None:
    requested = _requested_version(env, "pmix")
    if requested is None:
        return None  # unpinned: the generator pins the site's major
    version, where = requested
    numbers = _version_tuple(_lower_bound(version))
    if not numbers or numbers[0] == site.pmix.major:
        return None
    return (
        f"PMIx: {where} gives pmix {version} (major {numbers[0]}) but {site.name}'s Slurm "
        f"mpi/pmix plugin uses PMIx {site.pmix.version} (major {site.pmix.major})"
    )


def _cuda_problems(env: EnvSpec, site: SiteProfile) -> list[str]:
    if env.meta.flavour != "cuda":
        return []
    if site.gpus is None:
        return [f"GPU: environment {env.name} is the cuda flavour but {site.name} declares no gpus"]
    requested = _requested_version(env, "cuda")
    if requested is None:
        return [
            f"CUDA: environment {env.name} does not pin cuda; the newest toolkit may exceed "
            f"{site.name}'s driver (CUDA <= {site.gpus.cuda_max}): pin cuda@:{site.gpus.cuda_max}"
        ]
    version, where = requested
    upper = _upper_bound(version) if env.lock is None else version
    if upper is None:
        return [
            f"CUDA: {where} allows any cuda from {version}; {site.name} supports CUDA <= "
            f"{site.gpus.cuda_max}"
        ]
    wanted = _version_tuple(upper)
    limit = _version_tuple(site.gpus.cuda_max)
    if wanted[: len(limit)] > limit:
        return [
            f"CUDA: {where} gives cuda {version}, newer than {site.name}'s driver "
            f"{site.gpus.driver_floor} supports (CUDA <= {site.gpus.cuda_max})"
        ]
    return []


def _fabric_problem_spack(env: EnvSpec, site: SiteProfile) -> str | None:
    needs = _FABRIC_NEEDS.get(site.fabric.kind)
    if needs is None:
        return None  # tcp: every stack can use it
    ucx_needed, ofi_needed, ompi_needed, wording = needs
    if ucx_needed & _enabled_variants(env, "ucx"):
        return None
    if ofi_needed & _multi_values(env, "libfabric", "fabrics"):
        return None
    if ompi_needed & _multi_values(env, "openmpi", "fabrics"):
        return None
    where = "its spack.lock" if env.lock is not None else "its specs and package preferences"
    return (
        f"fabric: {site.name} uses {site.fabric.kind}, which needs {wording}; "
        f"{where} provides none of them"
    )


def _os_package_problems(env: EnvSpec, site: SiteProfile) -> list[str]:
    if not env.meta.os_packages:
        return [
            f"software: {site.name} builds images from OS packages but environment {env.name} "
            "lists no os_packages in its esdc.yaml"
        ]
    if env.own_specs_without_os_packages:
        return [
            f"software: {site.name} builds images from OS packages but environment {env.name}'s "
            f"own specs ({', '.join(env.own_specs_without_os_packages)}) have no os_packages "
            "in its esdc.yaml"
        ]
    if site.fabric.kind in ("ib", "roce"):
        names = {name.split("=", 1)[0] for name in env.meta.os_packages + site.fabric.os_packages}
        if not names & _OS_RDMA:
            return [
                f"fabric: {site.name} uses {site.fabric.kind} but no verbs user space package "
                f"({', '.join(sorted(_OS_RDMA))}) is installed"
            ]
    return []


def _transfer_problems(site: SiteProfile) -> list[str]:
    """Transfer targets in the form the site's own ``esdc ship`` accepts."""
    problems: list[str] = []
    transfer = site.transfer
    if transfer.rsync_target is not None:
        try:
            split_target(transfer.rsync_target)
        except EsdcError as exc:
            problems.append(f"transfer: {site.name}: {exc}")
    if transfer.unicore_endpoint is not None and not transfer.unicore_endpoint.startswith(
        "https://"
    ):
        problems.append(
            f"transfer: {site.name}: unicore_endpoint must be an https:// URL, got "
            f"{transfer.unicore_endpoint!r}"
        )
    if transfer.unicore_endpoint is not None and not transfer.unicore_storage:
        problems.append(f"transfer: {site.name}: unicore_endpoint needs unicore_storage")
    return problems


def check(env: EnvSpec, site: SiteProfile) -> list[str]:
    """Every reason ``env`` cannot run well at ``site``; empty when it can."""
    problems = _transfer_problems(site)
    if site.software == "os_packages":
        problems += _os_package_problems(env, site)
        if env.meta.flavour == "cuda" and site.gpus is None:
            problems.append(
                f"GPU: environment {env.name} is the cuda flavour but {site.name} declares no gpus"
            )
        return problems

    problems += spack_problems(env, site)
    pmix = _pmix_problem(env, site)
    if pmix is not None:
        problems.append(pmix)
    problems += _cuda_problems(env, site)
    fabric = _fabric_problem_spack(env, site)
    if fabric is not None:
        problems.append(fabric)
    return problems


def unverified(env: EnvSpec, site: SiteProfile) -> list[str]:
    """What ``check`` could not verify for ``env`` at ``site`` (it does not make them fail)."""
    return [] if site.software == "os_packages" else spack_unverified(env)
