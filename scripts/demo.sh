#!/usr/bin/env bash
# `npm run demo`: starts a local SpacetimeDB with the reference module (building what is missing), runs
# examples/demo.mjs against it, and stops the server again.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh --release
env_file="$root/.spacetimedb/demo-$$.env"
trap 'bash scripts/spacetimedb.sh down "$env_file" >/dev/null 2>&1 || true' EXIT
bash scripts/spacetimedb.sh up --env-out "$env_file" >/dev/null
set -a
# shellcheck disable=SC1090
source "$env_file"
set +a
node examples/demo.mjs "$@"
