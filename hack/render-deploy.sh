#!/usr/bin/env bash
# Render deploy/*.yaml (the kubectl install path) from charts/augur with hack/deploy-values.yaml.
#   hack/render-deploy.sh          # rewrite deploy/
#   hack/render-deploy.sh --check  # exit 1 when deploy/ differs from the chart (what the test checks)
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m augur.devcluster.render_deploy "$@"
