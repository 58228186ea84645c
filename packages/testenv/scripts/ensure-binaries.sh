#!/usr/bin/env bash
# Builds (once) and prints the paths of the real etcd and kube-apiserver used by
# @edgeca/testenv. Binaries are built from the Go modules in ../go at pinned
# upstream versions and cached outside the repository, keyed by version, so
# every run and every clone on this machine reuses them:
#   ${EDGECA_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/edgeca/bin}/<name>-<version>/<name>
#
# stdout: exactly two lines, ETCD=<path> and KUBE_APISERVER=<path>; with
# EDGECA_WITH=kube-controller-manager (a comma-separated list of extras) also
# KUBE_CONTROLLER_MANAGER=<path>, built only when asked for (the benchmarks'
# reference signer; from the same Go module and go.sum as kube-apiserver).
# stderr: progress. Exit status non-zero on failure, with the failed step
# (download, compile, link, verify) and the tail of its log.
#
# Safe to run concurrently: an exclusive flock serializes builders, and a
# binary is moved into place only after it built and answered --version.
set -euo pipefail

KUBE_VERSION=v1.35.4
ETCD_VERSION=v3.6.6 # what k8s v1.35.4 pins in build/dependencies.yaml

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
gosrc="$(cd "$here/../go" && pwd)"
bin_root="${EDGECA_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/edgeca/bin}"
etcd_bin="$bin_root/etcd-$ETCD_VERSION/etcd"
kas_bin="$bin_root/kube-apiserver-$KUBE_VERSION/kube-apiserver"
kcm_bin="$bin_root/kube-controller-manager-$KUBE_VERSION/kube-controller-manager"
want_kcm=0
IFS=',' read -ra extras <<<"${EDGECA_WITH:-}"
for extra in "${extras[@]}"; do
  case "${extra// /}" in
    kube-controller-manager) want_kcm=1 ;;
    "") ;;
    *) printf '[edgeca testenv] FAILED step=usage: EDGECA_WITH names "%s"; known: kube-controller-manager\n' "$extra" >&2; exit 2 ;;
  esac
done

log() { printf '[edgeca testenv] %s\n' "$*" >&2; }

emit() {
  printf 'ETCD=%s\n' "$etcd_bin"
  printf 'KUBE_APISERVER=%s\n' "$kas_bin"
  if (( want_kcm )); then printf 'KUBE_CONTROLLER_MANAGER=%s\n' "$kcm_bin"; fi
}

# Fast path without taking the lock: both binaries are only ever renamed into
# place complete, so their presence means they are usable.
if [[ -x "$etcd_bin" && -x "$kas_bin" ]] && { (( ! want_kcm )) || [[ -x "$kcm_bin" ]]; }; then
  emit
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  log "FAILED step=toolchain: 'go' is not on PATH; Go >= 1.25 is needed to build etcd and kube-apiserver"
  exit 1
fi
if ! command -v flock >/dev/null 2>&1; then
  log "FAILED step=toolchain: 'flock' (util-linux) is not on PATH"
  exit 1
fi

mkdir -p "$bin_root"
exec 9>"$bin_root/.build.lock"
if ! flock -n 9; then
  log "another process is building the binaries; waiting for it (lock $bin_root/.build.lock)"
  flock 9
fi

# Never fetch a different Go toolchain (no network for that); modules come
# through the module proxy as usual. go.sum is committed: read it, never edit.
export GOTOOLCHAIN=local
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0

fail() { # step logfile
  log "FAILED step=$1 (log: $2); last lines:"
  tail -n 40 "$2" >&2 || true
  exit 1
}

# A build running in the background must not outlive this script (e.g. Ctrl-C during a first build).
build_pid=""
cleanup() { if [[ -n "$build_pid" ]]; then kill "$build_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# build <name> <version> <module dir> <dest> <ldflags> [<package>, default .]
build() {
  local name=$1 version=$2 dir=$3 dest=$4 ldflags=$5 pkg=${6:-.}
  local destdir logf tmp start
  destdir="$(dirname "$dest")"
  mkdir -p "$destdir"
  logf="$destdir/build.log"
  : >"$logf"
  start=$(date +%s)
  log "building $name $version from source: this first build takes several minutes (about 10-20 on 2 cores); later runs reuse $dest"
  log "step download: fetching Go modules for $name"
  if ! (cd "$dir" && go mod download -x) >>"$logf" 2>&1; then fail download "$logf"; fi
  local total
  total=$(cd "$dir" && go list -deps "$pkg" 2>/dev/null | wc -l) || total="?"
  log "step compile+link: go build $name, $total packages (full log: $logf)"
  # We hold the lock: any temporary file left is from an interrupted build.
  rm -f "$destdir/.$name.tmp."*
  tmp="$destdir/.$name.tmp.$$"
  local before pid ticks=0 ok=1
  before=$(wc -l <"$logf")
  go -C "$dir" build -v -trimpath -ldflags="-s -w $ldflags" -o "$tmp" "$pkg" >>"$logf" 2>&1 &
  pid=$!
  build_pid=$pid
  # `go build -v` names each package as it compiles it: report the count every 20 s so a long first
  # build visibly moves (cached packages are not named, so the count may stay below the total).
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    ticks=$((ticks + 1))
    if (( ticks % 20 == 0 )); then
      log "  $name: $(( $(wc -l <"$logf") - before )) of $total packages compiled (others cached or to come), $(( $(date +%s) - start ))s so far"
    fi
  done
  wait "$pid" || ok=0
  build_pid=""
  if (( ok == 0 )); then
    rm -f "$tmp"
    # The linker reports through the "link" tool; anything else failed earlier.
    if grep -Eq '(^|/)link: |^/[^ ]*/link:|signal: killed.*link' "$logf"; then fail link "$logf"; fi
    fail compile "$logf"
  fi
  log "step verify: $name --version"
  if ! "$tmp" --version >>"$logf" 2>&1; then rm -f "$tmp"; fail verify "$logf"; fi
  mv -f "$tmp" "$dest"
  log "built $name $version in $(( $(date +%s) - start ))s -> $dest"
}

if [[ ! -x "$etcd_bin" ]]; then
  build etcd "$ETCD_VERSION" "$gosrc/etcd" "$etcd_bin" ""
fi

# Upstream stamps the version at link time (hack/lib/version.sh); do the same
# so /version and kubectl report the release, not v0.0.0-master.
minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
vflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  vflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  vflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

if [[ ! -x "$kas_bin" ]]; then
  build kube-apiserver "$KUBE_VERSION" "$gosrc/kube-apiserver" "$kas_bin" "$vflags"
fi

# Same module and go.sum as kube-apiserver (a second main package in it), so after kube-apiserver
# most packages come from the Go build cache.
if (( want_kcm )) && [[ ! -x "$kcm_bin" ]]; then
  build kube-controller-manager "$KUBE_VERSION" "$gosrc/kube-apiserver" "$kcm_bin" "$vflags" ./kube-controller-manager
fi

emit
