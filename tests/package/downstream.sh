# shellcheck shell=bash
# Sourced by the install and package tests.
# build_downstream OUT: compiles tests/package/downstream.cc into OUT with
# only `pkg-config --cflags --libs atomix`, under the caller's PKG_CONFIG_*
# variables (PKG_CONFIG_PATH, PKG_CONFIG_SYSROOT_DIR). Warnings are errors:
# the public headers compile cleanly under -Wall -Wextra.
build_downstream() {
  local out="$1" flags
  flags="$(pkg-config --cflags --libs atomix)"
  # shellcheck disable=SC2086
  c++ -std=c++20 -O1 -Wall -Wextra -Werror -o "$out" "$(dirname "${BASH_SOURCE[0]}")/downstream.cc" $flags
}
