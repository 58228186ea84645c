#!/usr/bin/env bash
# Builds (once) and prints the paths of the real istiod (pilot-discovery) and
# pilot-agent used by @edgeca/testenv's real-Istio tests and by the demo. Both
# are built from the Go module in ../go/istio at a pinned istio.io/istio commit
# and cached beside etcd and kube-apiserver (same cache, same lock):
#   ${EDGECA_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/edgeca/bin}/<name>-<version>/<name>
#
# stdout: exactly three lines, PILOT_DISCOVERY=<path>, PILOT_AGENT=<path> and
# ISTIO_MODULE=<istio.io/istio version>.
# stderr: progress. Exit status non-zero on failure, with the failed step
# (download, compile, link, verify) and the tail of its log.
#
# Kept apart from ensure-binaries.sh because most tests never need Istio and its
# first build costs about 15 more minutes on 2 cores.
set -euo pipefail

# A commit pseudo-version: the module proxy refuses istio.io/istio release tags.
ISTIO_MODULE=v0.0.0-20260827124520-eed52ebb66ad
ISTIO_COMMIT=eed52ebb66ad
ISTIO_RELEASE=1.31-dev # upstream stamps VERSION (1.31) + "-dev" on branch builds

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
gosrc="$(cd "$here/../go/istio" && pwd)"
bin_root="${EDGECA_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/edgeca/bin}"
pd_bin="$bin_root/pilot-discovery-$ISTIO_MODULE/pilot-discovery"
pa_bin="$bin_root/pilot-agent-$ISTIO_MODULE/pilot-agent"

log() { printf '[edgeca testenv] %s\n' "$*" >&2; }

emit() {
  printf 'PILOT_DISCOVERY=%s\n' "$pd_bin"
  printf 'PILOT_AGENT=%s\n' "$pa_bin"
  printf 'ISTIO_MODULE=%s\n' "$ISTIO_MODULE"
}

# Fast path without the lock: binaries are only ever renamed into place complete.
if [[ -x "$pd_bin" && -x "$pa_bin" ]]; then
  emit
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  log "FAILED step=toolchain: 'go' is not on PATH; Go >= 1.26 is needed to build istiod and pilot-agent"
  exit 1
fi
if ! command -v flock >/dev/null 2>&1; then
  log "FAILED step=toolchain: 'flock' (util-linux) is not on PATH"
  exit 1
fi

mkdir -p "$bin_root"
exec 9>"$bin_root/.build.lock"
if ! flock -n 9; then
  log "another process is building binaries; waiting for it (lock $bin_root/.build.lock)"
  flock 9
fi

export GOTOOLCHAIN=local
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0

fail() { # step logfile
  log "FAILED step=$1 (log: $2); last lines:"
  tail -n 40 "$2" >&2 || true
  exit 1
}

build_pid=""
cleanup() { if [[ -n "$build_pid" ]]; then kill "$build_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Upstream's common/scripts/report_build_info.sh stamps these; `version` prints them.
vflags=""
for kv in buildVersion=$ISTIO_RELEASE buildGitRevision=$ISTIO_COMMIT buildStatus=Clean buildTag=$ISTIO_MODULE; do
  vflags+=" -X istio.io/istio/pkg/version.$kv"
done

# build <name> <dest> <build tags>
build() {
  local name=$1 dest=$2 tags=$3
  local destdir logf tmp start total
  destdir="$(dirname "$dest")"
  mkdir -p "$destdir"
  logf="$destdir/build.log"
  : >"$logf"
  start=$(date +%s)
  log "building $name (istio.io/istio $ISTIO_MODULE) from source: the first build takes about 15 min on 2 cores; later runs reuse $dest"
  log "step download: fetching Go modules for $name"
  if ! (cd "$gosrc" && go mod download -x) >>"$logf" 2>&1; then fail download "$logf"; fi
  total=$(cd "$gosrc" && go list -tags "$tags" -deps "./$name" 2>/dev/null | wc -l) || total="?"
  log "step compile+link: go build $name, $total packages (full log: $logf)"
  rm -f "$destdir/.$name.tmp."*
  tmp="$destdir/.$name.tmp.$$"
  local before pid ticks=0 ok=1
  before=$(wc -l <"$logf")
  go -C "$gosrc" build -v -trimpath -tags "$tags" -ldflags="-s -w $vflags" -o "$tmp" "./$name" >>"$logf" 2>&1 &
  pid=$!
  build_pid=$pid
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
    if grep -Eq '(^|/)link: |^/[^ ]*/link:|signal: killed.*link' "$logf"; then fail link "$logf"; fi
    fail compile "$logf"
  fi
  log "step verify: $name version"
  if ! "$tmp" version -s >>"$logf" 2>&1; then rm -f "$tmp"; fail verify "$logf"; fi
  mv -f "$tmp" "$dest"
  log "built $name in $(( $(date +%s) - start ))s -> $dest"
}

# Upstream's build tags (Makefile.core.mk): istiod with the faster vtprotobuf
# marshalling; the agent without the istiod-only code paths.
if [[ ! -x "$pd_bin" ]]; then
  build pilot-discovery "$pd_bin" "vtprotobuf,disable_pgv"
fi
if [[ ! -x "$pa_bin" ]]; then
  build pilot-agent "$pa_bin" "agent,disable_pgv,grpcnotrace,retrynotrace"
fi

emit
