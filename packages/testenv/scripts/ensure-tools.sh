#!/usr/bin/env bash
# Builds (once) and prints the paths of the real helm and promtool used by the
# chart and monitoring tests (apps/shim/test/e2e/helm*.test.ts, monitoring*.test.ts).
# Each is built from its own Go module in ../go/<name> (a `tool` directive pins
# the upstream module; go.sum is committed) and cached beside etcd and
# kube-apiserver, keyed by version, under the same build lock:
#   ${EDGECA_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/edgeca/bin}/<name>-<version>/<name>
#
# Usage: ensure-tools.sh [helm] [promtool]   (no argument: both)
# stdout: one line per tool asked for, HELM=<path> and/or PROMTOOL=<path>.
# stderr: progress. Exit status non-zero on failure, with the failed step
# (toolchain, download, compile, link, verify) and the tail of its log.
set -euo pipefail

HELM_VERSION=v4.3.2
PROMETHEUS_MODULE=v0.316.0 # the Go module version of Prometheus v3.16.0
PROMETHEUS_RELEASE=3.16.0

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
gosrc="$(cd "$here/../go" && pwd)"
# shellcheck source=lib/go-build.sh
source "$here/lib/go-build.sh"
helm_bin="$GOBUILD_BIN_ROOT/helm-$HELM_VERSION/helm"
promtool_bin="$GOBUILD_BIN_ROOT/promtool-$PROMETHEUS_MODULE/promtool"

want_helm=0
want_promtool=0
if (( $# == 0 )); then set -- helm promtool; fi
for tool in "$@"; do
  case "$tool" in
    helm) want_helm=1 ;;
    promtool) want_promtool=1 ;;
    *) log "FAILED step=usage: unknown tool \"$tool\"; known: helm, promtool"; exit 2 ;;
  esac
done

emit() {
  if (( want_helm )); then printf 'HELM=%s\n' "$helm_bin"; fi
  if (( want_promtool )); then printf 'PROMTOOL=%s\n' "$promtool_bin"; fi
}

missing() { { (( want_helm )) && [[ ! -x "$helm_bin" ]]; } || { (( want_promtool )) && [[ ! -x "$promtool_bin" ]]; }; }

# Fast path without the lock: binaries are only ever renamed into place complete.
if ! missing; then
  emit
  exit 0
fi

gobuild_init 1.26.7
gobuild_lock

# Upstream's Makefile stamps the version (helm version prints it).
if (( want_helm )) && [[ ! -x "$helm_bin" ]]; then
  gobuild_build helm "$HELM_VERSION" "$gosrc/helm" "$helm_bin" \
    "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
    helm.sh/helm/v4/cmd/helm "" version --short
fi

# Upstream's .promu.yml stamps these (promtool --version prints them). Its
# builtinassets tag only embeds the web UI, which promtool does not serve.
# remove_all_sd drops the service-discovery plugins (cloud SDKs, client-go …):
# only `check config` of scrape configs needs them, never the rule and metric
# checks the tests run; 1,117 packages to compile instead of 1,364.
if (( want_promtool )) && [[ ! -x "$promtool_bin" ]]; then
  pv=github.com/prometheus/common/version
  gobuild_build promtool "$PROMETHEUS_MODULE" "$gosrc/promtool" "$promtool_bin" \
    "-X $pv.Version=$PROMETHEUS_RELEASE -X $pv.Revision=$PROMETHEUS_MODULE -X $pv.Branch=HEAD -X $pv.BuildUser=edgeca -X $pv.BuildDate=19700101-00:00:00" \
    github.com/prometheus/prometheus/cmd/promtool remove_all_sd --version
fi

emit
