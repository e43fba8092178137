#!/usr/bin/env bash
# A physical streaming replica of an hnsw index returns the same results as the primary after
# the build, after inserts, and after deletes and VACUUM (all changes travel as WAL); so does a
# quantised one (WITH (quantization = 'rabitq'), on the halfvec of the same column).
source "$(dirname "$0")/cluster.bash"
P=5511
S=5512
trap 'stop_cluster repl_standby; stop_cluster repl_primary' EXIT
new_cluster repl_primary $P
q $P "CREATE EXTENSION embedding"
q $P "$RANDOM_VECTOR_SQL"
q $P "CREATE TABLE items (id int PRIMARY KEY, v vector(16))"
q $P "INSERT INTO items SELECT i, rv(16) FROM generate_series(1, 3000) i"
q $P "CREATE INDEX items_v ON items USING hnsw (v vector_cosine_ops)"
q $P "CREATE INDEX items_q ON items USING hnsw ((v::halfvec(16)) halfvec_l2_ops) WITH (quantization = 'rabitq')"

standby=$(cluster_dir repl_standby)
stop_cluster repl_standby
rm -rf "$standby"
as_owner "$PGBIN/pg_basebackup" -h "$PGHOST" -p $P -U "$PGOWNER" -D "$standby" -R -X stream -c fast
sed -i "s/^port = $P/port = $S/" "$standby/postgresql.conf"
start_cluster_dir "$standby"

q $P "INSERT INTO items SELECT i, rv(16) FROM generate_series(3001, 5000) i"
q $P "DELETE FROM items WHERE id % 3 = 0"
q $P "VACUUM items"
q $P "SELECT txid_current()" >/dev/null # once older than every snapshot, freed elements are reused
q $P "INSERT INTO items SELECT i, rv(16) FROM generate_series(5001, 5500) i"
q $P "VACUUM items"  # links what the inserts may have left unreachable (hnsw_verify below)

wait_for_replay $P $S

results() {
  "$PGBIN/psql" -X -qAt -p "$1" -d postgres <<'SQL'
SET enable_seqscan = off;
SET hnsw.ef_search = 100;
SELECT q.id, array_agg(n.id ORDER BY n.rank)
  FROM (SELECT id, v FROM items WHERE id % 97 = 1) q,
       LATERAL (SELECT id, row_number() OVER () AS rank FROM (SELECT id FROM items ORDER BY v <=> q.v LIMIT 10) s) n
 GROUP BY q.id ORDER BY q.id;
SELECT q.id, array_agg(n.id ORDER BY n.rank)
  FROM (SELECT id, v FROM items WHERE id % 97 = 1) q,
       LATERAL (SELECT id, row_number() OVER () AS rank FROM (
         SELECT id FROM items ORDER BY v::halfvec(16) <-> q.v::halfvec(16) LIMIT 10) s) n
 GROUP BY q.id ORDER BY q.id;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v::halfvec(16) <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]' LIMIT 10;
SQL
}
primary=$(results $P)
replica=$(results $S)
[ -n "$primary" ] || fail "no results on the primary"
[ "$primary" = "$replica" ] || fail "replica results differ from the primary"
echo "$primary" | grep -q "Index Scan using items_q" || fail "the quantised index was not used: $primary"
q $S "SELECT hnsw_verify('items_q')" | grep -q '^ok:' || fail "hnsw_verify of the quantised index failed on the standby"
echo "ok: $(echo "$primary" | wc -l) queries give identical top-10 on primary and replica"
q $S "SELECT hnsw_verify('items_v')" | grep -q '^ok:' || fail "hnsw_verify failed on the standby"
[ "$(q $S "SELECT count(*) FROM items")" = "$(q $P "SELECT count(*) FROM items")" ] || fail "row counts differ"
verify=$(q $S "SELECT hnsw_verify('items_v')")
elements=$(echo "$verify" | sed -E 's/.* ([0-9]+) elements.*/\1/')
[ "$elements" -lt 5500 ] || fail "$elements elements for 5500 rows inserted: the last inserts reused none"
echo "ok: standby index verified: $verify"
