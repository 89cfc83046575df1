"""Throughput of `esdc analyze` on a generated log, side by side with `grep -cE` (issue 3 item 6).

The log (``ESDC_PERF_LOG_MB`` megabytes, default 300) is generated into a temporary folder: mostly
application output and uninteresting debug lines, about 3 % lines of the real shapes UCX, Open
MPI, NCCL, libfabric, MPICH and PMIx print. The benchmark reports the analyser's throughput,
grep's over the same file with every analyser anchor as one ERE alternation, and their ratio
(target: at least 0.2) in ``extra_info`` and on stdout. Speed is reported, never asserted; what is
asserted is that the fast paths find exactly what the simple path finds.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from builder.logs.api import analyze_paths
from builder.logs.combine import combine
from builder.logs.prefilter import ENV_SWITCH, ere_literal
from builder.logs.registry import ANALYSER_CLASSES, new_analysers
from builder.logs.scan import scan_file, scan_simple

pytestmark = pytest.mark.perf

LOG_MB = int(os.environ.get("ESDC_PERF_LOG_MB", "300"))
SAMPLE_MB = 4
TARGET_RATIO = 0.2

# A paragraph reads better than 80 quoted words.
_WORDS = (  # noqa: SIM905
    "neuron spike synapse weight update step loss accuracy epoch batch gradient buffer "
    "allocate region simulate connect network device thread rank worker queue request reply "
    "checkpoint restart iteration residual solver matrix vector converge tolerance timer "
    "memory pool cache miss hit latency bandwidth message payload header commit flush "
    "the of and to in is for on with as by at from this that into over under between"
).split()

#: Library lines of the shapes in docs/log-formats.md and the real logs of this machine.
_LIBRARY_LINES = (
    "[1795318394.349800] [{host}:{pid} :0]     ucp_context.c:1849 UCX  INFO  Version 1.13.1 "
    "(loaded from /lib/x86_64-linux-gnu/libucp.so.0)",
    "[1795318394.400082] [{host}:{pid} :0]      ucp_worker.c:1763 UCX  INFO    ep_cfg[0]: "
    "tag(self/memory0 cma/memory)",
    "[1795318394.400350] [{host}:{pid} :0]      ucp_worker.c:1763 UCX  INFO    ep_cfg[1]: "
    "tag(sysv/memory cma/memory)",
    "[1717000000.123456] [{host}:{pid} :0]      ucp_worker.c:2042 UCX  INFO  ucp_context_0 "
    "inter-node cfg#2 tag(rc_mlx5/mlx5_0:1) rma(rc_mlx5/mlx5_0:1) am(rc_mlx5/mlx5_0:1)",
    "[1795318394.365263] [{host}:{pid} :0]          parser.c:1916 UCX  INFO  UCX_* env "
    "variable: UCX_LOG_LEVEL=info",
    "[{host}:{pid}] mca:base:select:(  pml) Selected component [ucx]",
    "[{host}:{pid}] select: initializing btl component vader",
    "[{host}:{pid}] select: init of component tcp returned success",
    "{host}:{pid}:{pid} [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] [send] via NET/IB/0/GDRDMA",
    "{host}:{pid}:{pid} [0] NCCL INFO NET/IB : Using [0]mlx5_0:1/IB ; OOB ib0:10.0.0.1<0>",
    "{host}:{pid}:{pid} [1] NCCL INFO Channel 01/0 : 1[1] -> 0[0] via P2P/IPC",
    "libfabric:{pid}:1795318453::verbs:fabric:vrb_init_info():1346<info> no RDMA devices found",
    "libfabric:{pid}:1795318453:ofi_rxm:tcp:core:util_getinfo_ifs():333<info> Chosen addr for "
    "using: 127.0.0.1, speed 0",
    "[{host}:{pid}] ../../ompi/mca/mtl/ofi/mtl_ofi_component.c:365: mtl:ofi:provider: eth0",
)

_APP_TEMPLATES = (
    "step {n} {w} {w} loss={f} accuracy={f} lr=1e-4 elapsed={f}s",
    "[INFO] {w} {w}: {n} {w} updated, {n} {w} delivered in {f} ms",
    "pingpong bytes={n} iters=1000 half_rtt_us={f} bw_MBps={f}",
    "  {n}            {f}           {f}",
    "DEBUG {w} thread {n} polling {w} queue; {w} {w} for {n} us before retry",
    "{w} {w} {w} {w} {w} {w} {w} {w} {w} {w} {w}",
    "rank {n}: {w} {w} {w} done in {f} s ({n} {w})",
    "Simulation time: {n} ms, {w} {w} {w} {w}, memory {n} kB",
)


def _line(rng: random.Random, library_share: float = 0.03) -> str:
    if rng.random() < library_share:
        template = rng.choice(_LIBRARY_LINES)
        line = template.format(host=rng.choice(("node1", "node2")), pid=rng.randint(1000, 1255))
        # Every UCX line carries its own timestamp, as in a real log.
        return line.replace("[1795318394.", f"[{1795318394 + rng.randint(0, 9999)}.", 1)
    template = rng.choice(_APP_TEMPLATES)
    out = []
    for piece in re.split(r"(\{[nfw]\})", template):
        if piece == "{n}":
            out.append(str(rng.randint(1, 10**6)))
        elif piece == "{f}":
            out.append(f"{rng.random() * 1000:.3f}")
        elif piece == "{w}":
            out.append(rng.choice(_WORDS))
        else:
            out.append(piece)
    return "".join(out)


def generate_log(path: Path, megabytes: int, seed: int = 3, library_share: float = 0.03) -> Path:
    """Write ``megabytes`` of log: 16 different 1 MiB blocks of random lines, repeated.

    ``library_share`` is the share of library lines (1.0: a dense log, 0.01: a sparse one).
    """
    rng = random.Random(seed)
    blocks = []
    for _ in range(16):
        lines: list[str] = []
        size = 0
        while size < 1 << 20:
            line = _line(rng, library_share)
            lines.append(line)
            size += len(line) + 1
        blocks.append(("\n".join(lines) + "\n").encode())
    with path.open("wb") as handle:
        written = 0
        index = 0
        while written < megabytes << 20:
            block = blocks[index % len(blocks)]
            handle.write(block)
            written += len(block)
            index += 1
    return path


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_log(tmp_path_factory.mktemp("perf") / "generated.log", LOG_MB)


def _grep_seconds(path: Path) -> float:
    """Best of three wall times of ``grep -cE`` with every analyser anchor as the pattern."""
    anchors = sorted({a for cls in ANALYSER_CLASSES for a in cls.anchors})
    pattern = b"|".join(ere_literal(a) for a in anchors)
    grep = shutil.which("grep")
    assert grep is not None
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(
            [grep, "-a", "-c", "-E", "-e", pattern, "--", str(path)],
            capture_output=True,  # not /dev/null: GNU grep stops at the first match there
            env={**os.environ, "LC_ALL": "C"},
            check=False,
        )
        best = min(best, time.perf_counter() - start)
    return best


def _measure(benchmark, path: Path, kind: str, target: float) -> float:  # type: ignore[no-untyped-def]
    """Time ``esdc analyze`` on ``path`` and ``grep -cE`` in the same run; report the ratio."""
    megabytes = path.stat().st_size / (1 << 20)
    benchmark.pedantic(analyze_paths, args=([str(path)],), rounds=2, iterations=1)
    if benchmark.stats is not None:
        seconds = benchmark.stats.stats.min
    else:
        start = time.perf_counter()
        analyze_paths([str(path)])
        seconds = time.perf_counter() - start
    grep_seconds = _grep_seconds(path)
    ratio = float(grep_seconds / seconds)
    benchmark.extra_info.update(
        {
            "kind": kind,
            "log_mb": round(megabytes, 1),
            "analyze_mb_per_s": round(megabytes / seconds, 1),
            "grep_mb_per_s": round(megabytes / grep_seconds, 1),
            "ratio_to_grep": round(ratio, 3),
            "target_ratio": target,
        }
    )
    print(
        f"\n{kind}: analyze {megabytes / seconds:.1f} MB/s, grep -cE "
        f"{megabytes / grep_seconds:.1f} MB/s, ratio {ratio:.3f} (target {target})"
    )
    return ratio


@pytest.fixture(scope="module")
def dense_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("perf") / "dense.log"
    return generate_log(path, LOG_MB, seed=5, library_share=1.0)


@pytest.fixture(scope="module")
def sparse_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("perf") / "sparse.log"
    return generate_log(path, LOG_MB, seed=7, library_share=0.01)


def test_analyze_throughput_against_grep(benchmark, big_log: Path) -> None:  # type: ignore[no-untyped-def]
    """The mixed log: about 3 % library lines."""
    _measure(benchmark, big_log, "mixed", TARGET_RATIO)
    assert analyze_paths([str(big_log)]).libraries["ucx"] is not None


def test_dense_log_against_grep(benchmark, dense_log: Path) -> None:  # type: ignore[no-untyped-def]
    """Every line a library line (issue 9 item 6: target 0.1x grep)."""
    _measure(benchmark, dense_log, "dense", 0.1)


def test_sparse_log_against_grep(benchmark, sparse_log: Path) -> None:  # type: ignore[no-untyped-def]
    """1 % library lines (issue 9 item 6: target 0.5x grep)."""
    _measure(benchmark, sparse_log, "sparse", 0.5)


def _peak_mb(path: Path) -> float:
    """Peak resident memory of ``esdc analyze`` and its grep, in MB (their largest process)."""
    import resource
    import sys

    esdc = Path(sys.executable).with_name("esdc")
    script = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(esdc), "analyze", "--json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    del resource
    return int(out.stdout.strip()) / 1024


def test_peak_memory_stays_bounded(dense_log: Path, tmp_path: Path) -> None:
    """Peak memory under 100 MB on a large dense log and on one line of 1 GiB (issue 9 item 6)."""
    one_line = tmp_path / "one-line.log"
    with one_line.open("wb") as sink:
        sink.write(b"[n1:7:0] x.c:1 UCX  ERROR before\n")
        for _ in range(1024):
            sink.write(b"q" * (1 << 20))
        sink.write(b"\n[n1:7:0] x.c:1 UCX  ERROR after\n")
    dense_peak, line_peak = _peak_mb(dense_log), _peak_mb(one_line)
    print(f"\npeak memory: dense log {dense_peak:.0f} MB, one 1 GiB line {line_peak:.0f} MB")
    assert dense_peak < 100 and line_peak < 100


def _facts_json(path: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    analysers = new_analysers()
    if how == "simple":
        scan_simple(path, analysers)
    else:
        monkeypatch.setenv(ENV_SWITCH, "1" if how == "grep" else "0")
        scan_file(path, analysers)
    facts = [a.facts() for a in analysers]
    return {
        "facts": [f.model_dump(mode="json") for f in facts],
        "analysis": combine([str(path)], facts).to_json_dict(),
    }


def test_fast_paths_find_what_the_simple_path_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = generate_log(tmp_path / "sample.log", SAMPLE_MB, seed=11)
    reference = _facts_json(sample, "simple", monkeypatch)
    assert reference["analysis"]["paths"]  # type: ignore[index]
    assert _facts_json(sample, "grep", monkeypatch) == reference
    assert _facts_json(sample, "python", monkeypatch) == reference
