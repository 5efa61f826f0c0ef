#!/usr/bin/env bash
# Where counter-increment's cost goes, per operation, for the broker and the
# client: instructions and heap allocations (valgrind --tool=callgrind: for
# the broker counted only while the measured load runs, for the client the
# difference between a long and a short run), and context switches
# (/proc/PID/task/*/status, at full speed).
#
# Usage: [BROKER_ARGS="..."] bench/profile.sh [BUILD_DIR] [CALLERS] [OUT_DIR]
# Prints a markdown table; the callgrind files and top functions stay in
# OUT_DIR (default bench/results/profile). BROKER_ARGS adds broker flags,
# e.g. "--http-listen 127.0.0.1:0" to count the metrics' cost.
set -euo pipefail
BUILD="${1:-build}"
CALLERS="${2:-64}"
OUT="${3:-bench/results/profile}"
BROKER_BIN="$BUILD/broker-sim/atomix-broker"
BENCH_BIN="$BUILD/bench/atomix-bench"
mkdir -p "$OUT"
WORK="$(mktemp -d /tmp/atomix-profile-XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

start_broker() {  # [wrapper...] -> sets BROKER_PID, EP
  rm -f "$WORK/port"
  "$@" "$BROKER_BIN" --listen 127.0.0.1:0 --port-file "$WORK/port" --log-level warn \
    --store memory ${BROKER_ARGS:-} >"$WORK/broker.out" 2>&1 &
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  for _ in $(seq 1 600); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  EP="127.0.0.1:$(cat "$WORK/port")"
}
stop_broker() {
  kill -TERM "$BROKER_PID" 2>/dev/null || true
  wait "$BROKER_PID" 2>/dev/null || true
}
ctx() {  # pid -> voluntary+involuntary context switches of all its threads
  local total=0
  for t in /proc/"$1"/task/*/status; do
    total=$((total + $(awk '/ctxt_switches/ {s += $2} END {print s}' "$t" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
bench() {  # duration -> ops (JSON)
  "$BENCH_BIN" --broker "$EP" --workload counter-increment --callers "$CALLERS" \
    --duration "$1" --warmup 0.5 --json >"$WORK/bench.json"
  json_ops "$WORK/bench.json"
}

total_ir() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'; }
json_ops() { grep '^{"workload"' "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ops"])'; }

# 1. Broker: instructions and allocations per operation. callgrind counts
#    only between a zeroing and a dump taken around the measured load.
start_broker valgrind --tool=callgrind --callgrind-out-file="$OUT/broker.callgrind"
bench 2 >/dev/null                                  # warm up (connections, maps)
callgrind_control -z "$BROKER_PID" >/dev/null
ops=$(bench 10)
callgrind_control -d "$BROKER_PID" >/dev/null
sleep 1
stop_broker
dump="$OUT/broker.callgrind.1"
broker_ir=$(total_ir "$dump")
broker_allocs=$(python3 bench/callgrind_allocs.py "$dump")
callgrind_annotate --inclusive=yes "$dump" 2>/dev/null | sed -n '1,80p' >"$OUT/broker-top.txt"

# 2. Client (atomix-bench): the same counts, as the difference between a
#    long and a short run, which cancels start-up and shutdown.
start_broker
client_run() {  # seconds -> "instructions allocations ops"
  valgrind --tool=callgrind --callgrind-out-file="$OUT/client-$1.callgrind" \
    "$BENCH_BIN" --broker "$EP" --workload counter-increment --callers "$CALLERS" \
    --duration "$1" --warmup 0 --json >"$WORK/client-$1.json" 2>/dev/null
  echo "$(total_ir "$OUT/client-$1.callgrind") \
$(python3 bench/callgrind_allocs.py "$OUT/client-$1.callgrind") $(json_ops "$WORK/client-$1.json")"
}
read -r ci1 ca1 co1 < <(client_run 3)
read -r ci2 ca2 co2 < <(client_run 9)
callgrind_annotate --inclusive=yes "$OUT/client-9.callgrind" 2>/dev/null | sed -n '1,80p' \
  >"$OUT/client-top.txt"

# 3. Context switches per operation, both sides, at full speed.
before_b=$(ctx "$BROKER_PID")
"$BENCH_BIN" --broker "$EP" --workload counter-increment --callers "$CALLERS" --duration 5 \
  --warmup 0 --json >"$WORK/ctx.json" &
BENCH_PID=$!
sleep 4.9
client_ctx=$(ctx "$BENCH_PID")
wait "$BENCH_PID"
after_b=$(ctx "$BROKER_PID")
ctx_ops=$(json_ops "$WORK/ctx.json")
stop_broker

python3 - "$CALLERS" "$broker_ir" "$broker_allocs" "$ops" "$ci1" "$ca1" "$co1" "$ci2" "$ca2" \
  "$co2" "$before_b" "$after_b" "$client_ctx" "$ctx_ops" <<'PY'
import sys
callers, *rest = sys.argv[1:]
(bir, ball, bops, ci1, ca1, co1, ci2, ca2, co2, bb, ba, cctx, cops) = map(int, rest)
dops = co2 - co1
print(f"counter-increment, {callers} callers")
print()
print("| per operation | broker | client |")
print("| --- | --- | --- |")
print(f"| instructions (callgrind) | {bir / bops:,.0f} | {(ci2 - ci1) / dops:,.0f} |")
print(f"| heap allocations (callgrind call counts) | {ball / bops:.1f} | {(ca2 - ca1) / dops:.1f} |")
print(f"| context switches (/proc) | {(ba - bb) / cops:.3f} | {cctx / cops:.3f} |")
PY
echo "top functions (inclusive): $OUT/broker-top.txt, $OUT/client-top.txt"
