#!/usr/bin/env bash
# Citus bench: GloVe 100-d (341k rows) and its 1,536-d projection in a distributed table of 32 shards on
# the local 2-worker cluster (scripts/citus.sh) against the same rows in a plain table on one node.
#   test/bench/citus_bench.sh [--rows-1536 N] [driver options]
# The matrices come from hnsw_sql_bench.sh's cache ($EMBEDDING_CACHE/bench: run it once with
# --dataset glove100 and --dataset glove1536 to make them). Not part of the test suite.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lib.sh
source "$BENCH_DIR/../../scripts/lib.sh"
PYTHON=/usr/bin/python3
CACHE=$EMBEDDING_CACHE/bench
ROWS_1536=100000
[ "${1:-}" = --rows-1536 ] && { ROWS_1536=$2; shift 2; }
"$BENCH_DIR/../../scripts/citus.sh" --cluster-only >/dev/null
CPORT=${EMB_CITUS_PORT:-9700}
for spec in "glove100_f32.npy:0" "glove1536_seed1536_f32.npy:$ROWS_1536"; do
  npy=$CACHE/${spec%%:*}
  if [ ! -f "$npy" ]; then
    log "skip $npy: missing (test/bench/hnsw_sql_bench.sh makes it)"
    continue
  fi
  log "bench $(basename "$npy") (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  "$PYTHON" "$BENCH_DIR/citus_bench.py" --npy "$npy" --rows "${spec##*:}" --coordinator "$CPORT" --host "$PGHOST" "$@"
done
