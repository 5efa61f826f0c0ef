# Sourced by the test scripts: start_broker BROKER_BIN starts a broker on a
# free loopback port with the memory store, stops it (and removes $WORK)
# when the script exits, and sets EP to its host:port.
start_broker() {
  WORK="$(mktemp -d /tmp/atomix-test-XXXXXX)"
  "$1" --listen 127.0.0.1:0 --port-file "$WORK/port" --log-level warn --store memory &
  BROKER_PID=$!
  trap 'kill -TERM $BROKER_PID 2>/dev/null || true; wait $BROKER_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
  for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  EP="127.0.0.1:$(cat "$WORK/port")"
}
