#!/usr/bin/env bash
# Runs a command against a fresh local SpacetimeDB with the reference module published, then stops the
# server (also when the command fails). The command sees SPACETIMEDB_URL, SPACETIMEDB_DB and the rest of
# the facts `scripts/spacetimedb.sh up` prints; with --with-cookbook also the cookbook module's database
# (SPACETIMEDB_COOKBOOK_DB, …).
#   scripts/with-spacetimedb.sh [--release] [--with-cookbook] -- <command> [args…]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
setup_args=()
up_args=()
while [[ ${1:-} == --release || ${1:-} == --with-cookbook ]]; do
  if [[ $1 == --release ]]; then setup_args=(--release); else up_args=(--with-cookbook); fi
  shift
done
[[ ${1:-} == -- ]] && shift
[[ $# -gt 0 ]] || { echo "usage: $0 [--release] [--with-cookbook] -- <command> [args…]" >&2; exit 2; }

bash scripts/setup.sh "${setup_args[@]}"
env_file="$root/.spacetimedb/run-$$.env"
trap 'bash scripts/spacetimedb.sh down "$env_file" >/dev/null 2>&1 || true' EXIT
bash scripts/spacetimedb.sh up --env-out "$env_file" "${up_args[@]}" >/dev/null
set -a
# shellcheck disable=SC1090
source "$env_file"
set +a
"$@"
