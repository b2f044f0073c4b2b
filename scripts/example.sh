#!/usr/bin/env bash
# Runs an example app (examples/<dir>) with everything it needs, on free 127.0.0.1 ports.
#
#   scripts/example.sh <app> up [--env-out FILE]
#       Builds the app (cached by its inputs: sources, lockfile, the spacetime-gateway tarball, Node),
#       starts SpacetimeDB with the reference module, PostgreSQL and the app on Node 24, performs the
#       deploy-time steps (signing key, trust_gateway) and prints APP_URL=…, SPACETIMEDB_URL=…,
#       SPACETIMEDB_DB=… and more facts (also written to FILE, default .examples/<app>.env).
#       Variables APP_* of the caller's environment reach the app (e.g. APP_WRITE_RATE_LIMIT=20/60).
#   scripts/example.sh <app> down [ENV_FILE]
#       Stops exactly what that `up` started and removes its data.
#   scripts/example.sh <app> build
#       Only builds (or finds the cached build); prints the server entry.
#   scripts/example.sh <app> check
#       Type-checks the app's sources against the installed packages (tsc --noEmit).
#
# <app>: tanstack (examples/tanstack-start) or analog (examples/analog). Both use the server code of
# examples/shared: the work dir lays the app out beside it, as in the repository (see prepare()).
# The tarball is $SPACETIME_GATEWAY_TARBALL, else `npm pack`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=lib/cache.sh
source "$root/scripts/lib/cache.sh"

log() { printf 'example.sh: %s\n' "$*" >&2; }
fail() {
  printf 'example.sh: error: %s\n' "$*" >&2
  exit 1
}
usage() {
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

app=${1:-}
cmd=${2:-}
[[ -n $app && -n $cmd ]] || usage
shift 2
case $app in
  tanstack) app_dir=examples/tanstack-start entry_rel=.output/server/index.mjs output_rel=.output ;;
  analog) app_dir=examples/analog entry_rel=dist/analog/server/index.mjs output_rel=dist ;;
  *) fail "unknown app $app (known: tanstack, analog)" ;;
esac
default_env="$root/.examples/$app.env"
node24=$(bash scripts/node.sh)

tarball() {
  if [[ -n ${SPACETIME_GATEWAY_TARBALL:-} ]]; then
    [[ -f $SPACETIME_GATEWAY_TARBALL ]] || fail "SPACETIME_GATEWAY_TARBALL=$SPACETIME_GATEWAY_TARBALL does not exist"
    realpath "$SPACETIME_GATEWAY_TARBALL"
    return
  fi
  log "npm pack (a release build of the addon)"
  bash scripts/setup.sh --deps-only
  mkdir -p .pack
  local name
  name=$(npm pack --silent --pack-destination .pack | tail -n1)
  printf '%s\n' "$root/.pack/$name"
}

# Everything the build depends on, hashed: the app's files and the shared ones (not what builds produce),
# the tarball, Node.
build_key() {
  local tgz=$1
  {
    (cd examples && find "${app_dir#examples/}" shared \( -name node_modules -o -name .output -o -name .tanstack -o -name .nitro -o -name dist -o -name .angular \) -prune -o \
      -type f ! -name routeTree.gen.ts ! -name .env ! -name '*.md' -print | LC_ALL=C sort | xargs sha256sum)
    sha256sum <"$tgz"
    "$node24/node" --version
  } | sha256sum | cut -c1-16
}

# The app's sources with its dependencies installed (and spacetime-gateway from the tarball), in $work,
# laid out as in the repository: examples/shared beside the app (the app imports it as ../../../shared/…),
# and a node_modules link above both, so the shared files resolve their packages (zod, better-auth, pg,
# spacetime-gateway) from the app's own node_modules, as the app's files do.
layout="$root/.pack/examples/$app"
work="$layout/$(basename "$app_dir")"
prepare() {
  bash scripts/fixture.sh "$app_dir" "$1" "$work" >/dev/null
  rm -rf "$layout/shared"
  cp -R examples/shared "$layout/shared"
  [[ -L $layout/node_modules || ! -e $layout/node_modules ]] || rm -rf "$layout/node_modules" # an older layout's
  ln -sfn "$(basename "$app_dir")/node_modules" "$layout/node_modules"
}

