"""Pre-flight checks: each judged on recorded command output against the site (pure)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from builder.model.site import SiteProfile
from builder.profiles import load_site
from builder.run.preflight import (
    CHECKS,
    judge_devices,
    judge_environment,
    judge_libfabric,
    judge_memlock,
    judge_ucx,
    run_preflight,
)

UCX_INFO = """\
#      Transport: self
#         Device: memory0
#      Transport: tcp
#         Device: eth0
#      Transport: rc_mlx5
#         Device: mlx5_0:1
"""
FI_INFO = (
    "psm2:\n    version: 117.0\nofi_rxm:\n    version: 117.0\nverbs;ofi_rxm:\n    version: 1\n"
)


def ib_site() -> SiteProfile:
    return load_site("jureca-dc")


def test_environment_names_each_variable_missing_or_different() -> None:
    site = load_site("local")
    status, message = judge_environment(site, 0, "OMPI_MCA_pml=ob1\nPATH=/bin\n")
    assert status == "error"
    assert "OMPI_MCA_pml=ob1 (site: ucx)" in message
    assert "OMPI_MCA_pml_ucx_tls=(unset) (site: any)" in message
    env = "\n".join(f"{k}={v}" for k, v in site.environment.items())
    assert judge_environment(site, 0, env)[0] == "ok"


def test_memlock_must_be_unlimited_on_rdma_fabrics_only() -> None:
    assert judge_memlock(ib_site(), 0, "8192\n") == (
        "error",
        "memlock 8192 KiB: RDMA needs unlimited (registration fails)",
    )
    assert judge_memlock(ib_site(), 0, "unlimited\n")[0] == "ok"
    assert judge_memlock(load_site("local"), 0, "8192\n")[0] == "ok"


def test_devices_visible_on_ib_and_not_needed_on_tcp() -> None:
    assert judge_devices(ib_site(), 2, "")[0] == "error"
    assert judge_devices(ib_site(), 0, "rdma_cm uverbs0\n")[0] == "ok"
    assert judge_devices(load_site("local"), 0, "")[0] == "ok"


def test_ucx_must_see_the_site_devices() -> None:
    site = ib_site()
    wanted = site.fabric.devices
    status, _ = judge_ucx(site, 0, UCX_INFO.replace("mlx5_0:1", "none"))
    assert (status == "error") == bool(wanted)
    if wanted:
        good = UCX_INFO.replace("mlx5_0:1", wanted[0])
        for device in wanted[1:]:
            good += f"#      Transport: rc_mlx5\n#         Device: {device}\n"
        assert judge_ucx(site, 0, good)[0] == "ok"
    assert judge_ucx(site, 127, "")[0] == "skipped"


def test_libfabric_must_list_the_site_providers() -> None:
    site = load_site("local")  # tcp, shm
    status, message = judge_libfabric(site, 0, FI_INFO)
    assert status == "error" and "lacks tcp, shm" in message
    more = FI_INFO + "tcp;ofi_rxm:\n    version: 1\nshm:\n    version: 1\n"
    assert judge_libfabric(site, 0, more)[0] == "ok"


def test_run_preflight_runs_every_check_in_the_image_and_keeps_no_environment() -> None:
    site = load_site("local")
    calls: list[tuple[list[str], dict[str, str]]] = []
    outputs = {"env": "SECRET_TOKEN=x\n" + "\n".join(f"{k}={v}" for k, v in
                                                     site.environment.items())}  # fmt: skip

    def runner(argv: Sequence[str], env: Mapping[str, str]) -> tuple[int, str]:
        calls.append((list(argv), dict(env)))
        return 0, outputs.get(argv[2], "unlimited\n" if "ulimit" in " ".join(argv) else "")

    wrap: Callable[[list[str]], list[str]] = lambda argv: ["ch-run", "img", *argv]  # noqa: E731
    results = run_preflight(site, wrap, runner, {"USER": "root"})
    assert [r.check for r in results] == [c.name for c in CHECKS]
    assert all(argv[:2] == ["ch-run", "img"] for argv, _ in calls)
    assert calls[0][1]["OMPI_MCA_pml"] == "ucx" and calls[0][1]["USER"] == "root"
    assert results[0].status == "ok" and results[0].output == ""
