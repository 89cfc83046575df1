"""esdc check against recorded Spack metadata: one test per case of issue 11's "Why"."""

from __future__ import annotations

from collections.abc import Callable

import yaml

from builder.generate import components
from builder.generate.compat import check, unverified
from builder.generate.spackcheck import lock_problems, target_problem
from builder.model.env import EnvSpec, LockInfo, SpackRepository
from builder.model.site import SiteProfile, Transfer
from builder.profiles import load_env, load_site

COMMIT = "e8f8cf8543b31ff6ba81a5ab0e515bc9a4856384"


MakeEnv = Callable[..., EnvSpec]  # the make_env fixture of conftest.py


def _site(name: str, **changes: object) -> SiteProfile:
    return load_site(name).model_copy(update=changes)


def _found(problems: list[str], text: str) -> bool:
    return any(text in problem for problem in problems)


# 1. Target against the build image's compiler, and the host never decides.
def test_zen2_and_cascadelake_need_a_newer_compiler_than_rocky8_gcc(make_env: MakeEnv) -> None:
    assert target_problem("zen2", "gcc@8.5.0") == (
        "target zen2 needs gcc@9.0:, but the build compiler is gcc@8.5.0"
    )
    assert target_problem("cascadelake", "gcc@8.5.0") is not None
    assert target_problem("zen2", "gcc@11.4.1") is None
    assert target_problem("zen9000", "gcc@11.4.1") == (
        "target zen9000 is not a microarchitecture archspec knows"
    )
    rocky8 = _site("jureca-dc", os_base="rockylinux:8")
    assert _found(check(make_env(["ucx +verbs"]), rocky8), "target zen2 needs gcc@9.0:")
    assert not _found(check(make_env(["ucx +verbs"]), load_site("jureca-dc")), "target")


def test_a_pinned_target_never_depends_on_the_build_host() -> None:
    for site in ("jureca-dc", "galileo100"):
        manifest = yaml.safe_load(components.spack_manifest(load_env("nest"), load_site(site)))
        spack = manifest["spack"]
        assert spack["concretizer"]["targets"]["host_compatible"] is False
        assert spack["packages"]["all"]["require"] == [f"target={load_site(site).spack_target}"]


# 2. esd: variants, names, repository marks, compiler conflicts.
def test_unknown_variant_is_caught(make_env: MakeEnv) -> None:
    problems = check(make_env(["py-pynn +mpi", "ucx +verbs"]), load_site("karolina"))
    assert _found(problems, "package py-pynn has no variant 'mpi'")


def test_unknown_variant_value_and_version(make_env: MakeEnv) -> None:
    problems = check(
        make_env(["libfabric fabrics=verbs,warp", "ucx@99.1 +verbs"]), load_site("jusuf")
    )
    assert _found(problems, "libfabric: fabrics=warp is not a value of that variant")
    assert _found(problems, "package ucx has no version 99.1")


def test_root_in_neither_builtin_nor_a_repository(make_env: MakeEnv) -> None:
    problems = check(make_env(["apbs", "ucx +verbs"]), load_site("karolina"))
    assert _found(problems, "package apbs (spec 'apbs') is not in Spack 0.23.0.dev0")


def test_repository_marks_are_checked_both_ways(make_env: MakeEnv) -> None:
    repo = SpackRepository(
        name="ebrains-spack-builds",
        url="https://example.org/ebrains-spack-builds.git",
        commit=COMMIT,
        only_here=["apbs", "py-nilearn"],
    )
    env = make_env(["apbs", "py-nilearn", "ucx +verbs"], repositories=[repo])
    problems = check(env, load_site("karolina"))
    assert _found(problems, "package py-nilearn: esdc.yaml says only repository")
    assert not _found(problems, "package apbs")
    assert unverified(env, load_site("karolina")) == [
        "2 roots come only from repository ebrains-spack-builds at e8f8cf8543b3 "
        "(https://example.org/ebrains-spack-builds.git); their names, variants and versions "
        "were not checked: apbs, py-nilearn"
    ]


def test_shipped_esd_adds_the_ebrains_repository_and_says_what_is_unverified() -> None:
    env = load_env("esd")
    site = load_site("jureca-dc")
    assert check(env, site) == []
    (repo,) = env.meta.repositories
    assert "apbs" in repo.only_here and "py-nilearn" not in repo.only_here
    assert len(repo.only_here) == 58
    assert unverified(env, site)[0].startswith("58 roots come only from repository")
    manifest = yaml.safe_load(components.spack_manifest(env, site))["spack"]
    assert manifest["repos"] == ["/opt/spack-repos/ebrains-spack-builds"]
    assert "py-pynn" in manifest["specs"]


def test_arbor_conflicts_with_gcc_8(make_env: MakeEnv) -> None:
    problems = check(
        make_env(["arbor +mpi", "ucx +verbs"]), _site("karolina", os_base="rockylinux:8")
    )
    assert _found(problems, "package arbor (spec 'arbor +mpi') cannot be built with gcc@8.5.0")
    assert not _found(check(make_env(["arbor +mpi", "ucx +verbs"]), load_site("karolina")), "arbor")


