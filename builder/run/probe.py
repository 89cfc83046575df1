"""Looking at the host and the image: which benchmark tools exist, which library versions.

These are the campaign's read-only side effects: each probe is a short subprocess with a
timeout. What a probe finds is data (:class:`Toolbox`, :class:`Versions`) that the pure parts
of the campaign consume.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from builder.errors import EsdcError

#: One probe: an argv, run with a timeout, returning ``(returncode, stdout+stderr)``.
Runner = Callable[[Sequence[str]], tuple[int, str]]

PROBE_TIMEOUT_S = 60.0

#: Commands that print a library's version, per library (design.md: ompi_info, ucx_info, fi_info).
VERSION_COMMANDS: dict[str, list[str]] = {
    "openmpi": ["ompi_info", "--version"],
    "ucx": ["ucx_info", "-v"],
    "libfabric": ["fi_info", "--version"],
    "mpich": ["mpichversion"],
    # pmix_info prints nothing for --version: its "PMIX: x.y.z" line; Debian ships pmix_info
    # only in libpmix-bin, so fall back to the package's version.
    "pmix": [
        "sh",
        "-c",
        "command -v pmix_info >/dev/null && pmix_info 2>&1 | grep -m 1 'PMIX:' || "
        "dpkg-query -W -f='${Package} ${Version}\\n' libpmix2 2>/dev/null",
    ],
}

#: Where the toolkit's own programs live inside images built from generated definitions.
IMAGE_TOOL_CANDIDATES: dict[str, list[str]] = {
    "pingpong": ["/opt/esdc/bin/pingpong", "pingpong"],
    "osu_latency": ["osu_latency"],
    "osu_bw": ["osu_bw"],
    "osu_allreduce": ["osu_allreduce"],
    "all_reduce_perf": ["all_reduce_perf"],
}
#: Where a host-built benchmark folder is bound into an image that lacks the benchmark:
#: Charliecloud images carry empty ``/mnt/0`` ... ``/mnt/9`` as bind targets.
HOST_BENCH_MOUNT = "/mnt/0"

#: Where the toolkit's NEST script is inside images (copied there by the definition).
IMAGE_NEST_SCRIPT = "/opt/esdc/benchmarks/nest/run_balanced.py"


class Versions(BaseModel):
    """The first line each version command printed, or ``None`` where it is missing."""

    where: str
    libraries: dict[str, str | None] = Field(default_factory=dict)


def run_probe(argv: Sequence[str], env: Mapping[str, str] | None = None) -> tuple[int, str]:
    """Run ``argv`` briefly; a missing program is returncode 127, a hang is 124."""
    try:
        done = subprocess.run(
            list(argv),
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        return 127, ""
    except subprocess.TimeoutExpired:
        return 124, ""
    except OSError as exc:
        return 126, str(exc)
    return done.returncode, done.stdout + done.stderr


def collect_versions(
    where: str, wrap: Callable[[list[str]], list[str]], runner: Runner
) -> Versions:
    """Run every version command through ``wrap`` (identity on the host, exec in an image)."""
    found: dict[str, str | None] = {}
    for library, argv in VERSION_COMMANDS.items():
        code, text = runner(wrap(argv))
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        found[library] = lines[0] if code == 0 and lines else None
    return Versions(where=where, libraries=found)


def benchmarks_dir() -> Path:
    """The repository's ``benchmarks/`` folder (run scripts and sources of the suites)."""
    return Path(__file__).resolve().parent.parent.parent / "benchmarks"


