#!/usr/bin/env bash
# Runs every compiled docs/examples program against a fresh broker and checks
# that each exits 0 (they print the error and exit 1 when a call fails).
# Usage: tests/examples_run.sh BROKER_BIN EXAMPLES_DIR
set -euo pipefail
BROKER="$1"
DIR="$2"
WORK="$(mktemp -d /tmp/atomix-examples-XXXXXX)"
"$BROKER" --listen 127.0.0.1:0 --port-file "$WORK/port" --log-level warn --store memory &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
export ATOMIX_BROKER="127.0.0.1:$(cat "$WORK/port")"
ran=0
for example in "$DIR"/example_*; do
  [ -x "$example" ] || continue
  if ! out="$(timeout 60 "$example" 2>&1)"; then
    echo "$(basename "$example") failed:"; echo "$out"; exit 1
  fi
  echo "$(basename "$example"): ok"
  ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || { echo "no examples in $DIR"; exit 1; }
