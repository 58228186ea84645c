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
# (toolchain, download, compile, link, verify) and the tail of its log.
#
# Safe to run concurrently: an exclusive flock serializes builders, and a
# binary is moved into place only after it built and answered --version
# (lib/go-build.sh, shared with ensure-istio.sh and ensure-tools.sh).
set -euo pipefail

KUBE_VERSION=v1.35.4
ETCD_VERSION=v3.6.6 # what k8s v1.35.4 pins in build/dependencies.yaml

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
gosrc="$(cd "$here/../go" && pwd)"
# shellcheck source=lib/go-build.sh
source "$here/lib/go-build.sh"
etcd_bin="$GOBUILD_BIN_ROOT/etcd-$ETCD_VERSION/etcd"
kas_bin="$GOBUILD_BIN_ROOT/kube-apiserver-$KUBE_VERSION/kube-apiserver"
kcm_bin="$GOBUILD_BIN_ROOT/kube-controller-manager-$KUBE_VERSION/kube-controller-manager"
want_kcm=0
IFS=',' read -ra extras <<<"${EDGECA_WITH:-}"
for extra in "${extras[@]}"; do
  case "${extra// /}" in
    kube-controller-manager) want_kcm=1 ;;
    "") ;;
    *) log "FAILED step=usage: EDGECA_WITH names \"$extra\"; known: kube-controller-manager"; exit 2 ;;
  esac
done

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

gobuild_init 1.25 "etcd and kube-apiserver"
gobuild_first_build="about 10-20 min"
gobuild_lock

if [[ ! -x "$etcd_bin" ]]; then
  gobuild_build etcd "$ETCD_VERSION" "$gosrc/etcd" "$etcd_bin" "" . "" --version
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
  gobuild_build kube-apiserver "$KUBE_VERSION" "$gosrc/kube-apiserver" "$kas_bin" "$vflags" . "" --version
fi

# Same module and go.sum as kube-apiserver (a second main package in it), so after kube-apiserver
# most packages come from the Go build cache.
if (( want_kcm )) && [[ ! -x "$kcm_bin" ]]; then
  gobuild_build kube-controller-manager "$KUBE_VERSION" "$gosrc/kube-apiserver" "$kcm_bin" "$vflags" ./kube-controller-manager "" --version
fi

emit
