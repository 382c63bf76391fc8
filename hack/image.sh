#!/usr/bin/env bash
# Build Augur's image from the Dockerfile with buildah (vfs storage, chroot isolation: no daemon, no root
# privileges beyond what debootstrap needs) and smoke-test it.
#
#   hack/image.sh                       # build localhost/augur:dev on a locally bootstrapped Debian base
#   BASE=python:3.11-slim-bookworm@sha256:... hack/image.sh   # on a registry base, where one is reachable
#   hack/image.sh --smoke               # only smoke-test an image built before
#
# Without BASE, the base is Debian bookworm (python3 3.11) made with debootstrap from the Debian mirror and
# cached as $AUGUR_CACHE/image/rootfs.tar: this project's machines reach Debian and PyPI but no container
# registry. The smoke test runs the image's entrypoint as its own user and imports both services.
set -euo pipefail
cd "$(dirname "$0")/.."
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
CACHE="${AUGUR_CACHE:-$HOME/.cache/augur}/image"
TAG="${TAG:-localhost/augur:dev}"
mkdir -p "$CACHE"
log() { printf '[image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
for tool in buildah; do command -v "$tool" >/dev/null || { log "$tool is not installed (apt-get install -y buildah)"; exit 2; }; done

smoke_only=false
[ "${1:-}" = --smoke ] && smoke_only=true
base="${BASE:-}"
if $smoke_only; then
  :
elif [ -z "$base" ]; then
  base=localhost/augur-base:bookworm
  if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
    if [ ! -s "$CACHE/rootfs.tar" ]; then
      command -v debootstrap >/dev/null || { log "debootstrap is not installed (apt-get install -y debootstrap)"; exit 2; }
      log "bootstrapping a Debian bookworm base with python3 (debootstrap, a few minutes)"
      root=$(mktemp -d /var/tmp/augur-rootfs.XXXXXX)
      debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" \
        http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 || { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
      rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
      tar -C "$root" -cf "$CACHE/rootfs.tar.partial" . && mv "$CACHE/rootfs.tar.partial" "$CACHE/rootfs.tar"
      rm -rf "$root"
    fi
    ctr=$(buildah from scratch)
    buildah add --quiet "$ctr" "$CACHE/rootfs.tar" / >/dev/null
    buildah config --env PATH=/usr/local/bin:/usr/bin:/bin "$ctr"
    buildah commit --quiet "$ctr" "$base" >/dev/null
    buildah rm "$ctr" >/dev/null
  fi
fi

if ! $smoke_only; then
log "building $TAG on $base"
start=$SECONDS
# The host's CA bundle is mounted for the build's RUN steps only (never committed), so pip works behind a
# TLS-inspecting proxy as it does on the host.
ca="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
mounts=()
[ -s "$ca" ] && mounts=(--volume "$ca:/etc/ssl/certs/ca-certificates.crt:ro")
buildah bud --quiet --layers=false "${mounts[@]}" --build-arg "BASE=$base" -t "$TAG" . >/dev/null
log "built in $((SECONDS - start)) s"
fi

ctr=$(buildah from "$TAG")
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
uid=$(buildah run "$ctr" -- /opt/augur/bin/python3 -c 'import os; print(os.getuid())')
[ "$uid" = 65532 ] || { log "FAILED: the image runs as uid $uid, not 65532"; exit 1; }
buildah run "$ctr" -- /opt/augur/bin/augur --help >/dev/null
buildah run "$ctr" -- /opt/augur/bin/augur operator run --help >/dev/null
buildah run "$ctr" -- /opt/augur/bin/augur extender run --help >/dev/null
buildah run "$ctr" -- /opt/augur/bin/python3 -c 'import augur.operator.handlers, augur_extender.app, statsmodels'
entry=$(buildah inspect --format '{{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.Cmd}} {{.OCIv1.Config.User}}' "$TAG")
size=$(buildah images --format '{{.Size}}' "$TAG" | head -1)
echo "image $TAG: entrypoint/cmd/user $entry; size $size; smoke test passed"
