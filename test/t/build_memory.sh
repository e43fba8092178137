#!/usr/bin/env bash
# A build on a table larger than maintenance_work_mem allows: the NOTICE appears, the rest of
# the rows are inserted on disk, and the index is complete, valid and as accurate as an
# in-memory build.
source "$(dirname "$0")/cluster.bash"
P=5515
trap 'stop_cluster build_memory' EXIT
new_cluster build_memory $P
q $P "CREATE EXTENSION embedding"
q $P "$RANDOM_VECTOR_SQL"
q $P "CREATE TABLE items (id int PRIMARY KEY, v vector(64))"
q $P "INSERT INTO items SELECT i, rv(64) FROM generate_series(1, 12000) i"
out=$("$PGBIN/psql" -X -v ON_ERROR_STOP=1 -p $P -d postgres -c "SET maintenance_work_mem = '1MB'" \
  -c "CREATE INDEX items_small ON items USING hnsw (v vector_l2_ops)" 2>&1)
echo "$out" | grep -q "hnsw graph no longer fits into maintenance_work_mem after" || fail "no NOTICE: $out"
echo "$out" | grep NOTICE
verify=$(q $P "SELECT hnsw_verify('items_small')")
echo "$verify" | grep -q "12000 heap rows" || fail "incomplete index: $verify"
recall() {
  "$PGBIN/psql" -X -qAt -p $P -d postgres <<SQL
SET enable_seqscan = off;
SET hnsw.ef_search = 100;
SELECT round(avg(cardinality(ARRAY(
  SELECT unnest(ARRAY(SELECT id FROM items ORDER BY v <-> q.v LIMIT 10))
  INTERSECT SELECT unnest((SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY (v <-> q.v) + 0 LIMIT 10) e))
)) / 10.0), 3) FROM (SELECT v FROM items WHERE id % 300 = 7) q;
SQL
}
small=$(recall)
q $P "DROP INDEX items_small"
q $P "SET maintenance_work_mem = '256MB'; CREATE INDEX items_big ON items USING hnsw (v vector_l2_ops)"
big=$(recall)
echo "recall@10 (ef_search 100): built in 1MB with the on-disk fallback $small, in memory $big"
awk -v s="$small" -v b="$big" 'BEGIN { exit !(s >= 0.9 && b >= 0.9 && s >= b - 0.05) }' || fail "recall too low"
echo "ok: $verify"
