#!/usr/bin/env bash
# Cache-aside from the command line: looks up users the slow way unless Blink Store
# already has the answer.
#
#   BLINK_ADDR=127.0.0.1:8765 bash cache_demo.sh 42    # slow: computed, cached for 60 s
#   BLINK_ADDR=127.0.0.1:8765 bash cache_demo.sh 42    # fast: "cached": true
#
# Prints one JSON line per user id. If Blink Store is unreachable the lookup still
# works, uncached. The server address comes from BLINK_SOCKET (a Unix socket path) or
# BLINK_ADDR (host:port).
set -u
source "$(dirname "${BASH_SOURCE[0]}")/blink.sh"

CACHE_TTL_SECONDS=60
LOOKUP_DELAY_SECONDS=0.5

# Stands in for a slow database query or remote call.
expensive_lookup() {
  sleep "$LOOKUP_DELAY_SECONDS"
  printf '{"id": "%s", "name": "User %s", "computed_at": %s}' "$1" "$1" "$(date +%s)"
}

# Sets user (its JSON) and cached (true or false).
cached_lookup() {
  local key="user:$1" status
  if [[ $use_cache == yes ]]; then
    user=$(blink_get "$key") # the subshell shares the connection
    status=$?
    if ((status == 0)); then
      cached=true
      return
    fi
    ((status == 1)) || echo "cache read failed, computing instead" >&2
  fi
  user=$(expensive_lookup "$1")
  cached=false
  if [[ $use_cache == yes ]]; then
    blink_set "$key" "$user" "$CACHE_TTL_SECONDS" || echo "cache write failed" >&2
  fi
}

if (($# == 0)); then
  echo "usage: cache_demo.sh USER_ID..." >&2
  exit 2
fi
use_cache=yes
blink_connect || use_cache=no # the reason is on stderr
for id in "$@"; do
  if [[ ! $id =~ ^[A-Za-z0-9_-]{1,64}$ ]]; then
    echo "not a user id: $id" >&2
    exit 2
  fi
  started=$(date +%s%N)
  cached_lookup "$id"
  elapsed_ms=$((($(date +%s%N) - started) / 1000000))
  printf '{"user": %s, "cached": %s, "elapsed_ms": %d}\n' "$user" "$cached" "$elapsed_ms"
done
blink_close
