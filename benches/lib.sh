# Shell helpers shared by benches/compare.sh and benches/scaling.sh, sourced by both:
# installing the servers compared against, free loopback ports, waiting for a server to
# listen, and stopping every server started, by PID, on exit. Sourcing sets WORK, a
# scratch directory removed on exit, and the EXIT trap.
# shellcheck shell=bash

apt_install() {
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  fi
}

# Installs redis-server and memcached when either is missing.
install_servers() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v memcached >/dev/null 2>&1; then
    apt_install redis-server memcached
  fi
}

WORK=$(mktemp -d)
# Servers still running; stop removes its own, so a PID the system reuses is never killed.
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until something accepts connections on 127.0.0.1:$1.
wait_for_port() {
  for _ in $(seq 1 400); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2
  return 1
}

# started NAME PID PORT: a server just started in the background as NAME, with process
# id PID, listening on PORT: sets PID_<NAME> and PORT_<NAME>, stops it on exit, and
# waits until it listens.
started() {
  PIDS+=("$2")
  printf -v "PID_$1" '%s' "$2"
  printf -v "PORT_$1" '%s' "$3"
  wait_for_port "$3"
}

# stop NAME: stops the server started as NAME and waits for it to exit.
stop() {
  local pid_var="PID_$1" keep=() pid
  if kill "${!pid_var}"; then wait "${!pid_var}" 2>/dev/null || true; fi
  for pid in "${PIDS[@]}"; do
    if [ "$pid" != "${!pid_var}" ]; then keep+=("$pid"); fi
  done
  PIDS=("${keep[@]}")
}

# The CPU time process $1 has used, user then system, in clock ticks: for servers that
# keep no count of their own (the echo servers).
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }
