#!/usr/bin/env bash
# Local SpacetimeDB for spacetime-gateway's tests, examples and benchmarks.
#
#   scripts/spacetimedb.sh up [--env-out FILE|none] [--database NAME] [--port PORT] [--with-cookbook]
#       Builds (first time only; cached outside the clone) SpacetimeDB 1.3.0 and the reference module,
#       starts a server on a free 127.0.0.1 port with a fresh data dir and its own JWT key files,
#       publishes the module and prints SPACETIMEDB_URL=… and SPACETIMEDB_DB=… lines (also written to
#       FILE, default .spacetimedb/env; the flag is not --env-file because Node 20 claims that one). With SPACETIMEDB_URL already set (your own `spacetime start`)
#       it only publishes there. --with-cookbook also builds examples/cookbook-module and publishes it
#       into its own database on the same server (SPACETIMEDB_COOKBOOK_DB, _OWNER_TOKEN, …).
#   scripts/spacetimedb.sh down [INSTANCE_DIR|ENV_FILE] | --all
#       Stops exactly the server that `up` started (by pid) and removes its data. Without an argument:
#       the newest instance of this clone still live, so `up; up; down; down` leaves nothing running.
#   scripts/spacetimedb.sh build
#       Only builds/caches the server and the module; prints their paths.
#   scripts/spacetimedb.sh module [DIR]
#       Builds a module (default: examples/module) and prints the path of its wasm.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../tools/spacetimedb-dev/build.sh
source "$root/tools/spacetimedb-dev/build.sh"
instance() { node "$root/tools/spacetimedb-dev/instance.mjs" "$@"; }

cmd=${1:-}
shift || true
case "$cmd" in
  up)
    module=$(build_module)
    args=()
    for arg in "$@"; do
      if [[ $arg == --with-cookbook ]]; then
        args+=(--also "COOKBOOK=$(build_module "$root/examples/cookbook-module")")
      else
        args+=("$arg")
      fi
    done
    if [[ -n ${SPACETIMEDB_URL:-} ]]; then
      instance up --module "$module" "${args[@]}"
    else
      server=$(ensure_server)
      instance up --server "$server" --module "$module" "${args[@]}"
    fi
    ;;
  down) instance down "$@" ;;
  build)
    printf 'SPACETIMEDB_SERVER_BIN=%s\n' "$(ensure_server)"
    printf 'SPACETIMEDB_MODULE=%s\n' "$(build_module)"
    ;;
  module) build_module "${1:-}" ;;
  server) ensure_server ;;
  *)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
