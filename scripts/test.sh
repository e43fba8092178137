#!/usr/bin/env bash
# Runs every test: core unit tests (plain and under ASan+UBSan), fuzz targets for a bounded time,
# pg_regress against the installed extension, and the cluster scripts in test/t. Exits non-zero on
# any failure. Installs what it needs first, so it also works on a fresh clone.
source "$(dirname "$0")/lib.sh"
FUZZ_SECONDS=${EMB_FUZZ_SECONDS:-60}
BUILD=$ROOT/build

install_packages
build_install
install_default_model
start_cluster

log "unit tests (GoogleTest)"
cmake -S "$ROOT" -B "$BUILD/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD/release" -j"$JOBS"
ctest --test-dir "$BUILD/release" --output-on-failure -j"$JOBS"

log "unit tests under AddressSanitizer + UBSan"
cmake -S "$ROOT" -B "$BUILD/asan" -DEMB_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD/asan" -j"$JOBS"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$BUILD/asan" --output-on-failure -j"$JOBS"

log "fuzz targets, ${FUZZ_SECONDS}s each"
CLANGXX=$(command -v clang++ || command -v clang++-14)
CXX=$CLANGXX cmake -S "$ROOT" -B "$BUILD/fuzz" -DEMB_FUZZ=ON -DEMB_SANITIZE=ON -DEMB_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD/fuzz" -j"$JOBS"
for target in "$BUILD"/fuzz/*_fuzz; do
  name=$(basename "$target" _fuzz)
  corpus=$BUILD/fuzz/corpus-$name
  mkdir -p "$corpus"
  [ -d "$ROOT/test/fuzz/corpus/$name" ] && cp -n "$ROOT/test/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null || true
  echo "-- $name"
  "$target" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=4096 -print_final_stats=0 \
    -artifact_prefix="$BUILD/fuzz/$name-" "$corpus" 2>"$BUILD/fuzz/$name.log" ||
    { tail -50 "$BUILD/fuzz/$name.log"; exit 1; }
  grep -E "^(#[0-9]+\s+DONE|Done)" "$BUILD/fuzz/$name.log" | tail -1
done

log "pg_regress"
make -C "$ROOT" installcheck || { cat "$ROOT/regression.diffs"; exit 1; }

log "cluster tests (test/t)"
for t in "$ROOT"/test/t/*.sh; do
  [ -e "$t" ] || continue
  echo "-- $(basename "$t")"
  bash "$t"
done

log "all tests passed"
