#!/usr/bin/env bash
# VACUUM of an hnsw index as pgvector's tests check it (011, 014): after deleting every row,
# VACUUM and inserting the same rows again, the index stays within 2% of its size (freed
# elements are reused at every level, also by the very next transaction); after deleting 75% of
# a weakly linked graph (m 4, ef_construction 8), recall@20 at ef_search 20 is at least 0.95;
# deleting all rows but one leaves that one findable.
source "$(dirname "$0")/cluster.bash"
P=5524
trap 'stop_cluster hnsw_vacuum' EXIT
new_cluster hnsw_vacuum $P
q $P "CREATE EXTENSION embedding"
q $P "CREATE TABLE tst (i int4, v vector(3)) WITH (autovacuum_enabled = false)"
rows="SELECT i, ARRAY[i % 997, i % 313, i % 71]::vector FROM generate_series(1, 10000) i"
q $P "INSERT INTO tst $rows"
q $P "CREATE INDEX ON tst USING hnsw (v vector_l2_ops)"
size=$(q $P "SELECT pg_total_relation_size('tst_v_idx')")
q $P "DELETE FROM tst"
q $P "VACUUM tst"
q $P "INSERT INTO tst $rows"
new_size=$(q $P "SELECT pg_total_relation_size('tst_v_idx')")
[ "$new_size" -le $((size * 102 / 100)) ] || fail "index grew from $size to $new_size bytes"
echo "ok: delete all, VACUUM, insert again: $size -> $new_size bytes"
verify=$(q $P "SELECT hnsw_verify('tst_v_idx')")
echo "$verify" | grep -q '^ok:' || fail "hnsw_verify: $verify"
q $P "DELETE FROM tst WHERE i != 123"
q $P "VACUUM tst"
[ "$(q $P "SET enable_seqscan = off; SELECT i FROM tst ORDER BY v <-> '[0,0,0]' LIMIT 10")" = 123 ] ||
  fail "the one row left is not found"
echo "ok: the one row left is found"

q $P "DROP TABLE tst"
q $P "SELECT setseed(0.25)"
q $P "CREATE TABLE tst (i int4, v vector(3)) WITH (autovacuum_enabled = false)"
q $P "SELECT setseed(0.25); INSERT INTO tst SELECT i, ARRAY[random(), random(), random()] FROM generate_series(1, 10000) i"
q $P "SET max_parallel_maintenance_workers = 0; CREATE INDEX ON tst USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 8)"
q $P "DELETE FROM tst WHERE i > 2500"
q $P "SELECT setseed(0.75); CREATE TABLE queries AS SELECT q, ARRAY[random(), random(), random()]::vector AS v FROM generate_series(1, 50) q"
q $P "SET enable_indexscan = off; CREATE TABLE expected AS SELECT q.q, t.i FROM queries q CROSS JOIN LATERAL
        (SELECT i FROM tst ORDER BY tst.v <-> q.v LIMIT 20) t"
recall() {
  q $P "SET enable_seqscan = off; SET hnsw.ef_search = 20;
        SELECT round(count(*) / 1000.0, 3) FROM queries q CROSS JOIN LATERAL
          (SELECT i FROM tst ORDER BY tst.v <-> q.v LIMIT 20) t
        JOIN expected e ON e.q = q.q AND e.i = t.i"
}
before=$(recall)
q $P "VACUUM tst"
after=$(recall)
echo "recall@20 at ef_search 20 with 75% deleted: $before before VACUUM, $after after"
awk -v r="$after" 'BEGIN { exit !(r >= 0.95) }' || fail "recall after VACUUM $after < 0.95"
verify=$(q $P "SELECT hnsw_verify('tst_v_idx')")
echo "$verify" | grep -q '^ok:' || fail "hnsw_verify: $verify"
echo "ok: $verify"
