#!/usr/bin/env bash
# In-process benchmark of our core HNSW graph against hnswlib (Debian's libhnswlib-dev) on GloVe 100-d with
# the same M and ef_construction: build time, recall@10 and QPS over ef_search, QPS at equal recall.
# Set-up (packages, data, benchmark build), then build/bench/hnsw_vs_hnswlib_tool with the options given
# (--rows 100000,all --threads 1,2 --ef ... --repeat N --seed N; see the tool's header).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lib.sh
source "$BENCH_DIR/../../scripts/lib.sh"
# shellcheck source=glove_data.sh
source "$BENCH_DIR/glove_data.sh"

DATA=$EMBEDDING_CACHE/glove100.bin
{ # set-up messages go to stderr: stdout is the report
  install_packages
  fetch_glove
  if [ ! -s "$DATA" ]; then
    log "data: converting to $DATA"
    node --max-old-space-size=4096 "$BENCH_DIR/glove_to_fvecs.js" "$GLOVE_JSON" "$DATA.part"
    mv "$DATA.part" "$DATA"
  fi
  log "build: build/bench/hnsw_vs_hnswlib_tool"
  cmake -S "$ROOT" -B "$ROOT/build/bench" -DEMB_BENCH=ON -DEMB_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$ROOT/build/bench" -j"$JOBS" --target hnsw_vs_hnswlib_tool >/dev/null
} >&2
exec "$ROOT/build/bench/hnsw_vs_hnswlib_tool" --data "$DATA" "$@"
