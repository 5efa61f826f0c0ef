#!/usr/bin/env bash
# Brokers over a 3-member etcd cluster, side by side with etcd's own Put, on
# this machine in one sitting. Starts the etcd members on loopback (data in
# DATA_PARENT), then for 1 and for 3 brokers (a fresh --etcd-prefix each
# run) measures counter-increment, map-put and lock-cycle with CALLERS
# callers, and etcd Put with the same callers. Prints a markdown table with
# ops/s, p50, p99 and the ratio to etcd Put.
# Usage: bench/compare_cluster.sh [BUILD_DIR] [SECONDS] [CALLERS] [DATA_PARENT]
set -euo pipefail
BUILD="${1:-build}"
SECS="${2:-10}"
CALLERS="${3:-64}"
PARENT="${4:-/tmp}"
BROKER_BIN="$BUILD/broker-sim/atomix-broker"
BENCH_BIN="$BUILD/bench/atomix-bench"
command -v etcd >/dev/null || { echo "needs etcd (Debian: etcd-server)" >&2; exit 2; }
WORK="$(mktemp -d "$PARENT/atomix-cluster-XXXXXX")"
PIDS=()
BROKERS=()
stop_brokers() { for p in "${BROKERS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done; BROKERS=(); }
cleanup() { stop_brokers || true; for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT

base=$((30000 + RANDOM % 20000))
CLUSTER=""; ENDPOINTS=""
for i in 0 1 2; do
  CLUSTER+="${CLUSTER:+,}m$i=http://127.0.0.1:$((base + 10 + i))"
  ENDPOINTS+="${ENDPOINTS:+,}127.0.0.1:$((base + i))"
done
for i in 0 1 2; do
  etcd --name "m$i" --data-dir "$WORK/m$i" \
    --listen-client-urls "http://127.0.0.1:$((base + i))" --advertise-client-urls "http://127.0.0.1:$((base + i))" \
    --listen-peer-urls "http://127.0.0.1:$((base + 10 + i))" --initial-advertise-peer-urls "http://127.0.0.1:$((base + 10 + i))" \
    --initial-cluster "$CLUSTER" --initial-cluster-token "$(basename "$WORK")" --log-level error > "$WORK/m$i.log" 2>&1 &
  PIDS+=($!)
done
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$base/health" | grep -q true && break; sleep 0.1; done

json() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(int(d["ops_per_sec"]), d["p50_us"], d["p99_us"])'; }

run=0
# brokers N -> starts N brokers on a fresh prefix, sets BROKER_LIST
brokers() {
  stop_brokers
  run=$((run + 1))
  BROKER_LIST=""
  for b in $(seq 1 "$1"); do
    rm -f "$WORK/port$b"
    "$BROKER_BIN" --listen 127.0.0.1:0 --port-file "$WORK/port$b" --store etcd \
      --etcd-endpoints "$ENDPOINTS" --etcd-prefix "/bench/$run/" --log-level warn 2>> "$WORK/broker.log" &
    BROKERS+=($!)
    for _ in $(seq 1 100); do [ -s "$WORK/port$b" ] && break; sleep 0.1; done
    BROKER_LIST+="${BROKER_LIST:+,}127.0.0.1:$(cat "$WORK/port$b")"
  done
}

ETCD=$("$BENCH_BIN" --workload etcd-put --etcd "127.0.0.1:$base" --callers "$CALLERS" \
  --duration "$SECS" --warmup 1 --json | json)
read -r eops ep50 ep99 <<< "$ETCD"
echo "| workload | brokers | callers | ops/s | p50 µs | p99 µs | × etcd Put |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
echo "| etcd Put | – | $CALLERS | $eops | $ep50 | $ep99 | 1.00 |"
for n in 1 3; do
  for w in counter-increment map-put lock-cycle; do
    brokers "$n"
    r=$("$BENCH_BIN" --broker "$BROKER_LIST" --workload "$w" --callers "$CALLERS" \
      --duration "$SECS" --warmup 1 --json | json)
    read -r ops p50 p99 <<< "$r"
    echo "| $w | $n | $CALLERS | $ops | $p50 | $p99 | $(python3 -c "print(round($ops / max($eops, 1), 2))") |"
  done
done
