#!/usr/bin/env bash
# Build the local control plane's binaries from the Go module proxy and cache them by version.
#
#   hack/build-tools.sh            # build whatever is missing, print the bin directory on the last line
#
# Binaries land in ${AUGUR_CACHE:-~/.cache/augur}/tools/<versions>/bin and are never committed; the
# descheduler (benchmarks and its e2e test) in its own tools/descheduler-v<version>-ca/bin, printed on the
# line before as "descheduler=DIR"; the helm CLI (charts/augur's lint, golden and install tests) likewise
# in tools/helm-v<version>/bin, printed as "helm=PATH"; Flux's source-controller and kustomize-controller
# (tests/e2e/test_flux.py) in tools/flux-kc-v<version>-sc-v<version>/bin, printed as "flux=DIR"; Flux's
# helm-controller (tests/e2e/test_flux_helm.py) in tools/flux-hc-v<version>/bin, printed as "flux-hc=DIR" or,
# when its build failed, "flux-hc-failed=LOG"; Argo CD
# (tests/e2e/test_argocd.py) in tools/argocd-v<version>/bin, printed as "argocd=DIR" or, when its build
# failed, "argocd-failed=LOG" (the other tools stay usable and the Argo CD test skips, naming the log).
# A warm cache makes this a no-op that finishes in well under a second.
set -euo pipefail

K8S_VERSION="${AUGUR_K8S_VERSION:-1.36.3}"
ETCD_VERSION="${AUGUR_ETCD_VERSION:-3.6.16}"
KWOK_VERSION="${AUGUR_KWOK_VERSION:-0.8.0}"
DESCHEDULER_VERSION="${AUGUR_DESCHEDULER_VERSION:-0.36.0}"
HELM_VERSION="${AUGUR_HELM_VERSION:-3.22.0}"
# Flux's controllers, each built from its own module. v1.10.x (Go 1.27) needs module versions the proxy
# refuses ("403 This module version is not available": fluxcd/pkg/apis/crypto v0.5.0, spiffe v0.2.0,
# http/fetch v0.30.x, masktoken v0.10.0, artifact v0.27.0, go-digest/blake3), so v1.9.6 (Go 1.26) is used.
FLUX_KC_VERSION="${AUGUR_FLUX_KC_VERSION:-1.9.6}"
FLUX_SC_VERSION="${AUGUR_FLUX_SC_VERSION:-1.9.6}"
# Flux's helm-controller (tests/e2e/test_flux_helm.py): v1.6.4 is the release paired with source-controller
# v1.9.x (its go.mod requires source-controller/api v1.9.0; Go 1.26); the proxy refuses v1.6.5 and v1.7.x
# ("403 This module version is not available").
FLUX_HC_VERSION="${AUGUR_FLUX_HC_VERSION:-1.6.4}"
# Argo CD: v3.6.x is the newest line and needs Go 1.27, so its build (and only its build) runs on the
# go1.27.3 toolchain, which the go command takes from the module proxy (GOTOOLCHAIN). Argo CD v3.4/v3.5
# (Go 1.26) cannot build from the proxy: their go.mod replaces github.com/argoproj/argo-cd/gitops-engine
# with ./gitops-engine, a nested module missing from the module zip, and the proxy refuses that module's
# required pseudo-version (403). v3.6 publishes gitops-engine/v3 with the same tag, used instead.
ARGOCD_VERSION="${AUGUR_ARGOCD_VERSION:-3.6.1}"
ARGOCD_GOTOOLCHAIN="${AUGUR_ARGOCD_GOTOOLCHAIN:-go1.27.3}"

CACHE="${AUGUR_CACHE:-$HOME/.cache/augur}"
BIN="$CACHE/tools/k8s-v$K8S_VERSION-etcd-v$ETCD_VERSION-kwok-v$KWOK_VERSION/bin"
# The descheduler has its own directory, so adding or bumping it never rebuilds the control plane. "-ca":
# built with its Prometheus client's CA file (client.K8sPodCAFilePath, a path inside a pod's service
# account mount) moved to prometheus-ca.crt beside the binary, so that it can read Prometheus outside a pod.
DESCHEDULER_BIN="$CACHE/tools/descheduler-v$DESCHEDULER_VERSION-ca/bin"
HELM_BIN="$CACHE/tools/helm-v$HELM_VERSION/bin"
FLUX_BIN="$CACHE/tools/flux-kc-v$FLUX_KC_VERSION-sc-v$FLUX_SC_VERSION/bin"
# helm-controller has its own directory, so adding it never rebuilds the other Flux controllers.
FLUX_HC_BIN="$CACHE/tools/flux-hc-v$FLUX_HC_VERSION/bin"
ARGOCD_BIN="$CACHE/tools/argocd-v$ARGOCD_VERSION/bin"
WORK="$CACHE/build"
LOG_DIR="$CACHE/logs"
mkdir -p "$BIN" "$DESCHEDULER_BIN" "$HELM_BIN" "$FLUX_BIN" "$FLUX_HC_BIN" "$ARGOCD_BIN" "$WORK" "$LOG_DIR"

