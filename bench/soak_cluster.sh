#!/usr/bin/env bash
# etcd's database under a steady write load: 3 brokers over a 3-member etcd
# cluster, map-put from CALLERS callers (each over its own 1000 keys) for SECONDS, with the default
# snapshot interval (log truncation and compaction). Every 10 s prints
# etcd's database size (etcd_mvcc_db_total_size_in_bytes: the file, which
# only defragmentation shrinks; and ..._in_use_in_bytes: what is live) and
# its key count, from member 0's metrics.
# Usage: bench/soak_cluster.sh [BUILD_DIR] [SECONDS] [CALLERS] [DATA_PARENT]
set -euo pipefail
BUILD="${1:-build}"
SECS="${2:-120}"
CALLERS="${3:-64}"
PARENT="${4:-/tmp}"
source "$(dirname "$0")/etcd_cluster.sh"

metric() { curl -s "http://127.0.0.1:$ETCD_BASE/metrics" | awk -v m="$1" '$1 == m {printf "%d", $2}'; }

start_etcd_cluster
start_brokers 3 /soak/
"$BENCH_BIN" --broker "$BROKER_LIST" --workload map-put --callers "$CALLERS" \
  --duration "$SECS" --warmup 0 --json > "$WORK/bench.json" &
BENCH=$!
echo "| s | db bytes | db bytes in use | keys |"
echo "| --- | --- | --- | --- |"
for t in $(seq 10 10 "$SECS"); do
  sleep 10
  echo "| $t | $(metric etcd_mvcc_db_total_size_in_bytes) | $(metric etcd_mvcc_db_total_size_in_use_in_bytes) | $(metric etcd_debugging_mvcc_keys_total) |"
done
wait "$BENCH" || true
tail -1 "$WORK/bench.json"
