#!/usr/bin/env bash
# Acceptance check with the real redis-cli: one-shot commands and piped multi-command
# sessions, comparing redis-cli's exact output with what Redis documents.
#
# Usage: redis_cli_session.sh [--keep-going] HOST PORT
#
# The server is expected to have a single database and to be used by nobody else while
# the check runs (it calls FLUSHDB and FLUSHALL). Exits 1 on the first mismatch, showing
# the command, the expected and the received output (with --keep-going: at the end,
# after showing every mismatch); prints one summary line on success.
set -uo pipefail

KEEP_GOING=0
if [ "${1:-}" == "--keep-going" ]; then
  KEEP_GOING=1
  shift
fi
if [ $# -ne 2 ]; then
  echo "usage: $0 [--keep-going] HOST PORT" >&2
  exit 2
fi
command -v redis-cli >/dev/null 2>&1 || {
  echo "redis-cli is missing: .ci/test installs it (apt-get install redis-tools)" >&2
  exit 1
}

HOST=$1
PORT=$2
CLI=(redis-cli -h "$HOST" -p "$PORT")
CHECKS=0
FAILURES=0
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

fail() {
  {
    echo "redis-cli FAILED: $1"
    echo "--- expected"
    printf '%s\n' "$2"
    echo "--- got"
    printf '%s\n' "$3"
  } >&2
  FAILURES=$((FAILURES + 1))
  [ "$KEEP_GOING" == 1 ] || exit 1
}

# Runs redis-cli with a time limit; stdout and stderr together.
cli() {
  timeout 20 "${CLI[@]}" "$@" 2>&1
}

# expect EXPECTED ARGS...: one-shot command, formatted output (--no-raw), exact text.
expect() {
  local want=$1 got
  shift
  got=$(cli --no-raw "$@")
  CHECKS=$((CHECKS + 1))
  [ "$got" == "$want" ] || fail "redis-cli --no-raw $*" "$want" "$got"
}

# expect_match REGEX ARGS...: one-shot command whose whole formatted output matches REGEX.
expect_match() {
  local regex=$1 got
  shift
  got=$(cli --no-raw "$@")
  CHECKS=$((CHECKS + 1))
  [[ $got =~ ^$regex$ ]] || fail "redis-cli --no-raw $*" "output matching ^$regex\$" "$got"
}

# expect_no_error ARGS...: the command replies, and not with an error.
expect_no_error() {
  local got status
  got=$(cli --no-raw "$@")
  status=$?
  CHECKS=$((CHECKS + 1))
  if [ $status -ne 0 ] || [ -z "$got" ] || [[ $got == "(error)"* ]] \
    || [[ $got == *"Connection refused"* ]] || [[ $got == *"Error:"* ]]; then
    fail "redis-cli --no-raw $* (exit $status)" "a reply that is not an error" "$(head -c 2000 <<<"$got")"
  fi
}

# session EXPECTED INPUT: INPUT's lines piped into one redis-cli (one connection),
# formatted output compared exactly.
session() {
  local want=$1 input=$2 got
  got=$(printf '%s' "$input" | cli --no-raw)
  CHECKS=$((CHECKS + 1))
  [ "$got" == "$want" ] || fail "session of:"$'\n'"$input" "$want" "$got"
}

# info_field SECTION FIELD: a field's value from INFO SECTION.
info_field() {
  cli INFO "$1" | tr -d '\r' | sed -n "s/^$2://p"
}

# --- connectivity and the basics, one command per connection
expect "PONG" PING
expect '"hello world"' PING "hello world"
expect '"hi there"' ECHO "hi there"
expect "OK" SELECT 0
expect "(error) ERR DB index is out of range" SELECT 1
expect "OK" FLUSHDB
expect "(integer) 0" DBSIZE

# --- strings: SET and its options, GET
expect "OK" SET cli:a hello
expect '"hello"' GET cli:a
expect "(nil)" GET cli:missing
expect "OK" SET cli:ex v EX 100
expect_match '\(integer\) (99|100)' TTL cli:ex
expect "OK" SET cli:px v PX 100000
expect_match '\(integer\) 9[0-9]{4}|\(integer\) 100000' PTTL cli:px
expect "OK" SET cli:exat v EXAT $(($(date +%s) + 200))
expect_match '\(integer\) 19[0-9]|\(integer\) 200' TTL cli:exat
expect "OK" SET cli:pxat v PXAT $(($(date +%s) * 1000 + 300000))
expect_match '\(integer\) 29[0-9]{4}|\(integer\) 300000' PTTL cli:pxat
expect "OK" SET cli:ex plain
expect "(integer) -1" TTL cli:ex
expect "(error) ERR invalid expire time in 'set' command" SET cli:bad v EX 0
expect "(error) ERR invalid expire time in 'set' command" SET cli:bad v PX -5
expect "(error) ERR value is not an integer or out of range" SET cli:bad v EX soon
expect "(error) ERR syntax error" SET cli:bad v NX XX
expect "(error) ERR syntax error" SET cli:bad v EX 10 KEEPTTL
expect "(error) ERR syntax error" SET cli:bad v BOGUS
expect "(integer) 0" EXISTS cli:bad
expect "OK" SET cli:nx first NX
expect "(nil)" SET cli:nx second NX
expect '"first"' GET cli:nx
expect "(nil)" SET cli:xx v XX
expect "OK" SET cli:nx third XX
expect "OK" SET cli:keep v EX 100
expect "OK" SET cli:keep w KEEPTTL
expect_match '\(integer\) (99|100)' TTL cli:keep
expect "(nil)" SET cli:getopt new GET
expect '"new"' SET cli:getopt newer GET
expect '"newer"' SET cli:getopt ignored NX GET
expect '"newer"' GET cli:getopt
expect '"newer"' SET cli:getopt x XX GET EX 50
expect_match '\(integer\) (49|50)' TTL cli:getopt

# --- SETEX, PSETEX, SETNX, GETDEL, GETEX
expect "OK" SETEX cli:setex 100 v
expect_match '\(integer\) (99|100)' TTL cli:setex
expect "OK" PSETEX cli:psetex 100000 v
expect_match '\(integer\) 9[0-9]{4}|\(integer\) 100000' PTTL cli:psetex
expect "(error) ERR invalid expire time in 'setex' command" SETEX cli:setex 0 v
expect "(error) ERR invalid expire time in 'psetex' command" PSETEX cli:psetex -1 v
expect "(error) ERR value is not an integer or out of range" SETEX cli:setex ten v
expect "(integer) 1" SETNX cli:setnx 1
expect "(integer) 0" SETNX cli:setnx 2
expect '"1"' GET cli:setnx
expect "OK" SET cli:gd v
expect '"v"' GETDEL cli:gd
expect "(nil)" GETDEL cli:gd
expect "OK" SET cli:ge v
expect '"v"' GETEX cli:ge
expect "(integer) -1" TTL cli:ge
expect '"v"' GETEX cli:ge EX 100
expect_match '\(integer\) (99|100)' TTL cli:ge
expect '"v"' GETEX cli:ge PX 200000
expect_match '\(integer\) 19[0-9]{4}|\(integer\) 200000' PTTL cli:ge
expect '"v"' GETEX cli:ge EXAT $(($(date +%s) + 300))
expect_match '\(integer\) 29[0-9]|\(integer\) 300' TTL cli:ge
expect '"v"' GETEX cli:ge PXAT $(($(date +%s) * 1000 + 400000))
expect_match '\(integer\) 39[0-9]{4}|\(integer\) 400000' PTTL cli:ge
expect '"v"' GETEX cli:ge PERSIST
expect "(integer) -1" TTL cli:ge
expect "(nil)" GETEX cli:missing EX 10
expect "(error) ERR syntax error" GETEX cli:ge EX 10 PERSIST

# --- many keys: MSET, MGET, EXISTS, DEL, UNLINK
expect "OK" MSET cli:m1 one cli:m2 two cli:m3 three
expect $'1) "one"\n2) (nil)\n3) "three"\n4) "two"' MGET cli:m1 cli:missing cli:m3 cli:m2
expect "(integer) 4" EXISTS cli:m1 cli:m1 cli:missing cli:m2 cli:m1
expect "(integer) 2" DEL cli:m1 cli:m2 cli:missing cli:m1
expect "(integer) 0" EXISTS cli:m1 cli:m2
expect "OK" MSET cli:u1 1 cli:u2 2 cli:u3 3
expect "(integer) 3" UNLINK cli:u1 cli:u2 cli:u3 cli:u4
expect "(integer) 0" UNLINK cli:u1
expect "(error) ERR wrong number of arguments for 'mset' command" MSET cli:m1 v cli:m2

# --- expiry: EXPIRE, PEXPIRE, EXPIREAT, TTL, PTTL, PERSIST
expect "OK" SET cli:e v
expect "(integer) -1" TTL cli:e
expect "(integer) -1" PTTL cli:e
expect "(integer) -2" TTL cli:missing
expect "(integer) -2" PTTL cli:missing
expect "(integer) 1" EXPIRE cli:e 100
expect_match '\(integer\) (99|100)' TTL cli:e
expect "(integer) 1" PEXPIRE cli:e 50000
expect_match '\(integer\) 4[0-9]{4}|\(integer\) 50000' PTTL cli:e
expect "(integer) 1" EXPIREAT cli:e $(($(date +%s) + 500))
expect_match '\(integer\) 49[0-9]|\(integer\) 500' TTL cli:e
expect "(integer) 1" PERSIST cli:e
expect "(integer) -1" TTL cli:e
expect "(integer) 0" PERSIST cli:e
expect "(integer) 0" PERSIST cli:missing
expect "(integer) 0" EXPIRE cli:missing 100
expect "(integer) 0" PEXPIRE cli:missing 100
expect "(integer) 0" EXPIREAT cli:missing $(($(date +%s) + 100))
expect "(integer) 1" EXPIRE cli:e -1
expect "(integer) 0" EXISTS cli:e
expect "(error) ERR value is not an integer or out of range" EXPIRE cli:e soon

# A key with a 100 ms TTL disappears: polled against a deadline.
expect "OK" SET cli:short v PX 100
deadline=$(($(date +%s) + 5))
while [ "$(cli EXISTS cli:short)" != "0" ]; do
  if [ "$(date +%s)" -gt "$deadline" ]; then
    fail "SET cli:short v PX 100, then EXISTS cli:short until it is 0" "0 within 5 s" "$(cli EXISTS cli:short)"
    break
  fi
  sleep 0.02
done
expect "(nil)" GET cli:short
expect "(integer) -2" TTL cli:short

# --- counters
expect "(integer) 1" INCR cli:n
expect "(integer) 42" INCRBY cli:n 41
expect "(integer) 41" DECR cli:n
expect "(integer) -9" DECRBY cli:n 50
expect '"-9"' GET cli:n
expect "OK" SET cli:text abc
expect "(error) ERR value is not an integer or out of range" INCR cli:text
expect "(error) ERR value is not an integer or out of range" DECRBY cli:text 1
expect "(error) ERR value is not an integer or out of range" INCRBY cli:n 1.5
expect "OK" SET cli:max 9223372036854775807
expect "(error) ERR increment or decrement would overflow" INCR cli:max
expect "(error) ERR increment or decrement would overflow" INCRBY cli:max 1
expect '"9223372036854775807"' GET cli:max
expect "OK" SET cli:min -9223372036854775808
expect "(error) ERR increment or decrement would overflow" DECR cli:min

# --- APPEND, STRLEN
expect "(integer) 5" APPEND cli:ap Hello
expect "(integer) 11" APPEND cli:ap " World"
expect '"Hello World"' GET cli:ap
expect "(integer) 11" STRLEN cli:ap
expect "(integer) 0" STRLEN cli:missing

# --- binary values: every byte 0..255 through -x (last argument from stdin)
for i in $(seq 0 255); do printf "\\$(printf '%03o' "$i")"; done >"$WORK/bytes"
got=$(cli -x SET cli:bin <"$WORK/bytes")
CHECKS=$((CHECKS + 1))
[ "$got" == "OK" ] || fail "redis-cli -x SET cli:bin < 256 bytes" "OK" "$got"
expect "(integer) 256" STRLEN cli:bin
expect '"\x00\x01\x02\x03\x04\x05\x06\a\b\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'"'"'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xcb\xcc\xcd\xce\xcf\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xdb\xdc\xdd\xde\xdf\xe0\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xeb\xec\xed\xee\xef\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff"' GET cli:bin
timeout 20 "${CLI[@]}" --raw GET cli:bin >"$WORK/got" 2>&1
{ cat "$WORK/bytes"; printf '\n'; } >"$WORK/want"
CHECKS=$((CHECKS + 1))
cmp -s "$WORK/want" "$WORK/got" || fail "redis-cli --raw GET cli:bin (bytes, as hex)" \
  "$(od -An -tx1 "$WORK/want")" "$(od -An -tx1 "$WORK/got")"

# --- one piped session on one connection: binary keys and values in redis-cli's
# quoted-string syntax, CLIENT names (which last as long as the connection), and errors
# in the middle that leave the connection working.
session 'OK
(integer) 0
OK
"\x00\x01 \"q\"\r\n"
(integer) 8
(integer) 1
OK
1) "\x00\x01 \"q\"\r\n"
2) (nil)
3) "\xff"
(integer) 2
(nil)
OK
"cli-session"
(error) ERR Client names cannot contain spaces, newlines or special characters.
"cli-session"
(error) ERR wrong number of arguments for '"'"'get'"'"' command
(error) ERR unknown command '"'"'foo'"'"', with args beginning with: '"'"'bar'"'"' 
(error) ERR value is not an integer or out of range
(integer) 3
OK
(integer) 4
"c"
(integer) 1
PONG' 'FLUSHDB
EXISTS "k\x00\xff\r\n"
SET "k\x00\xff\r\n" "\x00\x01 \"q\"\r\n"
GET "k\x00\xff\r\n"
STRLEN "k\x00\xff\r\n"
EXISTS "k\x00\xff\r\n"
MSET "\x00" "\xff" "a b" c
MGET "k\x00\xff\r\n" "\x01" "\x00"
DEL "k\x00\xff\r\n" "\x00" "nope"
CLIENT GETNAME
CLIENT SETNAME cli-session
CLIENT GETNAME
CLIENT SETNAME "two words"
CLIENT GETNAME
GET
foo bar
INCR "a b"
INCRBY counter 3
SET counter 1 EX 100
INCRBY counter 3
GETDEL "a b"
DBSIZE
PING
'

