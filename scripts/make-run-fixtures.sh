#!/usr/bin/env bash
# Regenerate the run-directory fixtures of `esdc verify` / `esdc report` (tests/fixtures/runs/).
#
#   scripts/make-run-fixtures.sh [OUTDIR]        (default: tests/fixtures/runs)
#
# What is real and what is constructed:
# - mpi4py suite: REAL `python -m mpi4py.bench pingpong` runs on this machine under Debian's Open MPI.
#   "bare" and the passing "container" use pml ucx over shared memory; the failing "container" runs
#   with `--mca pml cm --mca mtl ofi --mca mtl_ofi_provider_include tcp`, the very path a Charliecloud
#   image without openmpi-common selects (design.md), so its numbers are that path's real numbers.
#   The ranks of the "container" mode do not run inside an image: record.json says so in `command`.
# - debug logs: fail-cm-ofi uses the real reference logs 02 (bare, pml ucx over sysv/cma) and 25
#   (Charliecloud container selecting pml cm + mtl ofi on eth0); pass uses fresh real logs
#   (UCX_LOG_LEVEL=info and pml_base_verbose 10) for both modes.
# - nest suite: REAL runs of benchmarks/nest/run_balanced.py with NEST from PyPI (built without
#   MPI, so its logging run shows no transport: the local thresholds say `transport: optional`).
# - osu_latency and osu_bw suites: CONSTRUCTED from docs/log-formats.md (file names contain
#   "constructed" and the first line says so): OSU is not packaged for Debian. Their logging runs
#   carry the transport logs of the mpi4py logging run of the same mode (real).
# - missing: a copy of pass with one performance output removed.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-tests/fixtures/runs}
PY=${PY:-.venv/bin/python}
REF=${REF:-/work/shared/reference/local-logs}
REPS=3
MAXSIZE=1048576
MPIRUN=(mpirun --allow-run-as-root --oversubscribe -np 2)
UCX=(--mca pml ucx --mca pml_ucx_tls any --mca pml_ucx_devices any)
CMOFI=(--mca pml cm --mca mtl ofi --mca mtl_ofi_provider_include tcp)
BENCH=("$PY" -m mpi4py.bench pingpong -n "$MAXSIZE")
DEBUG_BENCH=("$PY" -m mpi4py.bench pingpong -n 1024)

RAW=$(mktemp -d)
trap 'rm -rf "$RAW"' EXIT

# run NAME ARGS... : run a command, keep stdout/stderr/rc/start/end under $RAW/NAME
run() {
  local name=$1; shift
  mkdir -p "$RAW/$name"
  printf '%s\n' "$*" > "$RAW/$name/command"
  date -u +%Y-%m-%dT%H:%M:%SZ > "$RAW/$name/started"
  set +e
  "$@" > "$RAW/$name/stdout" 2> "$RAW/$name/stderr"
  echo $? > "$RAW/$name/rc"
  set -e
  date -u +%Y-%m-%dT%H:%M:%SZ > "$RAW/$name/ended"
}

for rep in $(seq 0 $((REPS - 1))); do
  run "bare-ucx-$rep" "${MPIRUN[@]}" "${UCX[@]}" "${BENCH[@]}"
  run "cont-ucx-$rep" "${MPIRUN[@]}" "${UCX[@]}" "${BENCH[@]}"
  run "cont-cmofi-$rep" "${MPIRUN[@]}" "${CMOFI[@]}" "${BENCH[@]}"
done
VERBOSE=(--mca pml_base_verbose 10 --mca mtl_base_verbose 10 -x UCX_LOG_LEVEL=info)
run bare-ucx-debug "${MPIRUN[@]}" "${UCX[@]}" "${VERBOSE[@]}" "${DEBUG_BENCH[@]}"
run cont-ucx-debug "${MPIRUN[@]}" "${UCX[@]}" "${VERBOSE[@]}" "${DEBUG_BENCH[@]}"
run cont-cmofi-debug "${MPIRUN[@]}" "${CMOFI[@]}" "${DEBUG_BENCH[@]}"
NEST=("$PY" benchmarks/nest/run_balanced.py --scale 1.0 --simtime 200)
for rep in $(seq 0 $((REPS - 1))); do
  run "bare-nest-$rep" "${NEST[@]}"
  run "cont-nest-$rep" "${NEST[@]}"
