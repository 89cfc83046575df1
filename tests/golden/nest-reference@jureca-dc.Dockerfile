# esdc: nest-reference for jureca-dc, built with Spack
# esdc check: INCOMPATIBLE: lock: spack.lock was concretised for debian12 (gcc@12.2.0) but jureca-dc's images are built on rockylinux:9 (rocky9, gcc@11.4.1); re-concretise the lock on that build image
# esdc check: INCOMPATIBLE: PMIx: spack.lock gives pmix 5.0.1 (major 5) but jureca-dc's Slurm mpi/pmix plugin uses PMIx 4.2.9 (major 4)
# esdc check: INCOMPATIBLE: fabric: jureca-dc uses ib, which needs ucx +verbs/+mlx5_dv or libfabric fabrics=verbs; its spack.lock provides none of them
# Installs spack-envs/nest-reference/spack.lock exactly (sha256 checked before and after, no concretisation) with the Spack that made it: 0.23.0.dev0 at commit e8f8cf8543b31ff6ba81a5ab0e515bc9a4856384, checked out in the build stage. Build from the project root: the lock is copied by that relative path.
# Build context: the project root (paths below are relative to it).
FROM spack/rockylinux9:v0.22.2 AS build
COPY spack-envs/nest-reference/spack.lock /opt/spack-environment/spack.lock
RUN mkdir -p /opt/spack-environment && printf '%s\n' \
    spack: \
    '  specs:' \
    '  - nest@3 +python +mpi' \
    '  - osu-micro-benchmarks' \
    '  - openmpi@4.1 ~internal-pmix fabrics=ucx' \
    '  - pmix' \
    '  - ucx' \
    '  concretizer:' \
    '    unify: true' \
    '  packages:' \
    '    all:' \
    '      require: target=x86_64_v3' \
    '  config:' \
    '    install_tree:' \
    '      root: /opt/software' \
    '  view: /opt/views/view' \
    > /opt/spack-environment/spack.yaml
RUN cd /opt/spack-environment && echo "3ffc69b94a35408751ba506dfc7bd5b070152c675e0fa479bd67b4a15f3dfb5d  spack.lock" | sha256sum -c -
RUN git clone -q --filter=blob:none https://github.com/spack/spack.git /opt/spack-locked && git -C /opt/spack-locked checkout -q e8f8cf8543b31ff6ba81a5ab0e515bc9a4856384
RUN . /opt/spack-locked/share/spack/setup-env.sh && cd /opt/spack-environment && \
    spack -e . install --fail-fast && \
    echo "3ffc69b94a35408751ba506dfc7bd5b070152c675e0fa479bd67b4a15f3dfb5d  spack.lock" | sha256sum -c - && \
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
    'python3 -c '"'"'import nest; print("NEST", nest.__version__)'"'"'' \
    > /opt/esdc/test.sh
# ch-image 0.31 ignores LABEL: the same provenance is kept as a file, readable everywhere.
RUN printf '%s\n' \
    org.ebrains.esdc.environment=nest-reference \
    org.ebrains.esdc.flavour=cpu \
    org.ebrains.esdc.generator-version=0.1.0 \
    org.ebrains.esdc.lock-sha256=3ffc69b94a35408751ba506dfc7bd5b070152c675e0fa479bd67b4a15f3dfb5d \
    org.ebrains.esdc.pmix-major=4 \
    org.ebrains.esdc.site=jureca-dc \
    org.ebrains.esdc.spack-version=0.23.0.dev0 \
    > /opt/esdc/labels
LABEL org.ebrains.esdc.environment="nest-reference"
LABEL org.ebrains.esdc.flavour="cpu"
LABEL org.ebrains.esdc.generator-version="0.1.0"
LABEL org.ebrains.esdc.lock-sha256="3ffc69b94a35408751ba506dfc7bd5b070152c675e0fa479bd67b4a15f3dfb5d"
LABEL org.ebrains.esdc.pmix-major="4"
LABEL org.ebrains.esdc.site="jureca-dc"
LABEL org.ebrains.esdc.spack-version="0.23.0.dev0"
