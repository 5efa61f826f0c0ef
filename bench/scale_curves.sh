#!/usr/bin/env bash
# Scale curves: how the broker's memory and CPU grow with map entries,
# sessions, watchers and primitives. Prints markdown tables.
#
#   bench/scale_curves.sh [BUILD_DIR] [--quick] [--out DIR] [--only LIST]
#
# BUILD_DIR (default: build) must hold atomix-broker and atomix-scale:
#   cmake --build build --target atomix-broker atomix-scale
# --quick runs smaller sizes and shorter windows (a smoke test, about a
# minute). --out DIR keeps every run's raw output there (default: a scratch
# directory that is removed). --only takes a comma-separated subset of
# map,sessions,watch,counters.
#
# Every measurement starts a fresh `atomix-broker --store memory` on a free
# loopback port (--listen 127.0.0.1:0 --port-file F), runs atomix-scale
# against it (bench/scale/scale.cc says what each mode does), reads the
# broker's VmRSS and VmHWM from /proc/PID/status and its CPU time (utime +
# stime) from /proc/PID/stat, then stops it. One measurement runs at a
# time.
set -euo pipefail

BUILD=build
QUICK=0
OUT=""
ONLY="map,sessions,watch,counters"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --out) OUT="$2"; shift ;;
    --only) ONLY="$2"; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "scale_curves.sh: unknown flag $1" >&2; exit 2 ;;
    *) BUILD="$1" ;;
  esac
  shift
done

BROKER="$BUILD/broker-sim/atomix-broker"
SCALE="$BUILD/bench/scale/atomix-scale"
for bin in "$BROKER" "$SCALE"; do
  if [[ ! -x "$bin" ]]; then
    echo "scale_curves.sh: $bin is missing; build it with" >&2
    echo "  cmake --build $BUILD --target atomix-broker atomix-scale" >&2
    exit 1
  fi
done

KEEP_OUT=1
if [[ -z "$OUT" ]]; then
  OUT=$(mktemp -d /tmp/atomix-scale.XXXXXX)
  KEEP_OUT=0
fi
mkdir -p "$OUT"
TICK=$(getconf CLK_TCK)

