#!/usr/bin/env bash
# Side-by-side comparison of Blink Store, Redis and memcached on this machine, driven by
# `blink-store bench`. Installs redis-server and memcached when missing, starts every
# server on loopback (stopping each by PID on exit), runs the same workloads against
# each, and prints markdown tables with absolute numbers and ratios.
#
#   benches/compare.sh                   # throughput, fairness, then memory: about 12 minutes
#   benches/compare.sh --quick           # shorter runs, 100,000 keys for bytes per entry
#   benches/compare.sh --memory          # the memory part alone, about 4 minutes
#   benches/compare.sh --memory --quick  # 5-second churn runs, about 1.5 minutes
#   benches/compare.sh --memcache        # memcached's protocol alone, about 1 minute
#   benches/compare.sh --fairness        # the fairness table alone, about 30 seconds
#   BLINK_BIN=/tmp/old/blink-store benches/compare.sh --memory   # another build's server
#   BLINK_BEFORE=/tmp/old/blink-store benches/compare.sh [--quick]  # before/after, below
#   benches/compare.sh --metrics         # metrics off and on, below: about 2 minutes
#
# With BLINK_BEFORE set, only Blink Store runs: that build and this one (BLINK_BIN),
# alternately, twice each, on the pipelined and multi-connection rows over the line
# protocol and RESP; the table gives each build's best ops/s and its server CPU time per
# request, and after / before. With --metrics, the same rows compare this build without
# and with `--metrics`, the endpoint scraped every second meanwhile.
#
# Every row's server CPU time per request (user + system) is the figure bench reads from
# the server's own counters just before and after its timed run (`INFO cpu` for Blink
# Store and Redis, `stats` for memcached); only the echo servers, which keep none, are
# read from /proc/PID/stat around the whole bench process instead.
#
# BLINK_BIN selects the Blink Store server binary (default target/release/blink-store), so
# two builds can be compared; the client (`bench`) and the echo floors always come from
# target/release/blink-store (under CARGO_TARGET_DIR instead of target/ when it is set).
#
# memcached's protocol has its own table: Blink Store's memcached listener (`serve
# --memcache`) and memcached, each driven with `--protocol memcache` on the rows of the
# main table (single-connection rows pinned, multi-connection rows unpinned), with each
# server's CPU time per request as in the before/after mode. A BLINK_BIN without that
# listener leaves the Blink column empty.
#
# The memory part has two tables. Churn: 8 connections SET distinct keys for 15 s (5 s
# with --quick) at 32-byte, 1000-byte and mixed 16 B to 16 KiB values, against each
# server capped at 64 MiB (Blink over its line protocol and over RESP), a fresh server per
# run so its VmHWM is that run's peak. Bytes per entry: 1,000,000 keys loaded under a limit
# nothing is evicted at, the RSS growth per key less the 116 bytes of key and value.
#
# Single-connection rows use 1,000 keys, a hot set that stays in the CPU caches, so they
# measure the request path; the multi-connection rows use 100,000 keys (uniform), as
# specified, and so also measure each server's memory accesses. Single-connection rows
# run twice: with client and server pinned to one CPU (a round
# trip that wakes a thread on the other CPU costs far more than one that stays put, so
# unpinned single-connection numbers are bimodal), and unpinned. The multi-connection
# rows run unpinned. The rows the engine's targets are read from (pinned GET over TCP one
# at a time and 64 deep, and every multi-connection row) run TRIALS times each (3; 1
# with --quick), and their cells give the median of each figure: one run of a row moves
# by 5-30% here.
#
# Three floors stand beside the GET rows, all driven with `bench --protocol echo`
# (line-protocol requests, each expected back verbatim): `blink-store echo --blocking`, a
# thread per connection and blocking sockets, the floor of the kernel's sockets alone
# (pinned single-connection rows, TCP and Unix socket); `blink-store echo`, the same on
# the server's event loop, whose distance above the first is the runtime's own cost; and
# `blink-store echo --epoll`, one hand-written epoll loop shaped as Redis's, which says
# what writing the engine without the runtime would save. The last two also run the
# multi-connection rows. Blink Store's pinned TCP rows run over RESP as well.
# Blink / floor compares Blink with the blocking floor: p50 latency over the floor's at
# pipeline 1 (1.00× is the floor, higher is slower), ops/s over the floor's at 16 and 64.
# The multi-connection rows are 4 and 50 connections one request at a time, and 50
# connections pipelining 8 deep. After the table, the engine's targets (docs/benchmarks.md)
# are read off its rows, each beside what the echoes reached on the same row.
#
# Fairness: one connection pipelines 4,096 GETs at a time (1,000 keys) while another
# bench process's single connection sends one GET at a time, against one server of
# each kind with one thread (Blink `--workers 1`, Redis, memcached `-t 1`, each over its
# own protocol); the table gives the probe's p50 / p99 alone and beside the deep pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=3s
TRIALS=${TRIALS:-3}
MEMORY_KEYS=1000000
CHURN_DURATION=15s
THROUGHPUT=1
FAIRNESS=1
MEMORY_TABLES=1
MEMCACHE=1
ONLY_MEMORY=0
ONLY_MEMCACHE=0
ONLY_FAIRNESS=0
ONLY_METRICS=0
for arg in "$@"; do
  case $arg in
    --quick)
      DURATION=1s
      TRIALS=1
      MEMORY_KEYS=100000
      CHURN_DURATION=5s ;;
    --memory) ONLY_MEMORY=1 ;;
    --memcache) ONLY_MEMCACHE=1 ;;
    --fairness) ONLY_FAIRNESS=1 ;;
    --metrics) ONLY_METRICS=1 ;;
    *)
      echo "usage: $0 [--memory | --memcache | --fairness | --metrics] [--quick]" >&2
      exit 2 ;;
  esac
