# shellcheck shell=bash
# Shared by the set-up scripts: the per-machine cache outside the clone, a lock against parallel
# installs, and Debian packages installed on demand (as root, or with sudo).

SG_CACHE_DIR=${SPACETIME_GATEWAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spacetime-gateway}

# Runs "$@" while holding an exclusive lock on file $1 (two installs on one machine never run at once).
sg_locked() {
  local lock=$1
  shift
  mkdir -p "$(dirname "$lock")"
  (
    flock 9
    "$@"
  ) 9>"$lock"
}

# Installs Debian packages "$@" unless all are installed already; $SG_LOG_PREFIX names the caller in
# messages. Serialised by a lock (dpkg allows one installer at a time).
sg_apt_install() {
  dpkg -s "$@" >/dev/null 2>&1 && return 0
  sg_locked "$SG_CACHE_DIR/apt.lock" _sg_apt_install "$@"
}

_sg_apt_install() {
  dpkg -s "$@" >/dev/null 2>&1 && return 0 # installed by another process while we waited for the lock
  local who=${SG_LOG_PREFIX:-setup} sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { printf '%s: error: installing %s needs root (or sudo)\n' "$who" "$*" >&2; exit 1; }
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null ||
    { printf '%s: error: apt-get not found: install %s (Debian 12 names) by hand\n' "$who" "$*" >&2; exit 1; }
  printf '%s: installing from Debian: %s\n' "$who" "$*" >&2
  # An unreachable third-party apt source must not stop the install; the packages come from Debian.
  "${sudo[@]}" apt-get update >&2 || printf '%s: apt-get update reported errors; trying the install anyway\n' "$who" >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "$@" >&2 ||
    { printf '%s: error: could not install %s from Debian\n' "$who" "$*" >&2; exit 1; }
}

# Installs the npm package "$2" (name@version) into directory $1 (as $1/node_modules/<name>), all or
# nothing: a half-finished install never looks finished. Run it under sg_locked.
sg_npm_install_into() {
  local dir=$1 spec=$2 tmp="$1.tmp-$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # A package.json of its own, so npm does not climb into an enclosing project.
  echo '{"private":true}' >"$tmp/package.json"
  if ! npm install --prefix "$tmp" --no-audit --no-fund --no-save "$spec" >&2; then
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$dir"
  mv "$tmp" "$dir"
}