#: Python code that exits 0 where mpi4py is installed (found without importing it: importing
#: parts of mpi4py would initialise MPI).
HAS_MPI4PY = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('mpi4py') else 1)"
#: Python code that exits 0 where ``mpi4py.bench`` has the ``pingpong`` command (mpi4py 4+;
#: Debian 12's 3.1 lacks it); it reads the module's source instead of importing it.
HAS_MPI4PY_PINGPONG = (
    "import importlib.util, sys; s = importlib.util.find_spec('mpi4py.bench'); "
    "sys.exit(0 if s and s.origin and 'def pingpong' in open(s.origin).read() else 1)"
)
#: Python code that exits 0 where NEST's Python module is installed (without importing it).
HAS_NEST = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('nest') else 1)"
#: Python code that exits 0 where NEST's kernel links an MPI library (read from its shared
#: objects, without importing NEST): only such a NEST may run under an MPI launcher.
HAS_NEST_MPI = (
    "import importlib.util, pathlib, sys; s = importlib.util.find_spec('nest'); "
    "d = pathlib.Path(s.origin).parent if s and s.origin else None; "
    "libs = [*d.rglob('*.so*'), *d.parent.glob('nest_simulator.libs/*.so*')] if d else []; "
    "sys.exit(0 if any(b'libmpi' in p.read_bytes() for p in libs) else 1)"
)
#: How a Python with mpi4py 4 runs the ping-pong.
MPI4PY_BENCH_PINGPONG = ["-m", "mpi4py.bench", "pingpong"]
#: Where the host's ``benchmarks/`` folder is bound into an image that lacks a script.
BENCHMARKS_MOUNT = "/mnt/1"


def host_tools(cache_dir: Path, runner: Runner = run_probe) -> dict[str, list[str] | None]:
    """Resolve every suite placeholder on the host (``None`` where a tool is missing)."""
    tools: dict[str, list[str] | None] = {}
    python = _host_python(HAS_MPI4PY_PINGPONG, runner) or _host_python(HAS_MPI4PY, runner)
    tools["mpi4py_python"] = python
    tools["mpi4py_pingpong"] = None
    if python is not None:
        has_bench = runner([*python, "-c", HAS_MPI4PY_PINGPONG])[0] == 0
        script = str(benchmarks_dir() / "mpi4py" / "pingpong.py")
        tools["mpi4py_pingpong"] = MPI4PY_BENCH_PINGPONG if has_bench else [script]
    tools["nest_python"] = _host_python(HAS_NEST, runner)
    tools["nest_mpi_python"] = _host_python(HAS_NEST_MPI, runner)
    tools["pingpong"] = _host_pingpong(cache_dir)
    for name in ("osu_latency", "osu_bw", "osu_allreduce", "all_reduce_perf"):
        path = shutil.which(name)
        tools[name] = [path] if path else None
    nest_script = benchmarks_dir() / "nest" / "run_balanced.py"
    tools["nest_script"] = [str(nest_script)] if nest_script.is_file() else None
    return tools


def image_tools(
    wrap: Callable[[list[str]], list[str]], runner: Runner
) -> dict[str, list[str] | None]:
    """Resolve every suite placeholder inside an image; ``wrap`` turns an argv into an exec."""
    tools: dict[str, list[str] | None] = {}
    has_mpi4py = runner(wrap(["python3", "-c", HAS_MPI4PY]))[0] == 0
    tools["mpi4py_python"] = ["python3"] if has_mpi4py else None
    has_bench = has_mpi4py and runner(wrap(["python3", "-c", HAS_MPI4PY_PINGPONG]))[0] == 0
    tools["mpi4py_pingpong"] = MPI4PY_BENCH_PINGPONG if has_bench else None
    code, _ = runner(wrap(["python3", "-c", HAS_NEST]))
    tools["nest_python"] = ["python3"] if code == 0 else None
    code, _ = runner(wrap(["python3", "-c", HAS_NEST_MPI]))
    tools["nest_mpi_python"] = ["python3"] if code == 0 else None
    for name, candidates in IMAGE_TOOL_CANDIDATES.items():
        tools[name] = None
        for candidate in candidates:
            code, out = runner(wrap(["sh", "-c", f"command -v {candidate}"]))
            if code == 0 and out.strip():
                tools[name] = [out.strip().splitlines()[0]]
                break
    code, _ = runner(wrap(["test", "-f", IMAGE_NEST_SCRIPT]))
    tools["nest_script"] = [IMAGE_NEST_SCRIPT] if code == 0 else None
    return tools


