# esdc: cuda for karolina, built with Spack
# No lock: concretised in the build with pmix pinned to @4 (the PMIx major of karolina's Slurm); commit a spack.lock for reproducible builds.
# Build context: the project root (paths below are relative to it).
FROM spack/rockylinux9:v0.22.2 AS build
RUN mkdir -p /opt/spack-environment && printf '%s\n' \
    spack: \
    '  specs:' \
    '  - openmpi@4.1 ~internal-pmix fabrics=ucx,ofi' \
    '  - pmix' \
    '  - ucx +verbs +rdmacm +rc +dc +ud +mlx5_dv +cma +thread_multiple' \
    '  - libfabric fabrics=verbs,rxm,tcp,shm' \
    '  - rdma-core' \
    '  - osu-micro-benchmarks' \
    '  - cuda@12.2' \
    '  - nccl' \
    '  - nccl-tests +mpi' \
    '  - osu-micro-benchmarks +cuda' \
    '  concretizer:' \
    '    unify: true' \
    '    targets:' \
    '      host_compatible: false' \
    '  packages:' \
    '    slurm:' \
    '      buildable: false' \
    '    all:' \
    '      variants: cuda_arch=80' \
    '      require:' \
    '      - target=zen2' \
    '    ucx:' \
    '      require: +cuda +gdrcopy' \
    '    openmpi:' \
    '      require: +cuda' \
    '    pmix:' \
    '      require:' \
    '      - '"'"'@4'"'"'' \
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

FROM rockylinux:9 AS final
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
    'version=$(ompi_info --version 2>&1 | grep -m 1 -F -e '"'"'Open MPI'"'"' | sed '"'"'s/^ *//'"'"')' \
    '[ -n "$version" ] || { echo "esdc test: Open MPI: ompi_info printed no version" >&2; exit 1; }' \
    'echo "Open MPI: $version"' \
    'command -v pmix_info >/dev/null 2>&1 || { echo "esdc test: PMIx missing (pmix_info not found)" >&2; exit 1; }' \
    'version=$(pmix_info 2>&1 | grep -m 1 -F -e PMIX: | sed '"'"'s/^ *//'"'"')' \
    '[ -n "$version" ] || { echo "esdc test: PMIx: pmix_info printed no version" >&2; exit 1; }' \
    'echo "PMIx: $version"' \
    'command -v ucx_info >/dev/null 2>&1 || { echo "esdc test: UCX missing (ucx_info not found)" >&2; exit 1; }' \
    'version=$(ucx_info -v 2>&1 | grep -m 1 -F -e Version | sed '"'"'s/^ *//'"'"')' \
    '[ -n "$version" ] || { echo "esdc test: UCX: ucx_info printed no version" >&2; exit 1; }' \
    'echo "UCX: $version"' \
    'command -v fi_info >/dev/null 2>&1 || { echo "esdc test: libfabric missing (fi_info not found)" >&2; exit 1; }' \
    'version=$(fi_info --version 2>&1 | grep -m 1 -F -e libfabric | sed '"'"'s/^ *//'"'"')' \
    '[ -n "$version" ] || { echo "esdc test: libfabric: fi_info printed no version" >&2; exit 1; }' \
    'echo "libfabric: $version"' \
    'command -v nvcc >/dev/null 2>&1 || { echo "esdc test: CUDA missing (nvcc not found)" >&2; exit 1; }' \
    'version=$(nvcc --version 2>&1 | grep -m 1 -F -e release | sed '"'"'s/^ *//'"'"')' \
    '[ -n "$version" ] || { echo "esdc test: CUDA: nvcc printed no version" >&2; exit 1; }' \
    'echo "CUDA: $version"' \
    'ls /opt/views/view/lib/libnccl.so* >/dev/null 2>&1 || { echo "esdc test: NCCL missing (no libnccl.so in the view)" >&2; exit 1; }' \
    'echo "NCCL: $(ls /opt/views/view/lib/libnccl.so.* | head -n 1)"' \
    > /opt/esdc/test.sh
# ch-image 0.31 ignores LABEL: the same provenance is kept as a file, readable everywhere.
RUN printf '%s\n' \
    org.ebrains.esdc.environment=cuda \
    org.ebrains.esdc.flavour=cuda \
    org.ebrains.esdc.generator-version=0.1.0 \
    org.ebrains.esdc.lock-sha256=none \
    org.ebrains.esdc.pmix-major=4 \
    org.ebrains.esdc.site=karolina \
    org.ebrains.esdc.spack-version=0.22.2 \
    > /opt/esdc/labels
LABEL org.ebrains.esdc.environment="cuda"
LABEL org.ebrains.esdc.flavour="cuda"
LABEL org.ebrains.esdc.generator-version="0.1.0"
LABEL org.ebrains.esdc.lock-sha256="none"
LABEL org.ebrains.esdc.pmix-major="4"
LABEL org.ebrains.esdc.site="karolina"
LABEL org.ebrains.esdc.spack-version="0.22.2"
