#!/usr/bin/env bash
# A tour of blink.sh.
#
# Connects to BLINK_SOCKET (a Unix socket path) if set, else BLINK_ADDR (host:port),
# else 127.0.0.1:8765:
#
#   BLINK_ADDR=127.0.0.1:8765 bash example.sh
set -u
source "$(dirname "${BASH_SOURCE[0]}")/blink.sh"

blink_connect || exit # the message is on stderr
echo "connected to Blink Store at ${BLINK_SOCKET:-${BLINK_ADDR:-127.0.0.1:8765}}"

blink_set example:greeting "hello, world"
echo "greeting: $(blink_get example:greeting)"

if ! blink_get example:missing >/dev/null; then
  echo "missing: not found (status 1)"
fi

blink_set example:session token-123 60
echo "session ttl: $(blink_ttl example:session) seconds"
blink_persist example:session
echo "session ttl after persist: $(blink_ttl example:session)"

# Bytes a shell variable cannot hold (NUL) go through stdin.
printf 'a\0b' | blink_set_stdin example:bytes
echo "bytes: $(blink_get example:bytes | od -An -tx1)"

echo "pipelined:"
blink_pipeline "SET example:n:1 one" "SET example:n:2 two" "GET example:n:1" "GET example:n:2" "GET example:nothing" \
  | while IFS= read -r reply; do
    case $reply in
      VALUE\ *) echo "  value $(base64 -d <<<"${reply#VALUE }")" ;;
      *) echo "  $reply" ;;
    esac
  done

blink_set example:bad $'two\nlines' 2>&1 || echo "  (refused before sending, status $?)"
blink_get "$(printf 'k%.0s' {1..5000})" 2>&1 || echo "  (the server's error, status $?)"

blink_delete example:greeting && echo "deleted"
echo "usage: $(blink_usage) bytes"
echo "info: $(blink_info | grep -E "^(keys|hits|misses)=" | tr "\n" " ")"
blink_close
