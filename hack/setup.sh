#!/usr/bin/env bash
# Install everything Augur's demo and tests need on a fresh Debian machine, idempotently:
#   - Debian's prometheus package (Prometheus + promtool; Alertmanager comes with a later issue),
#   - Debian's buildah and debootstrap (hack/image.sh builds and smoke-tests the image with them),
#   - Debian's redis-server (Argo CD's cache in tests/e2e/test_argocd.py; started by the test, not as a service),
#   - a Python virtual environment in .venv with Augur and its dev tools,
#   - the control plane binaries, the helm CLI, Flux's two controllers and Argo CD, compiled from the Go module proxy into
#     ~/.cache/augur (cold: ~30 min, plus ~17 CPU-minutes for Flux and ~13 CPU-minutes for Argo CD).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  log "installing Debian's prometheus package"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

if ! command -v buildah >/dev/null || ! command -v debootstrap >/dev/null; then
  log "installing Debian's buildah and debootstrap"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
    buildah crun debootstrap debian-archive-keyring >/dev/null
fi

if ! command -v redis-server >/dev/null; then
  log "installing Debian's redis-server"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi

PY="${PYTHON:-python3}"
# The exact versions of every Python dependency come from hack/constraints.txt (hack/pin-deps.sh writes it).
stamp=".venv/.augur-install-$(cat pyproject.toml hack/constraints.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  log "creating .venv and installing Augur with its dev tools"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q --constraint hack/constraints.txt -e '.[dev]'
  rm -f .venv/.augur-install-*; touch "$stamp"
fi

.venv/bin/augur dev tools >/dev/null
log "ready"
