#!/usr/bin/env bash
# Run .gitlab-ci.yml end to end on this machine with gitlab-ci-local (shell executor), against
# the local site: Charliecloud build, Debian's docker-registry on 127.0.0.1, `validate --site
# local`, publish. Exit 0 when every job passed, non-zero when one failed.
#
#     make pipeline                    # or: bash scripts/pipeline-local.sh [gitlab-ci-local args]
#
# What runs is the committed HEAD, in a fresh clone (as a GitLab runner sees it), so the
# working tree is left alone. The registry is started here on a free port with its own storage
# and stopped again; nothing else is left running. Environment:
#   ESDC_PIPELINE_DIR   keep the clone (and its runs/) here instead of a temporary folder
#   ESDC_PIPELINE_LOG   also copy gitlab-ci-local's output to this file
# Extra arguments go to gitlab-ci-local (e.g. `--variable ESDC_REPS=3`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

die() { printf 'pipeline-local: error: %s\n' "$*" >&2; exit 2; }
say() { printf 'pipeline-local: %s\n' "$*" >&2; }

gcl="${root}/node_modules/.bin/gitlab-ci-local"
[[ -x ${gcl} ]] || die "gitlab-ci-local is not installed (run: npm ci, or make setup)"
registry_bin=$(command -v docker-registry) || die "docker-registry is not installed (make setup-system)"
command -v git >/dev/null || die "git is not installed"

work=${ESDC_PIPELINE_DIR:-$(mktemp -d -t esdc-pipeline.XXXXXX)}
mkdir -p "${work}"
registry_pid=
cleanup() {
  if [[ -n ${registry_pid} ]]; then
    kill "${registry_pid}" 2>/dev/null || true
    wait "${registry_pid}" 2>/dev/null || true
  fi
  [[ -n ${ESDC_PIPELINE_DIR:-} ]] || rm -rf -- "${work}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A registry of its own on a free port of 127.0.0.1, plain HTTP (esdc speaks plain HTTP to
# this machine's own registries only).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "${work}/registry"
cat >"${work}/registry/config.yml" <<EOF
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: ${work}/registry/store}, delete: {enabled: true}}
http: {addr: '127.0.0.1:${port}'}
EOF
"${registry_bin}" serve "${work}/registry/config.yml" >"${work}/registry/log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
  python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:${port}/v2/', timeout=1)" 2>/dev/null && break
  kill -0 "${registry_pid}" 2>/dev/null || die "docker-registry did not start (log: ${work}/registry/log)"
  sleep 0.2
done

# The site's signing key for the publish job's attestation (a file variable at a real site).
mkdir -p "${work}/keys"
openssl genpkey -algorithm ed25519 -out "${work}/keys/site.pem" 2>/dev/null || die "openssl genpkey failed"
openssl pkey -in "${work}/keys/site.pem" -pubout -out "${work}/keys/site.pub.pem"

clone="${work}/project"
rm -rf -- "${clone}"
git clone -q "${root}" "${clone}"
# gitlab-ci-local derives CI_PROJECT_PATH from the remote; a local path is no URL.
git -C "${clone}" remote set-url origin "https://gitlab.invalid/esdc/esd-containers.git"
say "clone of $(git -C "${clone}" rev-parse --short HEAD) in ${clone}; registry 127.0.0.1:${port}"

# The local site: the mpi-base environment built with Charliecloud from its Dockerfile.
args=(
  --force-shell-executor
  --concurrency 1
  --variable "ESD_ENV=mpi-base"
  --variable "ESD_SITE=local"
  --variable "ESDC_FORMAT=dockerfile"
  --variable "ESDC_REGISTRY=127.0.0.1:${port}/esdc"
  --variable "ESDC_REGISTRY_USER="
  --variable "ESDC_REGISTRY_PASSWORD="
  --variable "ESDC_IMAGE_STORE=${work}/images"
  --variable "ESDC_REPS=3"
  --variable "ESDC_PUBLISH=1"
  --variable "ESDC_SIGNING_KEY=${work}/keys/site.pem"
)
status=0
cd "${clone}"  # gitlab-ci-local's --cwd takes relative paths only
if [[ -n ${ESDC_PIPELINE_LOG:-} ]]; then
  "${gcl}" "${args[@]}" "$@" 2>&1 | tee "${ESDC_PIPELINE_LOG}" || status=$?
else
  "${gcl}" "${args[@]}" "$@" || status=$?
fi
if [[ ${status} -ne 0 ]]; then say "pipeline FAILED (exit ${status})"; exit "${status}"; fi
# What a researcher does next: pull only an image verified for the site, by its key.
digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' publish.json)
if ! .venv/bin/esdc pull "127.0.0.1:${port}/esdc/mpi-base:local-verified" --verified-for local \
    --trust "${work}/keys/site.pub.pem" -o "${work}/verified.sqfs" --json >"${work}/verified.json"; then
  say "pipeline passed, but the verified pull of ${digest} was refused"
  exit 1
fi
.venv/bin/esdc catalog "127.0.0.1:${port}/esdc/mpi-base" --site local --trust "${work}/keys/site.pub.pem" \
  --json >"${work}/catalog.json" || { say "pipeline passed, but esdc catalog failed"; exit 1; }
say "pipeline passed; esdc pull --verified-for local took ${digest}"
exit 0
