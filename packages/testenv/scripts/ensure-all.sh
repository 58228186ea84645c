#!/usr/bin/env bash
# Builds (once) every upstream binary the test suite runs, one after another, before any test starts:
# etcd and kube-apiserver, kube-controller-manager (bench e2e's peer), istiod and pilot-agent (the real-Istio
# tests and the demo), helm and promtool (the chart and monitoring tests). Each script caches by version in
# ${EDGECA_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/edgeca/bin} and is a fast no-op when its binaries exist.
# Building here, rather than in the first test that needs a binary, keeps each test's own time bounded
# and shows one progress stream. stdout: the NAME=<path> lines of every script; stderr: progress.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
start=$(date +%s)
EDGECA_WITH="${EDGECA_WITH:+$EDGECA_WITH,}kube-controller-manager" bash "$here/ensure-binaries.sh"
bash "$here/ensure-istio.sh"
bash "$here/ensure-tools.sh"
printf '[edgeca testenv] every binary the tests need is in place (%ss)\n' "$(( $(date +%s) - start ))" >&2
