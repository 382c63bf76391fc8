#!/usr/bin/env bash
# Build Augur's image from the Dockerfile with buildah (chroot isolation, no daemon) and smoke-test it.
#
#   hack/image.sh                       # build localhost/augur:dev on a locally bootstrapped Debian base
#   BASE=python:3.11-slim-bookworm@sha256:... hack/image.sh   # on a registry base, where one is reachable
#   hack/image.sh --smoke               # only smoke-test an image built before
#
# Needs root (debootstrap, buildah's storage) and the Debian packages buildah and debootstrap.
# Caches, all under $AUGUR_CACHE/image (default ~/.cache/augur/image):
#   - rootfs.tar: without BASE, the base is Debian bookworm (python3 3.11) made with debootstrap from the
#     Debian mirror (this project's machines reach Debian and PyPI but no container registry);
#   - wheels/<key>: a wheelhouse of every dependency in pyproject.toml (and the build backend), filled by
#     the base image's own pip at the versions hack/constraints.txt pins, keyed by the dependency list, the
#     pins and the base's name; the build installs from it
#     alone (`--build-context wheels=...`, pip --no-index), so a warm build downloads nothing;
#   - buildah's layer cache (--layers, overlay storage only): the dependency layer is rebuilt only when the
#     dependency list changes. `buildah rmi --prune` drops old build caches.
# Storage driver: overlay (kernel overlayfs) when buildah can use it here, vfs otherwise; STORAGE_DRIVER=
# chooses. Each phase's wall time goes to stderr; the build's output to $AUGUR_CACHE/image/build.log.
# The smoke test checks the image runs as its own user (65532:65532), then, on a read-only bind of its root
# with only /tmp writable, that both services import and the entrypoint answers --help for each.
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILDAH_ISOLATION=chroot
CACHE="${AUGUR_CACHE:-$HOME/.cache/augur}/image"
TAG="${TAG:-localhost/augur:dev}"
mkdir -p "$CACHE"
log() { printf '[image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# One build or smoke test at a time per cache: two at once would race on build.log, the build-images list
# and the tag itself (seen when a killed test run left its build running). The lock goes with the process.
exec 9>"$CACHE/.lock"
flock -n 9 || { log "waiting for another hack/image.sh on $CACHE"; flock 9; }
phase_start=$SECONDS
phase() { log "$1 ($((SECONDS - phase_start)) s)"; phase_start=$SECONDS; }
command -v buildah >/dev/null || { log "buildah is not installed (apt-get install -y buildah)"; exit 2; }

# AUGUR_IMAGE_STORE=DIR: buildah's storage in DIR instead of the system's (a cold build beside a warm one).
store=()
[ -n "${AUGUR_IMAGE_STORE:-}" ] && store=(--root "$AUGUR_IMAGE_STORE/root" --runroot "$AUGUR_IMAGE_STORE/run")
driver="${STORAGE_DRIVER:-}"
if [ -z "$driver" ]; then
  driver=vfs
  buildah "${store[@]}" --storage-driver overlay info >/dev/null 2>&1 && driver=overlay
fi
bh() { buildah "${store[@]}" --storage-driver "$driver" "$@"; }

smoke_only=false
[ "${1:-}" = --smoke ] && smoke_only=true
base="${BASE:-}"
if $smoke_only; then
  :
elif [ -z "$base" ]; then
  base=localhost/augur-base:bookworm
  if ! bh inspect --type image "$base" >/dev/null 2>&1; then
    if [ ! -s "$CACHE/rootfs.tar" ]; then
      command -v debootstrap >/dev/null || { log "debootstrap is not installed (apt-get install -y debootstrap)"; exit 2; }
      log "bootstrapping a Debian bookworm base with python3 (debootstrap, a few minutes)"
      root=$(mktemp -d /var/tmp/augur-rootfs.XXXXXX)
      debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" \
        http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 || { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
      rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
      tar -C "$root" -cf "$CACHE/rootfs.tar.partial" . && mv "$CACHE/rootfs.tar.partial" "$CACHE/rootfs.tar"
      rm -rf "$root"
      phase "debootstrap done"
    fi
    ctr=$(bh from scratch)
    bh add --quiet "$ctr" "$CACHE/rootfs.tar" / >/dev/null
    bh config --env PATH=/usr/local/bin:/usr/bin:/bin "$ctr"
    bh commit --quiet "$ctr" "$base" >/dev/null
    bh rm "$ctr" >/dev/null
    phase "base image $base committed"
  fi
fi

# The wheelhouse: filled by the base image's pip (so the wheels fit the image's Python whatever the host
# runs), at the versions hack/constraints.txt pins, over the network once per dependency list, pins and base.
wheelhouse() {
  local reqs key dir ctr ca
  reqs=$(python3 -c 'import tomllib; d = tomllib.load(open("pyproject.toml", "rb"))
print(*d["build-system"]["requires"], *d["project"]["dependencies"], sep="\n")')
  # The base by name: its image ID changes with every commit of the same rootfs (a new store, say), and a
  # wheel that does not fit fails the build loudly (pip --no-index), never silently.
  key=$(printf '%s\n' "$reqs" "$base" "$(cat hack/constraints.txt)" | sha256sum | cut -c1-16)
  dir="$CACHE/wheels/$key"
  if [ ! -f "$dir/.complete" ]; then
    log "filling the wheelhouse $dir from PyPI"
    rm -rf "$dir" && mkdir -p "$dir"
    printf '%s\n' "$reqs" >"$dir/requirements.txt"
    cp hack/constraints.txt "$dir/constraints.txt"  # the versions the image installs (Dockerfile)
    ca="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
    local mounts=(--volume "$dir:/wheels")
    # The host's CA bundle, for this run only (never committed): pip works behind a TLS-inspecting proxy
    # as it does on the host.
    [ -s "$ca" ] && mounts+=(--volume "$ca:/etc/ssl/certs/ca-certificates.crt:ro")
    ctr=$(bh from --quiet "$base")
    bh run --user 0:0 "${mounts[@]}" "$ctr" -- sh -c 'python3 -m venv /tmp/pip \
      && PIP_DISABLE_PIP_VERSION_CHECK=1 /tmp/pip/bin/pip wheel --quiet --no-cache-dir --wheel-dir /wheels \
           --requirement /wheels/requirements.txt --constraint /wheels/constraints.txt' >&2 \
      || { bh rm "$ctr" >/dev/null; exit 1; }
    bh rm "$ctr" >/dev/null
    touch "$dir/.complete"
    find "$CACHE/wheels" -mindepth 1 -maxdepth 1 -not -name "$key" -exec rm -rf {} +
    phase "wheelhouse filled: $(find "$dir" -name '*.whl' | wc -l) wheels, $(du -sh "$dir" | cut -f1)"
  fi
  printf '%s\n' "$dir"
}

if ! $smoke_only; then
  wheels=$(wheelhouse)
  phase_start=$SECONDS  # (wheelhouse ran in a subshell and logged its own time)
  old=$(bh inspect --type image --format '{{.FromImageID}}' "$TAG" 2>/dev/null || true)
  log "building $TAG on $base ($driver storage, wheelhouse $wheels)"
  # vfs copies the whole tree for every layer and container: layer caching costs more there than it saves
  # (a cold build with it wrote 13 GB); on overlay it keeps the dependency layer between builds.
  layers=true
  [ "$driver" = vfs ] && layers=false
  bh bud --layers="$layers" --build-context "wheels=$wheels" --build-arg "BASE=$base" -t "$TAG" . 2>&1 \
    | while IFS= read -r line; do printf '%s %s\n' "$(date +%T)" "$line"; done >"$CACHE/build.log" \
    || { tail -30 "$CACHE/build.log" >&2; exit 1; }
  new=$(bh inspect --type image --format '{{.FromImageID}}' "$TAG")
  # What the previous build left and this one did not use: the image this tag named before and the
  # intermediate images of its stages (each keeps its parents, old dependency layers included, alive).
  # buildah rmi also drops their untagged parents, and refuses what a current image still builds on.
  used="$CACHE/build-images-$(printf '%s' "${AUGUR_IMAGE_STORE:-system}-$driver" | sha256sum | cut -c1-8)"
  sed -n 's/^[0-9:]* --> \([0-9a-f]\{11,\}\)$/\1/p' "$CACHE/build.log" | sort -u >"$used.new"
  for id in $( { [ -n "$old" ] && [ "$old" != "$new" ] && echo "${old:0:11}"; cat "$used" 2>/dev/null; } \
               | sort -u | comm -23 - "$used.new"); do
    bh rmi "$id" >/dev/null 2>&1 || true
  done
  mv "$used.new" "$used"
  phase "built $TAG"
fi

ctr=$(bh from --quiet "$TAG")
mnt=""
cleanup() { [ -z "$mnt" ] || bh umount "$ctr" >/dev/null 2>&1 || true; bh rm "$ctr" >/dev/null 2>&1 || true; }
trap cleanup EXIT
# The user the image declares, as a container runtime applies it.
ids=$(bh run "$ctr" -- /opt/augur/bin/python3 -c 'import os; print(os.getuid(), os.getgid())')
[ "$ids" = "65532 65532" ] || { log "FAILED: the image runs as uid/gid $ids, not 65532"; exit 1; }
phase "smoke test: the image runs as 65532:65532"

# A read-only root filesystem as the chart runs it (readOnlyRootFilesystem, an emptyDir at /tmp): the
# image's root bound read-only in a mount namespace of its own, /tmp a tmpfs, run as 65532:65532: both
# services import, the entrypoint answers --help for each, and the extender's planner process
# (--planner-process: a spawned child, shared memory, SCHED_IDLE) plans one pod.
check='import augur.operator.handlers, augur_extender.app, statsmodels'
planner='
from augur.placement import NodeInfo, Snapshot, WorkloadRules
from augur_extender.planner_process import PlannerProcess
p = PlannerProcess(priority="idle")
try:
    nodes, rules = [NodeInfo("n", cpu=4.0, memory=8.0)], [WorkloadRules("a", replicas=1, pod_cpu=1.0, pod_memory=1.0)]
    plan = p.update(Snapshot.build(nodes, rules=rules))
    assert plan is not None and plan.total.sum() == 1, plan
finally:
    p.close()
'
mnt=$(bh mount "$ctr")
ro=$(mktemp -d /var/tmp/augur-ro.XXXXXX)
rc=0
out=$(unshare --mount --propagation private sh -c '
  set -e
  mount --bind "$1" "$2" && mount -o remount,bind,ro "$2"
  mount -t tmpfs tmpfs "$2/tmp" && mount -t proc proc "$2/proc" && mount --rbind /dev "$2/dev"
  exec chroot --userspec=65532:65532 "$2" /usr/bin/env -i PATH=/opt/augur/bin:/usr/bin:/bin HOME=/tmp \
    PYTHONDONTWRITEBYTECODE=1 CHECK="$3" PLANNER="$4" /bin/sh -c "set -e
      if touch /opt/augur/probe || touch /probe; then echo the root filesystem is writable >&2; exit 1; fi
      touch /tmp/probe
      python3 -c \"\$CHECK\"
      python3 -c \"\$PLANNER\"
      /opt/augur/bin/augur operator run --help >/dev/null
      /opt/augur/bin/augur extender run --help >/dev/null" 2>&1
' sh "$mnt" "$ro" "$check" "$planner") || rc=$?
rmdir "$ro"
# (touch's "Read-only file system" complaints are the expected outcome)
grep -v 'touch: cannot touch' <<<"$out" >&2 || true
[ "$rc" = 0 ] || { log "FAILED on a read-only root filesystem"; exit 1; }
phase "smoke test on a read-only root passed (both services import, --help, the planner process plans)"

entry=$(bh inspect --format '{{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.Cmd}} {{.OCIv1.Config.User}}' "$TAG")
size=$(bh images --format '{{.Size}}' "$TAG" | head -1)
echo "image $TAG: entrypoint/cmd/user $entry; size $size; storage $driver; smoke test passed"
