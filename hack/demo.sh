#!/usr/bin/env bash
# The quickstart demo: installs what it needs, then runs `augur dev demo` on the local control plane.
set -euo pipefail
cd "$(dirname "$0")/.."
hack/setup.sh
exec .venv/bin/augur dev demo "$@"
