#!/usr/bin/env bash
# `npm run demo [-- --once]`: the whole pattern. Starts the TanStack Start example app with SpacetimeDB
# and PostgreSQL (scripts/example.sh tanstack up: builds what is missing), runs examples/demo.mjs against
# it on Node 24, and stops everything again when it ends (Ctrl-C, or at once with --once, whose exit
# status says whether every scripted check held).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh --deps-only # the demo's own dependencies (eventsource)
env_file="$root/.examples/demo-$$.env"
trap 'bash scripts/example.sh tanstack down "$env_file" >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT TERM
echo "demo: starting the example app, SpacetimeDB and PostgreSQL (the first run builds them)" >&2
bash scripts/example.sh tanstack up --env-out "$env_file" >/dev/null
set -a
# shellcheck disable=SC1090
source "$env_file"
set +a
bash scripts/node.sh -- node examples/demo.mjs "$@"
