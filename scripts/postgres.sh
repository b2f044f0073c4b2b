#!/usr/bin/env bash
# A private PostgreSQL cluster for the Better Auth suites and the example apps: Debian's binaries
# (`apt-get install postgresql` when missing), a fresh data directory, trust authentication, listening on
# a free 127.0.0.1 port only. Never touches the system's own cluster.
#
#   scripts/postgres.sh up [--env-out FILE|none]
#       Starts a cluster and prints DATABASE_URL=…, POSTGRES_PID=… and POSTGRES_INSTANCE=… lines (also
#       written to FILE, default .postgres/env). `up` twice gives two independent clusters.
#   scripts/postgres.sh down [ENV_FILE|INSTANCE_DIR]
#       Stops exactly the cluster that `up` started (by pid, checked against its data directory) and
#       removes its data.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/cache.sh
source "$root/scripts/lib/cache.sh"
# shellcheck source=lib/process.sh
source "$root/scripts/lib/process.sh"
default_env="$root/.postgres/env"

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
fail() {
  printf 'postgres.sh: error: %s\n' "$*" >&2
  exit 1
}

# Debian installs each major version under /usr/lib/postgresql/<major>/bin; the newest one wins.
pg_bin() {
  local dirs
  dirs=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V) || true
  [[ -n $dirs ]] && printf '%s\n' "${dirs##*$'\n'}"
}

# initdb and postgres refuse to run as root: as root, run them as the `postgres` user Debian creates.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

up() {
  local env_out=$default_env
  while [[ $# -gt 0 ]]; do
    case $1 in
      --env-out) env_out=${2:?--env-out needs FILE or none}; shift 2 ;;
      *) fail "unknown option $1 (usage: postgres.sh up [--env-out FILE|none])" ;;
    esac
  done
  local bin
  bin=$(pg_bin)
  if [[ -z $bin ]]; then
    SG_LOG_PREFIX=postgres.sh sg_apt_install postgresql
    bin=$(pg_bin)
    [[ -n $bin ]] || fail "Debian's postgresql is installed but no /usr/lib/postgresql/*/bin was found"
  fi
  # Outside the clone: the data directory must be reachable by the `postgres` user, whatever the
  # permissions of the directories above the clone.
  local inst
  inst=$(mktemp -d "${TMPDIR:-/tmp}/spacetime-gateway-pg.XXXXXX")
  chmod 755 "$inst"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$inst"
  if ! as_owner "$bin/initdb" -D "$inst/data" --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 >"$inst/initdb.log" 2>&1; then
    tail -n 20 "$inst/initdb.log" >&2
    rm -rf "$inst"
    fail "initdb failed (see above)"
  fi
  local port attempt started=
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    # The socket lives in the instance directory: Debian's default /var/run/postgresql may not exist.
    if as_owner "$bin/pg_ctl" -D "$inst/data" -l "$inst/server.log" -w -t 30 \
      -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$inst" start >/dev/null 2>&1; then
      started=1
      break
    fi
    grep -q 'could not bind\|Address already in use' "$inst/server.log" 2>/dev/null || break
    log "port $port was taken before the server bound it (attempt $attempt); trying another"
  done
  if [[ -z $started ]]; then
    tail -n 20 "$inst/server.log" >&2 || true
    rm -rf "$inst"
    fail "the cluster did not start (see the log above)"
  fi
  local pid
  pid=$(head -n1 "$inst/data/postmaster.pid")
  local env="DATABASE_URL=postgresql://postgres@127.0.0.1:$port/postgres
POSTGRES_PID=$pid
POSTGRES_INSTANCE=$inst"
  printf '%s\n' "$env" >"$inst/env"
  if [[ $env_out != none ]]; then
    mkdir -p "$(dirname "$env_out")"
    printf '%s\n' "$env" >"$env_out"
  fi
  printf '%s\n' "$env"
}

down() {
  local target=${1:-$default_env} inst env_file=
  if [[ -f $target ]]; then
    env_file=$target
    inst=$(sed -n 's/^POSTGRES_INSTANCE=//p' "$target")
    [[ -n $inst ]] || fail "$target names no POSTGRES_INSTANCE"
  else
    inst=$target
  fi
  if [[ ! -d $inst ]]; then
    [[ -n $env_file ]] && rm -f "$env_file"
    log "nothing to stop at $target"
    return 0
  fi
  [[ -f $inst/env && $(basename "$inst") == spacetime-gateway-pg.* ]] || fail "$inst is not a cluster started by postgres.sh up"
  local pid
  pid=$(sed -n 's/^POSTGRES_PID=//p' "$inst/env")
  # Only that very postmaster: the pid must still belong to a postgres running on this data directory.
  if [[ -n $pid ]] && sg_cmdline_has "$pid" "$inst/data"; then
    local bin
    bin=$(pg_bin)
    as_owner "$bin/pg_ctl" -D "$inst/data" -m fast -w -t 10 stop >/dev/null 2>&1 || kill -KILL "$pid" 2>/dev/null || true
    sg_wait_exit "$pid" 10 || fail "postgres (pid $pid) did not stop"
  fi
  rm -rf "$inst"
  [[ -n $env_file ]] && rm -f "$env_file"
  log "stopped $inst"
}

cmd=${1:-}
shift || true
case "$cmd" in
  up) up "$@" ;;
  down) down "$@" ;;
  *)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
