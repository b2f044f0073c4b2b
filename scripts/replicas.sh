#!/usr/bin/env bash
# N replicas of the SSE app (examples/replicas/replica.mjs) behind nginx (Debian's package, `apt-get
# install nginx` when missing), all on 127.0.0.1, against a running SpacetimeDB (SPACETIMEDB_URL and
# SPACETIMEDB_DB in the environment, as scripts/spacetimedb.sh up prints them). nginx runs from an
# instance directory of its own (config, pid, temp paths, logs): never the system's /etc/nginx.
# docs/scaling.md explains the recipe.
#
#   scripts/replicas.sh up [--replicas N] [--env-out FILE|none]
#       Starts N (default 3) replicas and nginx in front of them; waits until every replica is healthy
#       and nginx answers. Prints REPLICAS_URL=… (nginx), REPLICAS_INSTANCE=…, NGINX_PID=… and per
#       replica REPLICA_<i>_URL / REPLICA_<i>_PID lines (also written to FILE, default .replicas/env).
#   scripts/replicas.sh restart ENV_FILE|INSTANCE_DIR I
#       One step of a rolling deploy: SIGTERM replica I (the process ends its streams with a farewell
#       and exits; SIGKILL after 10 s), start it again on its port, wait until it is healthy and
#       nginx sends requests to it again.
#       Replica I may already be dead (kill -9): then it is only started again.
#   scripts/replicas.sh roll ENV_FILE|INSTANCE_DIR
#       `restart` of every replica in turn: a rolling deploy.
#   scripts/replicas.sh down [ENV_FILE|INSTANCE_DIR]
#       Stops exactly the processes that `up` started (by pid, checked) and removes the instance.
#   scripts/replicas.sh install
#       Only installs Debian's nginx when missing (scripts/test.sh runs it before the suites).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/cache.sh
source "$root/scripts/lib/cache.sh"
# shellcheck source=lib/process.sh
source "$root/scripts/lib/process.sh"
default_env="$root/.replicas/env"
NGINX=/usr/sbin/nginx

log() { printf 'replicas.sh: %s\n' "$*" >&2; }
fail() {
  printf 'replicas.sh: error: %s\n' "$*" >&2
  exit 1
}

# Runs "$@" (exec'd: the pid stays the command's) without root: as root, as `nobody` (setpriv, from
# util-linux); nginx then has no privilege to drop and needs none (it binds a high port on 127.0.0.1).
unprivileged() {
  if [[ $(id -u) -eq 0 ]]; then
    exec setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups -- "$@"
  else
    exec "$@"
  fi
}

free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

