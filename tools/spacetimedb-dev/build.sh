# shellcheck shell=bash
# Builds (once per machine) what the project's tests need from SpacetimeDB, and caches it outside the clone:
#   - the SpacetimeDB standalone server 1.3.0, from crates.io (~12 min cold on 2 cores);
#   - the wasm toolchain, from Debian packages (a fresh machine cannot `rustup target add`);
#   - the reference module (examples/module), compiled to wasm.
# Sourced by scripts/spacetimedb.sh; every function prints progress on stderr and its result on stdout.

STDB_VERSION=1.3.0
STDB_DEV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lib/cache.sh
source "$STDB_DEV_DIR/../../scripts/lib/cache.sh"
STDB_CACHE_DIR=$SG_CACHE_DIR
# Debian's toolchain for wasm32-unknown-unknown (see ensure_wasm_toolchain).
WASM_RUSTC=/usr/bin/rustc
WASM_CARGO=/usr/bin/cargo
WASM_LINKER=/usr/lib/llvm-22/bin/wasm-ld
WASM_PACKAGES=(rustc-web cargo-web rust-web-src lld-22)

stdb_log() { printf 'spacetimedb-dev: %s\n' "$*" >&2; }
stdb_fail() {
  printf 'spacetimedb-dev: error: %s\n' "$*" >&2
  exit 1
}

# A short, stable hash of the given files' contents and names.
stdb_hash_files() {
  (cd "$STDB_DEV_DIR/../.." && sha256sum "$@") | sha256sum | cut -c1-16
}

# Runs "$@" while holding an exclusive lock on $1 (so two `up`s on one machine never build at once).
stdb_locked() { sg_locked "$@"; }

# Prints the path of the cached server binary, building it first if needed.
ensure_server() {
  local inputs key bin
  inputs=$(cd "$STDB_DEV_DIR/../.." && find tools/spacetimedb-dev/server tools/spacetimedb-dev/v8-standin \
    -type f \( -name '*.rs' -o -name 'Cargo.toml' -o -name 'Cargo.lock' \) -not -path '*/target/*' | sort)
  # shellcheck disable=SC2086
  key=$(stdb_hash_files $inputs)
  bin="$STDB_CACHE_DIR/server/spacetimedb-standalone-$STDB_VERSION-$key/spacetimedb-standalone"
  if [[ ! -x $bin ]]; then
    stdb_locked "$STDB_CACHE_DIR/server.lock" _build_server "$bin"
  fi
  printf '%s\n' "$bin"
}

_build_server() {
  local bin=$1 target="$STDB_CACHE_DIR/target-server" log
  [[ -x $bin ]] && return 0 # another process built it while we waited for the lock
  command -v cargo >/dev/null || stdb_fail "cargo not found: install Rust (rustup) to build the local SpacetimeDB server"
  for tool in gcc g++ make perl; do
    command -v "$tool" >/dev/null || stdb_fail "$tool not found: building SpacetimeDB $STDB_VERSION needs gcc, g++, make and perl"
  done
  log="$STDB_CACHE_DIR/server-build.log"
  stdb_log "building SpacetimeDB standalone $STDB_VERSION from crates.io (first run on this machine: ~12 min on 2 cores; log: $log)"
  local start=$SECONDS
  if ! (cd "$STDB_DEV_DIR/server" && CARGO_TARGET_DIR=$target cargo build --release --locked) >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    stdb_fail "building SpacetimeDB $STDB_VERSION failed (full log: $log)"
  fi
  mkdir -p "$(dirname "$bin")"
  cp "$target/release/spacetimedb-standalone" "$bin.tmp"
  strip "$bin.tmp" 2>/dev/null || true
  mv "$bin.tmp" "$bin"
  stdb_log "built SpacetimeDB $STDB_VERSION in $((SECONDS - start)) s: $bin"
}

# Installs Debian's wasm-capable Rust toolchain when it is missing. rustup cannot add the wasm32 target
# on a machine that only reaches package registries, but Debian's rustc-web ships the std sources.
ensure_wasm_toolchain() {
  if [[ -x $WASM_RUSTC && -x $WASM_CARGO && -x $WASM_LINKER ]] && dpkg -s rust-web-src >/dev/null 2>&1; then
    return 0
  fi
  SG_LOG_PREFIX=spacetimedb-dev sg_apt_install "${WASM_PACKAGES[@]}"
}

# Prints the path of the compiled module in directory $1 (default: the reference module), building it
# if its sources changed.
build_module() {
  local dir=${1:-$STDB_DEV_DIR/../../examples/module} inputs key out
  dir=$(cd "$dir" && pwd)
  inputs=$(cd "$STDB_DEV_DIR/../.." && find "$dir" -type f \( -name '*.rs' -o -name 'Cargo.toml' -o -name 'Cargo.lock' \) -not -path '*/target/*' | sort)
  # shellcheck disable=SC2086
  key=$(stdb_hash_files $inputs)
  out="$STDB_CACHE_DIR/modules/$(basename "$dir")-$key.wasm"
  if [[ ! -f $out ]]; then
    ensure_wasm_toolchain
    stdb_locked "$STDB_CACHE_DIR/module.lock" _build_module "$dir" "$out"
  fi
  printf '%s\n' "$out"
}

_build_module() {
  local dir=$1 out=$2 target="$STDB_CACHE_DIR/target-module" log="$STDB_CACHE_DIR/module-build.log"
  [[ -f $out ]] && return 0
  stdb_log "building the module in $dir (wasm32, Debian toolchain)"
  # Debian's cargo must use Debian's rustc (RUSTC=; otherwise it picks rustup's from PATH), build std
  # itself (-Zbuild-std, allowed by RUSTC_BOOTSTRAP) and link with LLVM's wasm-ld.
  if ! (cd "$dir" && RUSTC_BOOTSTRAP=1 RUSTC=$WASM_RUSTC RUSTDOC=/usr/bin/rustdoc \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=$WASM_LINKER CARGO_TARGET_DIR=$target \
    "$WASM_CARGO" build --release --locked --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort) >"$log" 2>&1; then
    grep -E '^(error|warning)' -A12 "$log" | head -n 60 >&2
    stdb_fail "building the module in $dir failed (full log: $log)"
  fi
  local name
  name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$dir/Cargo.toml" | head -n1 | tr - _)
  mkdir -p "$(dirname "$out")"
  cp "$target/wasm32-unknown-unknown/release/$name.wasm" "$out.tmp"
  mv "$out.tmp" "$out"
  stdb_log "built $out"
}