done
# --memory, --memcache and --fairness each pick their part alone; given several, those
# parts run.
if [ "$ONLY_MEMORY$ONLY_MEMCACHE$ONLY_FAIRNESS" != 000 ]; then
  THROUGHPUT=0
  MEMORY_TABLES=$ONLY_MEMORY
  MEMCACHE=$ONLY_MEMCACHE
  FAIRNESS=$ONLY_FAIRNESS
fi
# The memory limit of every server in the churn runs.
CHURN_LIMIT_MIB=64

# shellcheck source=benches/lib.sh
. benches/lib.sh
install_servers

cargo build --release --locked --quiet
BENCH=${CARGO_TARGET_DIR:-target}/release/blink-store
BLINK=${BLINK_BIN:-$BENCH}
if [ ! -x "$BLINK" ]; then
  echo "BLINK_BIN=$BLINK is not an executable" >&2
  exit 2
fi
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# The most RSS process $1 has had so far (its high-water mark).
peak_rss_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# The RSS of process $1 once it stops changing (two equal readings 0.2 s apart, at most
# 5 s): servers finish table growth and reclamation in the background after a load.
settled_rss_kib() {
  local last now
  last=$(rss_kib "$1")
  for _ in $(seq 1 25); do
    sleep 0.2
    now=$(rss_kib "$1")
    if [ "$now" = "$last" ]; then break; fi
    last=$now
  done
  echo "$last"
}

CPUS=$(nproc)
ALL_CPUS="0-$((CPUS - 1))"

# start NAME [LIMIT_MIB]: starts one server, sets PID_<NAME>, PORT_<NAME>, and SOCK_<NAME>
# if it has one. LIMIT_MIB caps its memory: Blink's --memory-limit (default 512 MiB),
# Redis's --maxmemory with allkeys-lru (default none), memcached's -m (default 1024).
# SOCK_<NAME> is read through ${!sock_var}, which shellcheck cannot follow.
# shellcheck disable=SC2034
start() {
  local name=$1 limit=${2:-} port pid cap=()
  port=$(free_port)
  case $name in
    blink)
      "$BLINK" serve --tcp "127.0.0.1:$port" --unix "$WORK/blink.sock" \
        --memory-limit "${limit:-512}MiB" --log warn 2>"$WORK/blink.log" &
      pid=$!
      SOCK_blink=$WORK/blink.sock ;;
    before)
      "$BLINK_BEFORE" serve --tcp "127.0.0.1:$port" --memory-limit 512MiB \
        --log warn 2>"$WORK/before.log" &
      pid=$! ;;
    blinkm)
      # With the endpoint on, and scraped every second as Prometheus would, but faster.
      local metrics_port
      metrics_port=$(free_port)
      "$BLINK" serve --tcp "127.0.0.1:$port" --memory-limit 512MiB \
        --metrics "127.0.0.1:$metrics_port" --log warn 2>"$WORK/blinkm.log" &
      pid=$!
      (while sleep 1; do curl -sf "http://127.0.0.1:$metrics_port/metrics" >/dev/null || true; done) &
      SCRAPER=$!
      PIDS+=("$SCRAPER") ;;
    blink1)
      "$BLINK" serve --tcp "127.0.0.1:$port" --memory-limit 512MiB --workers 1 \
        --log warn 2>"$WORK/blink1.log" &
      pid=$! ;;
    blinkmc)
      "$BLINK" serve --memcache "127.0.0.1:$port" --memory-limit 512MiB \
        --log warn 2>"$WORK/blinkmc.log" &
      pid=$! ;;
    redis)
      # Redis's mb is a MiB.
      if [ -n "$limit" ]; then cap=(--maxmemory "${limit}mb" --maxmemory-policy allkeys-lru); fi
      redis-server --port "$port" --bind 127.0.0.1 --unixsocket "$WORK/redis.sock" \
        --unixsocketperm 700 --save '' --appendonly no --daemonize no \
        --logfile "$WORK/redis.log" "${cap[@]}" &
      pid=$!
      SOCK_redis=$WORK/redis.sock ;;
    memcached)
      # memcached refuses to run as root unless told to.
      memcached -l 127.0.0.1 -p "$port" -U 0 -m "${limit:-1024}" -c 4096 -u "$(id -un)" &
      pid=$! ;;
    memcached1)
      memcached -l 127.0.0.1 -p "$port" -U 0 -m 1024 -c 4096 -t 1 -u "$(id -un)" &
      pid=$! ;;
    echo)
      "$BENCH" echo --tcp "127.0.0.1:$port" 2>"$WORK/echo.log" &
      pid=$! ;;
    echoe)
      "$BENCH" echo --epoll --tcp "127.0.0.1:$port" 2>"$WORK/echoe.log" &
      pid=$! ;;
    echob)
      "$BENCH" echo --blocking --tcp "127.0.0.1:$port" --unix "$WORK/echob.sock" \
        2>"$WORK/echob.log" &
      pid=$!
      SOCK_echob=$WORK/echob.sock ;;
  esac
  started "$name" "$pid" "$port"
}

