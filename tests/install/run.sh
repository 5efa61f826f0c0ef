#!/usr/bin/env bash
# Installs atomix from BUILD_DIR into a temporary prefix, builds the consumer
# project against the installed package, and runs it against a real broker.
set -euo pipefail
BUILD_DIR="$1"
SRC_DIR="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d /tmp/atomix-install-XXXXXX)"
BROKER_PID=""
cleanup() {
  if [ -n "$BROKER_PID" ]; then kill -TERM "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

cmake --install "$BUILD_DIR" --prefix "$WORK/prefix" > "$WORK/install.log"
cmake -S "$SRC_DIR/consumer" -B "$WORK/build" -DCMAKE_PREFIX_PATH="$WORK/prefix" \
      -DCMAKE_BUILD_TYPE=Release > "$WORK/configure.log"
cmake --build "$WORK/build" -j2 > "$WORK/build.log"

"$WORK/prefix/bin/atomix-broker" --listen 127.0.0.1:0 --port-file "$WORK/port" --log-level warn --store memory &
BROKER_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT="$(cat "$WORK/port")"
ATOMIX_BROKER="127.0.0.1:$PORT" "$WORK/build/consumer"

# The installed command-line tool reaches the same broker, and its bash
# completion is where bash-completion looks.
test -f "$WORK/prefix/share/bash-completion/completions/atomix"
"$WORK/prefix/bin/atomix" --endpoints "127.0.0.1:$PORT" counter get jobs > /dev/null