# 3. A cuda environment must concretise alone: cuda_arch in its own spack.yaml.
def test_cuda_env_without_cuda_arch(make_env: MakeEnv) -> None:
    env = make_env(["cuda@12.2", "nccl", "ucx +verbs"], flavour="cuda")
    assert _found(check(env, load_site("karolina")), "CUDA: nccl needs cuda_arch")
    fixed = make_env(["cuda@12.2", "nccl", "ucx +verbs"], {"all": ["cuda_arch=80"]}, flavour="cuda")
    assert check(fixed, load_site("karolina")) == []
    assert check(load_env("cuda"), load_site("karolina")) == []


def test_generator_sets_the_sites_cuda_arch() -> None:
    manifest = components.spack_manifest(load_env("cuda"), load_site("galileo100"))
    assert yaml.safe_load(manifest)["spack"]["packages"]["all"]["variants"] == "cuda_arch=70"


# 4. Locks: Spack version against lockfile format, commit, OS and compiler of the build image.
def _lock(**changes: object) -> LockInfo:
    return load_env("nest-reference").lock.model_copy(update=changes)  # type: ignore[union-attr]


def test_reference_lock_cannot_install_in_a_rocky_image() -> None:
    env = load_env("nest-reference")
    problems = lock_problems(env, load_site("karolina"))
    assert problems == [
        "lock: spack.lock was concretised for debian12 (gcc@12.2.0) but karolina's images are "
        "built on rockylinux:9 (rocky9, gcc@11.4.1); re-concretise the lock on that build image"
    ]


def test_lock_format_and_spack_version_must_agree_and_name_a_commit() -> None:
    site = load_site("karolina")
    env = load_env("nest-reference")
    wrong = env.model_copy(update={"lock": _lock(lockfile_version=6)})
    assert _found(lock_problems(wrong, site), "lockfile-version 6 is written by Spack 1.0-1.1")
    unknown = env.model_copy(update={"lock": _lock(lockfile_version=9)})
    assert _found(lock_problems(unknown, site), "lockfile-version 9 is not one esdc knows")
    no_commit = env.model_copy(update={"lock": _lock(spack_commit=None)})
    assert _found(lock_problems(no_commit, site), "records no Spack commit")
    rocky = env.model_copy(update={"lock": _lock(platform_os=["rocky9"], compilers=["gcc@11.4.1"])})
    assert lock_problems(rocky, site) == []


# 5. Host services and git-branch versions.
def test_openmpi_schedulers_slurm_builds_slurm_into_the_image(make_env: MakeEnv) -> None:
    problems = check(make_env(["openmpi schedulers=slurm", "ucx +verbs"]), load_site("jusuf"))
    assert _found(problems, "openmpi schedulers=slurm builds Slurm from source into the image")
    assert _found(check(make_env(["slurm", "ucx +verbs"]), load_site("jusuf")), "Slurm is a host")


def test_xpmem_without_kernel_module_is_a_git_branch(make_env: MakeEnv) -> None:
    env = make_env(["ucx +verbs +xpmem"], {"xpmem": ["~kernel-module"]})
    assert _found(
        check(env, load_site("jusuf")),
        "package xpmem~kernel-module (packages:xpmem) leaves only git-branch versions (master)",
    )
    assert _found(check(make_env(["xpmem@master", "ucx +verbs"]), load_site("jusuf")), "git branch")


def test_lock_with_a_branch_version_is_refused() -> None:
    env = load_env("nest-reference")
    openmpi = [
        p.model_copy(update={"version": "main"}) if p.name == "openmpi" else p
        for p in env.lock.packages  # type: ignore[union-attr]
    ]
    branch = env.model_copy(update={"lock": _lock(packages=openmpi)})
    assert _found(lock_problems(branch, load_site("karolina")), "openmpi@main follows a git branch")


# 6. Transfer targets the site's own `ship` accepts.
def test_rsync_target_without_path_is_caught() -> None:
    bad = _site("karolina", transfer=Transfer(rsync_target="karolina.it4i.cz"))
    assert _found(check(load_env("mpi-base"), bad), "transfer: karolina: rsync target must look")
    for site in ("karolina", "galileo100"):
        assert not _found(check(load_env("mpi-base"), load_site(site)), "transfer")
    plain = _site("jureca-dc", transfer=Transfer(unicore_endpoint="http://x", unicore_storage="H"))
    assert _found(check(load_env("mpi-base"), plain), "must be an https:// URL")


def test_every_shipped_hpc_pair_except_known_ones_is_accepted() -> None:
    refused = {
        (env, site)
        for env in ("mpi-base", "nest", "esd", "cuda", "nest-reference")
        for site in ("jureca-dc", "jusuf", "karolina", "galileo100")
        if check(load_env(env), load_site(site))
    }
    assert refused == {
        ("cuda", "jusuf"),
        ("cuda", "galileo100"),
        *{("nest-reference", site) for site in ("jureca-dc", "jusuf", "karolina", "galileo100")},
    }