# One build at a time per cache: a second run (`make setup` while a test or the demo starts a cluster)
# waits for the first instead of building into the same directories (it then finds the binaries built).
if command -v flock >/dev/null; then
  exec 9>"$CACHE/.build-tools.lock"
  if ! flock -n 9; then
    printf '[build-tools %s] %s\n' "$(date +%H:%M:%S)" "another build-tools.sh is building into $CACHE; waiting for it" >&2
    flock 9
  fi
fi

export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"

log() { printf '[build-tools %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

have() { for b in "$@"; do [ -x "$BIN/$b" ] || return 1; done; }

# Exit with a clear message when Go is missing: need_go WHAT
need_go() { command -v go >/dev/null || { log "Go is required (go1.26+) to build $1"; exit 1; }; }

# A field of `go mod download -json MODULE@VERSION` (GoMod: its go.mod file, Dir: its source tree); the
# go command's error, and exit status 1, when the module proxy did not deliver it.
mod_field() {
  go mod download -json "$1" | python3 -c "import sys,json;d=json.load(sys.stdin);sys.exit(d.get('Error')) if '$2' not in d else print(d['$2'])"
}

# A fresh wrapper module in the current directory, whose tools (`go get -tool`) are then built.
new_wrapper_module() {
  rm -f go.mod
  go mod init "example.local/$1" >/dev/null 2>&1
  go mod edit -go=1.26.0
}

# `go mod edit -replace` with each line that the sed script prints from a go.mod: replace_from GOMOD SCRIPT
replace_from() { sed -n "$2" "$1" | while read -r r; do go mod edit -replace "$r"; done; }

# Run a long command, printing a heartbeat every 30 s so a person (and CI) sees progress.
with_progress() {
  local what="$1"; shift
  local start=$SECONDS logf="$LOG_DIR/$what.log"
  log "building $what (log: $logf)"
  "$@" >"$logf" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 30 &
    wait $! || true
    kill -0 "$pid" 2>/dev/null && log "  $what: still building, $((SECONDS - start)) s so far"
  done
  if ! wait "$pid"; then
    log "FAILED building $what; last lines of $logf:"; tail -n 40 "$logf" >&2; exit 1
  fi
  log "built $what in $((SECONDS - start)) s"
}

build_k8s() {
  local dir="$WORK/k8s-v$K8S_VERSION" sv="v0.${K8S_VERSION#1.}"
  mkdir -p "$dir"; cd "$dir"
  if [ ! -f go.sum ]; then
    new_wrapper_module augur-k8s-bins
    local kmod
    kmod=$(mod_field "k8s.io/kubernetes@v$K8S_VERSION" GoMod)
    # Every staging module ("k8s.io/X => ./staging/src/k8s.io/X") is replaced by its published tag.
    replace_from "$kmod" 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1=\1@'"$sv"'#p'
    go mod edit -require="k8s.io/kubernetes@v$K8S_VERSION"
    go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" \
      "k8s.io/kubernetes/cmd/kube-controller-manager@v$K8S_VERSION" \
      "k8s.io/kubernetes/cmd/kube-scheduler@v$K8S_VERSION" "k8s.io/kubernetes/cmd/kubectl@v$K8S_VERSION"
    go mod tidy
  fi
  local minor ldf="-s -w"
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  for cmd in kube-scheduler kube-controller-manager kube-apiserver kubectl; do
    have "$cmd" && continue
    with_progress "$cmd" go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldf" \
      -o "$BIN/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd"
    mv "$BIN/$cmd.tmp" "$BIN/$cmd"
  done
}

build_etcd() {
  have etcd && return 0
  local dir="$WORK/etcd-v$ETCD_VERSION"
  mkdir -p "$dir"; cd "$dir"
  if [ ! -f go.sum ]; then
    new_wrapper_module augur-etcd-bin
    go get -tool "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
    go mod tidy
  fi
  with_progress etcd go build -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$BIN/etcd.tmp" "$BIN/etcd"
}

build_kwok() {
  have kwok && return 0
  local tmp="$WORK/kwok-gobin"; mkdir -p "$tmp"
  with_progress kwok env GOBIN="$tmp" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
  mv "$tmp/kwok" "$BIN/kwok"
}

# The kwok Stage YAMLs shipped in the kwok module: nodes Ready, pods Running/Ready/Complete/Deleted.
fetch_kwok_stages() {
  [ -f "$BIN/../kwok-stages.yaml" ] && return 0
  local moddir
  moddir=$(cd "$WORK" && mod_field "sigs.k8s.io/kwok@v$KWOK_VERSION" Dir)
  local s="$moddir/kustomize/stage"
  {
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
             pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
      printf -- '---\n'; cat "$s/$f"
    done
  } >"$BIN/../kwok-stages.yaml.tmp"
  mv "$BIN/../kwok-stages.yaml.tmp" "$BIN/../kwok-stages.yaml"
}

# sigs.k8s.io/descheduler: its go.mod has a replace directive (k8s.io/kube-openapi), which `go install
# pkg@version` refuses, so it is built through a wrapper module that copies the module's replaces.
build_descheduler() {
  [ -x "$DESCHEDULER_BIN/descheduler" ] && return 0
  local dir="$WORK/descheduler-v$DESCHEDULER_VERSION" mod="sigs.k8s.io/descheduler"
  mkdir -p "$dir"; cd "$dir"
  if [ ! -f go.sum ]; then
    new_wrapper_module augur-descheduler-bin
    local dmod
    dmod=$(mod_field "$mod@v$DESCHEDULER_VERSION" GoMod)
    replace_from "$dmod" 's#^replace[[:space:]]*\([^[:space:]]*\)[[:space:]]*=>[[:space:]]*\([^[:space:]]*\)[[:space:]]*\(v[^[:space:]]*\)#\1=\2@\3#p'
    go get -tool "$mod/cmd/descheduler@v$DESCHEDULER_VERSION"
    go mod tidy
  fi
  local p="$mod/pkg/version" ca="$mod/pkg/descheduler/client.K8sPodCAFilePath=$DESCHEDULER_BIN/prometheus-ca.crt"
  with_progress descheduler go build -trimpath \
    -ldflags "-s -w -X $p.version=v$DESCHEDULER_VERSION -X $p.buildDate=1970-01-01T00:00:00Z -X $p.gitbranch=release -X $p.gitsha1=unknown -X $ca" \
    -o "$DESCHEDULER_BIN/descheduler.tmp" "$mod/cmd/descheduler"
  mv "$DESCHEDULER_BIN/descheduler.tmp" "$DESCHEDULER_BIN/descheduler"
}

# helm v3 from its module (no replace directives, so `go install pkg@version` works), stamped the way
# helm's Makefile does: its version, and the Kubernetes version offline renderings (`helm template`,
# `helm lint`) assume, derived from the k8s.io/client-go it is built with (v0.37 -> 1.37). Without the
# latter helm assumes v1.20 and refuses charts that require newer.
build_helm() {
  [ -x "$HELM_BIN/helm" ] && return 0
  local tmp="$WORK/helm-gobin"; mkdir -p "$tmp"
  local gomod minor v="helm.sh/helm/v3"
  gomod=$(cd "$WORK" && mod_field "$v@v$HELM_VERSION" GoMod)
  minor=$(sed -n 's#^[[:space:]]*k8s\.io/client-go v0\.\([0-9]*\)\..*#\1#p' "$gomod")
  local ldf="-s -w -X $v/internal/version.version=v$HELM_VERSION -X $v/internal/version.gitTreeState=clean"
  for p in pkg/lint/rules pkg/chartutil; do ldf="$ldf -X $v/$p.k8sVersionMajor=1 -X $v/$p.k8sVersionMinor=$minor"; done
  with_progress helm env GOBIN="$tmp" go install -trimpath -ldflags "$ldf" "$v/cmd/helm@v$HELM_VERSION"
  mv "$tmp/helm" "$HELM_BIN/helm"
}

# Flux's kustomize-controller and source-controller (tests/e2e/test_flux.py), each built inside a copy of
# its own module so its replace directives (a go-digest fork with BLAKE3) hold; a wrapper module would not
# inherit them. The module's zip lacks its ./api submodule, so that replace points at the published api
# module of the same version instead; further "module=module@version" arguments replace module versions
# the proxy refuses. The CRDs are copied from the same module (config/crd/bases) next to the binaries.
# The binary lands in $FLUX_OUT (default $FLUX_BIN), its CRDs in $FLUX_OUT/../crds.
build_flux_controller() {
  local name="$1" version="$2" mod="github.com/fluxcd/$1" out="${FLUX_OUT:-$FLUX_BIN}"; shift 2
  [ -x "$out/$name" ] && return 0
  local dir="$WORK/flux-$name-v$version"
  if [ ! -f "$dir/.prepared" ]; then
    local src r
    src=$(cd "$WORK" && mod_field "$mod@v$version" Dir)
    rm -rf "$dir"; mkdir -p "$dir"; cp -r "$src/." "$dir/"; chmod -R u+w "$dir"; cd "$dir"
    go mod edit -dropreplace "$mod/api" -require "$mod/api@v$version"
    go mod download "$mod/api@v$version"
    for r in "$@"; do go mod edit -replace "$r"; go mod download "${r#*=}"; done
    touch .prepared
  fi
  cd "$dir"
  mkdir -p "$out/../crds"
  cp config/crd/bases/*.yaml "$out/../crds/"
  with_progress "flux-$name" go build -trimpath -ldflags "-s -w" -o "$out/$name.tmp" .
  mv "$out/$name.tmp" "$out/$name"
}

# Argo CD's single binary (it acts as argocd-application-controller, argocd-repo-server, ... by the name
# it is started under, or by $ARGOCD_BINARY_NAME), built inside a copy of its module so its replace
# directives (k8s.io/* pinned to one release) hold. The replace of the nested ./gitops-engine module,
# absent from the module zip, is dropped for the published gitops-engine/v3 module of the same tag.
# Version stamps as Argo CD's Makefile sets them. Copied from the same module, as Argo CD's image does:
# the repo-server's wrapper scripts (hack/git-verify-wrapper.sh, which it runs on every revision, and
# hack/gpg-wrapper.sh) next to the binary, the Application and AppProject CRDs (manifests/crds) to ../crds.
argocd_ready() {
  [ -x "$ARGOCD_BIN/argocd" ] && [ -x "$ARGOCD_BIN/git-verify-wrapper.sh" ] && [ -f "$ARGOCD_BIN/../crds/application-crd.yaml" ]
}

build_argocd() {
  export GOTOOLCHAIN="$ARGOCD_GOTOOLCHAIN"
  local mod="github.com/argoproj/argo-cd/v3" engine="github.com/argoproj/argo-cd/gitops-engine/v3"
  local dir="$WORK/argocd-v$ARGOCD_VERSION"
  if [ ! -f "$dir/.prepared" ]; then
    local src
    src=$(cd "$WORK" && mod_field "$mod@v$ARGOCD_VERSION" Dir)
    [ -n "$src" ] && [ -f "$src/go.mod" ] || { log "no source for $mod@v$ARGOCD_VERSION from the module proxy"; exit 1; }
    rm -rf "$dir"; mkdir -p "$dir"; cp -r "$src/." "$dir/"; chmod -R u+w "$dir"; cd "$dir"
    go mod edit -dropreplace "$engine" -require "$engine@v$ARGOCD_VERSION"
    go mod download "$engine@v$ARGOCD_VERSION"
    touch .prepared
  fi
  cd "$dir"
  mkdir -p "$ARGOCD_BIN/../crds"
  cp manifests/crds/application-crd.yaml manifests/crds/appproject-crd.yaml "$ARGOCD_BIN/../crds/"
  install -m 0755 hack/git-verify-wrapper.sh hack/gpg-wrapper.sh "$ARGOCD_BIN/"
  [ -x "$ARGOCD_BIN/argocd" ] && return 0
  local p="$mod/common"
  with_progress argocd go build -trimpath \
    -ldflags "-s -w -X $p.version=$ARGOCD_VERSION -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z" \
    -o "$ARGOCD_BIN/argocd.tmp" ./cmd
  mv "$ARGOCD_BIN/argocd.tmp" "$ARGOCD_BIN/argocd"
}

start=$SECONDS
if ! have kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok || [ ! -f "$BIN/../kwok-stages.yaml" ]; then
  need_go "the control plane"
  log "cold build: compiling Kubernetes v$K8S_VERSION, etcd v$ETCD_VERSION and kwok v$KWOK_VERSION from the Go module proxy"
  log "this takes roughly 30-40 minutes on 2 cores the first time; later runs reuse $BIN"
  (build_kwok); (build_etcd); (build_k8s); (fetch_kwok_stages)
  log "all binaries ready in $((SECONDS - start)) s"
fi
if [ ! -x "$DESCHEDULER_BIN/descheduler" ]; then
  need_go "the descheduler"
  log "building the descheduler v$DESCHEDULER_VERSION from the Go module proxy into $DESCHEDULER_BIN (about 10 minutes on 2 cores)"
  (build_descheduler)
fi
if [ ! -x "$HELM_BIN/helm" ]; then
  need_go helm
  log "building helm v$HELM_VERSION from the Go module proxy into $HELM_BIN (1-4 min of CPU; 24 min on a loaded machine)"
  (build_helm)
fi
if [ ! -x "$FLUX_BIN/kustomize-controller" ] || [ ! -x "$FLUX_BIN/source-controller" ]; then
  need_go "Flux's controllers"
  log "building Flux's kustomize-controller v$FLUX_KC_VERSION and source-controller v$FLUX_SC_VERSION into $FLUX_BIN (9 + 7.5 min of CPU; 49 + 23 min on a loaded machine)"
  (build_flux_controller kustomize-controller "$FLUX_KC_VERSION")
  # source-controller v1.9.6 asks for fluxcd/pkg/artifact v0.18.3, which the proxy refuses; v0.18.0 is served.
  (build_flux_controller source-controller "$FLUX_SC_VERSION" github.com/fluxcd/pkg/artifact=github.com/fluxcd/pkg/artifact@v0.18.0)
fi
if [ ! -x "$FLUX_HC_BIN/helm-controller" ]; then
  need_go "Flux's helm-controller"
  log "building Flux's helm-controller v$FLUX_HC_VERSION into $FLUX_HC_BIN (3 min of CPU, 6 min at nice 19 on a loaded machine, measured with a Go build cache warm from the other Flux controllers)"
  # Like Argo CD: a failed build leaves the other tools usable and tests/e2e/test_flux_helm.py skips,
  # naming the log; run in the background and waited for so `set -e` holds inside.
  ( (FLUX_OUT="$FLUX_HC_BIN" build_flux_controller helm-controller "$FLUX_HC_VERSION") 2>&1 \
    | tee "$LOG_DIR/flux-helm-controller-build.log" >&2 ) &
  wait $! || log "helm-controller was not built; tests/e2e/test_flux_helm.py will skip (log: $LOG_DIR/flux-helm-controller-build.log)"
fi
if ! argocd_ready; then
  need_go "Argo CD"
  log "building Argo CD v$ARGOCD_VERSION ($ARGOCD_GOTOOLCHAIN) into $ARGOCD_BIN (13 min of CPU; 26 min at nice 19 on a loaded machine)"
  # A failed Argo CD build leaves the other tools usable: tests/e2e/test_argocd.py skips, naming the log.
  # Started in the background and waited for, so `set -e` holds inside (a subshell on the left of || would
  # run with errexit off and carry on past a failed step); its output is kept in argocd-build.log.
  ( (build_argocd) 2>&1 | tee "$LOG_DIR/argocd-build.log" >&2 ) &
  wait $! || log "Argo CD was not built; tests/e2e/test_argocd.py will skip (log: $LOG_DIR/argocd-build.log)"
fi
if argocd_ready; then echo "argocd=$ARGOCD_BIN"; else echo "argocd-failed=$LOG_DIR/argocd-build.log"; fi
if [ -x "$FLUX_HC_BIN/helm-controller" ]; then echo "flux-hc=$FLUX_HC_BIN"; else echo "flux-hc-failed=$LOG_DIR/flux-helm-controller-build.log"; fi
echo "flux=$FLUX_BIN"
echo "helm=$HELM_BIN/helm"
echo "descheduler=$DESCHEDULER_BIN"
echo "$BIN"
