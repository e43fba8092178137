#!/usr/bin/env bash
# Benchmark of embed() with a sentence-transformers model of all-MiniLM-L6-v2's shape (random weights, generated once
# into $EMBEDDING_CACHE) against the numpy reference in the same run: throughput per sentence and per batch of 32 and
# 256, the first call in a fresh connection, backend memory (20 connections). Not part of the test suite.
# Runs on the cluster of scripts/lib.sh in the database $EMB_ST_BENCH_DB (default embedding_transformer_bench).
# Options go to the driver (--help): --sentences 256 --connections 20 --repeats 1 --seed 0 --numpy-only
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lib.sh
source "$BENCH_DIR/../../scripts/lib.sh"

PYTHON=/usr/bin/python3 # Debian's python: the one python3-numpy and python3-psycopg2 install into

case "${1:-}" in
  -h | --help) exec "$PYTHON" "$BENCH_DIR/transformer_bench.py" --help ;;
esac
{ # set-up messages go to stderr: stdout is the report
  # libopenblas0-pthread: numpy's multi-threaded BLAS (Debian's numpy otherwise runs on the
  # single-threaded reference BLAS)
  install_missing_packages python3-numpy python3-psycopg2 libopenblas0-pthread
  start_cluster
} >&2
exec "$PYTHON" "$BENCH_DIR/transformer_bench.py" --database "${EMB_ST_BENCH_DB:-embedding_transformer_bench}" \
  --cache "$EMBEDDING_CACHE" "$@"
