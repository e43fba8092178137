#!/usr/bin/env bash
# SQL-level benchmark of the hnsw index on GloVe 100-d (341,479 words): set-up (packages, data, cluster),
# then hnsw_sql_bench.py, which creates its databases (ours: $EMB_BENCH_DB, default embedding_bench;
# pgvector, for --configs with pgvector: $EMB_BENCH_PGVECTOR_DB, default embedding_bench_pgvector).
# Not part of the test suite. Options go to the driver (--help); --configs all measures vector, halfvec
# and binary quantisation, ours and pgvector's (which must already be installed), in one run.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lib.sh
source "$BENCH_DIR/../../scripts/lib.sh"
# shellcheck source=glove_data.sh
source "$BENCH_DIR/glove_data.sh"

BENCH_DB=${EMB_BENCH_DB:-embedding_bench}
PGVECTOR_DB=${EMB_BENCH_PGVECTOR_DB:-embedding_bench_pgvector}
PYTHON=/usr/bin/python3 # Debian's python: the one python3-numpy and python3-psycopg2 install into

# The driver needs numpy and psycopg2 from Debian; perf is optional (--perf), linux-perf when wanted.
install_python_packages() {
  local missing=()
  "$PYTHON" -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
  "$PYTHON" -c 'import psycopg2' 2>/dev/null || missing+=(python3-psycopg2)
  if [ "${EMB_BENCH_PERF:-0}" = 1 ] && ! command -v perf >/dev/null; then missing+=(linux-perf); fi
  [ ${#missing[@]} -eq 0 ] && return
  log "packages: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

case "${1:-}" in
  -h | --help) exec "$PYTHON" "$BENCH_DIR/hnsw_sql_bench.py" --help ;;
esac
for arg in "$@"; do [ "$arg" = --perf ] && EMB_BENCH_PERF=1; done
{ # set-up messages go to stderr: stdout is the report
  install_python_packages
  fetch_glove
  start_cluster
} >&2
exec "$PYTHON" "$BENCH_DIR/hnsw_sql_bench.py" --database "$BENCH_DB" --pgvector-database "$PGVECTOR_DB" \
  --json "$GLOVE_JSON" --cache "$EMBEDDING_CACHE" "$@"
