"""Pre-flight inside the container, before the campaign: can this image use this site's fabric?

Each check of :data:`CHECKS` is one command run inside the image (the way ranks run: the site's
runtime, binds and environment) and a pure judgement of its output against the site profile:
the environment the site needs arrives, the locked-memory limit suits RDMA, the fabric's device
files are visible, and ``ucx_info -d`` / ``fi_info -l`` see the site's devices and providers. A
newcomer adds a check as one row. Results go to ``preflight.json`` and are reported first.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from builder.model.preflight import PreflightResult, Status
from builder.model.site import SiteProfile

PREFLIGHT_FILE = "preflight.json"
#: Fabrics whose transports pin memory: their ranks need an unlimited memlock limit.
RDMA_FABRICS = frozenset({"ib", "roce", "opa", "efa", "cxi"})
#: Device folders per fabric kind, as a rank must see them.
FABRIC_DEVICES: dict[str, str] = {
    "ib": "/dev/infiniband",
    "roce": "/dev/infiniband",
    "opa": "/dev/hfi1_0",
    "cxi": "/dev/cxi0",
    "efa": "/dev/infiniband",
}

Judge = Callable[[SiteProfile, int, str], tuple[Status, str]]


@dataclass(frozen=True)
class PreflightCheck:
    """A command in the image and how to read its output against the site."""

    name: str
    argv: Callable[[SiteProfile], list[str]]
    judge: Judge
    #: Whether the output is kept in ``preflight.json`` (never ``env``'s: it may hold secrets).
    keep_output: bool = True


def needed_environment(site: SiteProfile) -> dict[str, str]:
    """What every container rank must see: the site's job settings and runtime environment."""
    return {**site.environment, **site.runtime.environment}


def _env_argv(site: SiteProfile) -> list[str]:
    return ["env"]


def judge_environment(site: SiteProfile, code: int, out: str) -> tuple[Status, str]:
    """Every variable the site needs has its value inside the container."""
    if code != 0:
        return "error", f"env failed in the image (exit {code})"
    seen = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    wrong = [
        f"{name}={seen.get(name, '(unset)')} (site: {value})"
        for name, value in needed_environment(site).items()
        if seen.get(name) != value
    ]
    if wrong:
        return "error", "not as the site needs: " + "; ".join(wrong)
    return "ok", f"{len(needed_environment(site))} site variables present"


def judge_memlock(site: SiteProfile, code: int, out: str) -> tuple[Status, str]:
    """RDMA pins memory: ranks on an RDMA fabric need ``ulimit -l unlimited``."""
    limit = out.strip().splitlines()[-1] if out.strip() else "?"
    if code != 0:
        return "error", f"cannot read the memlock limit (exit {code})"
    if limit == "unlimited":
        return "ok", "memlock unlimited"
    if site.fabric.kind in RDMA_FABRICS:
        return "error", f"memlock {limit} KiB: RDMA needs unlimited (registration fails)"
    return "ok", f"memlock {limit} KiB (fabric {site.fabric.kind} pins no memory)"


def _devices_argv(site: SiteProfile) -> list[str]:
    folder = FABRIC_DEVICES.get(site.fabric.kind)
    return ["sh", "-c", f"ls {shlex.quote(folder)}" if folder else "true"]


def judge_devices(site: SiteProfile, code: int, out: str) -> tuple[Status, str]:
    """The fabric's device files are visible in the container."""
    folder = FABRIC_DEVICES.get(site.fabric.kind)
    if folder is None:
        return "ok", f"fabric {site.fabric.kind} needs no device file"
    if code != 0 or not out.strip():
        return "error", f"{folder} is not visible in the container"
    return "ok", f"{folder}: {' '.join(out.split())}"


_UCX_DEVICE = re.compile(r"^#\s+Device:\s+(\S+)", re.M)
_UCX_TRANSPORT = re.compile(r"^#\s+Transport:\s+(\S+)", re.M)


def judge_ucx(site: SiteProfile, code: int, out: str) -> tuple[Status, str]:
    """``ucx_info -d`` sees the site's devices (``mlx5_0:1``) in the container."""
    if code == 127:
        return "skipped", "no ucx_info in the image"
    devices, transports = set(_UCX_DEVICE.findall(out)), set(_UCX_TRANSPORT.findall(out))
    wanted = [d for d in site.fabric.devices if d not in devices]
    if code != 0:
        return "error", f"ucx_info -d failed (exit {code})"
    if wanted:
        return "error", f"UCX does not see {', '.join(wanted)} (sees {', '.join(sorted(devices))})"
    return "ok", f"transports {', '.join(sorted(transports))}; devices {', '.join(sorted(devices))}"


_FI_PROVIDER = re.compile(r"^(\w[\w;]*):\s*$", re.M)


def judge_libfabric(site: SiteProfile, code: int, out: str) -> tuple[Status, str]:
    """``fi_info -l`` lists the site's libfabric providers in the container."""
    if code == 127:
        return "skipped", "no fi_info in the image"
    # Layered providers print as "tcp;ofi_rxm": each layer is available.
    providers = {part for p in _FI_PROVIDER.findall(out) for part in p.split(";")}
    missing = [p for p in site.fabric.ofi_providers if p not in providers]
    if code != 0:
        return "error", f"fi_info -l failed (exit {code})"
    if missing:
        return "error", f"libfabric lacks {', '.join(missing)} (has {', '.join(sorted(providers))})"
    return "ok", f"providers {', '.join(sorted(providers))}"


#: The checks, in report order.
CHECKS: tuple[PreflightCheck, ...] = (
    PreflightCheck("environment", _env_argv, judge_environment, keep_output=False),
    PreflightCheck("memlock", lambda site: ["sh", "-c", "ulimit -l"], judge_memlock),
    PreflightCheck("devices", _devices_argv, judge_devices),
    PreflightCheck("ucx_info -d", lambda site: ["ucx_info", "-d"], judge_ucx),
    PreflightCheck("fi_info -l", lambda site: ["fi_info", "-l"], judge_libfabric),
)


def run_preflight(
    site: SiteProfile,
    in_image: Callable[[list[str]], list[str]],
    runner: Callable[[Sequence[str], Mapping[str, str]], tuple[int, str]],
    environment: Mapping[str, str],
) -> list[PreflightResult]:
    """Run every check in the image; ``environment`` is what the campaign gives its ranks."""
    results = []
    job_environment = {**environment, **needed_environment(site)}
    for check in CHECKS:
        code, out = runner(in_image(check.argv(site)), job_environment)
        status, message = check.judge(site, code, out)
        tail = "\n".join(out.strip().splitlines()[-20:]) if check.keep_output else ""
        results.append(
            PreflightResult(check=check.name, status=status, message=message, output=tail)
        )
    return results