# Polls $1 until it answers 200 (or $2 seconds pass); with $3 (a pid), fails as soon as that process exits.
wait_http() {
  node -e '
    const [url, seconds, pid] = process.argv.slice(1);
    const deadline = Date.now() + Number(seconds) * 1000;
    const alive = () => { if (!pid) return true; try { process.kill(Number(pid), 0); return true; } catch { return false; } };
    (async () => {
      for (;;) {
        try { if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).status === 200) return; } catch {}
        if (!alive()) { console.error(`the process ${pid} serving ${url} exited`); process.exit(1); }
        if (Date.now() > deadline) { console.error(`${url} did not answer 200 within ${seconds} s`); process.exit(1); }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
  ' "$1" "$2" "${3:-}"
}

# Polls the balancer's /healthz ($1) until replica $2 answers it (or $3 seconds pass): nginx has taken
# that replica back (its passive failure mark from the restart expired and a request succeeded there).
# On a timeout it says what answered instead, and how the replica itself ($4, its own /healthz) answers.
wait_balanced() {
  node -e '
    const [url, name, seconds, direct] = process.argv.slice(1);
    const deadline = Date.now() + Number(seconds) * 1000;
    const seen = new Map();
    const count = (what) => seen.set(what, (seen.get(what) ?? 0) + 1);
    const ask = async (target) => {
      try {
        const r = await fetch(target, { signal: AbortSignal.timeout(1000) });
        await r.arrayBuffer();
        return { replica: r.headers.get("x-replica"), what: `${r.headers.get("x-replica") ?? "no x-replica"} ${r.status}` };
      } catch (e) {
        return { what: e.name === "TimeoutError" ? "no answer within 1 s" : (e.cause?.code ?? e.message) };
      }
    };
    (async () => {
      for (;;) {
        const { replica, what } = await ask(url);
        if (replica === name) return;
        count(what);
        if (Date.now() > deadline) {
          const tally = [...seen].map(([w, n]) => `${w} ×${n}`).join(", ");
          console.error(`the balancer did not send ${url} to ${name} within ${seconds} s; it answered: ${tally}; ${name} itself answers ${direct}: ${(await ask(direct)).what}`);
          process.exit(1);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
  ' "$1" "$2" "$3" "$4"
}

# Reads KEY from the instance's env file.
env_get() { sed -n "s/^$2=//p" "$1/env"; }

# Rewrites KEY=VALUE in the instance's env file (and in the env file `up` was asked to write, if any).
env_set() {
  local inst=$1 key=$2 value=$3 file
  for file in "$inst/env" $(env_get "$inst" REPLICAS_ENV_OUT); do
    [[ -f $file ]] || continue
    sed -i "s|^$key=.*|$key=$value|" "$file"
  done
}

# Whether $2 is a live process of instance $1: a replica carries REPLICAS_INSTANCE=<dir> in its
# environment, nginx its prefix on its command line (a reused pid is never taken for ours).
ours() {
  local inst=$1 pid=$2
  [[ -n $pid ]] || return 1
  # Read without a pipe into `grep -q`: under pipefail, grep's early exit would SIGPIPE the writer and
  # make a large environment read as "not ours" now and then (a live replica then survived `restart`).
  grep -qzxF -- "REPLICAS_INSTANCE=$inst" "/proc/$pid/environ" 2>/dev/null && return 0
  sg_cmdline_has "$pid" "-p $inst/"
}

# Starts replica $2 of instance $1 on port $3 (in the background, logging to replica-$2.log); prints its pid.
start_replica() {
  local inst=$1 i=$2 port=$3
  (
    cd "$root"
    SPACETIMEDB_URL=$(env_get "$inst" SPACETIMEDB_URL) SPACETIMEDB_DB=$(env_get "$inst" SPACETIMEDB_DB) \
      REPLICAS_INSTANCE=$inst PORT=$port HOST=127.0.0.1 REPLICA_NAME="replica-$i" \
      exec node examples/replicas/replica.mjs
  ) >>"$inst/replica-$i.log" 2>&1 </dev/null &
  local pid=$!
  if ! wait_http "http://127.0.0.1:$port/healthz" 30 "$pid" >&2; then
    tail -n 20 "$inst/replica-$i.log" >&2
    kill -KILL "$pid" 2>/dev/null || true
    fail "replica $i did not become healthy (log: $inst/replica-$i.log)"
  fi
  printf '%s\n' "$pid"
}

# Sends $3 to pid $2 of instance $1 and waits up to $4 seconds for it to exit; then SIGKILL.
stop_pid() {
  local inst=$1 pid=$2 signal=$3 seconds=$4
  ours "$inst" "$pid" || return 0
  kill "-$signal" "$pid" 2>/dev/null || true
  if ! sg_wait_exit "$pid" "$seconds"; then
    log "pid $pid did not exit within $seconds s of SIG$signal: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    # Gone (or a zombie its parent has yet to reap) before the caller reuses the port or reports it stopped.
    sg_wait_exit "$pid" 5 || log "pid $pid is still there 5 s after SIGKILL"
  fi
}

install() {
  [[ -x $NGINX ]] || SG_LOG_PREFIX=replicas.sh sg_apt_install nginx
  [[ -x $NGINX ]] || fail "Debian's nginx is installed but $NGINX is missing"
}

instance_of() {
  local target=${1:-$default_env}
  if [[ -f $target ]]; then
    sed -n 's/^REPLICAS_INSTANCE=//p' "$target"
  else
    printf '%s\n' "$target"
  fi
}

up() {
  local env_out=$default_env n=3
  while [[ $# -gt 0 ]]; do
    case $1 in
      --env-out) env_out=${2:?--env-out needs FILE or none}; shift 2 ;;
      --replicas) n=${2:?--replicas needs a number}; shift 2 ;;
      *) fail "unknown option $1 (usage: replicas.sh up [--replicas N] [--env-out FILE|none])" ;;
    esac
  done
  [[ $env_out != none ]] && env_out=$(realpath -m "$env_out")
  [[ $n =~ ^[1-9][0-9]*$ ]] || fail "--replicas takes a positive number, got $n"
  [[ -n ${SPACETIMEDB_URL:-} && -n ${SPACETIMEDB_DB:-} ]] ||
    fail 'SPACETIMEDB_URL and SPACETIMEDB_DB must be set (start a server with scripts/spacetimedb.sh up and source its env)'
  install

  local inst
  inst=$(mktemp -d "${TMPDIR:-/tmp}/spacetime-gateway-replicas.XXXXXX")
  mkdir -p "$inst/tmp"
  # nginx writes its pid, logs and temp files here as its own unprivileged user.
  chmod 755 "$inst"
  [[ $(id -u) -eq 0 ]] && chown -R nobody: "$inst"
  {
    printf 'REPLICAS_INSTANCE=%s\n' "$inst"
    printf 'REPLICAS_COUNT=%s\n' "$n"
    # What `restart` starts a replica against, later, from another shell.
    printf 'SPACETIMEDB_URL=%s\nSPACETIMEDB_DB=%s\n' "$SPACETIMEDB_URL" "$SPACETIMEDB_DB"
    [[ $env_out != none ]] && printf 'REPLICAS_ENV_OUT=%s\n' "$env_out"
  } >"$inst/env"
  # From here on, a failure stops whatever was started.
  trap 'down "$inst" >/dev/null 2>&1 || true' ERR

  local i port pid servers=
  for ((i = 1; i <= n; i++)); do
    port=$(free_port)
    pid=$(start_replica "$inst" "$i" "$port")
    printf 'REPLICA_%s_URL=http://127.0.0.1:%s\nREPLICA_%s_PID=%s\n' "$i" "$port" "$i" "$pid" >>"$inst/env"
    servers+="server 127.0.0.1:$port max_fails=1 fail_timeout=2s;"$'\n'
  done

  # The configuration users read in docs/scaling.md, as it is; the two files it includes name the ports.
  cp "$root/examples/replicas/nginx.conf" "$inst/nginx.conf"
  printf '%s' "$servers" >"$inst/upstream.conf"
  local nginx_port started=
  for attempt in 1 2 3; do
    nginx_port=$(free_port)
    printf 'listen 127.0.0.1:%s;\n' "$nginx_port" >"$inst/listen.conf"
    (unprivileged "$NGINX" -p "$inst/" -c "$inst/nginx.conf" -e "$inst/error.log" -g 'daemon off;') >>"$inst/nginx.log" 2>&1 </dev/null &
    pid=$!
    if wait_http "http://127.0.0.1:$nginx_port/healthz" 10 "$pid" 2>/dev/null; then
      started=1
      break
    fi
    kill -KILL "$pid" 2>/dev/null || true
    grep -q 'Address already in use' "$inst/error.log" 2>/dev/null || break
    log "port $nginx_port was taken before nginx bound it (attempt $attempt); trying another"
  done
  if [[ -z $started ]]; then
    tail -n 20 "$inst/error.log" "$inst/nginx.log" >&2 2>/dev/null || true
    down "$inst" >/dev/null 2>&1 || true
    fail 'nginx did not start (see above)'
  fi
  printf 'REPLICAS_URL=http://127.0.0.1:%s\nNGINX_PID=%s\n' "$nginx_port" "$pid" >>"$inst/env"
  trap - ERR
  if [[ $env_out != none ]]; then
    mkdir -p "$(dirname "$env_out")"
    cp "$inst/env" "$env_out"
  fi
  cat "$inst/env"
}

restart() {
  local inst i
  inst=$(instance_of "${1:?restart needs ENV_FILE|INSTANCE_DIR}")
  i=${2:?restart needs the replica number}
  [[ -f $inst/env ]] || fail "$inst is not an instance of replicas.sh up"
  local url port pid
  url=$(env_get "$inst" "REPLICA_${i}_URL")
  [[ -n $url ]] || fail "instance $inst has no replica $i"
  port=${url##*:}
  pid=$(env_get "$inst" "REPLICA_${i}_PID")
  # The replica's own shutdown: streams end with `retry:` and `closed`, then it exits (5 s deadline).
  stop_pid "$inst" "$pid" TERM 10
  pid=$(start_replica "$inst" "$i" "$port")
  env_set "$inst" "REPLICA_${i}_PID" "$pid"
  # Healthy is not enough: nginx still counts the replica as failed for fail_timeout after the refused
  # connections of its restart. Taking the next one down before nginx takes this one back can leave
  # nginx with no replica it considers live (502: an EventSource gives up for good on it).
  if ! wait_balanced "$(env_get "$inst" REPLICAS_URL)/healthz" "replica-$i" 20 "$url/healthz" >&2; then
    tail -n 5 "$inst/error.log" >&2 2>/dev/null || true
    fail "nginx did not take replica $i back"
  fi
  log "replica $i restarted (pid $pid, $url)"
}

roll() {
  local inst n i
  inst=$(instance_of "${1:?roll needs ENV_FILE|INSTANCE_DIR}")
  n=$(env_get "$inst" REPLICAS_COUNT)
  for ((i = 1; i <= n; i++)); do restart "$inst" "$i"; done
}

down() {
  local target=${1:-$default_env} inst env_file=
  [[ -f $target ]] && env_file=$target
  inst=$(instance_of "$target")
  if [[ -z $inst || ! -d $inst ]]; then
    [[ -n $env_file ]] && rm -f "$env_file"
    log "nothing to stop at $target"
    return 0
  fi
  [[ -f $inst/env && $(basename "$inst") == spacetime-gateway-replicas.* ]] || fail "$inst is not an instance of replicas.sh up"
  local n i
  # nginx first (QUIT: graceful), so no client is sent to a replica that is going away.
  stop_pid "$inst" "$(env_get "$inst" NGINX_PID)" QUIT 5
  n=$(env_get "$inst" REPLICAS_COUNT)
  # The replicas all at once: each takes a moment to close its SpacetimeDB connection.
  for ((i = 1; i <= n; i++)); do stop_pid "$inst" "$(env_get "$inst" "REPLICA_${i}_PID")" TERM 10 & done
  wait
  rm -rf "$inst"
  [[ -n $env_file ]] && rm -f "$env_file"
  log "stopped $inst"
}

cmd=${1:-}
shift || true
case "$cmd" in
  up) up "$@" ;;
  restart) restart "$@" ;;
  roll) roll "$@" ;;
  down) down "$@" ;;
  install) install ;;
  *)
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
