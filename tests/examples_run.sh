#!/usr/bin/env bash
# Runs every compiled docs/examples program against a fresh broker and checks
# that each exits 0 (they print the error and exit 1 when a call fails).
# Usage: tests/examples_run.sh BROKER_BIN EXAMPLES_DIR
set -euo pipefail
BROKER="$1"
DIR="$2"
# shellcheck source=tests/start_broker.sh
source "$(dirname "$0")/start_broker.sh"
start_broker "$BROKER"
export ATOMIX_BROKER="$EP"
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