protocol_of() {
  case $1 in
    blink | blink1 | blinkm | before) echo line ;;
    redis) echo resp ;;
    memcached | memcached1 | blinkmc) echo memcache ;;
    blinkr) echo resp ;;
    echo | echob | echoe) echo echo ;;
  esac
}

# run ROW SERVER TRANSPORT PLACEMENT BENCH-FLAGS...: one measurement, appended to
# $RESULTS (the main table's, unless the caller names another).
RESULTS=$WORK/results.jsonl
run() {
  local row=$1 server=$2 transport=$3 placement=$4
  shift 4
  local pid_var="PID_$server" port_var="PORT_$server" sock_var="SOCK_$server" target pin=()
  if [ "$transport" = unix ]; then target=(--unix "${!sock_var}"); else target=(--tcp "127.0.0.1:${!port_var}"); fi
  if [ "$placement" = pinned ]; then
    taskset -apc 0 "${!pid_var}" >/dev/null
    pin=(taskset -c 0)
  else
    taskset -apc "$ALL_CPUS" "${!pid_var}" >/dev/null
  fi
  echo "  $row: $server over $transport, $placement" >&2
  local out before after
  before=$(cpu_ticks "${!pid_var}")
  out=$("${pin[@]}" "$BENCH" bench "${target[@]}" --protocol "${PROTOCOL:-$(protocol_of "$server")}" \
    --duration "$DURATION" --value-size 32 --json "$@")
  after=$(cpu_ticks "${!pid_var}")
  python3 -c 'import json, os, sys
r = json.loads(sys.argv[1])
r.update(row=sys.argv[2], server=sys.argv[3], transport=sys.argv[4], placement=sys.argv[5])
# The server'"'"'s own counters when it keeps them; /proc otherwise (the echo servers).
if r.get("server_cpu_us_per_request") is None:
    user, system = (int(a) - int(b) for a, b in zip(sys.argv[7].split(), sys.argv[6].split()))
    us = lambda ticks: ticks * 1e6 / os.sysconf("SC_CLK_TCK") / max(r["requests"], 1)
    r.update(server_cpu_us_per_request=us(user + system),
             server_user_us_per_request=us(user), server_sys_us_per_request=us(system))
print(json.dumps(r))' "$out" "$row" "$server" "$transport" "$placement" "$before" "$after" >>"$RESULTS"
}

# run_target ROW SERVER TRANSPORT PLACEMENT BENCH-FLAGS...: `run`, TRIALS times, for a
# row the engine's targets are read from; the report takes the median of each figure.
run_target() {
  for _ in $(seq "$TRIALS"); do run "$@"; done
}

# versus FIRST SECOND TITLE LABEL1 LABEL2: two servers (before and this build, or this
# build without and with metrics), alternately, on the rows that measure the request
# path's cost.
versus() {
  local first=$1 second=$2 title=$3 label1=$4 label2=$5
  echo "== $title ($DURATION per run): $first, then $second" >&2
  for _ in 1 2; do
    for server in "$first" "$second"; do
      start "$server"
      for protocol in line resp; do
        PROTOCOL=$protocol run "GET, pipeline 16 ($protocol)" "$server" tcp pinned --keys 1000 --ratio 1:0 --pipeline 16 --preload
        PROTOCOL=$protocol run "SET, pipeline 16 ($protocol)" "$server" tcp pinned --keys 1000 --ratio 0:1 --pipeline 16
        PROTOCOL=$protocol run "90:10, 50 conns ($protocol)" "$server" tcp unpinned --keys 100000 --ratio 9:1 --conns 50 --preload
      done
      stop "$server"
      if [ "$server" = blinkm ]; then kill "$SCRAPER"; fi
    done
  done
  python3 - "$RESULTS" "$first" "$second" "$title" "$label1" "$label2" <<'EOF'
import json, sys

path, first, second, title, label1, label2 = sys.argv[1:]
rows = [json.loads(line) for line in open(path)]
errors = [r for r in rows if r["errors"]]
if errors:
    sys.exit(f"runs with errors: {[(r['row'], r['server']) for r in errors]}")
print(f"### {title} (best of two runs each; server CPU time per request)\n")
print(f"| workload | {label1} ops/s | {label2} ops/s | {label2} / {label1} | {label1} CPU µs/req | {label2} CPU µs/req |")
print("|---|---:|---:|---:|---:|---:|")
for row in dict.fromkeys(r["row"] for r in rows):
    best = {}
    for server in (first, second):
        runs = [r for r in rows if r["row"] == row and r["server"] == server]
        best[server] = (max(r["ops_per_sec"] for r in runs), min(r["server_cpu_us_per_request"] for r in runs))
    (b_ops, b_cpu), (a_ops, a_cpu) = best[first], best[second]
    print(f"| {row} | {b_ops / 1000:,.0f}k | {a_ops / 1000:,.0f}k | {a_ops / b_ops:.2f}× | {b_cpu:.2f} | {a_cpu:.2f} |")
EOF
}

# multi_rows SERVER: the multi-connection rows, each a target's.
multi_rows() {
  run_target "90:10, 4 conns" "$1" tcp unpinned --keys 100000 --ratio 9:1 --conns 4 --preload
  run_target "90:10, 50 conns" "$1" tcp unpinned --keys 100000 --ratio 9:1 --conns 50 --preload
  run_target "90:10, 50 conns, pipeline 8" "$1" tcp unpinned --keys 100000 --ratio 9:1 --conns 50 --pipeline 8 --preload
}

