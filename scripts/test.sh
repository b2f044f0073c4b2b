#!/usr/bin/env bash
# `npm test`: Rust unit tests, then the vitest suites against a real local SpacetimeDB that this script
# starts (scripts/spacetimedb.sh up) and always stops again, also when a test fails. The suites run
# twice: on the system Node.js (20, the oldest the package supports) and on Node 24 LTS
# (scripts/node.sh), what the framework apps need.
#   npm test [-- vitest args]      e.g. npm test -- __test__/server.test.mjs
#   SPACETIME_GATEWAY_TEST_NODE=system|24|all (default all): which Node.js runs the suites
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
pg_env="$root/.postgres/test-$$.env"
cleanup() {
  bash scripts/spacetimedb.sh down "$env_file" || true
  bash scripts/postgres.sh down "$pg_env" || true
}
trap cleanup EXIT
bash scripts/spacetimedb.sh up --env-out "$env_file" --with-cookbook >/dev/null
bash scripts/postgres.sh up --env-out "$pg_env" >/dev/null
set -a
# shellcheck disable=SC1090
source "$env_file"
# shellcheck disable=SC1090
source "$pg_env"
set +a
echo "test: SpacetimeDB at $SPACETIMEDB_URL, database $SPACETIMEDB_DB; PostgreSQL at $DATABASE_URL" >&2

# The tarball users get (npm pack runs the prepack hook: a stripped release build), for the pack test
# and the framework fixture. SPACETIME_GATEWAY_TARBALL=<file> reuses one.
if [[ -z ${SPACETIME_GATEWAY_TARBALL:-} ]]; then
  echo "test: npm pack (release build of the addon)" >&2
  mkdir -p .pack
  tarball=$(npm pack --silent --pack-destination .pack | tail -n1)
  export SPACETIME_GATEWAY_TARBALL="$root/.pack/$tarball"
fi
# A real browser for the framework fixture: CHROMIUM=… PLAYWRIGHT_CORE=…
browser_env="$root/.pack/browser.env"
bash scripts/browser.sh --env-out "$browser_env" >/dev/null
set -a
# shellcheck disable=SC1090
source "$browser_env"
set +a

# nginx (Debian's package) for the replicas suite, and Node 24 for the stand-in identity providers
# (scripts/oidc.sh) and the second run, installed now rather than inside a test's hook.
bash scripts/replicas.sh install
bash scripts/node.sh >/dev/null

vitest=(node_modules/vitest/vitest.mjs run)
case ${SPACETIME_GATEWAY_TEST_NODE:-all} in
  system) node "${vitest[@]}" "$@" ;;
  24) bash scripts/node.sh -- node "${vitest[@]}" "$@" ;;
  all)
    echo "test: vitest on Node $(node --version)" >&2
    node "${vitest[@]}" "$@"
    echo "test: vitest on Node 24 (scripts/node.sh)" >&2
    bash scripts/node.sh -- node "${vitest[@]}" "$@"
    ;;
  *) echo "test: SPACETIME_GATEWAY_TEST_NODE must be system, 24 or all" >&2; exit 2 ;;
esac
