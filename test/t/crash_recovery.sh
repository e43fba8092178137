#!/usr/bin/env bash
# kill -9 of the postmaster while 4 clients insert: after restart (crash recovery) every
# committed row is in the table and found through the index, and the index passes hnsw_verify;
# likewise a quantised index (WITH (quantization = 'rabitq'), on the halfvec of the same column).
source "$(dirname "$0")/cluster.bash"
P=5513
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_cluster crash; rm -rf "$work"' EXIT
new_cluster crash $P "shared_buffers = 16MB"
q $P "CREATE EXTENSION embedding"
q $P "$RANDOM_VECTOR_SQL"
q $P "CREATE TABLE items (id bigint PRIMARY KEY, v vector(24))"
q $P "INSERT INTO items SELECT i, rv(24) FROM generate_series(1, 2000) i"
q $P "CREATE INDEX items_v ON items USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32)"
q $P "CREATE INDEX items_q ON items USING hnsw ((v::halfvec(24)) halfvec_l2_ops) WITH (m = 8, ef_construction = 32, quantization = 'rabitq')"
q $P "CHECKPOINT"

for c in 1 2 3 4; do
  (
    for i in $(seq 1 100000); do
      echo "INSERT INTO items SELECT $((c * 1000000 + i)), rv(24) RETURNING id;"
    done | "$PGBIN/psql" -X -qAt -p $P -d postgres >"$work/committed.$c" 2>/dev/null
  ) &
done
sleep 4
pid=$(head -1 "$(cluster_dir crash)/postmaster.pid")
children=$(pgrep -P "$pid" | tr '\n' ' ')
kill -9 "$pid"
wait
cat "$work"/committed.* | grep -E '^[0-9]+$' | sort -n >"$work/committed"
n=$(wc -l <"$work/committed")
[ "$n" -gt 0 ] || fail "no insert committed before the crash"
# Wait for the backends to notice; the killed postmaster may linger as a zombie when nothing
# reaps it (a container's init), which would make the restart think it still runs.
for _ in $(seq 1 100); do
  alive=0
  for p in $pid $children; do
    state=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || echo gone)
    [ "$state" != gone ] && [ "$state" != Z ] && alive=1
  done
  [ $alive = 0 ] && break
  sleep 0.1
done
[ $alive = 0 ] || fail "processes of the crashed cluster did not exit"
rm -f "$(cluster_dir crash)/postmaster.pid" "$PGHOST/.s.PGSQL.$P.lock" "$PGHOST/.s.PGSQL.$P"
start_cluster_dir "$(cluster_dir crash)"

missing=$("$PGBIN/psql" -X -qAt -p $P -d postgres -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE committed (id bigint);
\copy committed FROM '$work/committed'
SELECT count(*) FROM committed c WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.id = c.id);
SQL
)
[ "$missing" = 0 ] || fail "$missing committed rows are missing after recovery"
# How many committed rows an index search for their own vector finds: $1 orders the table's rows,
# $2 is the same expression of the committed row (alias i).
found_by() {
  "$PGBIN/psql" -X -qAt -p $P -d postgres -v ON_ERROR_STOP=1 <<SQL
SET enable_seqscan = off;
SET hnsw.ef_search = 100;
CREATE TEMP TABLE committed (id bigint);
\copy committed FROM '$work/committed'
SELECT count(*) FROM committed c JOIN items i USING (id),
  LATERAL (SELECT id FROM items ORDER BY $1 <-> $2 LIMIT 1) nn WHERE nn.id = c.id;
SQL
}
found=$(found_by v i.v)
echo "committed before the crash: $n; found by an index search for their own vector: $found"
[ $((found * 1000)) -ge $((n * 995)) ] || fail "only $found of $n committed rows found through the index"
found=$(found_by "v::halfvec(24)" "i.v::halfvec(24)")
echo "found by a search of the quantised index: $found"
[ $((found * 1000)) -ge $((n * 995)) ] || fail "only $found of $n committed rows found through the quantised index"
# The structure is sound; concurrent inserts may have left a few rows unreachable (their last
# in-link dropped by a later insert), which hnsw_verify reports until VACUUM links them.
verify=$(q $P "SELECT hnsw_verify('items_v')")
echo "$verify" | grep -qE '^(ok:|not ok: [0-9]+ live elements holding [0-9]+ visible rows cannot be reached)' ||
  fail "hnsw_verify: $verify"
# After VACUUM (which drops the TIDs of inserts the crash aborted and links what inserts left
# unreachable) the index holds exactly the table's rows.
q $P "VACUUM items" >/dev/null
rows=$(q $P "SELECT count(*) FROM items")
verify=$(q $P "SELECT hnsw_verify('items_q')")
echo "$verify" | grep -q '^ok:' || fail "hnsw_verify of the quantised index after VACUUM: $verify"
verify=$(q $P "SELECT hnsw_verify('items_v')")
echo "$verify" | grep -q '^ok:' || fail "hnsw_verify after VACUUM: $verify"
indexed=$(echo "$verify" | sed -n 's/.* \([0-9]*\) heap rows.*/\1/p')
[ "$indexed" = "$rows" ] || fail "the index holds $indexed heap rows, the table $rows"
echo "ok: $verify"
