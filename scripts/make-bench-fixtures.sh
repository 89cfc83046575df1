#!/usr/bin/env bash
# Produce the REAL benchmark outputs under tests/fixtures/bench/ on this machine (rerunnable).
#
#   mpi4py.bench pingpong under Debian's Open MPI 4.1 (pml ucx, then ob1/vader), once plain,
#   once with --tag-output and UCX_LOG_LEVEL=info so the table is interleaved with real noise;
#   NEST from PyPI running benchmarks/nest/run_balanced.py (hpc_benchmark-style logger lines,
#   NEST [INFO] lines and the kernel status dictionary).
#
# OSU micro-benchmarks and nccl-tests cannot run here (not packaged in Debian, no GPU): their
# fixtures are constructed by hand from docs/log-formats.md and carry "constructed" in their names.
#
# Needs: .venv with mpi4py and nest-simulator (pip install mpi4py nest-simulator), mpirun.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
py="$root/.venv/bin/python"
out="$root/tests/fixtures/bench"
mkdir -p "$out/mpi4py" "$out/nest"

# Debian's Open MPI needs these to use pml ucx without an RDMA device (design.md, traps).
ucx=(--mca pml ucx --mca pml_ucx_tls any --mca pml_ucx_devices any)
mpirun=(mpirun --allow-run-as-root --oversubscribe -np 2)

# Run a command, write "# produced by ..." then its stdout and stderr to a file atomically.
# EXPECT_FAILURE=1 keeps the output of a command that is meant to fail.
capture() {
    local target="$1"
    shift
    local tmp rc=0
    tmp="$(mktemp "$target.XXXXXX")"
    {
        echo "# produced by scripts/make-bench-fixtures.sh on $(date -u +%Y-%m-%d): $*"
        timeout 300 "$@" 2>&1
    } >"$tmp" || rc=$?
    if [[ ( $rc -ne 0 && "${EXPECT_FAILURE:-0}" != 1 ) || ( $rc -eq 0 && "${EXPECT_FAILURE:-0}" == 1 ) ]]; then
        rm -f "$tmp"
        echo "unexpected exit status $rc: $*" >&2
        return 1
    fi
    mv "$tmp" "$target"
    echo "wrote $target ($(wc -l <"$target") lines)"
}

capture "$out/mpi4py/pingpong_ompi-ucx.txt" \
    "${mpirun[@]}" "${ucx[@]}" "$py" -m mpi4py.bench pingpong -n 1048576

capture "$out/mpi4py/pingpong_ompi-ucx_tag-output_ucx-info.txt" \
    "${mpirun[@]}" "${ucx[@]}" --tag-output -x UCX_LOG_LEVEL=info \
    "$py" -m mpi4py.bench pingpong -n 65536

capture "$out/mpi4py/pingpong_ompi-ob1-vader_no-stats.txt" \
    "${mpirun[@]}" --mca pml ob1 --mca btl self,vader \
    "$py" -m mpi4py.bench pingpong -n 4096 --no-stats

capture "$out/nest/run_balanced_nest-3.10_2threads.txt" \
    "$py" benchmarks/nest/run_balanced.py --threads 2 --scale 0.5 --simtime 100

# NEST from PyPI is built without MPI and refuses to start under mpirun: the parser must say so.
EXPECT_FAILURE=1 capture "$out/nest/run_balanced_nest-3.10_mpirun-without-mpi_fatal.txt" \
    "${mpirun[@]}" "$py" benchmarks/nest/run_balanced.py --scale 0.2 --simtime 20
