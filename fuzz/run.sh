#!/usr/bin/env bash
# Builds the libFuzzer targets (build-fuzz: clang-14, ASan + UBSan +
# libFuzzer, -O1 -g, through ccache) and runs each for SECONDS from a copy of
# its seed corpus (fuzz/corpus/<target>/ never grows), two at a time. Fails
# if any target crashes, leaks, runs out of memory or time on an input, or
# breaks an invariant; the input is kept in the output dir.
#
#   fuzz/run.sh SECONDS [TARGET...]        # all four targets by default
#   fuzz/run.sh --runs N [TARGET...]       # N executions each instead
#   fuzz/run.sh --make-corpus              # regenerate the seed corpora
#
# Environment: FUZZ_BUILD_DIR (build-fuzz), FUZZ_OUT (a temp dir: logs,
# grown corpora and crashing inputs), FUZZ_JOBS (2 targets at a time),
# FUZZ_MAX_TIME (with --runs: stop each target after this many seconds
# too), FUZZ_SKIP_BUILD=1 (run the binaries already built).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${FUZZ_JOBS:-2}
ALL=(fuzz_request fuzz_watch_request fuzz_sdk_decode fuzz_wal_record)

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

configure() {
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" -DATOMIX_FUZZ=ON \
    -DATOMIX_BUILD_TESTS=OFF -DATOMIX_BUILD_BENCH=OFF -DATOMIX_BUILD_EXAMPLES=OFF \
    -DATOMIX_INSTALL=OFF >/dev/null
}

build() {
  configure
  nice cmake --build "$BUILD" -j2 --target "$@"
}

# The longest input each target tries (bytes).
max_len() {
  case $1 in
    fuzz_watch_request) echo 512 ;;
    fuzz_request) echo 4096 ;;
    fuzz_sdk_decode) echo 8192 ;;
    fuzz_wal_record) echo 16384 ;;
  esac
}

if [[ ${1:-} == --make-corpus ]]; then
  build fuzz_make_corpus
  "$BUILD/fuzz/fuzz_make_corpus" fuzz/corpus
  du -sh fuzz/corpus
  exit 0
fi

RUNS=
if [[ ${1:-} == --runs ]]; then
  [[ $# -ge 2 ]] || usage
  RUNS=$2
  shift 2
  LIMIT="-runs=$RUNS"
  [[ -z ${FUZZ_MAX_TIME:-} ]] || LIMIT="$LIMIT -max_total_time=$FUZZ_MAX_TIME"
else
  [[ $# -ge 1 && $1 =~ ^[0-9]+$ ]] || usage
  LIMIT="-max_total_time=$1"
  shift
fi
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("${ALL[@]}")
for t in "${TARGETS[@]}"; do
  [[ " ${ALL[*]} " == *" $t "* ]] || { echo "unknown fuzz target $t; one of: ${ALL[*]}" >&2; exit 2; }
done

[[ ${FUZZ_SKIP_BUILD:-0} == 1 ]] || build "${TARGETS[@]}"

OUT=${FUZZ_OUT:-$(mktemp -d /tmp/atomix-fuzz.XXXXXX)}
mkdir -p "$OUT"
# A small quarantine and no malloc fill: the targets build a broker per
# input, and ASan's defaults spend most of each run faulting in fresh pages.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1:quarantine_size_mb=16:max_malloc_fill_size=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Runs one target; its log is $OUT/<target>.log.
run_one() {
  local t=$1
  rm -rf "$OUT/$t.corpus"
  mkdir -p "$OUT/$t.corpus" "$OUT/$t.artifacts"
  cp fuzz/corpus/"$t"/* "$OUT/$t.corpus/"
  local start=$SECONDS rc=0
  # shellcheck disable=SC2086 # LIMIT holds one or two flags
  nice "$BIN/$t" $LIMIT -max_len="$(max_len "$t")" -rss_limit_mb=2048 \
    -timeout=25 -print_final_stats=1 -artifact_prefix="$OUT/$t.artifacts/" \
    "$OUT/$t.corpus" >"$OUT/$t.log" 2>&1 || rc=$?
  echo "$((SECONDS - start))" >"$OUT/$t.seconds"
  echo "$rc" >"$OUT/$t.rc"
}
export -f run_one max_len
BIN=$(cd "$BUILD" && pwd)/fuzz
export OUT LIMIT BIN

echo "fuzzing ${TARGETS[*]} ($LIMIT, $JOBS at a time); logs in $OUT"
printf '%s\n' "${TARGETS[@]}" | xargs -P "$JOBS" -I{} bash -c 'run_one {}'

failed=0
printf '%-20s %4s %12s %8s %6s %7s %7s %s\n' target rc execs exec/s secs cov ft corpus
for t in "${TARGETS[@]}"; do
  rc=$(cat "$OUT/$t.rc")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$t.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$OUT/$t.log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$OUT/$t.log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$last")
  printf '%-20s %4s %12s %8s %6s %7s %7s %s\n' "$t" "$rc" "${execs:-?}" "${rate:-?}" \
    "$(cat "$OUT/$t.seconds")" "${cov:-?}" "${ft:-?}" "${corp:-?}"
  if [[ $rc != 0 ]]; then
    failed=1
    echo "--- $t failed (exit $rc); input(s) in $OUT/$t.artifacts/; end of its log:" >&2
    grep -E 'ERROR|invariant broken|SUMMARY|Test unit written|leak' "$OUT/$t.log" | head -20 >&2 || true
    tail -40 "$OUT/$t.log" >&2
  fi
done
exit $failed