done
run bare-nest-debug env UCX_LOG_LEVEL=info "$PY" benchmarks/nest/run_balanced.py --scale 0.2 --simtime 20
run cont-nest-debug env UCX_LOG_LEVEL=info "$PY" benchmarks/nest/run_balanced.py --scale 0.2 --simtime 20

rm -rf "$OUT/pass" "$OUT/fail-cm-ofi" "$OUT/missing"
"$PY" - "$RAW" "$OUT" "$REF" "$REPS" <<'PYEOF'
"""Assemble run directories (layout: builder/model/run.py) from the raw runs above."""
import json
import random
import shutil
import sys
from pathlib import Path

raw, out, ref, reps = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
LAT_SIZES = [2**i for i in range(0, 23)]
BW_SIZES = [2**i for i in range(0, 23)]


def write_json(path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")


def record(mode, suite, rep, command, rc, started, ended, debug_logs=(), stdout="stdout"):
    return {"schema": "esdc.run/1", "mode": mode, "suite": suite, "rep": rep,
            "kind": "debug" if rep == "debug" else "perf", "command": command,
            "returncode": rc, "started": started, "ended": ended, "wall_s": 0.0,
            "stdout": stdout, "stderr": "stderr", "debug_logs": list(debug_logs),
            "toolkit_overhead_s": None}


def copy_raw(run_dir, mode, rep, name, note, suite="mpi4py"):
    """A real run into <run_dir>/<mode>/<suite>/<rep>/."""
    src = raw / name
    dst = run_dir / mode / suite / rep
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "stdout", dst / "stdout")
    shutil.copy(src / "stderr", dst / "stderr")
    command = (src / "command").read_text().split()
    command = [note, *command] if note else command
    write_json(dst / "record.json", record(
        mode, suite, rep, command, int((src / "rc").read_text()),
        (src / "started").read_text().strip(), (src / "ended").read_text().strip()))


def osu_latency_text(rng, lat8, title_note):
    """osu_latency output in the 7.2 layout of docs/log-formats.md, with jitter."""
    lines = [f"# constructed from docs/log-formats.md (OSU 7.2 layout): {title_note}",
             "# OSU MPI Latency Test v7.2", "# Size       Latency (us)", "# Datatype: MPI_CHAR."]
    for size in LAT_SIZES:
        base = lat8 * (1 + size / 8192.0)
        lines.append(f"{size:<22}{base * rng.uniform(0.98, 1.02):.2f}")
    return "\n".join(lines) + "\n"


def osu_bw_text(rng, bw_peak, title_note):
    """osu_bw output in the 7.2 layout of docs/log-formats.md, with jitter."""
    lines = [f"# constructed from docs/log-formats.md (OSU 7.2 layout): {title_note}",
             "# OSU MPI Bandwidth Test v7.2", "# Size      Bandwidth (MB/s)", "# Datatype: MPI_CHAR."]
    for size in BW_SIZES:
        base = bw_peak * size / (size + 4096.0)
        lines.append(f"{size:<22}{base * rng.uniform(0.985, 1.015):.2f}")
    return "\n".join(lines) + "\n"


def constructed_suite(run_dir, mode, suite, text_for_rep, debug_stderr):
    for rep in [*map(str, range(reps)), "debug"]:
        dst = run_dir / mode / suite / rep
        dst.mkdir(parents=True, exist_ok=True)
        name = f"{suite}-constructed.txt"
        (dst / name).write_text(text_for_rep(rep))
        (dst / "stderr").write_text(debug_stderr if rep == "debug" else "")
        write_json(dst / "record.json", record(
            mode, suite, rep, [f"constructed: {suite} output, see {name}"], 0,
            "2026-11-22T04:00:00Z", "2026-11-22T04:00:01Z", stdout=name))