BROKER_PID=""
TOOL_PID=""
cleanup() {
  [[ -n "$TOOL_PID" ]] && kill "$TOOL_PID" 2>/dev/null || true
  [[ -n "$BROKER_PID" ]] && kill "$BROKER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  if [[ $KEEP_OUT -eq 0 ]]; then rm -rf "$OUT"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wants() { [[ ",$ONLY," == *",$1,"* ]]; }

# start_broker NAME [broker flags...]: sets BROKER_PID and PORT.
start_broker() {
  local name="$1"; shift
  rm -f "$OUT/$name.port"
  "$BROKER" --store memory --listen 127.0.0.1:0 --port-file "$OUT/$name.port" \
    --log-level warn "$@" 2>"$OUT/$name.broker.log" &
  BROKER_PID=$!
  for _ in $(seq 200); do
    [[ -s "$OUT/$name.port" ]] && break
    kill -0 "$BROKER_PID" 2>/dev/null || { echo "broker died: $(cat "$OUT/$name.broker.log")" >&2; exit 1; }
    sleep 0.05
  done
  PORT=$(cat "$OUT/$name.port")
  sleep 0.3
}

stop_broker() {
  kill -TERM "$BROKER_PID" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$BROKER_PID" 2>/dev/null || true
  wait "$BROKER_PID" 2>/dev/null || true
  BROKER_PID=""
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$BROKER_PID/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$BROKER_PID/status"; }
# utime + stime in clock ticks (fields 14 and 15; the name in field 2 may
# hold spaces, so count from after its closing parenthesis).
cpu_ticks() { sed 's/.*) //' "/proc/$BROKER_PID/stat" | awk '{print $12 + $13}'; }
# val KEY FILE: the value atomix-scale printed for KEY.
val() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
calc() { awk "BEGIN {printf $1}"; }
mib() { calc "\"%.1f\", $1 / 1024"; }

wait_file() {  # wait_file PATH SECONDS
  local i
  for i in $(seq $(( $2 * 10 ))); do
    [[ -e "$1" ]] && return 0
    kill -0 "$TOOL_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

start_ready() {  # start_ready NAME SECONDS args...: in the background (TOOL_PID),
  # until it has written NAME.ready; it goes on once NAME.go exists.
  local name="$1" seconds="$2"
  shift 2
  rm -f "$OUT/$name.ready" "$OUT/$name.go"
  "$SCALE" --broker "127.0.0.1:$PORT" "$@" \
    --ready-file "$OUT/$name.ready" --go-file "$OUT/$name.go" \
    >"$OUT/$name.out" 2>"$OUT/$name.out.err" &
  TOOL_PID=$!
  if ! wait_file "$OUT/$name.ready" "$seconds"; then
    echo "atomix-scale $name did not get ready" >&2; cat "$OUT/$name.out.err" >&2; exit 1
  fi
}

run_tool() {  # run_tool OUTFILE args...: foreground, fails loudly
  local out="$1"; shift
  if ! "$SCALE" --broker "127.0.0.1:$PORT" "$@" >"$out" 2>"$out.err"; then
    echo "atomix-scale $* failed:" >&2
    cat "$out" "$out.err" >&2
    exit 1
  fi
}

if [[ $QUICK -eq 1 ]]; then
  MAP_SIZES="10000 30000 100000"
  SESSION_SIZES="0 1000 10000"
  SETTLE=4; WINDOW=5
  WATCH_SIZES="1000 10000"
  WATCH_DURATION=3
  COUNTER_SIZES="1 100 10000"
  COUNTER_DURATION=2; COUNTER_WARMUP=1
else
  MAP_SIZES="100000 300000 1000000"
  SESSION_SIZES="0 1000 10000"
  SETTLE=4; WINDOW=30
  WATCH_SIZES="1000 10000 100000"
  WATCH_DURATION=10
  COUNTER_SIZES="1 100 10000 100000"
  COUNTER_DURATION=10; COUNTER_WARMUP=2
fi
VALUE_BYTES=100

echo "# atomix scale curves"
echo
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "broker: $BROKER --store memory; load: $SCALE"

# ---------------------------------------------------------------- 1. map
if wants map; then
  echo
  echo "## Map entries ($VALUE_BYTES-byte values, keys k%07d: 108 raw bytes an entry)"
  echo
  echo "| entries | raw MiB | idle RSS MiB | RSS MiB | VmHWM MiB | RSS / raw | (RSS - idle) / raw | bytes / entry above idle | puts/s |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  map_row() {  # map_row ENTRIES LABEL [broker flags...]
    local n="$1" label="$2"; shift 2
    start_broker "map-$n" "$@"
    local idle; idle=$(rss_kb)
    run_tool "$OUT/map-$n.out" --mode fill --entries "$n" --value-bytes "$VALUE_BYTES"
    sleep 1
    local rss hwm raw
    rss=$(rss_kb); hwm=$(hwm_kb); raw=$(val raw_bytes "$OUT/map-$n.out")
    echo "| $label | $(calc "\"%.1f\", $raw / 1048576") | $(mib "$idle") | $(mib "$rss") | $(mib "$hwm") | $(calc "\"%.2f\", $rss * 1024 / $raw") | $(calc "\"%.2f\", ($rss - $idle) * 1024 / $raw") | $(calc "\"%.0f\", ($rss - $idle) * 1024 / $n") | $(val puts_per_s "$OUT/map-$n.out") |"
    stop_broker
  }
  for n in $MAP_SIZES; do map_row "$n" "$n"; done
  last=${MAP_SIZES##* }
  # The same fill with the watch history cut to one event: what the
  # history's share is (a flag, not a code change).
  map_row "$last" "$last, --watch-history 1" --watch-history 1
fi

# ---------------------------------------------------------------- 2. sessions
if wants sessions; then
  echo
  echo "## Sessions (TTL 10 s, every session kept alive every 3.33 s over 4 streams; CPU over a ${WINDOW} s window)"
  echo
  echo "| sessions | keep-alives per message | idle RSS MiB | RSS MiB | bytes / session | keep-alives/s | broker CPU s in ${WINDOW} s | CPU % of a core | CPU above idle, us / keep-alive |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  idle_cpu=""
  session_row() {  # session_row SESSIONS KEEPALIVES_PER_BATCH
    local n="$1" batch="$2" name="sessions-$1-$2"
    start_broker "$name"
    local idle; idle=$(rss_kb)
    start_ready "$name" 120 --mode sessions --sessions "$n" --streams 4 \
      --ttl-ms 10000 --batch "$batch" --window 2000 --hold-s $(( SETTLE + WINDOW + 120 ))
    sleep "$SETTLE"
    local c0 c1 rss
    c0=$(cpu_ticks)
    sleep "$WINDOW"
    c1=$(cpu_ticks)
    rss=$(rss_kb)
    touch "$OUT/$name.go"
    if ! wait "$TOOL_PID"; then
      echo "atomix-scale sessions $n failed" >&2; cat "$OUT/$name.out" "$OUT/$name.out.err" >&2; exit 1
    fi
    TOOL_PID=""
    local cpu per us kas
    cpu=$(calc "\"%.2f\", ($c1 - $c0) / $TICK")
    [[ -z "$idle_cpu" ]] && idle_cpu=$cpu
    kas=$(calc "\"%.0f\", $n * 3 / 10")
    if [[ $n -gt 0 ]]; then
      per=$(calc "\"%.0f\", ($rss - $idle) * 1024 / $n")
      us=$(calc "\"%.1f\", ($cpu - $idle_cpu) * 1e6 / ($n * 0.3 * $WINDOW)")
    else
      per="-"; us="-"
    fi
    echo "| $n | $batch | $(mib "$idle") | $(mib "$rss") | $per | $kas | $cpu | $(calc "\"%.1f\", $cpu * 100 / $WINDOW") | $us |"
    stop_broker
  }
  for n in $SESSION_SIZES; do session_row "$n" 500; done
  # The largest again with one keep-alive per RequestBatch: the messages
  # that as many separate clients would send.
  session_row "${SESSION_SIZES##* }" 1
fi

# ---------------------------------------------------------------- 3. watch
if wants watch; then
  echo
  echo "## Watchers (Map watches on one key each, 1000 keys, 10 connections; writes of 64-byte values, keys in turn, 8 in flight, ${WATCH_DURATION} s)"
  echo
  echo "| watchers | maps | open s | idle RSS MiB | RSS with watches MiB | bytes / watcher | VmHWM MiB | events/s | writes/s | fan-out p50 ms | p99 ms | check |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  watch_row() {  # watch_row WATCHERS MAPS
    local n="$1" maps="$2" name="watch-$1-$2"
    start_broker "$name"
    local idle; idle=$(rss_kb)
    start_ready "$name" 600 --mode watch --watchers "$n" --keys 1000 \
      --maps "$maps" --connections 10 --inflight 8 --duration "$WATCH_DURATION"
    sleep 2
    local rss; rss=$(rss_kb)
    touch "$OUT/$name.go"
    local check=ok
    wait "$TOOL_PID" || check=FAILED
    TOOL_PID=""
    local o="$OUT/$name.out"
    echo "| $n | $maps | $(val open_s "$o") | $(mib "$idle") | $(mib "$rss") | $(calc "\"%.0f\", ($rss - $idle) * 1024 / $n") | $(mib "$(hwm_kb)") | $(val events_per_s "$o") | $(val writes_per_s "$o") | $(val fanout_p50_ms "$o") | $(val fanout_p99_ms "$o") | $check |"
    stop_broker
  }
  for n in $WATCH_SIZES; do watch_row "$n" 1; done
  # The same watchers with each key in a map of its own.
  watch_row "${WATCH_SIZES##* }" 1000
fi

# ---------------------------------------------------------------- 4. counters
if wants counters; then
  echo
  echo "## Counter increments (64 in flight on one stream, a uniformly random counter each; ${COUNTER_DURATION} s after ${COUNTER_WARMUP} s warm-up)"
  echo
  echo "| counters | ops/s | p50 us | p99 us | idle RSS MiB | RSS after MiB |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for n in $COUNTER_SIZES; do
    start_broker "counters-$n"
    idle=$(rss_kb)
    run_tool "$OUT/counters-$n.out" --mode counters --counters "$n" --inflight 64 \
      --duration "$COUNTER_DURATION" --warmup "$COUNTER_WARMUP"
    rss=$(rss_kb)
    o="$OUT/counters-$n.out"
    echo "| $n | $(val ops_per_s "$o") | $(val p50_us "$o") | $(val p99_us "$o") | $(mib "$idle") | $(mib "$rss") |"
    stop_broker
  done
fi

echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ $KEEP_OUT -eq 1 ]]; then echo "raw output: $OUT"; fi
