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
source "$(dirname "$0")/etcd_cluster.sh"

json() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(int(d["ops_per_sec"]), d["p50_us"], d["p99_us"])'; }

start_etcd_cluster
read -r eops ep50 ep99 <<< "$("$BENCH_BIN" --workload etcd-put --etcd "127.0.0.1:$ETCD_BASE" \
  --callers "$CALLERS" --duration "$SECS" --warmup 1 --json | json)"
echo "| workload | brokers | callers | ops/s | p50 µs | p99 µs | × etcd Put |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
echo "| etcd Put | – | $CALLERS | $eops | $ep50 | $ep99 | 1.00 |"
run=0
for n in 1 3; do
  for w in counter-increment map-put lock-cycle; do
    run=$((run + 1))
    start_brokers "$n" "/bench/$run/"
    read -r ops p50 p99 <<< "$("$BENCH_BIN" --broker "$BROKER_LIST" --workload "$w" \
      --callers "$CALLERS" --duration "$SECS" --warmup 1 --json | json)"
    echo "| $w | $n | $CALLERS | $ops | $p50 | $p99 | $(python3 -c "print(round($ops / max($eops, 1), 2))") |"
  done
done
