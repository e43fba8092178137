#!/usr/bin/env bash
# 8 clients insert, search and delete on one hnsw index at the same time (pgbench, 15 s) while
# VACUUM runs every 2 s: no client may fail, every row must be indexed and reachable, the index
# passes hnsw_verify, and new rows reused the elements VACUUM freed. Then the same for a quantised
# index (WITH (quantization = 'rabitq'): writers compute and copy the lists' codes; hnsw_verify
# checks them against the vectors).
source "$(dirname "$0")/cluster.bash"
P=5514
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_cluster concurrency; rm -rf "$work"' EXIT
new_cluster concurrency $P "max_connections = 30"
q $P "CREATE EXTENSION embedding"
q $P "$RANDOM_VECTOR_SQL"
run() { # $1: the index's WITH clause (empty for none)
q $P "DROP TABLE IF EXISTS items"
q $P "CREATE TABLE items (id bigserial PRIMARY KEY, v vector(32))"
q $P "INSERT INTO items (v) SELECT rv(32) FROM generate_series(1, 1000)"
q $P "CREATE INDEX items_v ON items USING hnsw (v vector_l2_ops) $1"
cat >"$work/mixed.sql" <<'SQL'
INSERT INTO items (v) SELECT rv(32);
SET enable_seqscan = off;
SELECT id FROM items ORDER BY v <-> rv(32) LIMIT 10;
DELETE FROM items WHERE id = (SELECT (random() * 1000)::int);
SQL
as_owner true
( while sleep 2; do q $P "VACUUM items" || exit 1; done ) >"$work/vacuum.log" 2>&1 &
vacuums=$!
"$PGBIN/pgbench" -n -h "$PGHOST" -p $P -U "$PGOWNER" -c 8 -j 2 -T 15 -f "$work/mixed.sql" postgres >"$work/pgbench.log" 2>&1 ||
  { cat "$work/pgbench.log"; fail "pgbench reported errors"; }
kill $vacuums 2>/dev/null || { cat "$work/vacuum.log"; fail "a concurrent VACUUM failed"; }
wait $vacuums 2>/dev/null || true
grep -E "number of (transactions actually processed|failed)|tps" "$work/pgbench.log"
grep -q "aborted" "$work/pgbench.log" && { cat "$work/pgbench.log"; fail "a client aborted"; }
q $P "VACUUM items"
verify=$(q $P "SELECT hnsw_verify('items_v')")
echo "$verify" | grep -q '^ok:' || fail "hnsw_verify: $verify"
rows=$(q $P "SELECT count(*) FROM items")
indexed=$(echo "$verify" | sed -E 's/.* ([0-9]+) heap rows.*/\1/')
[ "$rows" = "$indexed" ] || fail "$rows rows but $indexed heap rows in the index"
# Every row ever inserted got an element; without reuse there would be one element per row.
inserted=$(q $P "SELECT max(id) FROM items")
elements=$(echo "$verify" | sed -E 's/.* ([0-9]+) elements.*/\1/')
[ "$elements" -lt "$inserted" ] || fail "$elements elements for $inserted rows inserted: no element was reused"
# Inserts ran side by side (shared graph lock): every row is still reachable through the index.
reachable=$(q $P "SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order; SET hnsw.max_scan_tuples = 1000000;
  SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> rv(32)) s")
[ "$reachable" = "$rows" ] || fail "$reachable of $rows rows reachable through the index"
echo "ok${1:+ ($1)}: $rows rows, $inserted inserted in all, all reachable, $verify"
}
run ""
run "WITH (quantization = 'rabitq')"
