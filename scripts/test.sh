#!/usr/bin/env bash
# `npm test`: Rust unit tests, then the vitest suites against a real local SpacetimeDB that this script
# starts (scripts/spacetimedb.sh up) and always stops again, also when a test fails.
#   npm test [-- vitest args]      e.g. npm test -- __test__/server.test.mjs
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/setup.sh

if [[ ${SPACETIME_GATEWAY_CHECK_GENERATED:-} == 1 ]]; then
  # On a clean clone the build must reproduce the committed bindings exactly.
  git diff --exit-code -- index.js index.d.ts ||
    { echo "test: index.js / index.d.ts differ from the generated bindings: run npm run build and commit them" >&2; exit 1; }
fi

echo "test: cargo test" >&2
cargo test --locked --quiet

env_file="$root/.spacetimedb/test-$$.env"
cleanup() { bash scripts/spacetimedb.sh down "$env_file" || true; }
trap cleanup EXIT
bash scripts/spacetimedb.sh up --env-out "$env_file" --with-cookbook >/dev/null
set -a
# shellcheck disable=SC1090
source "$env_file"
set +a
echo "test: SpacetimeDB at $SPACETIMEDB_URL, database $SPACETIMEDB_DB" >&2

npx vitest run "$@"
