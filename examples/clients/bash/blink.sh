#!/usr/bin/env bash
# blink.sh: a Blink Store client for Bash 4.3+. Source it for the blink_* functions,
# or run it as a command (./blink.sh get KEY). Copy this file into your project.
#
#   source blink.sh
#   blink_connect                        # optional: one connection for this shell
#   blink_set greeting "hello"           # blink_set KEY VALUE [TTL_SECONDS]
#   greeting=$(blink_get greeting)       # the value's bytes, exactly; nothing if missing
#   blink_get session:42 || echo "missing"
#   blink_pipeline "SET a 1" "GET a"     # several requests in one write, raw replies
#
# Exit status of every function:
#   0  done
#   1  the key is missing (NOT_FOUND): nothing is printed
#   2  an error: the server answered ERROR, or an argument the protocol cannot carry
#      was refused before sending; the message is on stderr
#   3  the server cannot be reached, or the connection broke and reconnecting failed;
#      the message is on stderr
#
# The server is the argument of blink_connect (HOST:PORT, or a Unix socket path), else
# BLINK_SOCKET (a path), else BLINK_ADDR (HOST:PORT), else 127.0.0.1:8765. TCP uses
# Bash's /dev/tcp; a Unix socket needs nc from netcat-openbsd (nc -U). Replies are
# decoded with base64 (coreutils). BLINK_REPLY_TIMEOUT is how many seconds to wait for a
# reply (default 5).
#
# The first call opens a connection that later calls reuse. Call blink_connect first
# when the calls run in subshells, as in $(blink_get KEY): they then share the
# connection of the shell that opened it (a subshell's own connection closes when the
# subshell ends). Do not share one connection between background jobs running at the
# same time: their replies would interleave.

BLINK_REPLY_TIMEOUT=${BLINK_REPLY_TIMEOUT:-5}

_BLINK_RFD=""    # where replies are read
_BLINK_WFD=""    # where requests are written (the same socket as _BLINK_RFD over TCP)
_BLINK_NC=""     # the nc process carrying a Unix socket connection
_BLINK_OWNER=""  # the shell ($BASHPID) that opened the connection
_BLINK_TARGET="" # set by blink_connect ADDRESS
_BLINK_REPLIES=()

_blink_say() {
  printf 'blink: %s\n' "$*" >&2
}

