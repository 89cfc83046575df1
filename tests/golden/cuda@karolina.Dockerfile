# esdc: cuda for karolina, built with Spack
# No lock: concretised in the build with pmix pinned to @4 (the PMIx major of karolina's Slurm); commit a spack.lock for reproducible builds.
# Build context: the project root (paths below are relative to it).
FROM spack/rockylinux8:v0.22.2 AS build
RUN mkdir -p /opt/spack-environment && printf '%s\n' \
    spack: \
    '  specs:' \
    '  - openmpi@4.1 ~internal-pmix fabrics=ucx,ofi schedulers=slurm' \
    '  - pmix' \
    '  - ucx +verbs +rdmacm +rc +dc +ud +mlx5_dv +cma +xpmem +thread_multiple' \
    '  - libfabric fabrics=verbs,rxm,tcp,shm' \
    '  - rdma-core' \
    '  - osu-micro-benchmarks' \
    '  - cuda@12.2' \
    '  - nccl' \
    '  - nccl-tests +mpi' \
    '  - osu-micro-benchmarks +cuda' \
    '  concretizer:' \
    '    unify: true' \
    '  packages:' \
    '    xpmem:' \
    '      require: ~kernel-module' \
    '    slurm:' \
    '      require: '"'"'@22:'"'"'' \
    '    ucx:' \
    '      require: +cuda +gdrcopy' \
    '    openmpi:' \
    '      require: +cuda' \
    '    pmix:' \
    '      require:' \
    '      - '"'"'@4'"'"'' \
    '    all:' \
    '      require:' \
    '      - target=zen2' \
    '      variants: cuda_arch=80' \
    '  config:' \
    '    install_tree:' \
    '      root: /opt/software' \
    '  view: /opt/views/view' \
    > /opt/spack-environment/spack.yaml
RUN . /opt/spack/share/spack/setup-env.sh && cd /opt/spack-environment && \
    spack -e . concretize && \
    spack -e . install --fail-fast && \
    spack -e . gc -y && \
    spack env activate --sh -d . > /opt/spack-environment/environment_modifications.sh

FROM rockylinux:8 AS final
COPY --from=build /opt/software /opt/software
COPY --from=build /opt/views /opt/views
COPY --from=build /opt/spack-environment /opt/spack-environment
RUN ln -s /opt/views/view /opt/view
RUN dnf install -y -q libibverbs libibverbs-utils librdmacm rdma-core && dnf clean all
ENV PATH=/opt/views/view/bin:$PATH
# The checks an Apptainer %test would run, kept in the image: sh /opt/esdc/test.sh
RUN mkdir -p /opt/esdc && printf '%s\n' \
    'set -e' \
    'command -v ompi_info >/dev/null 2>&1 || { echo "esdc test: Open MPI missing (ompi_info not found)" >&2; exit 1; }' \
    'echo "Open MPI: $(ompi_info --version 2>&1 | head -n 1)"' \
    'command -v pmix_info >/dev/null 2>&1 || { echo "esdc test: PMIx missing (pmix_info not found)" >&2; exit 1; }' \
    'echo "PMIx: $(pmix_info --version 2>&1 | head -n 1)"' \
    'command -v ucx_info >/dev/null 2>&1 || { echo "esdc test: UCX missing (ucx_info not found)" >&2; exit 1; }' \
    'echo "UCX: $(ucx_info -v 2>&1 | head -n 1)"' \
    'command -v fi_info >/dev/null 2>&1 || { echo "esdc test: libfabric missing (fi_info not found)" >&2; exit 1; }' \
    'echo "libfabric: $(fi_info --version 2>&1 | head -n 1)"' \
    'command -v nvcc >/dev/null 2>&1 || { echo "esdc test: CUDA missing (nvcc not found)" >&2; exit 1; }' \
    'echo "CUDA: $(nvcc --version 2>&1 | head -n 1)"' \
    'ls /opt/views/view/lib/libnccl.so* >/dev/null 2>&1 || { echo "esdc test: NCCL missing (no libnccl.so in the view)" >&2; exit 1; }' \
    'echo "NCCL: $(ls /opt/views/view/lib/libnccl.so.* | head -n 1)"' \
    > /opt/esdc/test.sh
LABEL org.ebrains.esdc.environment="cuda"
LABEL org.ebrains.esdc.flavour="cuda"
LABEL org.ebrains.esdc.generator-version="0.1.0"
LABEL org.ebrains.esdc.lock-sha256="none"
LABEL org.ebrains.esdc.pmix-major="4"
LABEL org.ebrains.esdc.site="karolina"
LABEL org.ebrains.esdc.source-commit="golden"
LABEL org.ebrains.esdc.spack-version="0.22.2"
LABEL org.opencontainers.image.revision="golden"
