#!/usr/bin/env bash
# Runs atomix-bench for one second per workload (blocking and asynchronous)
# against a fresh broker and checks that it reports a positive ops/s on its
# last line with no errors, and that --store refuses a broker of another store;
# then one election failover, and one short watch fan-out (which exits 1
# unless every watcher got every write exactly once, in order).
set -euo pipefail
BROKER="$1"
BENCH="$2"
# shellcheck source=tests/start_broker.sh
source "$(dirname "$0")/start_broker.sh"
start_broker "$BROKER"
for w in counter-increment counter-get map-put map-get; do
  for t in stream unary; do
    out="$("$BENCH" --broker "$EP" --workload "$w" --transport "$t" --callers 4 --duration 1 --warmup 0.2)"
    last="$(echo "$out" | tail -n 1)"
    echo "$w $t: $last"
    [[ "$last" =~ ^ops/s\ [1-9][0-9]*$ ]] || { echo "unexpected output: $out"; exit 1; }
  done
done
for args in "--workload value-cas --callers 4" "--workload counter-increment --async --inflight 256" \
            "--workload value-cas --async --inflight 4" "--workload map-put --async --inflight 64" \
            "--workload lock-handoff --callers 4 --processes 2"; do
  # shellcheck disable=SC2086
  out="$("$BENCH" --broker "$EP" $args --store memory --duration 1 --warmup 0.2)"
  last="$(echo "$out" | tail -n 1)"
  echo "$args: $last"
  [[ "$last" =~ ^ops/s\ [1-9][0-9]*$ ]] || { echo "unexpected output: $out"; exit 1; }
done
if "$BENCH" --broker "$EP" --workload counter-get --store disk --duration 0.2 2>/dev/null; then
  echo "--store disk against a memory broker should fail"; exit 1
fi
out="$("$BENCH" --broker "$EP" --workload counter-increment --callers 2 --duration 0.5 --warmup 0 --json | tail -n 1)"
[[ "$out" =~ \"ops_per_sec\":\ [1-9][0-9]*\}$ ]] || { echo "unexpected JSON: $out"; exit 1; }
# One SIGKILL of an election leader with the shortest TTL (about 1 s).
out="$("$BENCH" --broker "$EP" --workload election-failover --ttl-ms 1000 --repeat 1 | tail -n 1)"
echo "election-failover: $out"
[[ "$out" =~ ^ttl\ 1000\ ms:\ failover\ min\ [0-9.]+\ median\ [0-9.]+\ max\ [0-9.]+\ ms ]] ||
  { echo "unexpected output: $out"; exit 1; }
out="$("$BENCH" --broker "$EP" --workload watch-fanout --watchers 10 --writers 2 --duration 1 \
  --warmup 0.2)" || { echo "watch-fanout failed: $out"; exit 1; }
last="$(echo "$out" | tail -n 1)"
echo "watch-fanout: $last"
echo "$out" | grep -q "every watcher got every write exactly once, in order" &&
  [[ "$last" =~ ^events/s\ [1-9][0-9]*$ ]] || { echo "unexpected output: $out"; exit 1; }