# A pipeline of many commands on one connection, with exact output.
{
  for i in $(seq 1 200); do echo "SET cli:p$i value-$i"; done
  for i in $(seq 1 200); do echo "GET cli:p$i"; done
  echo "DEL $(seq -f 'cli:p%g' -s ' ' 1 200)"
} >"$WORK/pipeline"
{
  for i in $(seq 1 200); do echo "OK"; done
  for i in $(seq 1 200); do echo "\"value-$i\""; done
  echo "(integer) 200"
} >"$WORK/pipeline.want"
got=$(timeout 20 "${CLI[@]}" --no-raw <"$WORK/pipeline" 2>&1)
CHECKS=$((CHECKS + 1))
[ "$got" == "$(cat "$WORK/pipeline.want")" ] || fail "piped 401 commands" "$(head -5 "$WORK/pipeline.want") ..." "$(head -c 2000 <<<"$got")"

# --- DBSIZE, INFO, keyspace
expect "OK" FLUSHDB
keyspace=$(cli INFO keyspace | tr -d '\r')
CHECKS=$((CHECKS + 1))
if grep -q '^db0:' <<<"$keyspace"; then
  fail "INFO keyspace of an empty database" "no db0 line" "$keyspace"
fi
expect "OK" MSET cli:d1 1 cli:d2 2 cli:d3 3
expect "(integer) 1" EXPIRE cli:d2 1000
expect "(integer) 3" DBSIZE
keyspace=$(cli INFO keyspace | tr -d '\r')
CHECKS=$((CHECKS + 1))
grep -Eq '^db0:keys=3,expires=1,avg_ttl=[0-9]+' <<<"$keyspace" \
  || fail "INFO keyspace" "a line db0:keys=3,expires=1,avg_ttl=..." "$keyspace"
