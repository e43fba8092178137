#!/usr/bin/env bash
# ivfflat on a cluster: a streaming replica answers as the primary after the build, inserts that
# extend lists, deletes and VACUUM (all WAL); after a crash (kill -9, no checkpoint) the index
# holds every committed row; with every list probed the answers are the exact ones. Column c has a
# quantised index (quantization = 'rabitq': code pages beside the lists) that must do the same.
source "$(dirname "$0")/cluster.bash"
P=5541
S=5542
trap '[ -n "${KEEP:-}" ] || { stop_cluster ivf_standby; stop_cluster ivf_primary; }' EXIT
new_cluster ivf_primary $P
q $P "CREATE EXTENSION embedding"
q $P "$RANDOM_VECTOR_SQL"
q $P "CREATE TABLE items (id int PRIMARY KEY, v vector(16), h halfvec(16), c vector(16))"
q $P "INSERT INTO items SELECT i, v, v, v FROM (SELECT i, rv(16) v FROM generate_series(1, 3000) i) t"
q $P "CREATE INDEX items_v ON items USING ivfflat (v vector_l2_ops) WITH (lists = 30)"
q $P "CREATE INDEX items_h ON items USING ivfflat (h halfvec_l2_ops) WITH (lists = 20)"
q $P "CREATE INDEX items_c ON items USING ivfflat (c vector_l2_ops) WITH (lists = 30, quantization = 'rabitq')"

standby=$(cluster_dir ivf_standby)
stop_cluster ivf_standby
rm -rf "$standby"
as_owner "$PGBIN/pg_basebackup" -h "$PGHOST" -p $P -U "$PGOWNER" -D "$standby" -R -X stream -c fast
sed -i "s/^port = $P/port = $S/" "$standby/postgresql.conf"
start_cluster_dir "$standby"

# Enough rows that lists grow new pages, then deletes and VACUUM, then more inserts.
q $P "INSERT INTO items SELECT i, v, v, v FROM (SELECT i, rv(16) v FROM generate_series(3001, 6000) i) t"
q $P "DELETE FROM items WHERE id % 3 = 0"
q $P "VACUUM items"
q $P "INSERT INTO items SELECT i, v, v, v FROM (SELECT i, rv(16) v FROM generate_series(6001, 6500) i) t"

wait_for_replay $P $S

# Top-10 of 40 queries for both indexes: through the index with every list probed, or exact.
results() {  # PORT index|exact
  local settings="SET enable_seqscan = off; SET ivfflat.probes = 30;"
  [ "$2" = exact ] && settings="SET enable_indexscan = off; SET enable_bitmapscan = off;"
  "$PGBIN/psql" -X -qAt -p "$1" -d postgres <<SQL
$settings
SELECT q.id, array_agg(n.id ORDER BY n.rank)
  FROM (SELECT id, v FROM items WHERE id % 157 = 1) q,
       LATERAL (SELECT id, row_number() OVER () AS rank FROM (SELECT id FROM items ORDER BY v <-> q.v LIMIT 10) s) n
 GROUP BY q.id ORDER BY q.id;
SELECT q.id, array_agg(n.id ORDER BY n.rank)
  FROM (SELECT id, h FROM items WHERE id % 157 = 2) q,
       LATERAL (SELECT id, row_number() OVER () AS rank FROM (SELECT id FROM items ORDER BY h <-> q.h LIMIT 10) s) n
 GROUP BY q.id ORDER BY q.id;
SELECT q.id, array_agg(n.id ORDER BY n.rank)
  FROM (SELECT id, c FROM items WHERE id % 157 = 3) q,
       LATERAL (SELECT id, row_number() OVER () AS rank FROM (SELECT id FROM items ORDER BY c <-> q.c LIMIT 10) s) n
 GROUP BY q.id ORDER BY q.id;
SQL
}
exact=$(results $P exact)
[ -n "$exact" ] || fail "no results"
[ "$(results $P index)" = "$exact" ] || fail "primary: the index with every list probed is not exact"
[ "$(results $S index)" = "$exact" ] || fail "replica: the index answers differ from the primary's exact ones"
info() { q "$1" "SELECT string_agg(list || ':' || rows || ':' || pages, ',' ORDER BY list) FROM ivfflat_info('items_v')"; }
[ "$(info $P)" = "$(info $S)" ] || fail "ivfflat_info differs between primary and replica"
total=$(q $P "SELECT sum(rows) FROM ivfflat_info('items_v')")
[ "$total" = "$(q $P "SELECT count(*) FROM items")" ] || fail "the lists hold $total rows after VACUUM"
pages=$(q $P "SELECT max(pages) FROM ivfflat_info('items_v')")
[ "$pages" -gt 1 ] || fail "no list grew a second page ($pages): the extension path was not tested"
echo "ok: $(echo "$exact" | wc -l) queries exact on primary and replica; lists identical, up to $pages pages"

# Crash: committed inserts (some extending lists) survive kill -9 without a checkpoint.
q $P "CHECKPOINT"
q $P "INSERT INTO items SELECT i, v, v, v FROM (SELECT i, rv(16) v FROM generate_series(6501, 9000) i) t"
stop_cluster ivf_primary # -m immediate: no shutdown checkpoint
start_cluster_dir "$(cluster_dir ivf_primary)"
[ "$(q $P "SELECT sum(rows) FROM ivfflat_info('items_v')")" = "$(q $P "SELECT count(*) FROM items")" ] ||
  fail "after the crash the lists do not hold every row"
exact=$(results $P exact)
[ "$(results $P index)" = "$exact" ] || fail "after the crash the index answers are not exact"
echo "ok: after kill -9 the index holds all $(q $P "SELECT count(*) FROM items") rows and answers exactly"
