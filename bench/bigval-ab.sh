#!/bin/bash
# Interleaved A/B of server CPU per request for large values (bench/results/bigval.md):
# two redloop builds and redis-server side by side, in one run, round by round.
#
#   bench/bigval-ab.sh <A: dist/cli/server.js> <B: dist/cli/server.js> [rounds] [sizes...]
#
# Each measurement: redis-benchmark SET then GET, n = 10000 each, 10 clients, 200 keys,
# value size d; the server's user and system CPU (all threads, /proc/<pid>/stat) per request.
# Needs redis-server, redis-benchmark and redis-cli on PATH; uses ports 7721-7723.
set -u
A=$1; B=$2; ROUNDS=${3:-3}; shift 3 2>/dev/null || shift $#
SIZES=${*:-1024 4096 16384 32768 49152 65536}
N=${NREQ:-10000}
TCK=$(getconf CLK_TCK)
DIR=$(mktemp -d)
start() { local port=$1; shift; "$@" >/dev/null 2>&1 & PID=$!; for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "no server on $port" >&2; exit 1; }
cpu() {
  local pid=$1 port=$2 d=$3 u0 s0 u1 s1
  read -r u0 s0 < <(awk '{print $14, $15}' /proc/$pid/stat)
  redis-benchmark -p "$port" -d "$d" -t set,get -n "$N" -c 10 -r 200 -q >/dev/null 2>&1
  read -r u1 s1 < <(awk '{print $14, $15}' /proc/$pid/stat)
  awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v t="$TCK" -v n=$((2 * N)) 'BEGIN { printf "user %5.1f  sys %5.1f  total %5.1f µs/req\n", u*1e6/t/n, s*1e6/t/n, (u+s)*1e6/t/n }'
}
start 7721 node "$A" --loop epoll --port 0 --resp-port 7721 --save "" --dir "$DIR"; PA=$PID
start 7722 node "$B" --loop epoll --port 0 --resp-port 7722 --save "" --dir "$DIR"; PB=$PID
start 7723 redis-server --port 7723 --save "" --appendonly no --dir "$DIR"; PR=$PID
trap 'kill $PA $PB $PR 2>/dev/null; rm -rf "$DIR"' EXIT
echo "# $(date -u '+%F %T') UTC, load: $(uptime | sed 's/.*load average: //')"
for round in $(seq "$ROUNDS"); do
  for d in $SIZES; do
    echo "round $round  d=$d  A      $(cpu $PA 7721 "$d")"
    echo "round $round  d=$d  B      $(cpu $PB 7722 "$d")"
    echo "round $round  d=$d  redis  $(cpu $PR 7723 "$d")"
  done
done
