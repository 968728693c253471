#!/usr/bin/env bash
# How each server's throughput grows with the threads it is given, on whatever machine
# this runs on: the 50-connection workload of benches/compare.sh (90:10 GET:SET, 100,000
# keys uniform, 32-byte values, preloaded; pipelines of 1 and 8) against Blink Store
# (`serve --workers K`, its line protocol), memcached (`-t K`, its protocol) and Redis
# (`io-threads K` with `io-threads-do-reads yes`; one thread at K = 1), for K = 1..N.
# Prints one markdown table per pipeline depth: ops/s (and its ratio to the same
# server's at K = 1), p99 latency, and the server's CPU time per request, which bench
# reads from the server's own counters (`INFO cpu`, memcached's `stats`). Installs
# redis-server and memcached when missing; every server listens on loopback and is
# stopped by PID on exit.
#
#   benches/scaling.sh                      # K = 1..N, 5 s per run
#   benches/scaling.sh --quick              # 1 s per run
#   benches/scaling.sh --max-workers 8      # K = 1..8, whatever the CPUs
#   benches/scaling.sh --server-cpus 0-7 --client-cpus 8-15   # an explicit split
#   BLINK_BIN=/tmp/old/blink-store benches/scaling.sh         # another build's server
#
# K runs over every count up to 8, then over powers of two and N itself, so a host with
# 64 CPUs (32 for the servers) takes 10 steps, not 32.
#
# Where client and server run. With 4 CPUs or more, the servers are pinned (taskset) to
# the first half of the CPUs and the client, `bench` with one runtime thread per CPU of
# its own, to the second half, so the server's threads never compete with the client's,
# and N defaults to the server's half: more workers than CPUs would measure the
# scheduler. With fewer than 4 CPUs nothing is pinned, N is the CPU count and the client
# shares the CPUs with the server, so the table says more about the machine than about
# how a server scales.
#
# Reading it on a many-core host: ops/s should grow with K until something else binds.
# If it stops growing, look first at the client: if its CPUs are saturated (top, or
# bench's rate flat while the server's CPU per request stays flat), give it more with
# --client-cpus. Then at the kernel: softirq time on the server's CPUs means the network
# stack is the limit. CPU µs per request that rises with K is coordination, not work:
# locks, cross-thread wake-ups, and Redis's I/O threads, which spin while they wait. p99
# should not grow with K. On a machine with several NUMA nodes, give each side the CPUs
# of one node (lscpu), or cross-node traffic becomes what is measured.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=5s
MAX_WORKERS=
SERVER_CPUS=
CLIENT_CPUS=
usage() {
  echo "usage: $0 [--quick] [--max-workers N] [--server-cpus LIST --client-cpus LIST]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case $1 in
    --quick) DURATION=1s ;;
    --max-workers) [ $# -ge 2 ] || usage; MAX_WORKERS=$2; shift ;;
    --server-cpus) [ $# -ge 2 ] || usage; SERVER_CPUS=$2; shift ;;
    --client-cpus) [ $# -ge 2 ] || usage; CLIENT_CPUS=$2; shift ;;
    *) usage ;;
  esac
  shift
done
if [ -n "$MAX_WORKERS" ] && ! [ "$MAX_WORKERS" -ge 1 ] 2>/dev/null; then usage; fi
# Both sides are placed, or neither.
if [ "${SERVER_CPUS:+1}" != "${CLIENT_CPUS:+1}" ]; then usage; fi

# The number of CPUs in a taskset list such as 0-3,8.
count_cpus() {
  python3 -c 'import sys
count = 0
for part in sys.argv[1].split(","):
    first, _, last = part.partition("-")
    count += int(last or first) - int(first) + 1
print(count)' "$1"
}

CPUS=$(nproc)
if [ -z "$SERVER_CPUS" ] && [ "$CPUS" -ge 4 ]; then
  SERVER_CPUS="0-$((CPUS / 2 - 1))"
  CLIENT_CPUS="$((CPUS / 2))-$((CPUS - 1))"
fi
if [ -n "$SERVER_CPUS" ]; then
  ON_SERVER=(taskset -c "$SERVER_CPUS")
  ON_CLIENT=(taskset -c "$CLIENT_CPUS")
  CLIENT_THREADS=$(count_cpus "$CLIENT_CPUS")
  MAX_WORKERS=${MAX_WORKERS:-$(count_cpus "$SERVER_CPUS")}
  PLACEMENT="servers on CPUs $SERVER_CPUS, client on CPUs $CLIENT_CPUS with $CLIENT_THREADS threads"
else
  ON_SERVER=()
  ON_CLIENT=()
  CLIENT_THREADS=$CPUS
  MAX_WORKERS=${MAX_WORKERS:-$CPUS}
  PLACEMENT="client ($CLIENT_THREADS threads) and servers share all $CPUS CPUs"
fi

# Every count up to 8, then powers of two, then MAX_WORKERS.
WORKER_COUNTS=()
for ((k = 1; k <= MAX_WORKERS; k = k < 8 ? k + 1 : k * 2)); do WORKER_COUNTS+=("$k"); done
if [ "${WORKER_COUNTS[-1]}" != "$MAX_WORKERS" ]; then WORKER_COUNTS+=("$MAX_WORKERS"); fi