vite_build() {
  # NODE_ENV=production: a test runner's NODE_ENV=test would emit development JSX (docs/frameworks.md).
  (cd "$work" && env -u CI -u TEST -u VITEST NODE_ENV=production PATH="$node24:$PATH" node node_modules/vite/bin/vite.js build >"$work.build.log" 2>&1) ||
    { tail -n 40 "$work.build.log" >&2; fail "vite build failed (log: $work.build.log)"; }
  # An Angular component left uncompiled (its @Component decorator instead of ɵcmp) builds without an error
  # and fails at run time with "JIT compiler unavailable" (analogjs/analog#2103; examples/analog/vite.config.ts).
  if [[ $app == analog ]] && grep -l '__decorate(\[Component' "$work"/dist/ssr/assets/*.js "$work"/dist/ssr/*.js >&2 2>/dev/null; then
    fail "the Angular compiler left the components above uncompiled in the server bundle (log: $work.build.log)"
  fi
}

# Prints the cached build's server entry, building it first when the inputs changed. Builds of one app
# take turns (they share the work dir), and so do packs of this clone.
build() {
  local tgz key cache
  tgz=$(sg_locked "$root/.pack/pack.lock" tarball)
  key=$(build_key "$tgz")
  cache="$SG_CACHE_DIR/examples/$app-$key"
  [[ -f $cache/$entry_rel ]] || sg_locked "$SG_CACHE_DIR/examples/$app.lock" build_into "$cache" "$tgz"
  touch "$cache" # in use: the pruning below keeps the most recently used builds
  printf '%s\n' "$cache/$entry_rel"
}

build_into() {
  local cache=$1 tgz=$2
  [[ -f $cache/$entry_rel ]] && return 0 # built by another process while we waited for the lock
  log "building $app_dir (vite build on Node 24; cached in $cache)"
  prepare "$tgz"
  vite_build
  rm -rf "$cache.tmp-$$"
  mkdir -p "$cache.tmp-$$"
  mv "$work/$output_rel" "$cache.tmp-$$/"
  rm -rf "$cache"
  mv "$cache.tmp-$$" "$cache"
  # Keep the five most recently used builds of this app (an instance still running uses its own).
  ls -dt "$SG_CACHE_DIR/examples/$app"-* 2>/dev/null | grep -v '\.tmp-' | tail -n +6 | xargs -r rm -rf
}

up() {
  local env_out=$default_env
  while [[ $# -gt 0 ]]; do
    case $1 in
      --env-out) env_out=${2:?--env-out needs a FILE}; shift 2 ;;
      *) fail "unknown option $1 (usage: example.sh $app up [--env-out FILE])" ;;
    esac
  done
  local entry inst
  entry=$(build)
  mkdir -p "$root/.examples"
  inst=$(mktemp -d "$root/.examples/$app-XXXXXX")
  # From here on, a failure stops whatever was started.
  trap 'log "start-up failed; stopping what was started"; down_instance "$inst" >/dev/null 2>&1 || true' ERR
  # Always a server of its own: a SpacetimeDB named by the caller's environment (SPACETIMEDB_URL, e.g.
  # the test suite's) would get a database published into it.
  env $(compgen -e | grep '^SPACETIMEDB_' | sed 's/^/-u /') bash scripts/spacetimedb.sh up --env-out "$inst/spacetimedb.env" >/dev/null
  bash scripts/postgres.sh up --env-out "$inst/postgres.env" >/dev/null
  local port facts pid
  port=$("$node24/node" -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  facts=$("$node24/node" tools/examples/app.mjs setup "$inst" "$entry" "$port")
  log "starting the app on $(sed -n 's/^APP_URL=//p' <<<"$facts")"
  pid=$("$node24/node" tools/examples/app.mjs start "$inst")
  trap - ERR
  local db
  db=$(cat "$inst/spacetimedb.env")
  local env
  env="$facts
SPACETIMEDB_URL=$(sed -n 's/^SPACETIMEDB_URL=//p' <<<"$db")
SPACETIMEDB_DB=$(sed -n 's/^SPACETIMEDB_DB=//p' <<<"$db")
SPACETIMEDB_OWNER_TOKEN=$(sed -n 's/^SPACETIMEDB_OWNER_TOKEN=//p' <<<"$db")
SPACETIMEDB_PID=$(sed -n 's/^SPACETIMEDB_PID=//p' <<<"$db")
$(cat "$inst/postgres.env" | grep '^DATABASE_URL=')
$pid
EXAMPLE_APP=$app
EXAMPLE_INSTANCE=$inst"
  printf '%s\n' "$env" >"$inst/env"
  mkdir -p "$(dirname "$env_out")"
  printf '%s\n' "$env" >"$env_out"
  printf '%s\n' "$env"
}

down_instance() {
  local inst=$1
  "$node24/node" tools/examples/app.mjs stop "$inst" || true
  [[ -f $inst/spacetimedb.env ]] && bash scripts/spacetimedb.sh down "$inst/spacetimedb.env" || true
  [[ -f $inst/postgres.env ]] && bash scripts/postgres.sh down "$inst/postgres.env" || true
  rm -rf "$inst"
}

down() {
  local target=${1:-$default_env} inst
  if [[ ! -f $target ]]; then
    log "nothing to stop at $target"
    return 0
  fi
  inst=$(sed -n 's/^EXAMPLE_INSTANCE=//p' "$target")
  [[ -n $inst ]] || fail "$target names no EXAMPLE_INSTANCE"
  [[ $(dirname "$inst") == "$root/.examples" ]] || fail "$inst is not an instance of example.sh in this clone"
  if [[ -d $inst ]]; then
    down_instance "$inst"
    log "stopped $inst"
  else
    log "nothing to stop at $inst"
  fi
  rm -f "$target"
}

check() {
  sg_locked "$SG_CACHE_DIR/examples/$app.lock" check_locked "$(sg_locked "$root/.pack/pack.lock" tarball)"
}

check_locked() {
  prepare "$1"
  vite_build # the framework generates the route tree (src/routeTree.gen.ts) while it builds
  (cd "$work" && PATH="$node24:$PATH" npm run --silent typecheck) || fail "the type check of $app_dir failed (see above)"
  log "$app_dir type-checks"
}

case $cmd in
  up) up "$@" ;;
  down) down "$@" ;;
  build) build ;;
  check) check ;;
  *) usage ;;
esac
