# shellcheck shell=bash
# The steps every script that builds pinned Go binaries into the edgeca binary
# cache runs (ensure-binaries.sh, ensure-istio.sh, ensure-tools.sh source it):
# one cache root, one lock, the same progress lines and the same failure step
# names (toolchain, download, compile, link, verify), so a reader of CI logs sees
# one format.
#
# The cache root is $EDGECA_BIN_DIR, else $XDG_CACHE_HOME/edgeca/bin, else
# ~/.cache/edgeca/bin. EDGECA_BIN_DIR moves only this cache: the Go build and
# module caches stay where `go env GOCACHE GOMODCACHE` says (XDG_CACHE_HOME
# moves GOCACHE too), so a build into a fresh EDGECA_BIN_DIR mostly links.
#
# Source it, then call: gobuild_init (once), gobuild_lock (before building),
# gobuild_build <name> <version> <module dir> <dest> <ldflags> <package> <tags> <verify args...>
# Set gobuild_first_build after gobuild_init to say what a first build costs
# (default "several minutes"; the "building …" line quotes it).

GOBUILD_BIN_ROOT="${EDGECA_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/edgeca/bin}"

log() { printf '[edgeca testenv] %s\n' "$*" >&2; }

fail() { # step logfile
  log "FAILED step=$1 (log: $2); last lines:"
  tail -n 40 "$2" >&2 || true
  exit 1
}

# Checks the toolchain and fixes the Go environment: never fetch another Go
# toolchain (no network for that); modules come through the module proxy; the
# committed go.sum is read, never edited; static binaries.
gobuild_init() { # <minimum Go version> [<what it builds>], both for the message
  if ! command -v go >/dev/null 2>&1; then
    log "FAILED step=toolchain: 'go' is not on PATH; Go >= $1 is needed${2:+ to build $2}"
    exit 1
  fi
  if ! command -v flock >/dev/null 2>&1; then
    log "FAILED step=toolchain: 'flock' (util-linux) is not on PATH"
    exit 1
  fi
  export GOTOOLCHAIN=local
  export GOFLAGS="-mod=readonly -buildvcs=false"
  export CGO_ENABLED=0
  gobuild_pid=""
  gobuild_first_build="several minutes"
  # A build running in the background must not outlive the script (e.g. Ctrl-C during a first build).
  trap 'if [[ -n "$gobuild_pid" ]]; then kill "$gobuild_pid" 2>/dev/null || true; fi' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# One builder at a time on this machine, whichever script it is (2 cores).
gobuild_lock() {
  mkdir -p "$GOBUILD_BIN_ROOT"
  exec 9>"$GOBUILD_BIN_ROOT/.build.lock"
  if ! flock -n 9; then
    log "another process is building binaries; waiting for it (lock $GOBUILD_BIN_ROOT/.build.lock)"
    flock 9
  fi
}

# Builds <package> of the module in <module dir> to <dest>; the binary is moved
# into place only after it built and `<dest> <verify args...>` succeeded.
gobuild_build() {
  local name=$1 version=$2 dir=$3 dest=$4 ldflags=$5 pkg=$6 tags=$7
  shift 7
  local destdir logf tmp start total before pid ticks=0 ok=1
  destdir="$(dirname "$dest")"
  mkdir -p "$destdir"
  logf="$destdir/build.log"
  : >"$logf"
  start=$(date +%s)
  log "building $name $version from source: the first build takes $gobuild_first_build on 2 cores; later runs reuse $dest"
  log "step download: fetching Go modules for $name"
  if ! (cd "$dir" && go mod download -x) >>"$logf" 2>&1; then fail download "$logf"; fi
  total=$(cd "$dir" && go list -tags "$tags" -deps "$pkg" 2>/dev/null | wc -l) || total="?"
  log "step compile+link: go build $name, $total packages (full log: $logf)"
  # We hold the lock: any temporary file left is from an interrupted build.
  rm -f "$destdir/.$name.tmp."*
  tmp="$destdir/.$name.tmp.$$"
  before=$(wc -l <"$logf")
  go -C "$dir" build -v -trimpath -tags "$tags" -ldflags="-s -w $ldflags" -o "$tmp" "$pkg" >>"$logf" 2>&1 &
  pid=$!
  gobuild_pid=$pid
  # `go build -v` names each package as it compiles it: report the count every 20 s so a long
  # first build visibly moves (cached packages are not named, so the count may stay below the total).
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    ticks=$((ticks + 1))
    if (( ticks % 20 == 0 )); then
      log "  $name: $(( $(wc -l <"$logf") - before )) of $total packages compiled (others cached or to come), $(( $(date +%s) - start ))s so far"
    fi
  done
  wait "$pid" || ok=0
  gobuild_pid=""
  if (( ok == 0 )); then
    rm -f "$tmp"
    # The linker reports through the "link" tool; anything else failed earlier.
    if grep -Eq '(^|/)link: |^/[^ ]*/link:|signal: killed.*link' "$logf"; then fail link "$logf"; fi
    fail compile "$logf"
  fi
  log "step verify: $name $*"
  if ! "$tmp" "$@" >>"$logf" 2>&1; then rm -f "$tmp"; fail verify "$logf"; fi
  mv -f "$tmp" "$dest"
  log "built $name $version in $(( $(date +%s) - start ))s -> $dest"
}
