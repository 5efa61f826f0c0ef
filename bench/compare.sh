#!/usr/bin/env bash
# Runs atomix-bench (stream and unary transports) and redis-benchmark INCR side
# by side on this machine, in one sitting, and prints a markdown table with
# the ratios. Usage: bench/compare.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
BUILD="${1:-build}"
SECS="${2:-10}"
BROKER_BIN="$BUILD/broker-sim/atomix-broker"
BENCH_BIN="$BUILD/bench/atomix-bench"
WORK="$(mktemp -d /tmp/atomix-compare-XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BROKER_BIN" --listen 127.0.0.1:0 --port-file "$WORK/port" --log-level warn --store memory &
PIDS+=($!)
REDIS_PORT=$((20000 + RANDOM % 20000))
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --daemonize no --logfile "$WORK/redis.log" &
PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
EP="127.0.0.1:$(cat "$WORK/port")"
for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

atomix() {  # transport callers -> "ops p50 p99"
  "$BENCH_BIN" --broker "$EP" --workload counter-increment --transport "$1" \
    --callers "$2" --duration "$SECS" --warmup 1 --json | tail -n 1 |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(int(d["ops_per_sec"]), d["p50_us"], d["p99_us"])'
}
redis() {  # clients -> "ops p50"
  local n=$(( $1 == 1 ? 200000 : 2000000 ))
  redis-benchmark -p "$REDIS_PORT" -t incr -c "$1" -n "$n" -q 2>/dev/null | tr '\r' '\n' |
    grep -E '^INCR' | tail -n 1 |
    sed -E 's/^INCR: ([0-9.]+) requests per second, p50=([0-9.]+) msec.*/\1 \2/' |
    awk '{printf "%d %.1f\n", $1, $2 * 1000}'
}

echo "| callers | atomix stream ops/s | p50 us | p99 us | atomix unary ops/s | p50 us | redis INCR ops/s | p50 us | stream/redis | unary/redis |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for c in 1 64; do
  read -r s_ops s_p50 s_p99 < <(atomix stream "$c")
  read -r u_ops u_p50 _ < <(atomix unary "$c")
  read -r r_ops r_p50 < <(redis "$c")
  python3 - "$c" "$s_ops" "$s_p50" "$s_p99" "$u_ops" "$u_p50" "$r_ops" "$r_p50" <<'PY'
import sys
c, s, sp50, sp99, u, up50, r, rp50 = sys.argv[1:]
s, u, r = int(s), int(u), int(r)
print(f"| {c} | {s} | {float(sp50):.0f} | {float(sp99):.0f} | {u} | {float(up50):.0f} | {r} | {float(rp50):.0f} | {s/r:.2f} | {u/r:.2f} |")
PY
done
