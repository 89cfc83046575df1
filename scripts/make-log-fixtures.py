#!/usr/bin/env python3
"""Produce real debug-log fixtures on this machine's MPI stack (issue 3, item 5).

Usage::

    .venv/bin/python scripts/make-log-fixtures.py [-o DIR] [--list] [CASE ...]

Writes one file per case into DIR (default ``tests/fixtures/logs/real``). Each file starts with
``# real: COMMAND`` (and ``# setup: ...`` lines where the run needs more than the command),
then holds the run's stdout and stderr merged in order, and ends with ``# rc=N``.
Rerunnable: files are replaced atomically; images are built once and cached (ESDC_CACHE).

Cases that need what a machine may lack (network namespaces need root; Charliecloud cases
need ch-image, debootstrap and network access to a Debian mirror for the first build) are
reported as skipped with the reason. Exit status: 0 when every case ran and behaved as
expected (the known-bad cases are expected to fail), 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from builder.errors import EsdcError  # noqa: E402
from builder.fsio import atomic_write_text  # noqa: E402

SRC = REPO / "tests" / "fixtures" / "src"
#: The C ping-pong is the campaign's own benchmark program: the fixtures run the same code.
PINGPONG = REPO / "benchmarks" / "pingpong" / "pingpong.c"
DEFAULT_OUT = REPO / "tests" / "fixtures" / "logs" / "real"
TIMEOUT_S = 120

MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2"]
# Debian's Open MPI takes pml ucx without an RDMA device only with these (design.md).
UCX_ANY = ["--mca", "pml_ucx_tls", "any", "--mca", "pml_ucx_devices", "any"]
PML_UCX = ["--mca", "pml", "ucx", *UCX_ANY]
IMG_OMPI = (
    "image img-ompi = tests/fixtures/src/ompi.Dockerfile "
    "(libopenmpi3 + openmpi-common + openmpi-bin)"
)


@dataclass
class Workspace:
    """Where binaries and images live while the script runs."""

    root: Path
    env: dict[str, str]
    images: dict[str, Path] = field(default_factory=dict)


@dataclass
class Run:
    """One recorded run: the command as shown, how to run it, and setup notes."""

    argv: list[str]
    setup: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    shown: str | None = None


@dataclass
class Case:
    """A fixture: file name, what it shows, whether the run is expected to fail."""

    name: str
    about: str
    make: Callable[[Workspace], Run] | None = None
    expect_failure: bool = False
    needs: tuple[str, ...] = ()
    # For runs whose setup must live exactly as long as the run (network namespaces).
    runner: Callable[[Workspace], tuple[Run, str, int]] | None = None


def _x(env: dict[str, str]) -> list[str]:
    return [arg for key, value in env.items() for arg in ("-x", f"{key}={value}")]


def ompi_ucx_intranode(_: Workspace) -> Run:
    return Run([*MPIRUN, *PML_UCX, *_x({"UCX_LOG_LEVEL": "info"}), "./pingpong"])


def ompi_ob1_vader(_: Workspace) -> Run:
    verbose = ["--mca", "pml_base_verbose", "10", "--mca", "btl_base_verbose", "100"]
    return Run(
        [*MPIRUN, "--mca", "pml", "ob1", "--mca", "btl", "vader,self", *verbose, "./pingpong"]
    )


def ompi_ucx_tcp(_: Workspace) -> Run:
    env = {"UCX_TLS": "tcp", "UCX_NET_DEVICES": "lo", "UCX_LOG_LEVEL": "info"}
    return Run([*MPIRUN, *PML_UCX, *_x(env), "./pingpong"])


def ompi_cm_ofi_tcp(_: Workspace) -> Run:
    mca = [
        "--mca",
        "pml",
        "cm",
        "--mca",
        "mtl",
        "ofi",
        "--mca",
        "mtl_ofi_provider_include",
        "tcp",
        "--mca",
        "mtl_base_verbose",
        "100",
    ]
    env = {"FI_LOG_LEVEL": "info", "FI_PROVIDER": "tcp", "FI_TCP_IFACE": "lo"}
    return Run([*MPIRUN, *mca, *_x(env), "./pingpong", "65536"])


def mpich_ucx(_: Workspace) -> Run:
    return Run(
        ["mpiexec.mpich", "-n", "2", "./pingpong-mpich"],
        setup=[
            "MPICH 4.0.2 from Debian (device ch4:ucx); environment "
            "MPIR_CVAR_DEBUG_SUMMARY=1 UCX_LOG_LEVEL=info"
        ],
        extra_env={"MPIR_CVAR_DEBUG_SUMMARY": "1", "UCX_LOG_LEVEL": "info"},
    )


def ch_lib_only(ws: Workspace) -> Run:
    verbose = ["--mca", "pml_base_verbose", "10", "--mca", "mtl_base_verbose", "10"]
    return Run(
        [*MPIRUN, *verbose, "ch-run", "./img-ompi-lib-only", "--", "/opt/pingpong"],
        setup=[
            "image img-ompi-lib-only = tests/fixtures/src/ompi-lib-only.Dockerfile (libopenmpi3 "
            "only: no openmpi-bin, so no /etc/openmpi/openmpi-mca-params.conf inside); "
            "host mpirun, "
            "one ch-run per rank (hybrid model)",
            "host /etc/openmpi/openmpi-mca-params.conf: " + _host_mca_params(),
        ],
    )


def ch_cma_separate_userns(ws: Workspace) -> Run:
    return Run(
        [
            *MPIRUN,
            *PML_UCX,
            *_x({"UCX_LOG_LEVEL": "info"}),
            "ch-run",
            "./img-ompi",
            "--",
            "/opt/pingpong",
        ],
        setup=[
            f"{IMG_OMPI}; "
            "host mpirun, one ch-run per rank WITHOUT --join: each rank in its own user namespace, "
            "so CMA (process_vm_readv) between ranks is refused"
        ],
    )


def ch_join_corrected(ws: Workspace) -> Run:
    return Run(
        [
            *MPIRUN,
            *PML_UCX,
            *_x({"UCX_LOG_LEVEL": "info"}),
            "ch-run",
            "--join",
            "./img-ompi",
            "--",
            "/opt/pingpong",
        ],
        setup=[
            f"{IMG_OMPI}; "
            "host mpirun, ch-run --join: the ranks of the node share one namespace "
            "(corrected image)"
        ],
    )


def ch_ob1_cma_separate_userns(ws: Workspace) -> Run:
    verbose = ["--mca", "pml_base_verbose", "10", "--mca", "btl_base_verbose", "100"]
    return Run(
        [*MPIRUN, *verbose, "ch-run", "./img-ompi", "--", "/opt/pingpong"],
        setup=[
            "image img-ompi = tests/fixtures/src/ompi.Dockerfile; host mpirun, one ch-run per rank "
            "without --join; the host defaults (pml ob1, btl vader) apply inside, and vader's CMA "
            "single copy is refused across the separate user namespaces"
        ],
    )


CASES = [
    Case(
        "ompi-pml-ucx_UCX_LOG_LEVEL-info_intranode",
        "Open MPI pml ucx, intra-node shared memory",
        ompi_ucx_intranode,
    ),
    Case(
        "ompi-pml-ob1-btl-vader_verbose",
        "Open MPI pml ob1 + btl vader with selection verbosity",
        ompi_ob1_vader,
    ),
    Case("ompi-pml-ucx_UCX_TLS-tcp_degraded", "UCX forced to tcp over loopback", ompi_ucx_tcp),
    Case(
        "ompi-pml-cm-mtl-ofi_FI_LOG_LEVEL-info_tcp",
        "mtl ofi with the tcp provider, FI_LOG_LEVEL=info",
        ompi_cm_ofi_tcp,
    ),
    Case(
        "mpich-ch4-ucx_UCX_LOG_LEVEL-info",
        "MPICH ch4:ucx with its debug summary",
        mpich_ucx,
        needs=("mpiexec.mpich",),
    ),
    Case(
        "netns-2hosts_ompi-pml-ucx_tcp-over-veth",
        "two network-namespace hosts, pml ucx over veth",
        runner=lambda ws: run_netns_case(ws),
        needs=("root",),
    ),
    Case(
        "charliecloud-hybrid_libopenmpi3-only_pml-cm-mtl-ofi",
        "image with libopenmpi3 only selects pml cm + mtl ofi",
        ch_lib_only,
        needs=("charliecloud",),
    ),
    Case(
        "charliecloud-hybrid_pml-ucx_cma-separate-userns",
        "CMA refused across user namespaces",
        ch_cma_separate_userns,
        expect_failure=True,
        needs=("charliecloud",),
    ),
    Case(
        "charliecloud-hybrid_pml-ob1_cma-separate-userns",
        "vader CMA refused across user namespaces",
        ch_ob1_cma_separate_userns,
        needs=("charliecloud",),
    ),
    Case(
        "charliecloud-hybrid_join_corrected",
        "corrected image with ch-run --join: bare-metal path",
        ch_join_corrected,
        needs=("charliecloud",),
    ),
]


def _host_mca_params() -> str:
    path = Path("/etc/openmpi/openmpi-mca-params.conf")
    if not path.is_file():
        return "(absent)"
    lines = [
        ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")
    ]
    return " ; ".join(lines)


def _missing(case: Case) -> str | None:
    for need in case.needs:
        if need == "root" and os.geteuid() != 0:
            return "network namespaces need root"
        if need == "charliecloud" and not all(
            shutil.which(t) for t in ("ch-image", "ch-run", "debootstrap")
        ):
            return "ch-image, ch-run or debootstrap missing"
        if need not in ("root", "charliecloud") and shutil.which(need) is None:
            return f"{need} missing"
    if shutil.which("mpirun") is None or shutil.which("mpicc") is None:
        return "Open MPI (mpirun, mpicc) missing"
    return None


def prepare(root: Path, cases: Sequence[Case]) -> Workspace:
    """Compile the pingpong(s) and build the images the selected cases need."""
    env = dict(os.environ)
    env.setdefault("USER", "root" if os.geteuid() == 0 else str(os.geteuid()))
    env.pop("REQUESTS_CA_BUNDLE", None)
    env["PATH"] = "/usr/bin:/bin:/usr/sbin:/sbin:" + env.get("PATH", "")
    # Keep the host's defaults in force (tests may set OMPI_MCA_* in the environment).
    for key in [k for k in env if k.startswith(("OMPI_MCA_", "UCX_", "FI_", "MPIR_CVAR_"))]:
        del env[key]
    ws = Workspace(root=root, env=env)
    subprocess.run(["mpicc", "-O2", "-o", str(root / "pingpong"), str(PINGPONG)], check=True)
    if any(c.name.startswith("mpich") for c in cases) and shutil.which("mpicc.mpich"):
        subprocess.run(
            ["mpicc.mpich", "-O2", "-o", str(root / "pingpong-mpich"), str(PINGPONG)],
            check=True,
        )
    wanted = {"img-ompi-lib-only"} if any("libopenmpi3-only" in c.name for c in cases) else set()
    if any(c.name.startswith("charliecloud") and "libopenmpi3-only" not in c.name for c in cases):
        wanted.add("img-ompi")
    for image in sorted(wanted):
        ws.images[image] = build_fixture_image(root, image.removeprefix("img-"))
    return ws


def build_fixture_image(root: Path, name: str) -> Path:
    """Build tests/fixtures/src/NAME.Dockerfile with the pingpong in its context (cached)."""
    from builder.build.charliecloud import CharliecloudRuntime

    context = root / f"context-{name}"
    context.mkdir(exist_ok=True)
    shutil.copy2(root / "pingpong", context / "pingpong")
    shutil.copy2(SRC / f"{name}.Dockerfile", context / "Dockerfile")
    runtime = CharliecloudRuntime()
    built = runtime.build(
        context / "Dockerfile", f"esdc-fixture-{name}", context=context, output=root / f"img-{name}"
    )
    return built.path


def render(run: Run, output: str, rc: int) -> str:
    """The fixture text: header lines, the merged output, the exit status (pure)."""
    shown = run.shown or shlex.join(run.argv)
    header = [f"# real: {shown}", *(f"# setup: {line}" for line in run.setup)]
    body = output if output.endswith("\n") or not output else output + "\n"
    return "\n".join(header) + "\n" + body + f"# rc={rc}\n"


def execute(argv: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[str, int]:
    proc = subprocess.run(
        list(argv),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        timeout=TIMEOUT_S,
        check=False,
    )
    return proc.stdout.decode("utf-8", "replace"), proc.returncode


def run_netns_case(ws: Workspace) -> tuple[Run, str, int]:
    from builder.run.netns import NetnsHosts

    with NetnsHosts(2, prefix="node") as net:
        a, b = net.hosts
        inner = [
            "mpirun",
            "--allow-run-as-root",
            "-np",
            "2",
            *net.mpirun_args(),
            *PML_UCX,
            *_x({"UCX_LOG_LEVEL": "info"}),
            "./pingpong",
        ]
        run = Run(
            net.exec_argv(a, inner),
            setup=[
                f"network namespaces {a.netns} / {b.netns}; veth {a.interface} <-> {b.interface} "
                f"{a.address} <-> {b.address} ({net.subnet}); each host has its own UTS namespace "
                f"(host names {a.name}, {b.name}); rsh agent = builder.run.netns agent "
                "(ip netns exec NS unshare --uts ... orted)",
            ],
        )
        run.shown = shlex.join(net.exec_argv(a, inner)).replace(str(net.workdir), "$NETNS_DIR")
        output, rc = execute(run.argv, ws.env, ws.root)
    return run, output, rc


def run_case(case: Case, ws: Workspace, out: Path) -> str:
    """Run one case and write its fixture; returns a one-line status."""
    started = time.monotonic()
    if case.runner is not None:
        run, output, rc = case.runner(ws)
    else:
        assert case.make is not None
        run = case.make(ws)
        env = {**ws.env, **run.extra_env}
        output, rc = execute(run.argv, env, ws.root)
    atomic_write_text(out / f"{case.name}.txt", render(run, output, rc))
    failed = rc != 0
    verdict = "as expected" if failed == case.expect_failure else "UNEXPECTED"
    return f"{case.name}: rc={rc} ({verdict}, {time.monotonic() - started:.1f}s)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT, help="fixture directory")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)
    if args.list:
        for case in CASES:
            print(f"{case.name}\t{case.about}")
        return 0
    by_name = {c.name: c for c in CASES}
    unknown = [name for name in args.cases if name not in by_name]
    if unknown:
        print(
            f"make-log-fixtures: unknown case(s): {', '.join(unknown)} (see --list)",
            file=sys.stderr,
        )
        return 2
    selected = [by_name[n] for n in args.cases] if args.cases else CASES
    runnable = []
    for case in selected:
        reason = _missing(case)
        if reason:
            print(f"{case.name}: skipped ({reason})")
        else:
            runnable.append(case)
    args.output.mkdir(parents=True, exist_ok=True)
    ok = True
    with tempfile.TemporaryDirectory(prefix="esdc-fixtures-") as tmp:
        try:
            ws = prepare(Path(tmp), runnable)
        except (EsdcError, subprocess.CalledProcessError) as exc:
            print(f"make-log-fixtures: preparation failed: {exc}", file=sys.stderr)
            return 1
        for case in runnable:
            status = run_case(case, ws, args.output)
            ok &= "UNEXPECTED" not in status
            print(status, flush=True)
    return 0 if ok and len(runnable) == len(selected) else 1


if __name__ == "__main__":
    sys.exit(main())
