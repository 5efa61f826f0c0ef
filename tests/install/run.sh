#!/usr/bin/env bash
# Installs atomix from BUILD_DIR into a temporary prefix, builds downstream
# programs against the installed package (a CMake project with
# find_package(atomix), and a program built with pkg-config alone), and runs
# them against a real broker: the installed one, or BROKER_BIN when given
# (a build of the SDK alone installs none).
# Usage: tests/install/run.sh BUILD_DIR [BROKER_BIN]
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
# shellcheck source=tests/package/downstream.sh
source "$SRC_DIR/../package/downstream.sh"

cmake --install "$BUILD_DIR" --prefix "$WORK/prefix" > "$WORK/install.log"
BROKER="${2:-$WORK/prefix/bin/atomix-broker}"
cmake -S "$SRC_DIR/consumer" -B "$WORK/build" -DCMAKE_PREFIX_PATH="$WORK/prefix" \
      -DCMAKE_BUILD_TYPE=Release > "$WORK/configure.log"
cmake --build "$WORK/build" -j2 > "$WORK/build.log"
LIBDIR="$(dirname "$(find "$WORK/prefix" -name atomix.pc)")/.."
PKG_CONFIG_PATH="$LIBDIR/pkgconfig" build_downstream "$WORK/downstream"

"$BROKER" --listen 127.0.0.1:0 --port-file "$WORK/port" --log-level warn --store memory &
BROKER_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT="$(cat "$WORK/port")"
export ATOMIX_BROKER="127.0.0.1:$PORT"
"$WORK/build/consumer"
# pkg-config gives -L, not a run path: a shared SDK is found through
# LD_LIBRARY_PATH.
out="$(LD_LIBRARY_PATH="$LIBDIR" "$WORK/downstream" install-downstream)"
[ "$out" = "counter=1" ] || { echo "downstream printed '$out', want 'counter=1'"; exit 1; }
echo "downstream (pkg-config): $out"

# The installed command-line tool reaches the same broker, and its bash
# completion is where bash-completion looks.
test -f "$WORK/prefix/share/bash-completion/completions/atomix"
"$WORK/prefix/bin/atomix" --endpoints "127.0.0.1:$PORT" counter get jobs > /dev/null
