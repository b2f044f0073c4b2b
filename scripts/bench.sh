#!/usr/bin/env bash
# `npm run bench [-- --quick] [-- --only fanout,decode,tokens,pool,resume,snapshot-storm,framework-sse,replicas-storm]`: the benchmark suite.
# Installs the baselines' own dependencies (bench/baselines: the official SDK), builds the release addon,
# starts a fresh local SpacetimeDB with the reference module, runs bench/run.mjs and stops the server.
# Needs ~20,000 open files for the 10,000-client fan-out (one process holds the clients, another the
# gateway's sockets).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

want=$(sha256sum bench/baselines/package-lock.json | cut -c1-16)
stamp=bench/baselines/node_modules/.bench-lock
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "bench: installing the baselines' dependencies" >&2
  bash bench/baselines/install.sh >&2
  echo "$want" >"$stamp"
fi
# Raise the soft limit as far as the hard one allows; say so when that is too low for 10,000 clients.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt 10100 ]]; then
  echo "bench: ulimit -n is $(ulimit -n); the 10,000-client fan-out needs about 10,100 (use --quick)" >&2
fi
exec bash scripts/with-spacetimedb.sh --release -- node bench/run.mjs "$@"
