#!/usr/bin/env bash
# Runs the watch-fanout workload of atomix-bench (Map watches) and its Redis
# pub/sub peer (redis-fanout) side by side for 1, 100 and 1000 watchers, in
# one sitting, and prints a markdown table with the ratios. Both runs check
# that every watcher got every write exactly once, in order; a failed check
# stops the script.
# Usage: bench/compare_watch.sh [BUILD_DIR] [SECONDS] [WRITERS] [WATCHERS...]
#   WRITERS: closed-loop writers, each with one write in flight (default 1).
set -euo pipefail
BUILD="${1:-build}"
SECS="${2:-5}"
WRITERS="${3:-1}"
shift $(( $# < 3 ? $# : 3 ))
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(1 100 1000)
BROKER_BIN="$BUILD/broker-sim/atomix-broker"
BENCH_BIN="$BUILD/bench/atomix-bench"
WORK="$(mktemp -d /tmp/atomix-compare-watch-XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
# 1000 subscribers need 1000 sockets on each side.
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 4096 ] || ulimit -Sn 4096 2>/dev/null || true

"$BROKER_BIN" --listen 127.0.0.1:0 --port-file "$WORK/port" --log-level warn --store memory &
PIDS+=($!)
REDIS_PORT=$((20000 + RANDOM % 20000))
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --daemonize no --logfile "$WORK/redis.log" &
PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
EP="127.0.0.1:$(cat "$WORK/port")"
for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

run() {  # workload watchers -> "events_per_sec p50 p99"; exits on a failed run or check
  local out
  out="$("$BENCH_BIN" --broker "$EP" --redis "127.0.0.1:$REDIS_PORT" --workload "$1" \
    --watchers "$2" --writers "$WRITERS" --duration "$SECS" --warmup 1 --json)"
  echo "$out" | tail -n 1 |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(int(d["events_per_sec"]), d["p50_us"], d["p99_us"])'
}

echo "| watchers | atomix events/s | p50 us | p99 us | redis events/s | p50 us | p99 us | events/s atomix/redis | p50 atomix/redis |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for n in "${COUNTS[@]}"; do
  a="$(run watch-fanout "$n")"
  r="$(run redis-fanout "$n")"
  read -r a_ev a_p50 a_p99 <<<"$a"
  read -r r_ev r_p50 r_p99 <<<"$r"
  python3 - "$n" "$a_ev" "$a_p50" "$a_p99" "$r_ev" "$r_p50" "$r_p99" <<'PY'
import sys
n, a, ap50, ap99, r, rp50, rp99 = sys.argv[1:]
a, r = int(a), int(r)
ap50, ap99, rp50, rp99 = map(float, (ap50, ap99, rp50, rp99))
print(f"| {n} | {a} | {ap50:.0f} | {ap99:.0f} | {r} | {rp50:.0f} | {rp99:.0f} | {a/r:.2f} | {ap50/rp50:.2f} |")
PY
done
