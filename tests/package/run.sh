#!/usr/bin/env bash
# Builds the .deb from BUILD_DIR (cpack, over the targets already built
# there), checks its contents and maintainer scripts, extracts it into a
# scratch root, builds a downstream program against that root with
# pkg-config alone, and runs it against the extracted atomix-broker.
# Usage: tests/package/run.sh BUILD_DIR VERSION WITH_CLI(0|1)
set -euo pipefail
BUILD_DIR="$(cd "$1" && pwd)"
VERSION="$2"
WITH_CLI="$3"
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d /tmp/atomix-package-XXXXXX)"
BROKER_PID=""
cleanup() {
  if [ -n "$BROKER_PID" ]; then kill -TERM "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
# shellcheck source=tests/package/downstream.sh
source "$HERE/downstream.sh"

# 1. The package, from the targets built in BUILD_DIR.
(cd "$BUILD_DIR" && cpack -G DEB -B "$WORK/out") > "$WORK/cpack.log" 2>&1 ||
  { cat "$WORK/cpack.log"; fail "cpack"; }
DEB="$WORK/out/atomix_${VERSION}_amd64.deb"
[ -f "$DEB" ] || { ls "$WORK/out"; fail "no $(basename "$DEB")"; }
echo "built $(basename "$DEB")"

# 2. Its files.
dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' > "$WORK/files"
expected=(
  /usr/bin/atomix-broker
  /usr/include/atomix/atomix.h /usr/include/atomix/export.h /usr/include/atomix/counter.h
  /usr/include/atomix/internal/map_core.h
  /usr/lib/libatomix_sdk.a /usr/lib/libatomix_sdk_core.a /usr/lib/libatomix_proto.a
  /usr/lib/cmake/atomix/atomixConfig.cmake /usr/lib/cmake/atomix/atomixConfigVersion.cmake
  /usr/lib/cmake/atomix/atomixTargets.cmake
  /usr/lib/pkgconfig/atomix.pc
  /lib/systemd/system/atomix-broker.service
  /etc/default/atomix-broker
)
[ "$WITH_CLI" = 1 ] && expected+=(/usr/bin/atomix)
for f in "${expected[@]}"; do
  grep -qx -- "$f" "$WORK/files" || fail "$f is not in the package"
done
echo "contents: ${#expected[@]} expected paths present"

# 3. Its control data: maintainer scripts, conffiles, dependencies.
dpkg-deb -e "$DEB" "$WORK/control"
for s in postinst prerm postrm; do
  [ -x "$WORK/control/$s" ] || fail "no executable $s"
  sh -n "$WORK/control/$s" || fail "$s is not valid sh"
done
grep -q 'adduser --system' "$WORK/control/postinst" || fail "postinst creates no system user"
for s in postinst postrm; do
  grep -q 'if \[ -d /run/systemd/system \]' "$WORK/control/$s" || fail "$s does not check for systemd"
  grep -q 'systemctl daemon-reload' "$WORK/control/$s" || fail "$s does not reload systemd"
done
[ "$(cat "$WORK/control/conffiles")" = /etc/default/atomix-broker ] || fail "conffiles"
control="$(cat "$WORK/control/control")"
for field in "Package: atomix" "Version: $VERSION" "Architecture: amd64"; do
  grep -qx "$field" <<< "$control" || fail "control has no '$field'"
done
depends="$(grep '^Depends:' <<< "$control")"
for dep in adduser libgrpc++1.51 libprotobuf32 libc6; do
  grep -q "\b$dep\b" <<< "$depends" || fail "Depends has no $dep: $depends"
done
echo "control: scripts, conffiles and $depends"

# 4. The unit.
ROOT="$WORK/root"
dpkg-deb -x "$DEB" "$ROOT"
UNIT="$ROOT/lib/systemd/system/atomix-broker.service"
# shellcheck disable=SC2016  # ${ATOMIX_*} are systemd's, not the shell's
for line in 'User=atomix' 'StateDirectory=atomix' 'Restart=on-failure' 'NoNewPrivileges=yes' \
            'ProtectSystem=strict' 'ReadWritePaths=/var/lib/atomix' \
            'EnvironmentFile=-/etc/default/atomix-broker' \
            'ExecStart=/usr/bin/atomix-broker --listen ${ATOMIX_LISTEN} --store ${ATOMIX_STORE} --data-dir /var/lib/atomix'; do
  grep -qxF -- "$line" "$UNIT" || fail "the unit has no '$line'"
done
if command -v systemd-analyze > /dev/null; then
  # A copy whose ExecStart= names the extracted binary (verify checks that
  # it exists); any warning (an unknown key, a bad value) fails.
  mkdir "$WORK/unit"
  sed "s|/usr/bin/atomix-broker|$ROOT/usr/bin/atomix-broker|" "$UNIT" > "$WORK/unit/atomix-broker.service"
  systemd-analyze verify "$WORK/unit/atomix-broker.service" > "$WORK/verify.log" 2>&1 ||
    { cat "$WORK/verify.log"; fail "systemd-analyze verify"; }
  [ ! -s "$WORK/verify.log" ] || { cat "$WORK/verify.log"; fail "systemd-analyze verify warned"; }
  echo "unit: systemd-analyze verify is clean"
else
  echo "unit: systemd-analyze not installed, verify skipped"
fi

# 5. A downstream program built against the extracted root with pkg-config
#    alone, run against the extracted broker (with the unit's disk store).
PKG_CONFIG_SYSROOT_DIR="$ROOT" PKG_CONFIG_PATH="$ROOT/usr/lib/pkgconfig" \
  PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 \
  build_downstream "$WORK/downstream"
"$ROOT/usr/bin/atomix-broker" --listen 127.0.0.1:0 --port-file "$WORK/port" --log-level warn \
  --store disk --data-dir "$WORK/data" &
BROKER_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || fail "the extracted broker did not start"
ATOMIX_BROKER="127.0.0.1:$(cat "$WORK/port")"
export ATOMIX_BROKER
for want in counter=1 counter=2; do
  out="$("$WORK/downstream" package-downstream)"
  [ "$out" = "$want" ] || fail "downstream printed '$out', want '$want'"
done
echo "downstream (pkg-config, extracted root): counter=1 then counter=2"
