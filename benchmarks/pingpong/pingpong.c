/* Two-rank MPI ping-pong: prints the half round-trip time and bandwidth per message size.
 *
 * Output (parsed by tests and by the log fixtures' readers):
 *   rank R/N on HOST
 *   pingpong bytes=B iters=I half_rtt_us=T bw_MBps=W
 * Usage: pingpong [max_bytes]   (sizes 8, 1 KiB, 64 KiB, 1 MiB, capped at max_bytes)
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int rank, size, len;
    char host[MPI_MAX_PROCESSOR_NAME];
    const long sizes[] = {8, 1024, 65536, 1048576};
    long max_bytes = argc > 1 ? atol(argv[1]) : 1048576;
    int iters = 1000;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Get_processor_name(host, &len);
    printf("rank %d/%d on %s\n", rank, size, host);
    fflush(stdout);
    if (size < 2) {
        if (rank == 0)
            fprintf(stderr, "pingpong: needs 2 ranks, got %d\n", size);
        MPI_Finalize();
        return size < 2 ? 1 : 0;
    }
    char *buf = malloc((size_t)max_bytes > 8 ? (size_t)max_bytes : 8);
    memset(buf, 1, (size_t)max_bytes > 8 ? (size_t)max_bytes : 8);
    MPI_Barrier(MPI_COMM_WORLD);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s) {
        long bytes = sizes[s];
        if (bytes > max_bytes)
            break;
        if (rank < 2) {
            int peer = 1 - rank;
            /* warm-up round: connection setup stays out of the timing */
            for (int i = 0; i < 10; ++i) {
                if (rank == 0) {
                    MPI_Send(buf, (int)bytes, MPI_CHAR, peer, 0, MPI_COMM_WORLD);
                    MPI_Recv(buf, (int)bytes, MPI_CHAR, peer, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                } else {
                    MPI_Recv(buf, (int)bytes, MPI_CHAR, peer, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                    MPI_Send(buf, (int)bytes, MPI_CHAR, peer, 0, MPI_COMM_WORLD);
                }
            }
            double t0 = MPI_Wtime();
            for (int i = 0; i < iters; ++i) {
                if (rank == 0) {
                    MPI_Send(buf, (int)bytes, MPI_CHAR, peer, 0, MPI_COMM_WORLD);
                    MPI_Recv(buf, (int)bytes, MPI_CHAR, peer, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                } else {
                    MPI_Recv(buf, (int)bytes, MPI_CHAR, peer, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                    MPI_Send(buf, (int)bytes, MPI_CHAR, peer, 0, MPI_COMM_WORLD);
                }
            }
            double half_rtt = (MPI_Wtime() - t0) / iters / 2.0;
            if (rank == 0) {
                printf("pingpong bytes=%ld iters=%d half_rtt_us=%.2f bw_MBps=%.1f\n", bytes, iters,
                       half_rtt * 1e6, (double)bytes / half_rtt / 1e6);
                fflush(stdout);
            }
        }
        MPI_Barrier(MPI_COMM_WORLD);
    }
    free(buf);
    MPI_Finalize();
    return 0;
}
