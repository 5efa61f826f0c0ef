# Sourced by the cluster benchmarks: starts a 3-member etcd cluster and
# atomix brokers on loopback, in a scratch dir under PARENT that it removes
# on exit (with everything it started). Needs BUILD and PARENT set.
#
#   start_etcd_cluster          # sets ETCD_BASE (member 0's client port), ENDPOINTS
#   start_brokers 3 /prefix/    # sets BROKER_LIST (host:port,...)
#   stop_all                    # brokers, then etcd
command -v etcd >/dev/null || { echo "needs etcd (Debian: etcd-server)" >&2; exit 2; }
BROKER_BIN="$BUILD/broker-sim/atomix-broker"
BENCH_BIN="$BUILD/bench/atomix-bench"
WORK="$(mktemp -d "$PARENT/atomix-cluster-XXXXXX")"
trap 'stop_all; rm -rf "$WORK"' EXIT
ETCD_PIDS=()
BROKER_PIDS=()

start_etcd_cluster() {
  ETCD_BASE=$((30000 + RANDOM % 20000))
  local cluster="" i
  ENDPOINTS=""
  for i in 0 1 2; do
    cluster+="${cluster:+,}m$i=http://127.0.0.1:$((ETCD_BASE + 10 + i))"
    ENDPOINTS+="${ENDPOINTS:+,}127.0.0.1:$((ETCD_BASE + i))"
  done
  for i in 0 1 2; do
    etcd --name "m$i" --data-dir "$WORK/m$i" \
      --listen-client-urls "http://127.0.0.1:$((ETCD_BASE + i))" \
      --advertise-client-urls "http://127.0.0.1:$((ETCD_BASE + i))" \
      --listen-peer-urls "http://127.0.0.1:$((ETCD_BASE + 10 + i))" \
      --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_BASE + 10 + i))" \
      --initial-cluster "$cluster" --initial-cluster-token "$(basename "$WORK")" \
      --log-level error > "$WORK/m$i.log" 2>&1 &
    ETCD_PIDS+=($!)
  done
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$ETCD_BASE/health" | grep -q true && break; sleep 0.1; done
}

stop_brokers() {
  local p
  for p in "${BROKER_PIDS[@]:-}"; do
    if [ -n "$p" ]; then kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  BROKER_PIDS=()
}

start_brokers() {  # N PREFIX [FLAGS...]
  local n="$1" prefix="$2" b
  shift 2
  stop_brokers
  BROKER_LIST=""
  for b in $(seq 1 "$n"); do
    rm -f "$WORK/port$b"
    "$BROKER_BIN" --listen 127.0.0.1:0 --port-file "$WORK/port$b" --store etcd \
      --etcd-endpoints "$ENDPOINTS" --etcd-prefix "$prefix" --log-level warn "$@" \
      2>> "$WORK/broker.log" &
    BROKER_PIDS+=($!)
    for _ in $(seq 1 100); do [ -s "$WORK/port$b" ] && break; sleep 0.1; done
    BROKER_LIST+="${BROKER_LIST:+,}127.0.0.1:$(cat "$WORK/port$b")"
  done
}

stop_all() {
  stop_brokers || true
  local p
  for p in "${ETCD_PIDS[@]:-}"; do
    if [ -n "$p" ]; then kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  ETCD_PIDS=()
}