def pair_scripts(
    host: dict[str, list[str] | None], image: dict[str, list[str] | None]
) -> tuple[dict[str, list[str] | None], dict[str, list[str] | None], bool]:
    """Make both modes run the same benchmark scripts (pure).

    Paired runs must run the same program: when either side lacks ``mpi4py.bench pingpong``
    both run ``benchmarks/mpi4py/pingpong.py``, and an image without the toolkit's scripts gets
    them from the host's ``benchmarks/`` bound at :data:`BENCHMARKS_MOUNT`.

    Returns
    -------
    tuple
        The host's tools, the image's tools, and whether the benchmarks folder must be bound.
    """
    host, image = dict(host), dict(image)
    bind = False
    if (
        host.get("mpi4py_pingpong") != MPI4PY_BENCH_PINGPONG
        or image.get("mpi4py_pingpong") != MPI4PY_BENCH_PINGPONG
    ):
        if host.get("mpi4py_python") is not None:
            host["mpi4py_pingpong"] = [str(benchmarks_dir() / "mpi4py" / "pingpong.py")]
        if image.get("mpi4py_python") is not None:
            image["mpi4py_pingpong"] = [f"{BENCHMARKS_MOUNT}/mpi4py/pingpong.py"]
            bind = True
    if image.get("nest_script") is None and image.get("nest_python") is not None:
        image["nest_script"] = [f"{BENCHMARKS_MOUNT}/nest/run_balanced.py"]
        bind = True
    return host, image, bind


def host_binary_in_image(
    host_binary: str,
    wrap_bound: Callable[[list[str], str], list[str]],
    runner: Runner,
) -> tuple[list[str], str] | None:
    """Run a host-built MPI program inside the image, bound from the host, if it loads there.

    The program then runs against the image's MPI libraries (it links ``libmpi.so.40``
    dynamically): that is what a container run must exercise. It is started once as a
    singleton, which the ping-pong answers with ``rank 0/1`` before refusing to run alone.

    Returns
    -------
    tuple or None
        ``(argv inside the image, bind SRC:DST)``, or ``None`` when it does not load there.
    """
    path = Path(host_binary)
    bind = f"{path.parent}:{HOST_BENCH_MOUNT}"
    inside = f"{HOST_BENCH_MOUNT}/{path.name}"
    _, out = runner(wrap_bound([inside, "8"], bind))
    return ([inside], bind) if "rank 0/1" in out else None


def _host_python(check: str, runner: Runner) -> list[str] | None:
    """The first interpreter for which the Python code ``check`` exits 0."""
    # The venv's interpreter first (make setup installs mpi4py and NEST there), then the system's.
    candidates = [sys.executable, shutil.which("python3"), "/usr/bin/python3"]
    for candidate in dict.fromkeys(c for c in candidates if c):
        code, _ = runner([candidate, "-c", check])
        if code == 0:
            return [candidate]
    return None


def _host_pingpong(cache_dir: Path) -> list[str] | None:
    """Compile the C ping-pong with the host's mpicc once per source version (cached)."""
    source = benchmarks_dir() / "pingpong" / "pingpong.c"
    mpicc = shutil.which("mpicc")
    if mpicc is None or not source.is_file():
        return None
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    binary = cache_dir / f"pingpong-{digest}"
    if not binary.is_file():
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cache_dir / f".pingpong-{digest}.{os.getpid()}"
        done = subprocess.run(
            [mpicc, "-O2", "-o", str(partial), str(source)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if done.returncode != 0:
            raise EsdcError(f"mpicc failed: {done.stderr.strip()[:300]}", where=source)
        partial.replace(binary)
    return [str(binary)]
