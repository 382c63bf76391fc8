#!/usr/bin/env bash
# The whole test suite: static checks, unit tests and the e2e tests on the real local control plane.
# Installs what it needs first (hack/setup.sh). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
hack/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff";          ruff check .
echo "== ruff format";   ruff format --check .
echo "== mypy";          mypy
echo "== import layers"; lint-imports
echo "== crds current";  augur crds check
echo "== pytest (unit + e2e)"
pytest "$@"
echo "== total $((SECONDS - start)) s"
