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
# - osu and nest suites: CONSTRUCTED from docs/log-formats.md (file names contain "constructed" and
#   the first line says so); OSU cannot be installed here.
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


def copy_raw(run_dir, mode, rep, name, note):
    """A real mpi4py run into <run_dir>/<mode>/mpi4py/<rep>/."""
    src = raw / name
    dst = run_dir / mode / "mpi4py" / rep
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "stdout", dst / "stdout")
    shutil.copy(src / "stderr", dst / "stderr")
    command = (src / "command").read_text().split()
    command = [note, *command] if note else command
    write_json(dst / "record.json", record(
        mode, "mpi4py", rep, command, int((src / "rc").read_text()),
        (src / "started").read_text().strip(), (src / "ended").read_text().strip()))


def osu_text(rng, lat8, bw_peak, title_note):
    """osu_latency + osu_bw output in the 7.2 layout of docs/log-formats.md, with jitter."""
    lines = [f"# constructed from docs/log-formats.md (OSU 7.2 layout): {title_note}",
             "# OSU MPI Latency Test v7.2", "# Size       Latency (us)", "# Datatype: MPI_CHAR."]
    for size in LAT_SIZES:
        base = lat8 * (1 + size / 8192.0)
        lines.append(f"{size:<22}{base * rng.uniform(0.98, 1.02):.2f}")
    lines += ["", "# OSU MPI Bandwidth Test v7.2", "# Size      Bandwidth (MB/s)", "# Datatype: MPI_CHAR."]
    for size in BW_SIZES:
        base = bw_peak * size / (size + 4096.0)
        lines.append(f"{size:<22}{base * rng.uniform(0.985, 1.015):.2f}")
    return "\n".join(lines) + "\n"


def nest_text(rng, sim_time):
    """hpc_benchmark.py logger lines (`<rank> <value> # <key>`), docs/log-formats.md."""
    values = {"build_time_nodes": 0.41, "build_edge_time": 2.35, "presim_time": 0.52,
              "sim_time": sim_time, "base_memory": 181240, "node_memory": 184312}
    lines = ["# constructed from docs/log-formats.md (NEST hpc_benchmark.py logger lines)"]
    for key, value in values.items():
        jitter = rng.uniform(0.99, 1.01) if isinstance(value, float) else 1
        shown = f"{value * jitter:.4f}" if isinstance(value, float) else str(value)
        lines.append(f"0 {shown} # {key}")
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

# --- pass: equivalent paths and numbers ---------------------------------------------------------
run_dir = out / "pass"
manifest(run_dir, "pass", ["osu", "mpi4py", "nest"], "sha256:" + "1" * 64)
for rep in range(reps):
    copy_raw(run_dir, "bare", str(rep), f"bare-ucx-{rep}", None)
    copy_raw(run_dir, "container", str(rep), f"cont-ucx-{rep}", note)
copy_raw(run_dir, "bare", "debug", "bare-ucx-debug", None)
copy_raw(run_dir, "container", "debug", "cont-ucx-debug", note)
ucx_debug = (raw / "bare-ucx-debug" / "stderr").read_text()
for mode, seed in (("bare", 1), ("container", 2)):
    rng = random.Random(seed)
    constructed_suite(run_dir, mode, "osu", lambda rep: osu_text(rng, 0.52, 9800.0, f"{mode}, equivalent path"), ucx_debug)
    rng_nest = random.Random(seed + 10)
    constructed_suite(run_dir, mode, "nest", lambda rep: nest_text(rng_nest, 12.40), ucx_debug)

# --- fail-cm-ofi: the container selected pml cm + mtl ofi over tcp/eth0 --------------------------
run_dir = out / "fail-cm-ofi"
manifest(run_dir, "fail-cm-ofi", ["osu", "mpi4py"], "sha256:" + "2" * 64)
for rep in range(reps):
    copy_raw(run_dir, "bare", str(rep), f"bare-ucx-{rep}", None)
    copy_raw(run_dir, "container", str(rep), f"cont-cmofi-{rep}", note)
copy_raw(run_dir, "bare", "debug", "bare-ucx-debug", None)
copy_raw(run_dir, "container", "debug", "cont-cmofi-debug", note)
bare_ref = (ref / "02-ompi-pml-ucx_UCX_LOG_LEVEL-info_intranode-sysv-cma.txt").read_text()
cont_ref = (ref / "25-charliecloud-hybrid_host-vs-container-mca-params-mismatch.txt").read_text()
(run_dir / "bare/mpi4py/debug/stderr").write_text(bare_ref)
(run_dir / "container/mpi4py/debug/stderr").write_text(cont_ref)
for mode, seed, lat8, bw in (("bare", 3, 0.52, 9800.0), ("container", 4, 9.10, 1150.0)):
    rng = random.Random(seed)
    stderr = bare_ref if mode == "bare" else cont_ref
    constructed_suite(run_dir, mode, "osu", lambda rep: osu_text(rng, lat8, bw, f"{mode}"), stderr)

# --- missing: pass without one performance output -----------------------------------------------
shutil.copytree(out / "pass", out / "missing")
manifest(out / "missing", "missing", ["osu", "mpi4py", "nest"], "sha256:" + "1" * 64)
(out / "missing/container/mpi4py/1/stdout").unlink()
PYEOF
echo "wrote $OUT/pass $OUT/fail-cm-ofi $OUT/missing"
