#!/usr/bin/env bash
# Moving from pgvector: a database dumped from pgvector 0.8.6 (vector, halfvec, sparsevec and bit
# columns, their hnsw indexes, a btree index and a binary-quantised expression index; schema in
# test/migration/pgvector_schema.sql) restores into embedding with the one step the README
# documents, and gives the same rows and the same nearest-neighbour answers.
#   - Always: the plain dump in test/migration (made with pgvector 0.8.6) and the exact answers
#     pgvector gave for test/migration/pgvector_queries.sql then. (Exact: pgvector's own hnsw
#     answers are approximate even at ef_search 400 on 300 rows; ours through the indexes must
#     equal the exact ones.)
#   - Also, when pgvector is installed here: a fresh plain and custom-format dump from it, with
#     the answers it gives now.
source "$(dirname "$0")/cluster.bash"
P=5532
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_cluster migration; rm -rf "$work"' EXIT
new_cluster migration $P
psql_db() { "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 -p $P -d "$@"; }
fixture=$ROOT/test/migration/pgvector-0.8.6.dump.sql
fixture_answers=$ROOT/test/migration/pgvector-0.8.6.answers
queries=$ROOT/test/migration/pgvector_queries.sql

# The documented step (README, "Moving from pgvector"). Plain dump: name our extension where the
# dump creates pgvector's. Custom dump: create ours first, restore everything but pgvector's.
restore_plain() {  # DUMP DB
  q $P "CREATE DATABASE $2"
  sed -E -e 's/^CREATE EXTENSION IF NOT EXISTS vector /CREATE EXTENSION IF NOT EXISTS embedding /' \
    -e '/^COMMENT ON EXTENSION vector /d' "$1" | psql_db "$2" >/dev/null
}
restore_custom() {  # DUMP DB
  q $P "CREATE DATABASE $2"
  psql_db "$2" -c "CREATE EXTENSION embedding"
  "$PGBIN/pg_restore" -l "$1" | grep -v -E ' (EXTENSION|COMMENT) - (EXTENSION )?vector( |$)' >"$work/list"
  "$PGBIN/pg_restore" -p $P -d "$2" -L "$work/list" --exit-on-error "$1"
}
# The queries' answers: exact (sequential scans and sorts), or through the indexes.
answers() {  # DB MODE
  if [ "$2" = exact ]; then
    PGOPTIONS="-c enable_indexscan=off -c enable_bitmapscan=off" psql_db "$1" -f "$queries"
  else
    PGOPTIONS="-c enable_seqscan=off -c hnsw.ef_search=400" psql_db "$1" -f "$queries"
  fi
}
check() {  # DB EXPECTED-ANSWERS-FILE WHAT
  answers "$1" exact >"$work/$1.answers"
  answers "$1" index >"$work/$1.index_answers"
  [ "$(psql_db "$1" -c "SELECT extname FROM pg_extension WHERE extname IN ('vector', 'embedding')")" = embedding ] ||
    fail "$3: the restored database does not use embedding"
  # Every index is valid and our structural check passes on each hnsw index, after a VACUUM: the
  # build may leave a few rows no search reaches (2 of 300 here), which hnsw_verify reports and
  # VACUUM links.
  [ "$(psql_db "$1" -c "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" = 0 ] || fail "$3: invalid index"
  psql_db "$1" -c "VACUUM" >/dev/null
  psql_db "$1" -c "SELECT hnsw_verify(indexrelid::regclass) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                   JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'hnsw'" | grep -v '^ok:' && fail "$3: hnsw_verify"
  for mode in answers index_answers; do
    if ! diff "$2" "$work/$1.$mode" >"$work/diff"; then
      cat "$work/diff"
      fail "$3: rows or answers ($mode) differ from pgvector's exact ones"
    fi
  done
  echo "ok: $3 ($(wc -l <"$2") answers identical to pgvector's, exact and through the indexes)"
}

restore_plain "$fixture" from_fixture
check from_fixture "$fixture_answers" "the pgvector 0.8.6 dump in test/migration"

if [ -f "$("$PGBIN/pg_config" --sharedir)/extension/vector.control" ]; then
  q $P "CREATE DATABASE src"
  psql_db src -c "CREATE EXTENSION vector" -f "$ROOT/test/migration/pgvector_schema.sql" >/dev/null
  answers src exact >"$work/live.answers"
  # The stored answers are what pgvector answers: a check that the fixture is still right.
  diff "$fixture_answers" "$work/live.answers" >/dev/null ||
    echo "note: pgvector $(psql_db src -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'") answers differently from the stored 0.8.6 answers"
  "$PGBIN/pg_dump" -p $P -d src -Fp -f "$work/live.sql"
  "$PGBIN/pg_dump" -p $P -d src -Fc -f "$work/live.dump"
  restore_plain "$work/live.sql" from_plain
  check from_plain "$work/live.answers" "a plain dump from the pgvector installed here"
  restore_custom "$work/live.dump" from_custom
  check from_custom "$work/live.answers" "a custom-format dump from the pgvector installed here"
else
  echo "skip: pgvector is not installed here; only the stored dump was restored"
fi
