"""esdc check: each rule on the shipped environments and sites, plus constructed variants."""

from __future__ import annotations

from collections.abc import Callable

from builder.generate.compat import check
from builder.model.env import EnvSpec
from builder.model.site import Gpus, SiteProfile
from builder.profiles import load_env, load_site

MakeEnv = Callable[..., EnvSpec]  # the make_env fixture of conftest.py


def _site(name: str, **changes: object) -> SiteProfile:
    return load_site(name).model_copy(update=changes)


def test_shipped_pairs_that_must_pass() -> None:
    for env in ("mpi-base", "nest", "esd"):
        for site in ("jureca-dc", "jusuf", "karolina", "galileo100"):
            assert check(load_env(env), load_site(site)) == [], (env, site)
    assert check(load_env("mpi-base"), load_site("local")) == []
    assert check(load_env("cuda"), load_site("jureca-dc")) == []


def test_reference_lock_has_pmix5_and_no_verbs() -> None:
    problems = check(load_env("nest-reference"), load_site("jureca-dc"))
    assert len(problems) == 3
    assert problems[0].startswith("lock: spack.lock was concretised for debian12 (gcc@12.2.0)")
    assert "built on rockylinux:9 (rocky9, gcc@11.4.1)" in problems[0]
    assert problems[1].startswith("PMIx: spack.lock gives pmix 5.0.1 (major 5)")
    assert "needs ucx +verbs/+mlx5_dv or libfabric fabrics=verbs" in problems[2]


def test_pmix_pin_in_spec_or_requirement(make_env: MakeEnv) -> None:
    site = load_site("karolina")
    assert "major 5" in check(make_env(["pmix@5.0.1", "ucx +verbs"]), site)[0]
    assert "major 3" in check(make_env(["ucx +verbs"], {"pmix": ["@3.2:"]}), site)[0]
    assert check(make_env(["pmix@4.2:", "ucx +verbs"]), site) == []


def test_cuda_on_site_without_gpus(make_env: MakeEnv) -> None:
    problems = check(
        make_env(["cuda@12.2", "ucx +verbs"], flavour="cuda"), _site("karolina", gpus=None)
    )
    assert problems == [
        "GPU: environment constructed is the cuda flavour but karolina declares no gpus"
    ]


def test_cuda_newer_than_driver_and_unpinned(make_env: MakeEnv) -> None:
    jusuf = load_site("jusuf")
    assert "newer than jusuf's driver" in check(load_env("cuda"), jusuf)[0]
    assert "does not pin cuda" in check(make_env(["cuda", "ucx +verbs"], flavour="cuda"), jusuf)[0]
    assert check(make_env(["cuda@:11.8", "ucx +verbs"], flavour="cuda"), jusuf) == []
    assert (
        "allows any cuda" in check(make_env(["cuda@11.8:", "ucx +verbs"], flavour="cuda"), jusuf)[0]
    )


def test_fabric_providers(make_env: MakeEnv) -> None:
    gpus = Gpus(
        vendor="nvidia", model="x", per_node=1, driver_floor="1", cuda_max="12", cuda_arch="80"
    )
    ib = _site("karolina", gpus=gpus)
    assert "needs ucx +verbs" in check(make_env(["openmpi", "ucx"]), ib)[0]
    assert check(make_env(["openmpi", "libfabric fabrics=verbs,tcp"]), ib) == []
    assert check(make_env(["openmpi"], {"ucx": ["+mlx5_dv"]}), ib) == []
    fabric = ib.fabric
    cxi = ib.model_copy(update={"fabric": fabric.model_copy(update={"kind": "cxi"})})
    assert "libfabric fabrics=cxi" in check(make_env(["ucx +verbs"]), cxi)[0]
    assert check(make_env(["libfabric fabrics=cxi"]), cxi) == []
    efa = ib.model_copy(update={"fabric": fabric.model_copy(update={"kind": "efa"})})
    assert check(make_env(["libfabric fabrics=efa"]), efa) == []
    opa = ib.model_copy(update={"fabric": fabric.model_copy(update={"kind": "opa"})})
    assert check(make_env(["openmpi fabrics=psm2"]), opa) == []
    assert check(make_env(["libfabric fabrics=opx"]), opa) == []
    tcp = ib.model_copy(update={"fabric": fabric.model_copy(update={"kind": "tcp"})})
    assert check(make_env(["openmpi"]), tcp) == []


def test_os_package_site_needs_the_envs_own_packages() -> None:
    local = load_site("local")
    assert "own specs (nest@3 +mpi +python, py-mpi4py)" in check(load_env("nest"), local)[0]
    assert "lists no os_packages" in check(load_env("nest-reference"), local)[0]
    assert "declares no gpus" in check(load_env("cuda"), local)[-1]
