#!/usr/bin/env bash
# The SDK as shared libraries: configures and builds SOURCE_DIR with
# -DBUILD_SHARED_LIBS=ON into SHARED_DIR (the SDK and docs/examples only;
# kept between runs, so a rerun rebuilds nothing), then checks
#  - the SONAMEs (libatomix_*.so.<major>, see cmake/shared_libs.cmake);
#  - the dynamic symbol tables: the public API is exported, the SDK's
#    private classes (sdk/src, primitives/src) are not;
#  - every docs/examples program, linked to the shared SDK, runs against
#    BROKER_BIN;
#  - the installed shared SDK works downstream (tests/install/run.sh).
# Usage: tests/package/shared.sh SOURCE_DIR SHARED_DIR BROKER_BIN SOVERSION
set -euo pipefail
SRC="$1"
DIR="$2"
BROKER="$3"
MAJOR="$4"
HERE="$(cd "$(dirname "$0")" && pwd)"
fail() { echo "FAIL: $*"; exit 1; }

cmake -S "$SRC" -B "$DIR" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
      -DATOMIX_BUILD_BROKER=OFF -DATOMIX_BUILD_TESTS=OFF -DATOMIX_BUILD_BENCH=OFF \
      -DATOMIX_BUILD_EXAMPLES=ON -DATOMIX_INSTALL=ON > "$DIR.configure.log" 2>&1 ||
  { cat "$DIR.configure.log"; fail "configure"; }
cmake --build "$DIR" -j2 > "$DIR.build.log" 2>&1 || { tail -50 "$DIR.build.log"; fail "build"; }
grep -q "warning:" "$DIR.build.log" && { grep -A3 "warning:" "$DIR.build.log"; fail "warnings"; }

# SONAMEs.
for lib in proto/libatomix_proto sdk/libatomix_sdk_core primitives/libatomix_sdk; do
  soname="$(readelf -d "$DIR/$lib.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
  [ "$soname" = "$(basename "$lib").so.$MAJOR" ] || fail "$lib.so has SONAME '$soname'"
done
echo "SONAMEs: libatomix_{proto,sdk_core,sdk}.so.$MAJOR"

# Exported symbols: public API in, private classes out.
nm -DC --defined-only "$DIR/sdk/libatomix_sdk_core.so" > "$DIR.core.syms"
nm -DC --defined-only "$DIR/primitives/libatomix_sdk.so" > "$DIR.sdk.syms"
expect() { grep -qF -- "$2" "$1" || fail "$(basename "$1") does not export $2"; }
expect "$DIR.core.syms" "atomix::DefaultClient()"
expect "$DIR.core.syms" "atomix::Client::Connect("
expect "$DIR.core.syms" "atomix::CurrentVersion(absl::"
expect "$DIR.sdk.syms" "atomix::GetCounter(std::basic_string_view"
expect "$DIR.sdk.syms" "atomix::Counter::Increment("
# An internal/ core: the public templates (Map<K,V>) call it from the
# application's code.
expect "$DIR.sdk.syms" "atomix::internal::MapCore::"
# The SDK's private classes: no member, vtable or typeinfo of theirs.
private='(for | )atomix::internal::(ClientCore|StreamCore|UnaryCore|WatchHub|WatchStream|Executor|CallQueue|PendingCall|Backoff)(::| *$)'
for syms in "$DIR.core.syms" "$DIR.sdk.syms"; do
  if grep -E "$private" "$syms"; then fail "$(basename "$syms") exports private classes"; fi
done
echo "exports: $(grep -c ' atomix::' "$DIR.core.syms") atomix:: symbols in libatomix_sdk_core.so," \
     "$(grep -c ' atomix::' "$DIR.sdk.syms") in libatomix_sdk.so; no private class"

# Every example, linked to the shared SDK.
libs="$(ldd "$DIR/docs/examples/example_counter")"
grep -q "libatomix_sdk.so.$MAJOR => $DIR" <<< "$libs" ||
  fail "example_counter is not linked to the shared SDK: $libs"
bash "$HERE/../examples_run.sh" "$BROKER" "$DIR/docs/examples"

# Installed: CMake and pkg-config downstream builds.
bash "$HERE/../install/run.sh" "$DIR" "$BROKER"