throughput() {
  echo "== throughput and latency ($DURATION per run)" >&2
  local server transports placements echoes
  for server in echob echo echoe blink redis memcached; do
    start "$server"
    transports=(tcp)
    placements=(pinned unpinned)
    echoes=0
    multi=1
    case $server in
      # The blocking floor stands beside the pinned rows alone: unpinned, a thread that
      # blocks wakes wherever the scheduler puts it, and the rows are bimodal.
      echob) transports=(tcp unix) placements=(pinned) echoes=1 multi=0 ;;
      echo | echoe) echoes=1 ;;
      blink | redis) transports=(tcp unix) ;;
    esac
    # blinkr: the same server, its rows driven over RESP.
    if [ "$server" = blink ]; then started blinkr "$PID_blink" "$PORT_blink"; fi
    hot=(--keys 1000)
    for placement in "${placements[@]}"; do
      for transport in "${transports[@]}"; do
        # The pinned TCP GET rows, one at a time and 64 deep, carry targets.
        local measure=run
        if [ "$placement" = pinned ] && [ "$transport" = tcp ]; then measure=run_target; fi
        $measure "GET, 1 conn" "$server" "$transport" "$placement" "${hot[@]}" --ratio 1:0 --preload
        [ "$echoes" = 1 ] || run "SET, 1 conn" "$server" "$transport" "$placement" "${hot[@]}" --ratio 0:1
        run "GET, 1 conn, pipeline 16" "$server" "$transport" "$placement" "${hot[@]}" --ratio 1:0 --pipeline 16
        $measure "GET, 1 conn, pipeline 64" "$server" "$transport" "$placement" "${hot[@]}" --ratio 1:0 --pipeline 64
        # Blink Store over RESP as well, on the pinned rows that measure its request path.
        if [ "$server" = blink ] && [ "$placement" = pinned ] && [ "$transport" = tcp ]; then
          PROTOCOL=resp run_target "GET, 1 conn" blinkr tcp pinned "${hot[@]}" --ratio 1:0 --preload
          PROTOCOL=resp run "GET, 1 conn, pipeline 16" blinkr tcp pinned "${hot[@]}" --ratio 1:0 --pipeline 16
          PROTOCOL=resp run_target "GET, 1 conn, pipeline 64" blinkr tcp pinned "${hot[@]}" --ratio 1:0 --pipeline 64
        fi
      done
    done
    if [ "$multi" = 1 ]; then
      multi_rows "$server"
    fi
    stop "$server"
  done
  # Blink Store with one worker thread, like Redis's one thread, on the shared 2 CPUs.
  start blink1
  multi_rows blink1
  stop blink1
}

# fair SERVER: on SERVER, one connection's GETs one at a time for $DURATION alone, then
# again beside another bench process whose one connection pipelines 4,096 GETs at a
# time, from a second before the probe starts until a second after it ends. Both read
# the 1,000 keys the first probe preloads.
FAIRNESS_RESULTS=$WORK/fairness.jsonl
fair() {
  local server=$1 port_var="PORT_$1" alone beside hog_pid seconds=${DURATION%s} common
  echo "  fairness: $server" >&2
  common=(--tcp "127.0.0.1:${!port_var}" --protocol "$(protocol_of "$server")"
    --keys 1000 --ratio 1:0 --value-size 32 --json)
  alone=$("$BENCH" bench "${common[@]}" --duration "$DURATION" --preload)
  "$BENCH" bench "${common[@]}" --duration "$((seconds + 2))s" --pipeline 4096 \
    >"$WORK/hog.json" &
  hog_pid=$!
  sleep 1
  beside=$("$BENCH" bench "${common[@]}" --duration "$DURATION")
  wait "$hog_pid"
  python3 -c 'import json, sys
alone, beside, hog = (json.loads(text) for text in sys.argv[2:5])
print(json.dumps(dict(server=sys.argv[1], alone=alone, beside=beside, hog=hog)))' \
    "$server" "$alone" "$beside" "$(cat "$WORK/hog.json")" >>"$FAIRNESS_RESULTS"
}

fairness() {
  echo "== fairness: a probe beside a connection pipelining 4,096 GETs ($DURATION)" >&2
  local server
  for server in blink1 redis memcached1; do
    start "$server"
    fair "$server"
    stop "$server"
  done
}

# memcached's protocol: Blink Store's listener for it and memcached, on the main table's
# rows, into a results file of their own.
MEMCACHE_RESULTS=$WORK/memcache.jsonl
memcache() {
  echo "== memcached's protocol ($DURATION per run)" >&2
  local servers=(memcached) server hot=(--keys 1000)
  if "$BLINK" serve --help 2>/dev/null | grep -q -- '--memcache'; then
    servers=(blinkmc memcached)
  else
    echo "  $BLINK has no --memcache listener: memcached alone" >&2
  fi
  for server in "${servers[@]}"; do
    start "$server"
    RESULTS=$MEMCACHE_RESULTS run "GET, 1 conn" "$server" tcp pinned "${hot[@]}" --ratio 1:0 --preload
    RESULTS=$MEMCACHE_RESULTS run "SET, 1 conn" "$server" tcp pinned "${hot[@]}" --ratio 0:1
    RESULTS=$MEMCACHE_RESULTS run "GET, 1 conn, pipeline 16" "$server" tcp pinned "${hot[@]}" --ratio 1:0 --pipeline 16
    RESULTS=$MEMCACHE_RESULTS run "GET, 1 conn, pipeline 64" "$server" tcp pinned "${hot[@]}" --ratio 1:0 --pipeline 64
    RESULTS=$MEMCACHE_RESULTS run "90:10, 4 conns" "$server" tcp unpinned --keys 100000 --ratio 9:1 --conns 4 --preload
    RESULTS=$MEMCACHE_RESULTS run "90:10, 50 conns" "$server" tcp unpinned --keys 100000 --ratio 9:1 --conns 50 --preload
    stop "$server"
  done
}

