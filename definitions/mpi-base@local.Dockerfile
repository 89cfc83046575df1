# esdc: mpi-base for local, from OS packages
# One stage only: the software comes from the base distribution's packages (debian:12), the same distribution as the host, so nothing is compiled.
# Build context: the project root (paths below are relative to it).
FROM debian:12
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libfabric-bin libfabric1 libopenmpi3 libpmix-bin libpmix2 libucx0 openmpi-bin openmpi-common python3 python3-matplotlib python3-mpi4py python3-numpy python3-pip ucx-utils && rm -rf /var/lib/apt/lists/*
COPY .esdc-wheels/ /var/cache/esdc-wheels/
RUN python3 -m pip install --no-cache-dir --break-system-packages --no-index --no-deps --find-links /var/cache/esdc-wheels nest-simulator==3.10.0 && rm -rf /var/cache/esdc-wheels
ENV OMPI_MCA_pml="ucx"
ENV OMPI_MCA_pml_ucx_devices="any"
ENV OMPI_MCA_pml_ucx_tls="any"
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
    'python3 -c '"'"'import mpi4py; print("mpi4py", mpi4py.__version__)'"'"' 2>/dev/null || true' \
    > /opt/esdc/test.sh
# ch-image 0.31 ignores LABEL: the same provenance is kept as a file, readable everywhere.
RUN printf '%s\n' \
    org.ebrains.esdc.environment=mpi-base \
    org.ebrains.esdc.flavour=cpu \
    org.ebrains.esdc.generator-version=0.1.0 \
    org.ebrains.esdc.lock-sha256=none \
    org.ebrains.esdc.pmix-major=4 \
    org.ebrains.esdc.site=local \
    org.ebrains.esdc.spack-version=none \
    > /opt/esdc/labels
LABEL org.ebrains.esdc.environment="mpi-base"
LABEL org.ebrains.esdc.flavour="cpu"
LABEL org.ebrains.esdc.generator-version="0.1.0"
LABEL org.ebrains.esdc.lock-sha256="none"
LABEL org.ebrains.esdc.pmix-major="4"
LABEL org.ebrains.esdc.site="local"
LABEL org.ebrains.esdc.spack-version="none"
