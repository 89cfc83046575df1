#!/usr/bin/env bash
# Install the Debian packages of the local site (design.md, "The local site"), idempotently.
#
# Run as root on Debian 12 (bookworm), with no terminal needed (CI):
#     sudo bash scripts/setup-local.sh            # or: make setup-system
# Nothing is done when every package is already installed. apt-get update runs only when a
# package is missing and the package lists are absent or older than a day, or when apt cannot
# find a candidate. No service is left running: tests start and stop what they need, so
# daemons (munge, slurmd, slurmctld, sshd, docker-registry, docker) are kept from starting
# during installation by a temporary policy-rc.d and, under systemd, stopped and disabled.
#
# Environment: ESDC_SETUP_LOG (default /var/log/esdc-setup.log) receives apt's output;
# ESDC_SETUP_EXTRA adds packages (space separated); ESDC_SETUP_PACKAGES replaces the whole list
# (the tests use it to run the script from scratch in a debootstrap chroot with a tiny package).
set -euo pipefail

PACKAGES=(
  # MPI, fabrics, PMIx
  openmpi-bin libopenmpi-dev openmpi-common
  libucx0 ucx-utils
  libfabric1 libfabric-bin
  libpmix2 libpmix-dev
  mpich libmpich-dev
  # scheduler
  slurm-wlm slurmd slurmctld slurm-wlm-basic-plugins munge
  # container runtime and image building
  charliecloud charliecloud-builders debootstrap squashfs-tools
  # shipping, remote hosts, network namespaces
  docker-registry openssh-server openssh-client rsync iproute2 procps
  # HTML report tests, building mpi4py and the C fixtures
  chromium python3-dev python3-venv gcc
)
# Node.js and npm run gitlab-ci-local (make pipeline). Only where no npm is on PATH: a Node.js
# from another source (NodeSource) already brings its own npm, which Debian's would conflict with.
command -v npm >/dev/null || PACKAGES+=(nodejs npm)
# shellcheck disable=SC2206  # word splitting is the point
if [[ -n ${ESDC_SETUP_PACKAGES:-} ]]; then PACKAGES=(${ESDC_SETUP_PACKAGES}); fi
# shellcheck disable=SC2206
PACKAGES+=(${ESDC_SETUP_EXTRA:-})

# Daemons whose packages start them on installation; stopped again afterwards.
SERVICES=(munge slurmd slurmctld ssh docker-registry docker containerd)

LOG=${ESDC_SETUP_LOG:-/var/log/esdc-setup.log}
POLICY=/usr/sbin/policy-rc.d

die() { printf 'setup-local: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'setup-local: %s\n' "$*"; }

[[ ${EUID} -eq 0 ]] || die "must run as root (try: sudo bash $0)"
[[ -r /etc/debian_version ]] || die "this script installs Debian packages; /etc/debian_version not found"
command -v apt-get >/dev/null || die "apt-get not found"
# shellcheck disable=SC1091
codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
[[ ${codename} == bookworm ]] || say "warning: tested on Debian 12 (bookworm), this is '${codename:-unknown}'"

missing_packages() {
  local pkg status
  for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "${pkg}" 2>/dev/null || true)
    [[ ${status} == ii* ]] || printf '%s\n' "${pkg}"
  done
}

lists_are_fresh() {
  # Fresh: some Packages index exists and none is older than a day.
  local newest
  newest=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 -print -quit 2>/dev/null)
  [[ -n ${newest} ]]
}

# Package names hold no blanks, so word splitting is safe here; unlike process substitution it
# needs no /dev/fd (absent in a bare chroot).
# shellcheck disable=SC2207
missing=($(missing_packages))
if [[ ${#missing[@]} -eq 0 ]]; then
  say "all ${#PACKAGES[@]} packages already installed"
  exit 0
fi
say "installing ${#missing[@]} package(s): ${missing[*]} (log: ${LOG})"

mkdir -p "$(dirname "${LOG}")"
: >>"${LOG}"

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

# Keep daemons from starting during installation (invoke-rc.d honours policy-rc.d);
# only remove the policy file if this script created it.
created_policy=0
cleanup() {
  if [[ ${created_policy} -eq 1 ]]; then rm -f "${POLICY}"; fi
}
trap cleanup EXIT
if [[ ! -e ${POLICY} ]]; then
  printf '#!/bin/sh\n# written by esd-containers scripts/setup-local.sh while installing\nexit 101\n' >"${POLICY}"
  chmod 755 "${POLICY}"
  created_policy=1
fi

run_logged() {
  printf '\n$ %s\n' "$*" >>"${LOG}"
  "$@" >>"${LOG}" 2>&1
}

fail_with_log() {
  printf 'setup-local: error: %s; last lines of %s:\n' "$1" "${LOG}" >&2
  tail -n 15 "${LOG}" | sed 's/^/  | /' >&2
  exit 1
}

updated=0
if ! lists_are_fresh; then
  say "apt-get update"
  run_logged "${APT[@]}" update || fail_with_log "apt-get update failed"
  updated=1
fi
if ! run_logged "${APT[@]}" install "${missing[@]}"; then
  [[ ${updated} -eq 0 ]] || fail_with_log "apt-get install failed"
  # Stale lists are the usual cause ("Unable to locate package", 404 on a superseded file).
  say "install failed with cached package lists; apt-get update and retry"
  run_logged "${APT[@]}" update || fail_with_log "apt-get update failed"
  run_logged "${APT[@]}" install "${missing[@]}" || fail_with_log "apt-get install failed"
fi

# Under systemd the unit files may still have started the daemons (or will at boot):
# stop and disable them; tests run their own instances.
if [[ -d /run/systemd/system ]]; then
  for service in "${SERVICES[@]}"; do
    if systemctl list-unit-files "${service}.service" >/dev/null 2>&1; then
      systemctl disable --now "${service}.service" >>"${LOG}" 2>&1 || true
    fi
  done
fi

# shellcheck disable=SC2207
still_missing=($(missing_packages))
[[ ${#still_missing[@]} -eq 0 ]] || die "still not installed: ${still_missing[*]} (see ${LOG})"
say "done: ${#PACKAGES[@]} packages present"