# churn SERVER PROTOCOL VALUE_SIZE: 8 connections SET distinct keys for $CHURN_DURATION
# against a fresh SERVER capped at $CHURN_LIMIT_MIB, so its VmHWM is this run's peak.
# Appends the server's empty, peak and settled RSS and bench's report to $CHURN.
CHURN=$WORK/churn.tsv
churn() {
  local server=$1 protocol=$2 size=$3 pid_var="PID_$1" port_var="PORT_$1" empty peak final out
  start "$server" "$CHURN_LIMIT_MIB"
  empty=$(settled_rss_kib "${!pid_var}")
  echo "  churn: $server over $protocol, values of $size bytes" >&2
  # A run with wrong replies (memcached out of memory, say) still prints its report and
  # exits non-zero; its errors go into the table instead of ending the script.
  out=$("$BENCH" bench --tcp "127.0.0.1:${!port_var}" --protocol "$protocol" \
    --keys 5000000 --ratio 0:1 --conns 8 --pipeline 16 --duration "$CHURN_DURATION" \
    --value-size "$size" --json 2>>"$WORK/churn.log") || true
  # A server that died (or was killed for its memory) has no RSS left to read.
  if [ -n "$(rss_kib "${!pid_var}" 2>/dev/null)" ]; then
    final=$(settled_rss_kib "${!pid_var}")
    # After settling: any growth while the server caught up belongs to the run too.
    peak=$(peak_rss_kib "${!pid_var}")
  else
    final=died peak=died
  fi
  stop "$server"
  if [ -z "$out" ]; then out='{}'; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$protocol" "$size" "$empty" "$peak" \
    "$final" "$out" >>"$CHURN"
}

MEMORY=$WORK/memory.tsv
memory() {
  echo "== memory: churn at a $CHURN_LIMIT_MIB MiB limit ($CHURN_DURATION per run)" >&2
  for size in 32 1000 16..16KiB; do
    churn blink line "$size"
    churn blink resp "$size"
    churn redis resp "$size"
    churn memcached memcache "$size"
  done

  echo "== memory: $MEMORY_KEYS keys of 16 bytes with 100-byte values" >&2
  for server in blink redis memcached; do
    # Limits nothing is evicted at: 1 GiB for Blink and memcached, none for Redis.
    case $server in
      redis) start redis ;;
      *) start "$server" 1024 ;;
    esac
    pid_var="PID_$server"
    empty=$(settled_rss_kib "${!pid_var}")
    port_var="PORT_$server"
    "$BENCH" bench --tcp "127.0.0.1:${!port_var}" --protocol "$(protocol_of "$server")" \
      --keys "$MEMORY_KEYS" --value-size 100 --preload --ratio 1:0 --requests 1000 \
      --pipeline 64 --json >/dev/null
    # Every server gets 3 s first: longer than the second in which Blink's jemalloc
    # returns the pages its table growth freed (Redis's jemalloc waits 10 s, memcached
    # returns none), so the reading is the loaded server's, not the load's.
    sleep 3
    loaded=$(settled_rss_kib "${!pid_var}")
    printf '%s\t%s\t%s\n' "$server" "$empty" "$loaded" >>"$MEMORY"
    stop "$server"
  done
}

