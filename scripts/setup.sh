#!/usr/bin/env bash
# Installs the npm dependencies (when package-lock.json changed) and builds the native addon.
#   scripts/setup.sh [--release]     (default: a debug build, faster to compile; benchmarks use --release)
#   scripts/setup.sh --deps-only     only the npm dependencies (e.g. for `npm pack`, which builds its own)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

need() { command -v "$1" >/dev/null || { echo "setup: $1 not found: $2" >&2; exit 1; }; }
need node "install Node.js 20 or newer"
need npm "install npm (it comes with Node.js)"
need cargo "install Rust with rustup (https://rustup.rs)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  { echo "setup: Node.js $(node -v) is too old; spacetime-gateway needs Node.js 20 or newer" >&2; exit 1; }

stamp=node_modules/.spacetime-gateway-lock
want=$(sha256sum package-lock.json | cut -c1-16)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "setup: installing npm dependencies" >&2
  npm ci --no-audit --no-fund >&2
  echo "$want" >"$stamp"
fi

[[ ${1:-} == --deps-only ]] && exit 0

profile=()
[[ ${1:-} == --release ]] && profile=(--release)
echo "setup: building the native addon${profile:+ (release)}" >&2
npx napi build --platform "${profile[@]}" --js index.js --dts index.d.ts >&2
