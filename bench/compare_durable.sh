#!/usr/bin/env bash
# Durable writes, side by side on this machine in one sitting: atomix-broker
# on its disk store (--sync always) and a single-node etcd, both with their
# data on the same disk. Each run gets a fresh server. Prints a markdown
# table: ops/s, p50, p99, fdatasyncs per second and operations per
# fdatasync, and the ratios to etcd.
# Usage: bench/compare_durable.sh [BUILD_DIR] [SECONDS] [DATA_PARENT]
set -euo pipefail
BUILD="${1:-build}"
SECS="${2:-10}"
PARENT="${3:-/tmp}"
BROKER_BIN="$BUILD/broker-sim/atomix-broker"
BENCH_BIN="$BUILD/bench/atomix-bench"
command -v etcd >/dev/null || { echo "needs etcd (Debian: etcd-server)" >&2; exit 2; }
WORK="$(mktemp -d "$PARENT/atomix-durable-XXXXXX")"
PID=""
stop() { if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; fi; }
trap 'stop; rm -rf "$WORK"' EXIT

json() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(int(d["ops_per_sec"]), d["p50_us"], d["p99_us"], d["ops"])'; }

# atomix WORKLOAD CALLERS -> "ops/s p50 p99 ops syncs"
atomix() {
  rm -rf "$WORK/atomix"; : > "$WORK/broker.log"
  "$BROKER_BIN" --listen 127.0.0.1:0 --port-file "$WORK/port" --store disk \
    --data-dir "$WORK/atomix" --sync always 2> "$WORK/broker.log" &
  PID=$!
  rm -f "$WORK/port"; for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  local r; r=$("$BENCH_BIN" --broker "127.0.0.1:$(cat "$WORK/port")" --workload "$1" \
    --callers "$2" --duration "$SECS" --warmup 1 --json | json)
  stop
  local syncs; syncs=$(grep -oE '[0-9]+ fdatasyncs' "$WORK/broker.log" | awk '{print $1}')
  echo "$r ${syncs:-0}"
}

# etcd CALLERS -> "ops/s p50 p99 ops syncs"
etcd_run() {
  rm -rf "$WORK/etcd"
  local port=$((30000 + RANDOM % 20000)) peer=$((30000 + RANDOM % 20000))
  etcd --name bench --data-dir "$WORK/etcd" \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "bench=http://127.0.0.1:$peer" --log-level error > "$WORK/etcd.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  local before after
  before=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^etcd_disk_wal_fsync_duration_seconds_count/ {print $2}')
  local r; r=$("$BENCH_BIN" --workload etcd-put --etcd "127.0.0.1:$port" \
    --callers "$1" --duration "$SECS" --warmup 1 --json | json)
  after=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^etcd_disk_wal_fsync_duration_seconds_count/ {print $2}')
  stop
  echo "$r $(( ${after%.*} - ${before%.*} ))"
}

row() {  # name result etcd_ops etcd_p99
  read -r ops p50 p99 total syncs <<< "$2"
  local per_s per_sync ratio p99ratio
  per_s=$(python3 -c "print(round($syncs / ($SECS + 1)))")
  per_sync=$(python3 -c "print(round($ops * ($SECS + 1) / max($syncs, 1), 1))")
  ratio=$(python3 -c "print(round($ops / max($3, 1), 2))")
  p99ratio=$(python3 -c "print(round($p99 / max($4, 1), 2))")
  echo "| $1 | $ops | $p50 | $p99 | $per_s | $per_sync | $ratio | $p99ratio |"
}

echo "| run | ops/s | p50 us | p99 us | fdatasync/s | ops/fdatasync | ops vs etcd | p99 vs etcd |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for callers in 1 64; do
  e=$(etcd_run "$callers")
  read -r eops _ ep99 _ _ <<< "$e"
  row "etcd put, $callers in flight" "$e" "$eops" "$ep99"
  row "atomix map-put, $callers callers" "$(atomix map-put "$callers")" "$eops" "$ep99"
  row "atomix counter-increment, $callers callers" "$(atomix counter-increment "$callers")" "$eops" "$ep99"
done
