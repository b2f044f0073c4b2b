#!/usr/bin/env bash
# Prepares a framework app (a fixture, __test__/fixtures/<name>, or an example, examples/<name>: an app
# with its own package-lock.json) to build and run the way a user's app would: its dependencies installed
# on Node 24 with `npm ci` (cached outside the clone by the lockfile's hash, so a run costs a copy, not an
# install), and spacetime-gateway installed from the packed tarball, as `npm install <tarball>` does it.
#
#   scripts/fixture.sh <name|path> <tarball> <work-dir>
#       Copies the app's sources into <work-dir> (emptied first) and installs what it needs there. A
#       <name> is a fixture; a path with a `/` (e.g. examples/tanstack-start) is relative to the clone.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/cache.sh
source "$root/scripts/lib/cache.sh"

fail() {
  printf 'fixture.sh: error: %s\n' "$*" >&2
  exit 1
}
[[ $# -eq 3 ]] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
name=$1 tarball=$2 work=$3
if [[ $name == */* ]]; then
  src="$root/$name"
  name=${name//\//-} # examples/tanstack-start caches as examples-tanstack-start
else
  src="$root/__test__/fixtures/$name"
fi
[[ -f $src/package-lock.json ]] || fail "no app at $src (expected $src/package-lock.json)"
[[ -f $tarball ]] || fail "no tarball at $tarball (npm pack makes one)"
tarball=$(realpath "$tarball")
work=$(realpath -m "$work")
node24=$(bash "$root/scripts/node.sh")

# The installed tree depends on the lockfile and on the Node that ran the install.
key=$( (cat "$src/package-lock.json"; "$node24/node" --version) | sha256sum | cut -c1-16)
cached="$SG_CACHE_DIR/fixtures/$name-$key"

install_deps() {
  [[ -d $cached/node_modules ]] && return 0 # installed by another process while we waited for the lock
  printf 'fixture.sh: installing the dependencies of %s (npm ci on Node 24, cached in %s)\n' "$name" "$cached" >&2
  local tmp="$cached.tmp-$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp "$src/package.json" "$src/package-lock.json" "$tmp/"
  (cd "$tmp" && PATH="$node24:$PATH" npm ci --no-audit --no-fund >&2) || { rm -rf "$tmp"; fail "npm ci failed for $name"; }
  rm -rf "$cached"
  mv "$tmp" "$cached"
}
[[ -d $cached/node_modules ]] || sg_locked "$SG_CACHE_DIR/fixtures/$name.lock" install_deps

# A work dir prepared from the same lockfile and tarball keeps its node_modules: only the sources are
# copied again (a fresh copy of node_modules costs seconds to tens of seconds of disk time).
stamp="$key-$(sha256sum <"$tarball" | cut -c1-16)"
if [[ -f $work/.fixture-stamp && $(cat "$work/.fixture-stamp") == "$stamp" && -d $work/node_modules ]]; then
  find "$work" -mindepth 1 -maxdepth 1 ! -name node_modules ! -name .fixture-stamp -exec rm -rf {} +
  fresh=
else
  rm -rf "$work"
  mkdir -p "$work"
  fresh=1
fi
(cd "$src" && tar --exclude=node_modules --exclude=.output --exclude=.tanstack --exclude=.nitro --exclude=routeTree.gen.ts --exclude=.env -cf - .) | (cd "$work" && tar -xf -)
if [[ -n $fresh ]]; then
  cp -a --reflink=auto "$cached/node_modules" "$work/node_modules"
  # What `npm install <tarball>` adds to a tree: the package (it has no dependencies of its own).
  (cd "$work" && PATH="$node24:$PATH" npm install --no-save --offline --no-audit --no-fund "$tarball" >&2) ||
    fail "could not install $tarball into the $name fixture"
  printf '%s\n' "$stamp" >"$work/.fixture-stamp"
fi
printf '%s\n' "$work"
