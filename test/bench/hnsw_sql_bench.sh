#!/usr/bin/env bash
# SQL-level benchmark of the hnsw index on GloVe 100-d (341,479 words; --dataset glove1536: the same rows
# projected to 1,536-d): set-up (packages, data, cluster, build/bench/hnswlib_ref_tool), then
# hnsw_sql_bench.py, which creates its databases (ours: $EMB_BENCH_DB, default embedding_bench;
# pgvector, for --configs with pgvector: $EMB_BENCH_PGVECTOR_DB, default embedding_bench_pgvector).
# Not part of the test suite. Options go to the driver (--help); --configs all measures vector, halfvec
# and binary quantisation, ours and pgvector's (which must already be installed), in one run. After them,
# hnswlib in process on the same rows (the hnswlib:vector column) unless --no-hnswlib or the tool does
# not build.
# --cold (passed on to the driver with the command that restarts this cluster): after the sweep, each
# configuration's first 1,000 queries after a restart and `echo 3 > /proc/sys/vm/drop_caches` (root only).
# --configs ours:vector:rabitq: the index built WITH (quantization = 'rabitq') on its own copy of the table.
# --configs ours:vector:ivf_rabitq: a RaBitQ IVF (ivfflat WITH (lists, quantization = 'rabitq')), swept over
# ivfflat.probes (--probes, --noise-probes, --lists; default lists = rows / 1,000).
# --shared-buffers SIZE (taken here, not by the driver) runs with that shared_buffers (ALTER SYSTEM and a
# restart of the cluster), and resets it afterwards: e.g. 128MB, PostgreSQL's default, where the index
# no longer fits.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lib.sh
source "$BENCH_DIR/../../scripts/lib.sh"
# shellcheck source=glove_data.sh
source "$BENCH_DIR/glove_data.sh"

BENCH_DB=${EMB_BENCH_DB:-embedding_bench}
PGVECTOR_DB=${EMB_BENCH_PGVECTOR_DB:-embedding_bench_pgvector}
PYTHON=/usr/bin/python3 # Debian's python: the one python3-numpy and python3-psycopg2 install into

# The driver needs numpy and psycopg2 from Debian; perf is optional (--perf), linux-perf when wanted;
# the hnswlib column libhnswlib-dev, and libbenchmark-dev for the benchmark build (the rest of the build's
# packages are scripts/setup.sh's).
install_bench_packages() {
  local packages=(python3-numpy python3-psycopg2)
  if [ "${EMB_BENCH_PERF:-0}" = 1 ] && ! command -v perf >/dev/null; then packages+=(linux-perf); fi
  [ "$HNSWLIB" = 1 ] && packages+=(libhnswlib-dev libbenchmark-dev)
  install_missing_packages "${packages[@]}"
}

case "${1:-}" in
  -h | --help) exec "$PYTHON" "$BENCH_DIR/hnsw_sql_bench.py" --help ;;
esac
SHARED_BUFFERS=""
HNSWLIB=1
COLD=0
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --shared-buffers) SHARED_BUFFERS=$2; shift 2 ;;
    --shared-buffers=*) SHARED_BUFFERS=${1#*=}; shift ;;
    *)
      [ "$1" = --perf ] && EMB_BENCH_PERF=1
      [ "$1" = --no-hnswlib ] && HNSWLIB=0
      [ "$1" = --cold ] && COLD=1
      args+=("$1"); shift ;;
  esac
done

# The hnswlib column's tool, built as hnsw_vs_hnswlib.sh builds its own; without it, no such column.
build_hnswlib_tool() {
  log "build: build/bench/hnswlib_ref_tool"
  if cmake -S "$ROOT" -B "$ROOT/build/bench" -DEMB_BENCH=ON -DEMB_TESTS=OFF -DCMAKE_BUILD_TYPE=Release \
    >/dev/null && cmake --build "$ROOT/build/bench" -j"$JOBS" --target hnswlib_ref_tool >/dev/null; then
    args+=(--hnswlib-tool "$ROOT/build/bench/hnswlib_ref_tool")
  else
    log "build: hnswlib_ref_tool did not build; no hnswlib column"
  fi
}

# shared_buffers for this run only: set, restart, and reset (with a restart) when the run ends.
set_shared_buffers() {
  "$PGBIN/psql" -X -qAt -d postgres -c "ALTER SYSTEM $1" >/dev/null
  as_owner "$PGBIN/pg_ctl" -D "$EMB_PGDATA" -l "$EMB_STATE/postgresql.log" -w restart >/dev/null
}
{ # set-up messages go to stderr: stdout is the report
  install_bench_packages
  fetch_glove
  if [ "$HNSWLIB" = 1 ]; then build_hnswlib_tool; fi
  start_cluster
  if [ -n "$SHARED_BUFFERS" ]; then
    log "shared_buffers = $SHARED_BUFFERS for this run"
    set_shared_buffers "SET shared_buffers = '$SHARED_BUFFERS'"
    trap 'set_shared_buffers "RESET shared_buffers" >&2' EXIT
  fi
} >&2
# --cold: the driver restarts the cluster before each configuration's cold pass (and drops the page cache,
# which needs root).
if [ "$COLD" = 1 ]; then
  if [ "$(id -u)" = 0 ]; then restart=(runuser -u "$PGOWNER" --); else restart=(); fi
  restart+=("$PGBIN/pg_ctl" -D "$EMB_PGDATA" -l "$EMB_STATE/postgresql.log" -w restart)
  [ "$(id -u)" = 0 ] || log "--cold: not root, so the page cache cannot be dropped (restarts only)" >&2
  args+=(--restart-command "$(printf '%q ' "${restart[@]}")")
fi
"$PYTHON" "$BENCH_DIR/hnsw_sql_bench.py" --database "$BENCH_DB" --pgvector-database "$PGVECTOR_DB" \
  --json "$GLOVE_JSON" --cache "$EMBEDDING_CACHE" "${args[@]}"
