"""mpi4py ping-pong for images whose mpi4py has no ``mpi4py.bench pingpong`` (Debian 12's 3.1).

The measurement and the output are those of ``python -m mpi4py.bench pingpong`` (mpi4py 4,
BSD licence): message sizes are powers of two from ``--min-size`` to ``--max-size``; each sample
is half a round trip of ``Send``/``Recv`` between ranks 0 and 1 after warm-up iterations; sizes
above 16 KiB use fewer iterations, above 1 MiB fewer still. Rank 0 prints::

    # MPI PingPong Test
    # Size [B]  Bandwidth [MB/s] | Time Mean [s] ± StdDev [s]  Samples
             1              0.55 | 1.8277340e-06 ± 1.9787e-05    10000

so that ``esdc parse`` reads it exactly like mpi4py.bench. The campaign runs this same script
on bare metal and in the container whenever either side lacks ``mpi4py.bench pingpong``, so
that paired runs always run the same program. It stands alone (no ``builder`` import).
"""

from __future__ import annotations

import argparse
import statistics
import sys

from mpi4py import MPI


def _options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pingpong.py", description=__doc__.splitlines()[0])
    parser.add_argument("-m", "--min-size", type=int, default=1, help="minimum message size")
    parser.add_argument("-n", "--max-size", type=int, default=1 << 20, help="maximum size")
    parser.add_argument("-s", "--skip", type=int, default=100, help="warm-up iterations")
    parser.add_argument("-l", "--loop", type=int, default=10000, help="iterations")
    parser.add_argument("--skip-large", type=int, default=10)
    parser.add_argument("--loop-large", type=int, default=1000)
    parser.add_argument("--large-size", type=int, default=1 << 14)
    parser.add_argument("--skip-huge", type=int, default=1)
    parser.add_argument("--loop-huge", type=int, default=10)
    parser.add_argument("--huge-size", type=int, default=1 << 20)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Run the ping-pong; rank 0 prints the table. Needs at least two ranks."""
    options = _options(argv)
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    if size < 2:
        print(f"pingpong.py: needs 2 ranks, got {size} (rank {rank} of {size})", file=sys.stderr)
        return 1
    sizes = [1 << i for i in range(33) if options.min_size <= 1 << i <= options.max_size]
    skip, loop = options.skip, options.loop
    header_printed = False
    for nbytes in sizes:
        if nbytes > options.large_size:
            skip, loop = min(skip, options.skip_large), min(loop, options.loop_large)
        if nbytes > options.huge_size:
            skip, loop = min(skip, options.skip_huge), min(loop, options.loop_huge)
        send_buf = [bytearray(nbytes), nbytes, MPI.BYTE]
        recv_buf = [bytearray(nbytes), nbytes, MPI.BYTE]
        samples: list[float] = []
        comm.Barrier()
        for i in range(loop + skip):
            start = MPI.Wtime()
            if rank == 0:
                comm.Send(send_buf, 1, 0)
                comm.Recv(recv_buf, 1, 0)
            elif rank == 1:
                comm.Recv(recv_buf, 0, 0)
                comm.Send(send_buf, 0, 0)
            elapsed = (MPI.Wtime() - start) / 2
            if i >= skip:
                samples.append(elapsed)
        mean = statistics.mean(samples) if samples else float("nan")
        stdev = statistics.stdev(samples) if len(samples) > 1 else 0.0
        if rank == 0:
            if not header_printed:
                header_printed = True
                print("# MPI PingPong Test")
                print("# Size [B]  Bandwidth [MB/s] | Time Mean [s] \u00b1 StdDev [s]  Samples")
            bandwidth = nbytes / mean
            print(f"{nbytes:10d}{bandwidth / 1e6:18.2f} | {mean:.7e} \u00b1 {stdev:.4e} {loop:8d}")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