# The server to use: sets _blink_path, or _blink_host and _blink_port, and _blink_where.
_blink_resolve() {
  local target=${_BLINK_TARGET:-${BLINK_SOCKET:-${BLINK_ADDR:-127.0.0.1:8765}}}
  _blink_path="" _blink_host="" _blink_port="" _blink_where=$target
  if [[ $target == */* ]]; then
    _blink_path=$target
  elif [[ $target =~ ^\[?([^]]+)\]?:([0-9]+)$ ]]; then
    _blink_host=${BASH_REMATCH[1]} _blink_port=${BASH_REMATCH[2]}
  else
    _blink_say "expected HOST:PORT or a socket path, got '$target'"
    return 2
  fi
}

# Writes its arguments, then the file $_blink_body if set, without dying of SIGPIPE
# when the server has gone.
_blink_write() {
  (
    trap '' PIPE
    printf '%s' "$1" || exit
    if [[ -n ${_blink_body-} ]]; then
      cat -- "$_blink_body" || exit
      printf '%s' "$2"
    fi
  ) 1>&"$_BLINK_WFD" 2>/dev/null
}

# Reads one reply line into _blink_line. Status: 0, 1 at end of stream, >128 on timeout.
_blink_read() {
  _blink_line=""
  IFS= read -r -t "$BLINK_REPLY_TIMEOUT" -u "$_BLINK_RFD" _blink_line
}

# Closes this shell's copy of the connection.
_blink_drop() {
  if [[ -n $_BLINK_RFD ]]; then
    exec {_BLINK_RFD}<&-
  fi
  if [[ -n $_BLINK_WFD && $_BLINK_WFD != "$_BLINK_RFD" ]]; then
    exec {_BLINK_WFD}>&-
  fi
  if [[ -n $_BLINK_NC && $_BLINK_OWNER == "$BASHPID" ]]; then
    kill "$_BLINK_NC" 2>/dev/null
  fi
  _BLINK_RFD="" _BLINK_WFD="" _BLINK_NC="" _BLINK_OWNER=""
}

_blink_open() {
  _blink_drop
  _blink_resolve || return
  local reason fd _blink_body=""
  if [[ -n $_blink_path ]]; then
    if ! command -v nc >/dev/null 2>&1; then
      _blink_say "a Unix socket needs nc from netcat-openbsd (apt-get install netcat-openbsd)"
      return 3
    fi
    # nc in the background, talking to this shell through two named pipes that are
    # removed as soon as both ends are open.
    local dir
    if ! dir=$(mktemp -d) || ! mkfifo "$dir/requests" "$dir/replies"; then
      _blink_say "cannot make named pipes for nc in ${TMPDIR:-/tmp}"
      return 3
    fi
    { nc -N -U "$_blink_path" <"$dir/requests" >"$dir/replies" 2>/dev/null & } 2>/dev/null
    _BLINK_NC=$! _BLINK_OWNER=$BASHPID
    disown "$_BLINK_NC" 2>/dev/null # no job-control notices in an interactive shell
    exec {_BLINK_WFD}>"$dir/requests" {_BLINK_RFD}<"$dir/replies"
    rm -rf -- "$dir"
    # nc connects in the background: a PING tells whether it got through.
    local status
    _blink_line=""
    _blink_write $'PING\n' && _blink_read
    status=$?
    if ((status == 0)) && [[ ${_blink_line%$'\r'} == PONG ]]; then
      return 0
    fi
    reason=${_blink_line%$'\r'}
    _blink_drop
    if ((status > 128)); then
      reason="no reply within $BLINK_REPLY_TIMEOUT s"
    elif [[ -n $reason ]]; then
      reason="the server answered '${reason:0:80}'"
    elif [[ ! -e $_blink_path ]]; then
      reason="No such file or directory"
    elif [[ ! -S $_blink_path ]]; then
      reason="not a socket"
    elif [[ ! -w $_blink_path ]]; then
      reason="Permission denied"
    else
      reason="Connection refused"
    fi
    _blink_say "cannot connect to Blink Store at $_blink_where: $reason"
    return 3
  fi
  if ! { exec {fd}<>"/dev/tcp/$_blink_host/$_blink_port"; } 2>/dev/null; then
    reason=$({ : <>"/dev/tcp/$_blink_host/$_blink_port"; } 2>&1)
    reason=${reason##*: }
    _blink_say "cannot connect to Blink Store at $_blink_where: ${reason:-connection failed}"
    return 3
  fi
  _BLINK_RFD=$fd _BLINK_WFD=$fd _BLINK_OWNER=$BASHPID
}

# _blink_exchange COUNT REQUEST [FILE TAIL]: writes REQUEST (then FILE's bytes and
# TAIL), and reads COUNT reply lines into _BLINK_REPLIES. A broken connection is
# reopened, and the request sent again, once.
_blink_exchange() {
  local count=$1 request=$2 _blink_body=${3-} tail=${4-} i status
  for _ in 1 2; do
    if [[ -z $_BLINK_WFD ]]; then
      _blink_open || return
    fi
    _BLINK_REPLIES=()
    if _blink_write "$request" "$tail"; then
      for ((i = 0; i < count; i++)); do
        _blink_read
        status=$?
        if ((status > 128)); then
          _blink_drop
          _blink_say "no reply from Blink Store at $_blink_where within $BLINK_REPLY_TIMEOUT s"
          return 3
        fi
        ((status == 0)) || break
        _BLINK_REPLIES+=("${_blink_line%$'\r'}")
      done
      ((${#_BLINK_REPLIES[@]} == count)) && return 0
    fi
    _blink_drop
  done
  _blink_say "lost the connection to Blink Store at $_blink_where: the server closed it"
  return 3
}

# The status for a reply: 0 for OK, 1 for NOT_FOUND, else _blink_refused.
_blink_status() {
  case $1 in
    OK) return 0 ;;
    NOT_FOUND) return 1 ;;
  esac
  _blink_refused "$1"
}

# Status 2 with the server's ERROR text, or the reply nobody expected, on stderr.
_blink_refused() {
  case $1 in
    ERROR | ERROR\ *) _blink_say "${1#ERROR }" ;;
    *) _blink_say "unexpected reply from the server: ${1:0:80}" ;;
  esac
  return 2
}

_blink_check_key() {
  local LC_ALL=C
  if [[ -z $1 ]]; then
    _blink_say "a key must not be empty"
    return 2
  fi
  if [[ $1 =~ [[:cntrl:][:space:]] ]]; then
    _blink_say "a key must not contain spaces or control bytes: $(printf '%q' "$1")"
    return 2
  fi
}

_blink_check_value() {
  if [[ $1 == *$'\n'* ]]; then
    _blink_say "a value must not contain a line feed (LF): the protocol is line based"
    return 2
  fi
  if [[ $1 == *$'\r' ]]; then
    _blink_say "a value must not end with a carriage return (CR)"
    return 2
  fi
}

_blink_check_seconds() {
  if [[ ! $1 =~ ^-?[0-9]+$ ]]; then
    _blink_say "seconds must be an integer, got '$1'"
    return 2
  fi
}

# _blink_args COUNT MIN MAX USAGE: status 2 and the usage unless MIN <= COUNT <= MAX.
_blink_args() {
  if (($1 < $2 || $1 > $3)); then
    _blink_say "usage: $4"
    return 2
  fi
}

# blink_connect [HOST:PORT | SOCKET_PATH]: opens the connection that later calls in
# this shell, and its subshells, share.
blink_connect() {
  _BLINK_TARGET=${1-}
  _blink_open
}

# blink_close: ends the connection (the next call opens a new one).
blink_close() {
  local _blink_body=""
  if [[ -n $_BLINK_WFD && $_BLINK_OWNER == "$BASHPID" ]]; then
    _blink_write $'QUIT\n'
  fi
  _blink_drop
}

# blink_set KEY VALUE [TTL_SECONDS]: with a TTL, a SET and an EXPIRE in one write.
blink_set() {
  _blink_args $# 2 3 "blink_set KEY VALUE [TTL_SECONDS]" && _blink_check_key "$1" \
    && _blink_check_value "$2" || return
  if (($# == 2)); then
    _blink_exchange 1 "SET $1 $2"$'\n' || return
    _blink_status "${_BLINK_REPLIES[0]}"
    return
  fi
  _blink_check_seconds "$3" || return
  _blink_exchange 2 "SET $1 $2"$'\n'"EXPIRE $1 $3"$'\n' || return
  _blink_status "${_BLINK_REPLIES[0]}" || return
  # NOT_FOUND for the EXPIRE: evicted or deleted since; the SET did work.
  _blink_status "${_BLINK_REPLIES[1]}" || (($? == 1))
}

# blink_set_stdin KEY [TTL_SECONDS]: the value is all of stdin, any bytes (NUL too)
# but LF, and not ending in CR: printf '%s' "$json" | blink_set_stdin KEY.
blink_set_stdin() {
  _blink_args $# 1 2 "blink_set_stdin KEY [TTL_SECONDS] < VALUE" \
    && _blink_check_key "$1" || return
  [[ $# == 1 ]] || _blink_check_seconds "$2" || return
  local file status last
  file=$(mktemp) || return 2
  cat >"$file"
  last=$(tail -c 1 -- "$file" | od -An -tx1)
  if (($(wc -l <"$file") > 0)); then
    _blink_say "a value must not contain a line feed (LF): the protocol is line based"
    status=2
  elif [[ $last == *0d* ]]; then
    _blink_say "a value must not end with a carriage return (CR)"
    status=2
  elif (($# == 1)); then
    _blink_exchange 1 "SET $1 " "$file" $'\n' && _blink_status "${_BLINK_REPLIES[0]}"
    status=$?
  else
    _blink_exchange 2 "SET $1 " "$file" $'\n'"EXPIRE $1 $2"$'\n' \
      && _blink_status "${_BLINK_REPLIES[0]}" \
      && { _blink_status "${_BLINK_REPLIES[1]}" || (($? == 1)); }
    status=$?
  fi
  rm -f -- "$file"
  return "$status"
}

# blink_get KEY: prints the value's bytes exactly (no newline added); status 1 and no
# output if the key is missing.
blink_get() {
  _blink_args $# 1 1 "blink_get KEY" && _blink_check_key "$1" || return
  _blink_exchange 1 "GET $1"$'\n' || return
  local reply=${_BLINK_REPLIES[0]}
  if [[ $reply == VALUE || $reply == VALUE\ * ]]; then
    reply=${reply#VALUE}
    base64 -d <<<"${reply# }"
    return
  fi
  _blink_status "$reply"
}

# blink_delete KEY: status 1 if the key was missing.
blink_delete() {
  _blink_args $# 1 1 "blink_delete KEY" && _blink_check_key "$1" || return
  _blink_exchange 1 "DELETE $1"$'\n' || return
  _blink_status "${_BLINK_REPLIES[0]}"
}

# blink_usage: prints the bytes of keys and values stored.
blink_usage() {
  _blink_args $# 0 0 "blink_usage" || return
  _blink_exchange 1 $'USAGE\n' || return
  local reply=${_BLINK_REPLIES[0]}
  if [[ $reply =~ ^USAGE\ ([0-9]+)$ ]]; then
    printf '%s\n' "${BASH_REMATCH[1]}"
    return 0
  fi
  _blink_refused "$reply"
}

# blink_ping: status 0 when the server answers.
blink_ping() {
  _blink_args $# 0 0 "blink_ping" || return
  _blink_exchange 1 $'PING\n' || return
  [[ ${_BLINK_REPLIES[0]} == PONG ]] || _blink_refused "${_BLINK_REPLIES[0]}"
}

# blink_expire KEY SECONDS: zero or less deletes the key; status 1 if it is missing.
blink_expire() {
  _blink_args $# 2 2 "blink_expire KEY SECONDS" && _blink_check_key "$1" \
    && _blink_check_seconds "$2" || return
  _blink_exchange 1 "EXPIRE $1 $2"$'\n' || return
  _blink_status "${_BLINK_REPLIES[0]}"
}

# blink_ttl KEY: prints the seconds left (-1: no expiry); status 1 if the key is missing.
blink_ttl() {
  _blink_args $# 1 1 "blink_ttl KEY" && _blink_check_key "$1" || return
  _blink_exchange 1 "TTL $1"$'\n' || return
  local reply=${_BLINK_REPLIES[0]}
  if [[ $reply =~ ^TTL\ (-?[0-9]+)$ ]]; then
    printf '%s\n' "${BASH_REMATCH[1]}"
    return 0
  fi
  _blink_status "$reply"
}

# blink_persist KEY: removes the expiry; status 1 if the key is missing.
blink_persist() {
  _blink_args $# 1 1 "blink_persist KEY" && _blink_check_key "$1" || return
  _blink_exchange 1 "PERSIST $1"$'\n' || return
  _blink_status "${_BLINK_REPLIES[0]}"
}

# blink_info: prints the server's counters, one NAME=VALUE a line.
blink_info() {
  _blink_args $# 0 0 "blink_info" || return
  _blink_exchange 1 $'INFO\n' || return
  local reply=${_BLINK_REPLIES[0]} pair
  if [[ $reply == INFO || $reply == INFO\ * ]]; then
    for pair in ${reply#INFO}; do
      printf '%s\n' "$pair"
    done
    return 0
  fi
  _blink_refused "$reply"
}

# blink_pipeline [REQUEST...]: sends the request lines (the arguments, else the lines
# of stdin) in writes of up to 256 lines or 64 KiB, reading each write's replies
# before the next, and prints the server's replies as they are, one line each, in
# order: OK, NOT_FOUND, VALUE <base64>, TTL <n>, ERROR <text>... Status 2 if any
# reply is an ERROR.
blink_pipeline() {
  local -a batch=()
  local request status=0 line batch_bytes=0
  if (($# > 0)); then
    for request in "$@"; do
      _blink_pipeline_add "$request" || return
    done
  else
    while IFS= read -r request || [[ -n $request ]]; do
      _blink_pipeline_add "$request" || return
    done
  fi
  _blink_pipeline_flush || return
  return "$status"
}

_blink_pipeline_add() {
  if [[ $1 == *$'\n'* ]]; then
    _blink_say "a request must be one line: $(printf '%q' "$1")"
    return 2
  fi
  local word=${1%% *}
  if [[ ${word^^} == QUIT ]]; then
    _blink_say "QUIT is not allowed in a pipeline: use blink_close"
    return 2
  fi
  local LC_ALL=C # lengths in bytes
  if ((${#batch[@]} >= 256 || (${#batch[@]} > 0 && batch_bytes + ${#1} >= 65536))); then
    _blink_pipeline_flush || return
  fi
  batch+=("$1")
  batch_bytes=$((batch_bytes + ${#1} + 1))
}

_blink_pipeline_flush() {
  ((${#batch[@]} > 0)) || return 0
  local payload
  printf -v payload '%s\n' "${batch[@]}"
  _blink_exchange "${#batch[@]}" "$payload" || return
  batch=() batch_bytes=0
  for line in "${_BLINK_REPLIES[@]}"; do
    printf '%s\n' "$line"
    [[ $line == ERROR* ]] && status=2
  done
  return 0
}

# Run as a command: blink.sh COMMAND [ARGS...]
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  case ${1-} in
    set | set-stdin | get | delete | usage | ping | expire | ttl | persist | info | pipeline)
      command=${1//-/_}
      shift
      "blink_$command" "$@"
      exit
      ;;
    *)
      cat >&2 <<'EOF'
usage: blink.sh COMMAND [ARGS...]
  set KEY VALUE [TTL]   set-stdin KEY [TTL] < VALUE   get KEY   delete KEY
  expire KEY SECONDS    ttl KEY   persist KEY   usage   ping   info
  pipeline [REQUEST...] (request lines from stdin if none are given)
The server: BLINK_SOCKET (a Unix socket path) or BLINK_ADDR (HOST:PORT), default
127.0.0.1:8765. Exit status: 0 done, 1 key missing, 2 error, 3 cannot connect.
EOF
      exit 2
      ;;
  esac
fi
