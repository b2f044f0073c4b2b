# shellcheck shell=bash
# Shared by the scripts that start and stop processes of their own (postgres.sh, replicas.sh).

# Waits until process $1 is gone, at most $2 seconds; returns 1 if it is still running then.
sg_wait_exit() {
  local pid=$1 tenths=$(($2 * 10)) waited=0
  while kill -0 "$pid" 2>/dev/null && ((waited < tenths)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  ! kill -0 "$pid" 2>/dev/null
}

# Whether the command line of process $1 contains $2. Read into a variable, not piped into `grep -q`:
# under pipefail, grep's early exit can SIGPIPE the reader and fail the check for a live process.
sg_cmdline_has() {
  local cmdline
  cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
  [[ $cmdline == *"$2"* ]]
}
