#!/usr/bin/env bash
# npm's `prepack` / `postpack` hooks: every tarball `npm pack` (or `npm publish`) makes carries a stripped
# release build of the native addon, whatever the working tree held (`npm test` leaves a ~125 MB debug
# build there).
#   scripts/pack-addon.sh prepack    builds the release addon aside (target/pack/), checks that the
#                                    committed bindings are what that build generates, and swaps it in
#   scripts/pack-addon.sh postpack   puts the working tree's own build back
# Files are swapped by rename, never rewritten in place: processes that have the old addon loaded (a test
# run in progress) keep their copy.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
addon=spacetime-gateway.linux-x64-gnu.node
stage=target/pack
saved=$stage/worktree-$addon

fail() {
  printf 'pack-addon: error: %s\n' "$*" >&2
  exit 1
}

case "${1:-}" in
  prepack)
    command -v cargo >/dev/null || fail "cargo not found: packing builds the native addon (install Rust with rustup)"
    echo "pack-addon: building the release addon for the tarball" >&2
    rm -rf "$stage"
    mkdir -p "$stage"
    npx napi build --platform --release --output-dir "$stage" --js index.js --dts index.d.ts >&2
    for f in index.js index.d.ts; do
      cmp -s "$stage/$f" "$f" || fail "$f differs from what the release build generates: run npm run build and commit it"
    done
    [[ -f $addon ]] && mv -f "$addon" "$saved"
    mv -f "$stage/$addon" "$addon"
    ;;
  postpack)
    if [[ -f $saved ]]; then
      mv -f "$saved" "$addon"
    fi
    ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
