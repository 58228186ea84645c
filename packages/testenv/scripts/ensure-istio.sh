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
# (toolchain, download, compile, link, verify) and the tail of its log. The
# build steps are lib/go-build.sh's, shared with ensure-binaries.sh.
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
# shellcheck source=lib/go-build.sh
source "$here/lib/go-build.sh"
pd_bin="$GOBUILD_BIN_ROOT/pilot-discovery-$ISTIO_MODULE/pilot-discovery"
pa_bin="$GOBUILD_BIN_ROOT/pilot-agent-$ISTIO_MODULE/pilot-agent"

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

gobuild_init 1.26 "istiod and pilot-agent"
gobuild_first_build="about 15 min"
gobuild_lock

# Upstream's common/scripts/report_build_info.sh stamps these; `version` prints them.
vflags=""
for kv in buildVersion=$ISTIO_RELEASE buildGitRevision=$ISTIO_COMMIT buildStatus=Clean buildTag=$ISTIO_MODULE; do
  vflags+=" -X istio.io/istio/pkg/version.$kv"
done

# Upstream's build tags (Makefile.core.mk): istiod with the faster vtprotobuf
# marshalling; the agent without the istiod-only code paths.
if [[ ! -x "$pd_bin" ]]; then
  gobuild_build pilot-discovery "(istio.io/istio $ISTIO_MODULE)" "$gosrc" "$pd_bin" "$vflags" ./pilot-discovery "vtprotobuf,disable_pgv" version -s
fi
if [[ ! -x "$pa_bin" ]]; then
  gobuild_build pilot-agent "(istio.io/istio $ISTIO_MODULE)" "$gosrc" "$pa_bin" "$vflags" ./pilot-agent "agent,disable_pgv,grpcnotrace,retrynotrace" version -s
fi

emit