def manifest(run_dir, run_id, suites, digest):
    write_json(run_dir / "run.json", {
        "schema": "esdc.run/1", "id": run_id, "site": "local", "image": "localhost:5000/esd/mpi-pingpong:fixture",
        "image_digest": digest, "suites": suites, "reps": reps, "status": "complete",
        "created": "2026-11-22T04:00:00Z", "toolkit_version": "0.1.0", "host": "vm"})


note = "(container mode emulated: same host, path of the image)"

def debug_log(name):
    """A logging run's stdout and stderr in one text (UCX logs to stdout, Open MPI to stderr)."""
    return (raw / name / "stdout").read_text() + (raw / name / "stderr").read_text()


def osu_suites(run_dir, mode, seed, lat8, bw, note, debug_text):
    rng = random.Random(seed)
    constructed_suite(run_dir, mode, "osu_latency", lambda rep: osu_latency_text(rng, lat8, note), debug_text)
    constructed_suite(run_dir, mode, "osu_bw", lambda rep: osu_bw_text(rng, bw, note), debug_text)


SUITES = ["osu_latency", "osu_bw", "mpi4py", "nest"]

# --- pass: equivalent paths and numbers ---------------------------------------------------------
run_dir = out / "pass"
manifest(run_dir, "pass", SUITES, "sha256:" + "1" * 64)
for rep in range(reps):
    copy_raw(run_dir, "bare", str(rep), f"bare-ucx-{rep}", None)
    copy_raw(run_dir, "container", str(rep), f"cont-ucx-{rep}", note)
    copy_raw(run_dir, "bare", str(rep), f"bare-nest-{rep}", None, suite="nest")
    copy_raw(run_dir, "container", str(rep), f"cont-nest-{rep}", note, suite="nest")
copy_raw(run_dir, "bare", "debug", "bare-ucx-debug", None)
copy_raw(run_dir, "container", "debug", "cont-ucx-debug", note)
copy_raw(run_dir, "bare", "debug", "bare-nest-debug", None, suite="nest")
copy_raw(run_dir, "container", "debug", "cont-nest-debug", note, suite="nest")
osu_suites(run_dir, "bare", 1, 0.52, 9800.0, "bare, equivalent path", debug_log("bare-ucx-debug"))
osu_suites(run_dir, "container", 2, 0.52, 9800.0, "container, equivalent path", debug_log("cont-ucx-debug"))

# --- fail-cm-ofi: the container selected pml cm + mtl ofi over tcp/eth0 --------------------------
run_dir = out / "fail-cm-ofi"
manifest(run_dir, "fail-cm-ofi", SUITES[:3], "sha256:" + "2" * 64)
for rep in range(reps):
    copy_raw(run_dir, "bare", str(rep), f"bare-ucx-{rep}", None)
    copy_raw(run_dir, "container", str(rep), f"cont-cmofi-{rep}", note)
copy_raw(run_dir, "bare", "debug", "bare-ucx-debug", None)
copy_raw(run_dir, "container", "debug", "cont-cmofi-debug", note)
bare_ref = (ref / "02-ompi-pml-ucx_UCX_LOG_LEVEL-info_intranode-sysv-cma.txt").read_text()
cont_ref = (ref / "25-charliecloud-hybrid_host-vs-container-mca-params-mismatch.txt").read_text()
(run_dir / "bare/mpi4py/debug/stderr").write_text(bare_ref)
(run_dir / "container/mpi4py/debug/stderr").write_text(cont_ref)
osu_suites(run_dir, "bare", 3, 0.52, 9800.0, "bare", bare_ref)
osu_suites(run_dir, "container", 4, 9.10, 1150.0, "container, pml cm + mtl ofi", cont_ref)

# --- missing: pass without one performance output -----------------------------------------------
shutil.copytree(out / "pass", out / "missing")
manifest(out / "missing", "missing", SUITES, "sha256:" + "1" * 64)
(out / "missing/container/mpi4py/1/stdout").unlink()
PYEOF
echo "wrote $OUT/pass $OUT/fail-cm-ofi $OUT/missing"
