#!/usr/bin/env bash
# Checks blink.sh against a running Blink Store server.
#
# Usage: bash test_client.sh HOST PORT UNIX_SOCKET_PATH [CLOSED_PORT]
#
# Runs every check over TCP and again over the Unix socket, then the failure cases
# (CLOSED_PORT: a local port nothing listens on, default 1). Needs nc from
# netcat-openbsd. Exits 1 naming the first failed check; prints "all checks passed" on
# success.
set -uo pipefail

if (($# < 3)); then
  sed -n '2,9p' "$0" >&2
  exit 2
fi
host=$1 port=$2 socket=$3 closed_port=${4:-1}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=blink.sh
source "$here/blink.sh"

tmp=$(mktemp -d)
background=()
cleanup() {
  local pid
  for pid in "${background[@]}"; do
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  blink_close
  rm -rf -- "$tmp"
}
trap cleanup EXIT

checks=0 step=start status=0 out="" err=""

fail() {
  printf 'FAILED in %s: %s\n' "$step" "$*" >&2
  exit 1
}

# run COMMAND [ARGS...]: runs it in this shell; sets status, out and err.
run() {
  "$@" >"$tmp/out" 2>"$tmp/err"
  status=$?
  out=$(<"$tmp/out")
  err=$(<"$tmp/err")
}

# check WHAT STATUS STDOUT COMMAND [ARGS...]: the exact status and stdout.
check() {
  local what=$1 want_status=$2 want_out=$3
  shift 3
  run "$@"
  checks=$((checks + 1))
  [[ $status == "$want_status" ]] \
    || fail "$what: expected status $want_status, got $status (stdout '$out', stderr '$err')"
  [[ $out == "$want_out" ]] || fail "$what: expected stdout '$want_out', got '$out'"
}

# check_error WHAT STATUS STDERR_PART COMMAND [ARGS...]: the status, no stdout, and a
# message on stderr containing STDERR_PART.
check_error() {
  local what=$1 want_status=$2 want_err=$3
  shift 3
  check "$what" "$want_status" "" "$@"
  [[ $err == *"$want_err"* ]] || fail "$what: expected stderr with '$want_err', got '$err'"
}

# check_true WHAT CONDITION...: a test of its own.
check_true() {
  local what=$1
  shift
  checks=$((checks + 1))
  "$@" || fail "$what"
}

wait_until() {
  local what=$1 deadline=$((SECONDS + 5))
  shift
  until "$@"; do
    ((SECONDS <= deadline)) || fail "$what: still not true after 5 s"
    sleep 0.05
  done
  checks=$((checks + 1))
}

basics() {
  local p=$1 before after
  check "ping" 0 "" blink_ping
  check "set" 0 "" blink_set "${p}greeting" "hello world"
  check "get" 0 "hello world" blink_get "${p}greeting"
  check "get of a missing key" 1 "" blink_get "${p}missing"
  check "set a UTF-8 key and value" 0 "" blink_set "${p}café" "crème brûlée"
  check "UTF-8 round trip" 0 "crème brûlée" blink_get "${p}café"
  check "set an empty value" 0 "" blink_set "${p}empty" ""
  check "an empty value is not a missing one" 0 "" blink_get "${p}empty"
  check "set a value with spaces" 0 "" blink_set "${p}spaces" "  two  spaces  "
  blink_get "${p}spaces" >"$tmp/spaces"
  check_true "spaces are kept" cmp -s "$tmp/spaces" <(printf '  two  spaces  ')
  check "delete an existing key" 0 "" blink_delete "${p}greeting"
  check "delete a missing key" 1 "" blink_delete "${p}greeting"
  check "deleted" 1 "" blink_get "${p}greeting"

  run blink_usage
  before=$out
  check_true "usage is a number: '$before'" test "$status" = 0 -a -n "$before"
  blink_set "${p}usage" "$(printf 'x%.0s' {1..100})"
  run blink_usage
  after=$out
  check_true "usage grows by key and value ($before, $after)" \
    test $((after - before)) = $((${#p} + 5 + 100))
  blink_delete "${p}usage"
  check "usage shrinks back" 0 "$before" blink_usage

  run blink_info
  local name
  for name in keys used_bytes limit hits misses connections uptime; do
    check_true "info has $name: $out" grep -Eq "^$name=[0-9]+$" <<<"$out"
  done

  check "a value from a command substitution" 0 "" blink_set "${p}subst" "shared"
  local value
  value=$(blink_get "${p}subst")
  check_true "\$(blink_get) shares the connection: '$value'" test "$value" = shared
  value=$(blink_get "${p}subst" | tr '[:lower:]' '[:upper:]')
  check_true "blink_get in a pipeline: '$value'" test "$value" = SHARED
}

binary_values() {
  local p=$1 every_byte format="" octal i
  for i in {1..255}; do
    printf -v octal '%03o' "$i"
    ((i == 10)) || format+="\\$octal"
  done
  printf -v every_byte "$format"
  check "set every byte but NUL and LF as an argument" 0 "" blink_set "${p}args" "$every_byte"
  blink_get "${p}args" >"$tmp/got"
  printf '%s' "$every_byte" >"$tmp/want"
  check_true "every byte but NUL and LF round-trips" cmp -s "$tmp/got" "$tmp/want"

  # Every byte but LF, NUL included, from stdin.
  printf "\\000$format" >"$tmp/want"
  check_true "the value file holds 255 bytes" test "$(wc -c <"$tmp/want")" = 255
  check "set every byte but LF from stdin" 0 "" blink_set_stdin "${p}binary" <"$tmp/want"
  blink_get "${p}binary" >"$tmp/got"
  check_true "every byte but LF round-trips" cmp -s "$tmp/got" "$tmp/want"
  check "a CR inside a value" 0 "" blink_set "${p}cr" $'a\rb'
  blink_get "${p}cr" >"$tmp/got"
  check_true "a CR inside a value round-trips" cmp -s "$tmp/got" <(printf 'a\rb')

  check_error "a value with LF" 2 "line feed" blink_set "${p}lf" $'line one\nline two'
  check_error "a value from stdin with LF" 2 "line feed" blink_set_stdin "${p}lf" <<<"ends with LF"
  check_error "a value ending in CR" 2 "carriage return" blink_set "${p}crend" $'ends with CR\r'
  check_error "a value from stdin ending in CR" 2 "carriage return" \
    blink_set_stdin "${p}crend" < <(printf 'CR\r')
  check "a refused value was never sent" 1 "" blink_get "${p}lf"
  local bad
  for bad in "" "with space" $'tab\there' $'del\x7f' $'new\nline' $'\x01'; do
    check_error "key $(printf '%q' "$bad")" 2 "key must not" blink_get "${bad:+$p}$bad"
    check_error "set key $(printf '%q' "$bad")" 2 "key must not" blink_set "${bad:+$p}$bad" v
  done
  check_error "seconds that are not a number" 2 "seconds must be an integer" \
    blink_expire "${p}k" 1.5
  check_error "a missing argument" 2 "usage: blink_get KEY" blink_get
  check "the connection is fine after refusals" 0 "" blink_ping
}

errors() {
  local p=$1 long
  long=$(printf 'k%.0s' {1..2000})
  check_error "a key over the server's limit" 2 "blink: key too long" blink_get "$long"
  head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' x >"$tmp/huge"
  check_error "a value too large" 2 "value too large" blink_set_stdin "${p}huge" <"$tmp/huge"
  check "the connection keeps working after ERROR" 0 "" blink_ping
}

ttls() {
  local k=${1}ttl
  blink_set "$k" v
  check "no expiry" 0 "-1" blink_ttl "$k"
  check "expire" 0 "" blink_expire "$k" 100
  run blink_ttl "$k"
  check_true "ttl after expire 100: $out" test "$out" -ge 98 -a "$out" -le 100
  check "persist" 0 "" blink_persist "$k"
  check "persist removes the expiry" 0 "-1" blink_ttl "$k"
  check "ttl of a missing key" 1 "" blink_ttl "${1}missing"
  check "expire of a missing key" 1 "" blink_expire "${1}missing" 10
  check "persist of a missing key" 1 "" blink_persist "${1}missing"
  blink_expire "$k" 50
  blink_set "$k" again
  check "a plain set clears the expiry" 0 "-1" blink_ttl "$k"
  check "set with a TTL" 0 "" blink_set "$k" v 30
  run blink_ttl "$k"
  check_true "ttl after set with 30: $out" test "$out" -ge 28 -a "$out" -le 30
  check "set from stdin with a TTL" 0 "" blink_set_stdin "$k" 40 < <(printf 'v')
  run blink_ttl "$k"
  check_true "ttl after set_stdin with 40: $out" test "$out" -ge 38 -a "$out" -le 40
  check "expire 0" 0 "" blink_expire "$k" 0
  check "expire 0 deletes" 1 "" blink_get "$k"
  blink_set "$k" v
  check "negative expire" 0 "" blink_expire "$k" -5
  check "negative expire deletes" 1 "" blink_get "$k"
  blink_set "$k" short-lived 1
  check "readable before it expires" 0 "short-lived" blink_get "$k"
  wait_until "a key with TTL 1 expires" eval "! blink_get '$k' >/dev/null"
  check "an expired key is missing" 1 "" blink_ttl "$k"
}

pipelines() {
  local p=$1
  check "a pipeline of arguments" 0 "OK
OK
VALUE MQ==
NOT_FOUND
OK
TTL -1
PONG" blink_pipeline "SET ${p}pa 1" "SET ${p}pb two" "GET ${p}pa" "GET ${p}missing" \
    "DELETE ${p}pa" "TTL ${p}pb" "PING"
  check "a pipeline from stdin" 0 "OK
VALUE dGhyZWU=" blink_pipeline < <(printf 'SET %s three\nGET %s\n' "${p}pc" "${p}pc")
  run blink_pipeline "SET ${p}before 1" "FOO" "GET ${p}before"
  check_true "an ERROR in a pipeline: status 2 ($status)" test "$status" = 2
  check_true "every reply is printed: $out" test "$out" = "OK
ERROR unknown command 'FOO'
VALUE MQ=="
  check_error "a request with LF" 2 "one line" blink_pipeline $'GET a\nGET b'
  check_error "QUIT in a pipeline" 2 "QUIT is not allowed" blink_pipeline "PING" "quit"

  # Three-byte values: their base64 has no padding, so the replies decode at once.
  local i
  for i in {1..600}; do
    printf 'SET %smany:%d %03d\n' "$p" "$i" "$i"
  done >"$tmp/sets"
  for i in {1..600}; do
    printf 'GET %smany:%d\n' "$p" "$i"
  done >"$tmp/gets"
  # 100 KB of requests: more than one write.
  local chunk
  chunk=$(head -c 1000 /dev/zero | tr '\0' z)
  for i in {1..100}; do
    printf 'SET %sbig:%d %s\n' "$p" "$i" "$chunk"
  done >"$tmp/big"
  run blink_pipeline <"$tmp/big"
  check_true "a pipeline of 100 KB" test "$status" = 0 -a "$(grep -c '^OK$' <<<"$out")" = 100
  check "the last of them" 0 "$chunk" blink_get "${p}big:100"

  run blink_pipeline <"$tmp/sets"
  check_true "600 pipelined SETs" test "$status" = 0 -a "$(grep -c '^OK$' <<<"$out")" = 600
  blink_pipeline <"$tmp/gets" | sed 's/^VALUE //' | tr -d '\n' | base64 -d >"$tmp/got"
  check_true "600 pipelined GETs in order" cmp -s "$tmp/got" <(printf '%03d' {1..600})
}

reconnects() {
  local p=$1
  blink_set "${p}r" kept
  # QUIT written straight to the connection: the server closes it, and the next
  # request finds it broken.
  printf 'QUIT\n' >&"$_BLINK_WFD"
  check "a request after the server closed the connection" 0 "kept" blink_get "${p}r"
  printf 'QUIT\n' >&"$_BLINK_WFD"
  check "a pipeline after the server closed the connection" 0 "VALUE a2VwdA==
PONG" blink_pipeline "GET ${p}r" "PING"
  blink_close
  check_true "blink_close forgets the connection" test -z "$_BLINK_WFD"
  check "a request after blink_close reconnects" 0 "kept" blink_get "${p}r"
}

wait_for_socket() {
  local deadline=$((SECONDS + 5))
  until [[ -S $1 ]]; do
    ((SECONDS <= deadline)) || fail "nc -l -U $1 did not start"
    sleep 0.05
  done
}

failures() {
  check_error "blink_connect to a closed port" 3 \
    "blink: cannot connect to Blink Store at 127.0.0.1:$closed_port: Connection refused" \
    blink_connect "127.0.0.1:$closed_port"
  check_error "a request with the server down" 3 \
    "blink: cannot connect to Blink Store at 127.0.0.1:$closed_port: Connection refused" blink_ping
  check_error "a missing Unix socket" 3 \
    "cannot connect to Blink Store at $tmp/missing.sock: No such file or directory" \
    blink_connect "$tmp/missing.sock"
  check_error "a bad address" 2 "expected HOST:PORT" blink_connect "localhost"

  # A stand-in server that answers once, then goes away altogether: the client
  # reconnects once, then says it cannot connect.
  local standin=$tmp/standin.sock
  printf 'PONG\n' | nc -l -U "$standin" >/dev/null 2>&1 &
  local nc_pid=$!
  background+=("$nc_pid")
  wait_for_socket "$standin"
  check "connect to the stand-in" 0 "" blink_connect "$standin"
  kill "$nc_pid"
  wait "$nc_pid" 2>/dev/null
  rm -f -- "$standin"
  check_error "the server went away" 3 \
    "cannot connect to Blink Store at $standin: No such file or directory" blink_ping

  # A server that accepts and never answers: a timeout, not a hang.
  local silent=$tmp/silent.sock
  nc -d -l -U "$silent" >/dev/null 2>&1 &
  background+=("$!")
  wait_for_socket "$silent"
  BLINK_REPLY_TIMEOUT=0.3 check_error "a silent server" 3 "no reply within 0.3 s" blink_connect "$silent"

  # Run as a command.
  local cli=$here/blink.sh
  BLINK_ADDR=$host:$port check "blink.sh set" 0 "" bash "$cli" set sh:cli "from the command line" 60
  BLINK_SOCKET=$socket check "blink.sh get over the Unix socket" 0 "from the command line" \
    bash "$cli" get sh:cli
  BLINK_ADDR=$host:$port check "blink.sh get of a missing key" 1 "" bash "$cli" get sh:missing
  BLINK_ADDR=$host:$port check "blink.sh ttl" 0 "60" bash "$cli" ttl sh:cli
  BLINK_ADDR=127.0.0.1:$closed_port check_error "blink.sh with the server down" 3 \
    "cannot connect to Blink Store at 127.0.0.1:$closed_port" bash "$cli" ping
  check_error "blink.sh without a command" 2 "usage: blink.sh COMMAND" bash "$cli"
}

for transport in tcp unix; do
  if [[ $transport == tcp ]]; then address=$host:$port; else address=$socket; fi
  step="$transport: connect"
  check "blink_connect $address" 0 "" blink_connect "$address"
  for group in basics binary_values errors ttls pipelines reconnects; do
    step="$transport: $group"
    "$group" "sh:$transport:"
  done
  blink_close
done
step=failures
failures
echo "all checks passed ($checks checks)"
