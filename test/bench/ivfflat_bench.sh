#!/usr/bin/env bash
# SQL-level benchmark of the ivfflat index, ours against pgvector, on GloVe 100-d (340,479 base rows, 1,000
# held-out queries, cosine): set-up (packages, data, cluster) as hnsw_sql_bench.sh, then ivfflat_bench.py,
# which creates its own databases ($EMB_IVF_BENCH_DB, default embedding_ivfflat_bench, and
# $EMB_IVF_BENCH_PGVECTOR_DB, default embedding_ivfflat_bench_pgvector; pgvector must already be installed)
# and its own table (ivf_glove_all), so it never touches the hnsw benchmark's. Not part of the test suite.
# Options go to the driver (--help): --lists 580,340 --probes 1,2,4,8,16,32,64 --repeats 3 --results f.json
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lib.sh
source "$BENCH_DIR/../../scripts/lib.sh"
# shellcheck source=glove_data.sh
source "$BENCH_DIR/glove_data.sh"

PYTHON=/usr/bin/python3 # Debian's python: the one python3-numpy and python3-psycopg2 install into

case "${1:-}" in
  -h | --help) exec "$PYTHON" "$BENCH_DIR/ivfflat_bench.py" --json x --cache x --help ;;
esac
{ # set-up messages go to stderr: stdout is the report
  missing=()
  "$PYTHON" -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
  "$PYTHON" -c 'import psycopg2' 2>/dev/null || missing+=(python3-psycopg2)
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  fetch_glove
  start_cluster
} >&2
exec "$PYTHON" "$BENCH_DIR/ivfflat_bench.py" --database "${EMB_IVF_BENCH_DB:-embedding_ivfflat_bench}" \
  --pgvector-database "${EMB_IVF_BENCH_PGVECTOR_DB:-embedding_ivfflat_bench_pgvector}" \
  --json "$GLOVE_JSON" --cache "$EMBEDDING_CACHE" "$@"