report_throughput() {
  python3 - "$RESULTS" "$(nproc)" "$(uname -m)" <<'EOF'
import collections, json, statistics, sys

results_path, cpus, arch = sys.argv[1:]
rows = [json.loads(line) for line in open(results_path)]
key = lambda r: (r["row"], r["server"], r["transport"], r["placement"])
trials = max(collections.Counter(map(key, rows)).values(), default=1)
errors = [r for r in rows if r["errors"]]
if errors:
    sys.exit(f"runs with errors: {[(r['row'], r['server']) for r in errors]}")

def find(row, server, transport, placement):
    """The row's run; for a row run several times, the median of each figure."""
    runs = [r for r in rows
            if (r["row"], r["server"], r["transport"], r["placement"]) == (row, server, transport, placement)]
    if len(runs) <= 1:
        return runs[0] if runs else None
    median = lambda figure: statistics.median(figure(r) for r in runs)
    merged = dict(runs[0], trials=len(runs))
    merged["ops_per_sec"] = median(lambda r: r["ops_per_sec"])
    merged["latency_us"] = {q: median(lambda r: r["latency_us"][q]) for q in runs[0]["latency_us"]}
    for key in ("server_cpu_us_per_request", "server_user_us_per_request", "server_sys_us_per_request"):
        if all(r.get(key) is not None for r in runs):
            merged[key] = median(lambda r: r[key])
    return merged

def ops(r):
    return f"{r['ops_per_sec'] / 1000:,.0f}k" if r else "—"

def lat(r):
    return f"{r['latency_us']['p50']:.1f} / {r['latency_us']['p99']:.1f}" if r else "—"

def ratio(a, b):
    return f"{a['ops_per_sec'] / b['ops_per_sec']:.2f}×" if a and b else "—"

def to_floor(b, f):
    """Blink against the blocking floor: p50 latency at pipeline 1, ops/s when pipelined."""
    if not (b and f):
        return "—"
    if b["pipeline"] == 1:
        return f"{b['latency_us']['p50'] / f['latency_us']['p50']:.2f}× p50"
    return ratio(b, f)

print(f"### Throughput and latency ({cpus} vCPUs, {arch}; client and server share them)\n")
print("ops/s, p50 / p99 latency in µs, and after the dot the server's CPU time (user + "
      "system) per request in µs: from the server's own counters, from /proc for the echo "
      "servers. Blink / Redis and Blink / memcached are Blink's ops/s over the other's; "
      "Blink / floor is Blink's p50 over the blocking echo's at pipeline 1 (1.00× is the "
      "floor), and its ops/s over the floor's at 16 and 64.\n")
print("Single-connection rows: 1,000 keys. Multi-connection rows: 100,000 keys, uniform.\n")
if trials > 1:
    print(f"The rows the targets are read from (pinned GET over TCP, one at a time and 64 deep, "
          f"and every multi-connection row) ran {trials} times each; their cells give the "
          f"median of each figure.\n")
print("| workload | transport | placement | floor (blocking echo) | async echo | epoll echo | Blink | Redis | memcached | Blink / floor | Blink / Redis | Blink / memcached |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
row_order = ["GET, 1 conn", "SET, 1 conn", "GET, 1 conn, pipeline 16",
             "GET, 1 conn, pipeline 64", "90:10, 4 conns", "90:10, 50 conns",
             "90:10, 50 conns, pipeline 8"]
order = sorted({(r["row"], r["transport"], r["placement"]) for r in rows},
               key=lambda k: (row_order.index(k[0]), k[2] != "pinned", k[1] != "tcp"))
cell = lambda x: f"{ops(x)} ({lat(x)}) · {x['server_cpu_us_per_request']:.2f}" if x else "—"
for row, transport, placement in order:
    f, e, p, b, r, m = (find(row, s, transport, placement) for s in ("echob", "echo", "echoe", "blink", "redis", "memcached"))
    print(f"| {row} | {transport} | {placement} | {cell(f)} | {cell(e)} | {cell(p)} | {cell(b)} | {cell(r)} | {cell(m)} | {to_floor(b, f)} | {ratio(b, r)} | {ratio(b, m)} |")
    over_resp = find(row, "blinkr", transport, placement)
    if over_resp:
        print(f"| {row}, Blink over RESP | {transport} | {placement} | {cell(f)} | — | — | {cell(over_resp)} | {cell(r)} | {cell(m)} | {to_floor(over_resp, f)} | {ratio(over_resp, r)} | {ratio(over_resp, m)} |")
    one = find(row, "blink1", transport, placement)
    if one:
        print(f"| {row}, Blink `--workers 1` | {transport} | {placement} | — | — | — | {cell(one)} | {cell(r)} | {cell(m)} | — | {ratio(one, r)} | {ratio(one, m)} |")
print()

# The engine's targets, read off the rows above: Blink's figure, the one it is held to,
# and the floor beneath both (the cheaper echo's CPU per request, the blocking echo's
# latency and rate).
def at(row, server, transport="tcp", placement="unpinned"):
    return find(row, server, transport, placement)

def cpu(r):
    return r["server_cpu_us_per_request"] if r else None

def fmt(x, unit=""):
    return "—" if x is None else f"{x:.2f}{unit}"

def over(a, b):
    return a / b if a is not None and b else None

def split(name, r):
    """A server's CPU time per request as user / system µs."""
    if not r or r.get("server_user_us_per_request") is None:
        return f"{name} —"
    return f"{name} {r['server_user_us_per_request']:.2f} / {r['server_sys_us_per_request']:.2f}"

targets = []
for row, pipeline, bound in (("90:10, 50 conns", 1, 0.9), ("90:10, 50 conns, pipeline 8", 8, 0.75)):
    blink, redis = at(row, "blink"), at(row, "redis")
    b, r = cpu(blink), cpu(redis)
    echoes = [x for x in (at(row, "echo"), at(row, "echoe")) if x]
    cheapest = min(echoes, key=cpu, default=None)
    floor = cpu(cheapest)
    share = over(b, r)
    # The user time Blink could spend, at the system time it spent, and meet the bound.
    allowed = None
    if blink and r is not None and blink.get("server_sys_us_per_request") is not None:
        allowed = bound * r - blink["server_sys_us_per_request"]
    targets.append((f"50 conns, pipeline {pipeline}: CPU µs/req ≤ {bound} × Redis",
                    f"{fmt(b)} vs {fmt(r)} = {fmt(share, '×')}",
                    f"echo {fmt(floor)} = {fmt(over(floor, r), '×')} Redis; user / system µs: "
                    f"{split('Blink', blink)}, {split('Redis', redis)}, {split('echo', cheapest)}; "
                    "user time that would meet it: "
                    + ("none, the system time alone is over" if allowed is not None and allowed <= 0
                       else fmt(allowed)),
                    share is not None and share <= bound))
for row in ("90:10, 4 conns", "90:10, 50 conns"):
    b, r, m = at(row, "blink"), at(row, "redis"), at(row, "memcached")
    peers = [x for x in (r, m) if x]
    best = max(peers, key=lambda x: x["ops_per_sec"], default=None)
    speed = over(b and b["ops_per_sec"], best and best["ops_per_sec"])
    lowest_p99 = min((x["latency_us"]["p99"] for x in peers), default=None)
    highest_p99 = max((x["latency_us"]["p99"] for x in peers), default=None)
    met = speed is not None and speed >= 1.1 and b["latency_us"]["p99"] <= lowest_p99
    echoes = [x for x in (at(row, "echo"), at(row, "echoe")) if x]
    fastest = max(echoes, key=lambda x: x["ops_per_sec"], default=None)
    floor = over(fastest and fastest["ops_per_sec"], best and best["ops_per_sec"])
    targets.append((f"{row[7:]}: ops/s ≥ 1.1 × the better peer, p99 no worse than either",
                    f"{fmt(speed, '×')}, p99 {fmt(b and b['latency_us']['p99'])} vs {fmt(lowest_p99)}-{fmt(highest_p99)} µs",
                    f"echo {ops(fastest)} = {fmt(floor, '×')} the better peer", met))
pinned = lambda row, server: at(row, server, "tcp", "pinned")
floor, b, br = (pinned("GET, 1 conn", s) for s in ("echob", "blink", "blinkr"))
peers = [pinned("GET, 1 conn", s) for s in ("redis", "memcached")]
p50 = lambda x: x["latency_us"]["p50"] if x else None
best = min((p50(x) for x in peers if x), default=None)
for name, x in (("line", b), ("RESP", br)):
    ratio50 = over(p50(x), p50(floor))
    met = ratio50 is not None and ratio50 <= 1.15 and best is not None and p50(x) < best
    targets.append((f"pinned GET p50 ({name}) ≤ 1.15 × the blocking floor, ahead of both peers",
                    f"{fmt(p50(x))} µs = {fmt(ratio50, '×')}; peers' best {fmt(best)} µs",
                    f"floor {fmt(p50(floor))} µs", met))
floor = pinned("GET, 1 conn, pipeline 64", "echob")
for name, server in (("line", "blink"), ("RESP", "blinkr")):
    x = pinned("GET, 1 conn, pipeline 64", server)
    share = over(x and x["ops_per_sec"], floor and floor["ops_per_sec"])
    targets.append((f"pinned pipeline 64 ({name}): ops/s ≥ 0.6 × the blocking floor",
                    f"{ops(x)} = {fmt(share, '×')}", f"floor {ops(floor)}",
                    share is not None and share >= 0.6))
print("### The engine's targets, from the rows above\n")
print("The floor column is what a server without a store reaches on the same row: the "
      "cheaper or faster of the two echoes (async and epoll) on the multi-connection rows, "
      "the blocking echo on the pinned ones. A target the floor itself misses cannot be met "
      "by any store behind that engine. The CPU rows also split each server's time into "
      "user and system time, and give the user time per request Blink could spend, at the "
      "system time it spent, and meet the bound: below the echo's own user time, the kernel's "
      "share alone decides.\n")
print("| target | Blink | floor | met |")
print("|---|---|---|---|")
for name, blink, floor, met in targets:
    print(f"| {name} | {blink} | {floor} | {'yes' if met else 'no'} |")
print()
EOF
}

report_memcache() {
  python3 - "$MEMCACHE_RESULTS" "$(nproc)" "$(uname -m)" "$BLINK" <<'EOF'
import json, sys

results_path, cpus, arch, blink = sys.argv[1:]
rows = [json.loads(line) for line in open(results_path)]
errors = [r for r in rows if r["errors"]]
if errors:
    sys.exit(f"runs with errors: {[(r['row'], r['server']) for r in errors]}")

def find(row, server):
    return next((r for r in rows if (r["row"], r["server"]) == (row, server)), None)

def cells(r):
    if not r:
        return "— | —"
    latency = r["latency_us"]
    return (f"{r['ops_per_sec'] / 1000:,.0f}k ({latency['p50']:.1f} / {latency['p99']:.1f}) | "
            f"{r['server_cpu_us_per_request']:.2f}")

print(f"### memcached's protocol ({cpus} vCPUs, {arch}; client and server share them)\n")
print(f"Blink is `{blink} serve --memcache`; both servers are driven with `bench --protocol "
      "memcache`. ops/s with p50 / p99 latency in µs, and the server's CPU time (user + "
      "system) per request in µs. Single-connection rows: 1,000 keys, client and server "
      "pinned to one CPU. Multi-connection rows: 100,000 keys, uniform, unpinned.\n")
if not any(r["server"] == "blinkmc" for r in rows):
    print("This build has no `--memcache` listener: the Blink columns are empty.\n")
print("| workload | placement | Blink | Blink CPU µs/req | memcached | memcached CPU µs/req | Blink / memcached |")
print("|---|---|---:|---:|---:|---:|---:|")
for row in dict.fromkeys(r["row"] for r in rows):
    b, m = find(row, "blinkmc"), find(row, "memcached")
    placement = (b or m)["placement"]
    ratio = f"{b['ops_per_sec'] / m['ops_per_sec']:.2f}×" if b and m else "—"
    print(f"| {row} | {placement} | {cells(b)} | {cells(m)} | {ratio} |")
print()
EOF
}

report_fairness() {
  python3 - "$FAIRNESS_RESULTS" "$(nproc)" "$(uname -m)" "$DURATION" <<'EOF'
import json, sys

results_path, cpus, arch, duration = sys.argv[1:]
rows = [json.loads(line) for line in open(results_path)]
for r in rows:
    for part in ("alone", "beside", "hog"):
        if r[part]["errors"]:
            sys.exit(f"fairness run with errors: {r['server']} ({part})")
names = {"blink1": "Blink `--workers 1` (line)", "redis": "Redis (RESP)",
         "memcached1": "memcached `-t 1` (memcache)"}

def lat(r):
    return f"{r['latency_us']['p50']:.1f} / {r['latency_us']['p99']:.1f}"

def cpu(r):
    us = r["server_cpu_us_per_request"]
    return "n/a" if us is None else f"{us:.2f}"

print(f"### Fairness: one GET at a time beside a pipeline of 4,096 ({cpus} vCPUs, {arch})\n")
print(f"A probe connection sends one GET at a time for {duration}, alone and then while "
      "another client's connection pipelines 4,096 GETs at a time; 1,000 keys, 32-byte "
      "values, every server with one thread, nothing pinned. Probe p50 / p99 latency in "
      "µs; the deep connection's ops/s and the server's CPU time per request over its run. "
      "Alone, the unpinned probe pays for waking idle CPUs, so its p50 can sit above the "
      "one beside the busy deep connection: compare the servers' probes beside it.\n")
print("| server | probe alone p50 / p99 | probe beside it p50 / p99 | deep pipeline ops/s | its CPU µs/req |")
print("|---|---:|---:|---:|---:|")
for r in rows:
    alone, beside, hog = r["alone"], r["beside"], r["hog"]
    print(f"| {names[r['server']]} | {lat(alone)} | {lat(beside)} | "
          f"{hog['ops_per_sec'] / 1000:,.0f}k | {cpu(hog)} |")
print()
EOF
}

report_memory() {
  python3 - "$CHURN" "$CHURN_LIMIT_MIB" "$CHURN_DURATION" "$MEMORY" "$MEMORY_KEYS" "$BLINK" <<'EOF'
import json, sys

churn_path, limit_mib, duration, memory_path, keys, blink = sys.argv[1:]
limit_kib = int(limit_mib) * 1024
keys = int(keys)
names = {("blink", "line"): "Blink (line)", ("blink", "resp"): "Blink (RESP)",
         ("redis", "resp"): "Redis", ("memcached", "memcache"): "memcached"}
mib = lambda kib: f"{int(kib) / 1024:.1f} MiB"

print(f"### Memory under churn: {limit_mib} MiB limit, 8 connections SET distinct keys for {duration}\n")
print(f"Blink is `{blink} --memory-limit {limit_mib}MiB`; Redis `--maxmemory {limit_mib}mb "
      f"--maxmemory-policy allkeys-lru`; memcached `-m {limit_mib}`. RSS of the server: empty "
      "(settled after start), peak (VmHWM, a fresh server per run), final (settled after the "
      "run). Bound: peak ≤ 1.1 × limit + empty RSS, Blink's promise; the other servers are "
      "held to it for comparison.\n")
print("| values | server | SETs/s | errors | RSS empty | RSS peak | RSS final | peak / limit | bound |")
print("|---|---|---:|---:|---:|---:|---:|---:|---|")
for line in open(churn_path):
    server, protocol, size, empty, peak, final, report = line.rstrip("\n").split("\t")
    r = json.loads(report)
    values = f"{size} B" if size.isdigit() else size.replace("..", " B to ") + ", log-uniform"
    sets = f"{r['ops_per_sec'] / 1000:,.0f}k" if r else "—"
    errors = f"{r['errors']:,}" if r else "bench failed"
    if peak == "died":
        print(f"| {values} | {names[(server, protocol)]} | {sets} | {errors} | {mib(empty)} | "
              "server died | — | — | exceeds |")
        continue
    bound = "holds" if int(peak) <= 1.1 * limit_kib + int(empty) else "exceeds"
    print(f"| {values} | {names[(server, protocol)]} | {sets} | {errors} | {mib(empty)} | "
          f"{mib(peak)} | {mib(final)} | {int(peak) / limit_kib:.2f}× | {bound} |")

print(f"\n### Memory: {keys:,} keys of 16 bytes with 100-byte values\n")
print("| server | RSS empty | RSS loaded | bytes per entry above key + value |")
print("|---|---:|---:|---:|")
for line in open(memory_path):
    server, empty, loaded = line.split()
    per_entry = (int(loaded) - int(empty)) * 1024 / keys - 116
    print(f"| {server} | {int(empty) / 1024:.1f} MiB | {int(loaded) / 1024:.1f} MiB | {per_entry:.0f} B |")
EOF
}

if [ -n "${BLINK_BEFORE:-}" ]; then
  versus before blink "Before and after" before after
  exit 0
fi
if [ "$ONLY_METRICS" = 1 ]; then
  command -v curl >/dev/null 2>&1 || apt_install curl
  versus blink blinkm "Metrics off and on" off on
  exit 0
fi
if [ "$THROUGHPUT" = 1 ]; then throughput; fi
if [ "$FAIRNESS" = 1 ]; then fairness; fi
if [ "$MEMCACHE" = 1 ]; then memcache; fi
if [ "$MEMORY_TABLES" = 1 ]; then memory; fi
if [ "$THROUGHPUT" = 1 ]; then report_throughput; fi
if [ "$FAIRNESS" = 1 ]; then report_fairness; fi
if [ "$MEMCACHE" = 1 ]; then report_memcache; fi
if [ "$MEMORY_TABLES" = 1 ]; then report_memory; fi
