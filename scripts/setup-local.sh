#!/usr/bin/env bash
# Placeholder until the local-site setup lands: installs the Debian packages of the local site.
set -euo pipefail
