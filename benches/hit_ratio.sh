#!/usr/bin/env bash
# Runs the hit_ratio bench against a private redis-server on loopback: installs Redis if
# missing, starts it on a free port, waits until it answers, runs
# `cargo bench --bench hit_ratio -- --redis 127.0.0.1:PORT "$@"`, and stops it on exit.
#
# Usage: benches/hit_ratio.sh [--requests N] [--keys N] [--seed N] [zipf|reshuffle|scan ...]
set -euo pipefail

readonly HOST=127.0.0.1
readonly START_TIMEOUT_SECS=20

cd "$(dirname "$0")/.."

# Installs the Debian package $2 when command $1 is missing.
ensure_command() {
    local command=$1 package=$2
    if ! command -v "$command" >/dev/null 2>&1; then
        echo "hit_ratio.sh: installing $package" >&2
        # apt's chatter goes to stderr, so stdout stays the bench's tables.
        apt-get update >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y "$package" >&2
    fi
}

# Whether something already listens on loopback port $1.
port_in_use() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# Prints a loopback port nobody listens on.
free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! port_in_use "$port"; then
            echo "$port"
            return 0
        fi
    done
    echo "hit_ratio.sh: no free port found" >&2
    return 1
}

ensure_command redis-server redis-server
ensure_command redis-cli redis-tools

PORT=$(free_port)
REDIS_PID=""
REDIS_LOG=$(mktemp "${TMPDIR:-/tmp}/hit_ratio-redis.XXXXXX")

stop_redis() {
    if [[ -n "$REDIS_PID" ]] && kill -0 "$REDIS_PID" 2>/dev/null; then
        kill "$REDIS_PID"
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    rm -f "$REDIS_LOG"
}
trap stop_redis EXIT
trap 'exit 130' INT TERM

redis-server --port "$PORT" --bind "$HOST" --save "" --appendonly no --daemonize no \
    >"$REDIS_LOG" 2>&1 &
REDIS_PID=$!

deadline=$((SECONDS + START_TIMEOUT_SECS))
until [[ "$(redis-cli -h "$HOST" -p "$PORT" ping 2>/dev/null || true)" == "PONG" ]]; do
    if ! kill -0 "$REDIS_PID" 2>/dev/null; then
        echo "hit_ratio.sh: redis-server exited; log:" >&2
        cat "$REDIS_LOG" >&2
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "hit_ratio.sh: redis-server did not answer PING within ${START_TIMEOUT_SECS}s" >&2
        exit 1
    fi
    sleep 0.1
done
echo "hit_ratio.sh: $(redis-server --version | cut -d' ' -f1-3) listening on $HOST:$PORT (pid $REDIS_PID)" >&2

cargo bench --bench hit_ratio -- --redis "$HOST:$PORT" "$@"