# shellcheck source=benches/lib.sh
. benches/lib.sh
install_servers

cargo build --release --locked --quiet
BENCH=${CARGO_TARGET_DIR:-target}/release/blink-store
BLINK=${BLINK_BIN:-$BENCH}

# start SERVER K: starts SERVER with K threads on the server's CPUs.
start() {
  local name=$1 k=$2 port threads=()
  port=$(free_port)
  case $name in
    blink)
      "${ON_SERVER[@]}" "$BLINK" serve --tcp "127.0.0.1:$port" --workers "$k" \
        --memory-limit 512MiB --log warn 2>>"$WORK/blink.log" & ;;
    memcached)
      # memcached refuses to run as root unless told to.
      "${ON_SERVER[@]}" memcached -l 127.0.0.1 -p "$port" -U 0 -m 1024 -c 4096 -t "$k" \
        -u "$(id -un)" & ;;
    redis)
      if [ "$k" -gt 1 ]; then threads=(--io-threads "$k" --io-threads-do-reads yes); fi
      "${ON_SERVER[@]}" redis-server --port "$port" --bind 127.0.0.1 --save '' \
        --appendonly no --daemonize no --logfile "$WORK/redis.log" "${threads[@]}" & ;;
  esac
  started "$name" "$!" "$port"
}

protocol_of() {
  case $1 in
    blink) echo line ;;
    redis) echo resp ;;
    memcached) echo memcache ;;
  esac
}

RESULTS=$WORK/scaling.jsonl
# measure SERVER K PIPELINE: one run of the 50-connection workload, appended to $RESULTS.
measure() {
  local port_var="PORT_$1" out
  echo "  $1, K = $2, pipeline $3" >&2
  out=$("${ON_CLIENT[@]}" "$BENCH" bench --tcp "127.0.0.1:${!port_var}" \
    --protocol "$(protocol_of "$1")" --conns 50 --keys 100000 --ratio 9:1 --value-size 32 \
    --pipeline "$3" --preload --duration "$DURATION" --threads "$CLIENT_THREADS" --json)
  python3 -c 'import json, sys
r = json.loads(sys.argv[1])
r.update(server=sys.argv[2], workers=int(sys.argv[3]))
print(json.dumps(r))' "$out" "$1" "$2" >>"$RESULTS"
}

echo "== scaling: K = ${WORKER_COUNTS[*]}; $PLACEMENT; $DURATION per run" >&2
for k in "${WORKER_COUNTS[@]}"; do
  for server in blink redis memcached; do
    start "$server" "$k"
    measure "$server" "$k" 1
    measure "$server" "$k" 8
    stop "$server"
  done
done

python3 - "$RESULTS" "$CPUS" "$(uname -m)" "$PLACEMENT" "$DURATION" "$BLINK" <<'EOF'
import json, sys

results_path, cpus, arch, placement, duration, blink = sys.argv[1:]
rows = [json.loads(line) for line in open(results_path)]
errors = [r for r in rows if r["errors"]]
if errors:
    sys.exit(f"runs with errors: {[(r['server'], r['workers'], r['pipeline']) for r in errors]}")

def find(server, workers, pipeline):
    return next(r for r in rows if (r["server"], r["workers"], r["pipeline"]) == (server, workers, pipeline))

def cells(server, workers, pipeline):
    r, one = find(server, workers, pipeline), find(server, 1, pipeline)
    cpu = r["server_cpu_us_per_request"]
    return (f"{r['ops_per_sec'] / 1000:,.0f}k ({r['ops_per_sec'] / one['ops_per_sec']:.2f}×) | "
            f"{r['latency_us']['p99']:,.0f} | " + ("n/a" if cpu is None else f"{cpu:.2f}"))

servers = ("blink", "redis", "memcached")
counts = sorted({r["workers"] for r in rows})
print(f"### Scaling with server threads ({cpus} vCPUs, {arch}; {placement})\n")
print(f"50 connections, 90:10 GET:SET, 100,000 keys, 32-byte values, preloaded; {duration} "
      f"per run. Blink is `{blink} serve --workers K` over its line protocol, memcached "
      "`-t K` over its protocol, Redis `--io-threads K --io-threads-do-reads yes` (one "
      "thread at K = 1) over RESP. ops/s with its ratio to the same server's at K = 1; "
      "p99 latency in µs; the server's CPU time (user + system) per request in µs, from "
      "its own counters.\n")
for pipeline in sorted({r["pipeline"] for r in rows}):
    print(f"Pipeline {pipeline}:\n")
    print("| K | Blink ops/s | Blink p99 | Blink CPU µs/req | Redis ops/s | Redis p99 | "
          "Redis CPU µs/req | memcached ops/s | memcached p99 | memcached CPU µs/req |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k in counts:
        print(f"| {k} | " + " | ".join(cells(s, k, pipeline) for s in servers) + " |")
    print()
EOF
