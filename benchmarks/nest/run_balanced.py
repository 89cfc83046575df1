"""A small balanced random network (Brunel 2000) that reports like NEST's hpc_benchmark.py.

It prints the same ``<rank> <value> # <key>`` logger lines as
``pynest/examples/hpc_benchmark.py`` (build_time_nodes, build_edge_time, presim_time,
sim_time, virt_mem_* and the average rate), then the kernel status dictionary, so that
``esdc parse`` reads it exactly like the real benchmark. It is sized to run in seconds on
one core: the point is to exercise the NEST + MPI stack of an image, not to measure a
scientific workload. Scale it with ``--scale``.

Run::

    python run_balanced.py [--scale 0.5] [--threads 2] [--simtime 200] [--presimtime 50]
    mpirun -np 2 python run_balanced.py        # NEST built with MPI only

The script stands alone (no ``builder`` import) so that it can be copied into an image.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import nest  # type: ignore[import-not-found,import-untyped,unused-ignore]

MAX_RANK_COUT = 5  # hpc_benchmark copies the log to stdout for ranks 0..4 only


def virtual_memory_kib() -> int:
    """Virtual memory of this process in KiB, like SLI's ``memory_thisjob`` on Linux."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1])
    return 0


def log(value: object, key: str) -> None:
    """Print one logger line the way hpc_benchmark's ``Logger.log`` does (stdout and stderr)."""
    rank = nest.Rank()
    if rank < MAX_RANK_COUT:
        line = f"{rank} {value} # {key}"
        print(line + "\n", file=sys.stdout, flush=True)
        print(line + "\n", file=sys.stderr, flush=True)


def build(scale: float) -> tuple[Any, Any]:
    """Create and connect the network; log the build timers like hpc_benchmark."""
    order = max(int(250 * scale), 10)
    n_exc, n_inh = 4 * order, order
    indegree_exc, indegree_inh = n_exc // 10, n_inh // 10
    weight, g, delay = 20.0, 5.0, 1.5

    tic = time.time()
    neuron_params = {
        "C_m": 250.0,
        "tau_m": 20.0,
        "t_ref": 2.0,
        "E_L": 0.0,
        "V_th": 20.0,
        "V_reset": 10.0,
        "tau_syn_ex": 0.5,
        "tau_syn_in": 0.5,
    }
    exc = nest.Create("iaf_psc_alpha", n_exc, params=neuron_params)
    inh = nest.Create("iaf_psc_alpha", n_inh, params=neuron_params)
    noise = nest.Create("poisson_generator", params={"rate": 20000.0})
    recorder = nest.Create("spike_recorder")
    log(time.time() - tic, "build_time_nodes")
    log(virtual_memory_kib(), "virt_mem_after_nodes")

    tic = time.time()
    nest.CopyModel("static_synapse", "excitatory", {"weight": weight, "delay": delay})
    nest.CopyModel("static_synapse", "inhibitory", {"weight": -g * weight, "delay": delay})
    nest.Connect(noise, exc + inh, syn_spec="excitatory")
    nest.Connect(exc, exc + inh, {"rule": "fixed_indegree", "indegree": indegree_exc}, "excitatory")
    nest.Connect(inh, exc + inh, {"rule": "fixed_indegree", "indegree": indegree_inh}, "inhibitory")
    nest.Connect(exc[:50], recorder)
    log(time.time() - tic, "build_edge_time")
    log(virtual_memory_kib(), "virt_mem_after_edges")
    return recorder, exc[:50]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="network size factor")
    parser.add_argument("--threads", type=int, default=1, help="threads per process")
    parser.add_argument("--simtime", type=float, default=200.0, help="simulated time, ms")
    parser.add_argument("--presimtime", type=float, default=50.0, help="warm-up time, ms")
    args = parser.parse_args(argv)

    nest.ResetKernel()
    if hasattr(nest, "VerbosityLevel"):  # NEST 3.10 deprecates set_verbosity
        nest.verbosity = nest.VerbosityLevel.INFO
    else:
        nest.set_verbosity("M_INFO")
    nest.SetKernelStatus({"local_num_threads": args.threads, "resolution": 0.1, "rng_seed": 12345})
    log(virtual_memory_kib(), "virt_mem_0")

    recorder, recorded = build(args.scale)

    tic = time.time()
    nest.Simulate(args.presimtime)
    log(virtual_memory_kib(), "virt_mem_after_presim")
    log(time.time() - tic, "presim_time")

    tic = time.time()
    nest.Simulate(args.simtime)
    log(virtual_memory_kib(), "virt_mem_after_sim")
    log(time.time() - tic, "sim_time")

    events = recorder.get("n_events")
    rate = events / (len(recorded) * (args.presimtime + args.simtime)) * 1e3
    log(rate, "average rate")

    print(nest.kernel_status, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