for pair in server:redis_version clients:connected_clients memory:used_memory memory:maxmemory \
  stats:keyspace_hits stats:keyspace_misses stats:evicted_keys stats:expired_keys; do
  section=${pair%%:*}
  field=${pair#*:}
  value=$(info_field "$section" "$field")
  CHECKS=$((CHECKS + 1))
  [ -n "$value" ] || fail "INFO $section" "a $field field" "$(cli INFO "$section")"
  if [ "$field" != redis_version ]; then
    [[ $value =~ ^[0-9]+$ ]] || fail "INFO $section $field" "a number" "$value"
  fi
  # INFO with no section holds the same field.
  all=$(cli INFO | tr -d '\r')
  CHECKS=$((CHECKS + 1))
  grep -q "^$field:" <<<"$all" || fail "INFO" "a $field field" "$all"
done
hits=$(info_field stats keyspace_hits)
misses=$(info_field stats keyspace_misses)
expect '"1"' GET cli:d1
expect "(nil)" GET cli:missing
CHECKS=$((CHECKS + 1))
[ "$(info_field stats keyspace_hits)" -gt "$hits" ] || fail "keyspace_hits after a hit" "more than $hits" "$(info_field stats keyspace_hits)"
[ "$(info_field stats keyspace_misses)" -gt "$misses" ] || fail "keyspace_misses after a miss" "more than $misses" "$(info_field stats keyspace_misses)"

# --- CONFIG GET, COMMAND, CLIENT, HELLO
maxmemory=$(info_field memory maxmemory)
expect "1) \"maxmemory\""$'\n'"2) \"$maxmemory\"" CONFIG GET maxmemory
expect_no_error CONFIG GET '*'
expect_no_error CONFIG GET 'max*'
expect_no_error COMMAND
expect_no_error COMMAND DOCS
expect_no_error COMMAND DOCS get
expect_match '\(integer\) [1-9][0-9]*' CLIENT ID
expect "(nil)" CLIENT GETNAME
version=$(info_field server redis_version)
if [ "$(printf '%s\n' "$version" 7.2 | sort -V | head -1)" == 7.2 ]; then
  expect "OK" CLIENT SETINFO LIB-NAME cli-check
  expect "OK" CLIENT SETINFO LIB-VER 1.2.3
else
  # Older servers, which report an older redis_version, lack SETINFO.
  expect_match "\(error\) ERR unknown subcommand.*" CLIENT SETINFO LIB-NAME cli-check
fi
hello=$(cli HELLO 2)
CHECKS=$((CHECKS + 1))
[ "$(grep -A1 -x proto <<<"$hello" | tail -1)" == 2 ] || fail "HELLO 2 (raw)" "proto followed by 2" "$hello"
for field in server version id mode role; do
  CHECKS=$((CHECKS + 1))
  grep -qx "$field" <<<"$hello" || fail "HELLO 2 (raw)" "a $field field" "$hello"
done
hello=$(cli -3 --no-raw HELLO 3)
CHECKS=$((CHECKS + 1))
grep -Eq '^[0-9]+# "proto" => \(integer\) 3$' <<<"$hello" || fail "redis-cli -3 HELLO 3" '# "proto" => (integer) 3' "$hello"
expect_match '\(error\) NOPROTO.*' HELLO 4
got=$(cli -3 --no-raw GET cli:missing)
CHECKS=$((CHECKS + 1))
[ "$got" == "(nil)" ] || fail "redis-cli -3 GET cli:missing" "(nil)" "$got"
got=$(cli -3 --no-raw MGET cli:d1 cli:missing)
CHECKS=$((CHECKS + 1))
[ "$got" == $'1) "1"\n2) (nil)' ] || fail "redis-cli -3 MGET cli:d1 cli:missing" $'1) "1"\n2) (nil)' "$got"

# --- client mistakes
expect "(error) ERR wrong number of arguments for 'get' command" GET
expect "(error) ERR wrong number of arguments for 'get' command" GET a b
expect "(error) ERR wrong number of arguments for 'set' command" SET a
expect "(error) ERR wrong number of arguments for 'del' command" DEL
expect "(error) ERR wrong number of arguments for 'exists' command" EXISTS
expect "(error) ERR unknown command 'foo', with args beginning with: " foo
expect "(error) ERR unknown command 'foo', with args beginning with: 'bar' 'baz' " foo bar baz

# --- QUIT, FLUSHALL
expect "OK" QUIT
expect "OK" FLUSHALL
expect "(integer) 0" DBSIZE
expect "(nil)" GET cli:d1

if [ "$FAILURES" -gt 0 ]; then
  echo "redis-cli: $FAILURES of $CHECKS checks failed" >&2
  exit 1
fi
echo "redis-cli $(redis-cli --version | awk '{print $2}'): all $CHECKS checks passed"
