#!/usr/bin/env bash
# Installs the Debian packages atomix needs to build, test and run. Runs
# apt-get only when something is missing, and `apt-get update` at most once.
#   scripts/install-deps.sh          build, test and run
#   scripts/install-deps.sh bench    also what bench/compare runs and draws with
set -euo pipefail

PACKAGES=(
  build-essential cmake make pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  redis-server redis-tools ccache
  etcd-server golang-etcd-server-dev
  libcpp-httplib-dev libssl-dev prometheus-cpp-dev libtomlplusplus-dev
  chromium python3-grpcio python3-protobuf python3-pytest python3-websocket
  dpkg-dev
  openssl clang-14 libfuzzer-14-dev
)
# bench/compare's peers (also above, for the tests), its chart tool, and
# bench/profile.sh's valgrind.
BENCH_PACKAGES=(redis-server redis-tools etcd-server gnuplot-nox valgrind)
case "${1:-}" in
  "") ;;
  bench) PACKAGES+=("${BENCH_PACKAGES[@]}") ;;
  *) echo "usage: $0 [bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  [[ " ${missing[*]} " == *" $p "* ]] && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
